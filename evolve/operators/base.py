"""What every operator shares: the rejection type, the context, and how a child is recorded.

An operator takes one or two parents and a seeded RNG and returns a child `Problem`, or
raises `Rejected` with a short reason (counted per operator in the report). The child's
lineage names its parents, the operator and the parameters it chose; `evolve.verify`
re-checks it before it may enter a population.
"""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from evolve.models import Answerer
from evolve.numbers import answer_text, answer_type, find_numbers
from evolve.program import Mentions, Program, ProgramError
from synth.problem import Problem, content_id

# Structural counters a child inherits from its first parent (operators bump their own).
COUNTERS = ("distractors", "decoys", "chained", "inverted", "extended")


class Rejected(Exception):
    """The operator could not make a verified child from these parents; `reason` says why."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Context:
    """What operators may need beyond their parents."""

    answerer: Answerer | None = None
    specs: Any = None  # evolve.operators.smt.SpecIndex for tighten
    generation: int = 0


class Operator(Protocol):
    name: str
    arity: int

    def applicable(self, problem: Problem, ctx: Context) -> bool: ...

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem: ...


# -- word problems ----------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """A parent word problem unpacked: its text, program, numeral roles and answer."""

    problem: Problem
    program: Program
    mentions: Mentions

    @property
    def text(self) -> str:
        return self.problem.prompt

    @property
    def answer(self) -> Fraction:
        return Fraction(self.problem.answer)


def has_program(problem: Problem) -> bool:
    return bool(problem.meta.get("mutable")) and "program" in problem.meta


def unpack(problem: Problem) -> Word:
    if not has_program(problem):
        raise Rejected("no program", "the parent has no recovered program")
    try:
        return Word(
            problem,
            Program.from_json(problem.meta["program"]),
            Mentions.from_json(problem.meta["mentions"]),
        )
    except ProgramError as error:
        raise Rejected("bad parent program", str(error)) from None


def free_letter(*texts: str) -> str:
    """A capital letter that stands alone in none of the texts (a name for an unknown)."""
    for letter in "NMKQRZWPV":
        if not any(re.search(rf"\b{letter}\b", t) for t in texts):
            return letter
    raise Rejected("no free letter", "every candidate letter is already used")


def fresh_name(program: Program, stem: str) -> str:
    """`stem`, `stem_2`, ...: the first name the program does not use yet."""
    used = set(program.inputs) | {name for name, _ in program.steps}
    name, k = stem, 1
    while name in used:
        k += 1
        name = f"{stem}_{k}"
    return name


def rename(text: str, mapping: Mapping[str, str]) -> str:
    """An expression with names renamed (through the syntax tree, never by string replace)."""

    class Rename(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return ast.Name(mapping.get(node.id, node.id), ast.Load())

    return ast.unparse(Rename().visit(ast.parse(text, mode="eval")).body)


def prefixed(
    program: Program, prefix: str
) -> tuple[dict[str, Fraction], list[tuple[str, str]], dict[str, str]]:
    """The program's inputs and steps with every name prefixed (for crossover)."""
    names = {n: prefix + n for n in list(program.inputs) + [s for s, _ in program.steps]}
    inputs = {names[k]: v for k, v in program.inputs.items()}
    steps = [(names[s], rename(t, names)) for s, t in program.steps]
    return inputs, steps, names


def question_start(text: str) -> int:
    """Where the final question sentence starts (insertion point for new clauses)."""
    sentences = [0] + [m.end() for m in re.finditer(r"(?<=[.!?])[\"”’]?\s+(?=[A-Z\"“$\d])", text)]
    for start in reversed(sentences):
        if "?" in text[start:]:
            return start
    return sentences[-1]


def insert_clause(word: Word, sentence: str, role: str, name: str = "") -> tuple[str, Mentions]:
    """Insert `sentence` before the question; its numerals get `role`; other roles shift."""
    at = question_start(word.text)
    before, after = word.text[:at].rstrip(), word.text[at:]
    text = f"{before} {sentence} {after}" if before else f"{sentence} {after}"
    offset = len(before) + 1 if before else 0
    found = find_numbers(text)
    old = iter(word.mentions.roles)
    roles = []
    for m in found:
        if offset <= m.start < offset + len(sentence):
            roles.append((role, name))
        else:
            roles.append(next(old, ("?", "")))
    return text, Mentions(tuple(roles))


def word_child(
    operator: str,
    parents: Sequence[Problem],
    params: Mapping[str, Any],
    prompt: str,
    program: Program,
    mentions: Mentions,
    ctx: Context,
    extra_meta: Mapping[str, Any] | None = None,
) -> Problem:
    """A child word problem: answer computed from its program, lineage recorded."""
    try:
        value = program.result()
    except ProgramError as error:
        raise Rejected("program fails", str(error)) from None
    first = parents[0]
    meta = {
        "benchmark": first.meta.get("benchmark", first.source),
        "mutable": True,
        "program": program.to_json(),
        "mentions": mentions.to_json(),
        **{k: first.meta[k] for k in COUNTERS if k in first.meta},
        **(extra_meta or {}),
    }
    return make_child(
        operator,
        parents,
        params,
        prompt,
        answer_text(value),
        answer_type(value),
        {"kind": answer_type(value)},
        meta,
        ctx,
        category=first.category,
    )


def make_child(
    operator: str,
    parents: Sequence[Problem],
    params: Mapping[str, Any],
    prompt: str,
    answer: str,
    kind: str,
    grader: dict[str, Any],
    meta: dict[str, Any],
    ctx: Context,
    *,
    certificate: str = "",
    features: dict[str, Any] | None = None,
    category: str | None = None,
    difficulty: float | None = None,
) -> Problem:
    roots = sorted({r for p in parents for r in (p.lineage.get("roots") or [p.id])})
    lineage = {
        "operator": operator,
        "parents": [p.id for p in parents],
        "params": dict(params),
        "generation": ctx.generation,
        "roots": roots,
        "depth": 1 + max(int(p.lineage.get("depth", 0)) for p in parents),
    }
    first = parents[0]
    return Problem(
        id=content_id("evolve", operator, *[p.id for p in parents], prompt, answer),
        source=first.source,
        category=category or first.category,
        prompt=prompt,
        answer=answer,
        answer_type=kind,
        grader=grader,
        certificate=certificate,
        difficulty=first.difficulty if difficulty is None else difficulty,
        features=dict(features if features is not None else first.features),
        meta=meta,
        lineage=lineage,
    )
