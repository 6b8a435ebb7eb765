"""`chain`: crossover of two problems. One input of B is defined through A's answer
("N is 4 more than the answer to Problem A"), so B cannot be solved without solving A.

B's input gets a new value (A's answer plus an offset), so the child's answer is recomputed
by B's program and is not B's published answer. A needs a proved numeric answer: its own
program, or its gold answer when it has none (then A's text stays as it is).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from fractions import Fraction

from evolve.numbers import find_numbers, replace_spans
from evolve.operators.arith import perturb, plausible
from evolve.operators.base import (
    Context,
    Rejected,
    free_letter,
    has_program,
    prefixed,
    unpack,
    word_child,
)
from evolve.program import Mentions, Program, ProgramError
from synth.problem import Problem


def _a_part(problem: Problem) -> tuple[dict, list, str, tuple, frozenset]:
    """A's inputs, steps, output name, numeral roles and fixed inputs, prefixed `a_`."""
    if has_program(problem):
        word = unpack(problem)
        inputs, steps, names = prefixed(word.program, "a_")
        roles = tuple((r, names.get(n, n) if r == "input" else n) for r, n in word.mentions.roles)
        return (
            inputs,
            steps,
            names[word.program.output],
            roles,
            frozenset(names[f] for f in word.program.fixed),
        )
    if problem.answer_type != "integer" or problem.certificate:
        raise Rejected("A has no numeric answer", "chain needs an integer answer for A")
    roles = tuple(("context", "") for _ in find_numbers(problem.prompt))
    return {"a_answer": Fraction(problem.answer)}, [], "a_answer", roles, frozenset({"a_answer"})


class Chain:
    name = "chain"
    arity = 2

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        a, b = parents
        if a.id == b.id:
            raise Rejected("same parent twice")
        a_inputs, a_steps, a_out, a_roles, a_fixed = _a_part(a)
        try:
            a_value = Program(a_inputs, tuple(a_steps), a_out, a_fixed).result()
        except ProgramError as error:
            raise Rejected("A's program fails", str(error)) from None
        if a_value != Fraction(a.answer) or a_value.denominator != 1:
            raise Rejected("A's answer is not a whole number")
        wb = unpack(b)
        b_inputs, b_steps, b_names = prefixed(wb.program, "b_")
        mentions = find_numbers(b.prompt)
        candidates = [
            n
            for n in wb.program.inputs
            if n not in wb.program.fixed
            and wb.program.inputs[n].denominator == 1
            and wb.program.inputs[n] > 0
            and not any(m.percent for m, (r, k) in zip(mentions, wb.mentions.roles) if k == n)
        ]
        if not candidates:
            raise Rejected("B has no whole-number input to link")
        target = rng.choice(candidates)
        old = wb.program.run()
        for _ in range(20):
            new_value = perturb(wb.program.inputs[target], rng)
            try:
                new = wb.program.run({target: new_value})
            except ProgramError:
                continue
            if plausible(wb.program, old, new) is None:
                break
        else:
            raise Rejected("no plausible value for the linked input")
        offset = new_value - a_value
        letter = free_letter(a.prompt, b.prompt)
        edits, b_roles = [], []
        for m, (role, name) in zip(mentions, wb.mentions.roles):
            if role == "input" and name == target:
                edits.append((m.start, m.end, letter))
            else:
                b_roles.append((role, b_names.get(name, name) if role == "input" else name))
        b_text = replace_spans(b.prompt, edits)
        if offset > 0:
            link, sym = f"{offset} more than", "+"
        elif offset < 0:
            link, sym = f"{-offset} less than", "-"
        else:
            link, sym = "equal to", "+"
        text = (
            f"Problem A: {a.prompt}\n\nProblem B: {b_text}\n\n"
            f"In Problem B, {letter} is {link} the answer to Problem A. "
            "Solve Problem A first, then give the answer to Problem B."
        )
        linked = b_names[target]
        inputs = {**a_inputs, **{k: v for k, v in b_inputs.items() if k != linked}}
        steps = list(a_steps)
        roles = list(a_roles) + b_roles
        if offset != 0:
            inputs["c_offset"] = abs(offset)
            steps.append((linked, f"{a_out} {sym} c_offset"))
            roles.append(("input", "c_offset"))
        else:
            steps.append((linked, f"{a_out}"))
        steps += b_steps
        try:
            program = Program(
                inputs,
                tuple(steps),
                b_names[wb.program.output],
                a_fixed | {b_names[f] for f in wb.program.fixed},
            )
        except ProgramError as error:
            raise Rejected("child program invalid", str(error)) from None
        if not program.depends_on(a_out) or not program.depends_on(linked):
            raise Rejected("the answer does not need both problems")
        if len(find_numbers(text)) != len(roles):
            raise Rejected("numerals do not line up", re.sub(r"\s+", " ", text)[:80])
        meta = {
            "distractors": sum(int(p.meta.get("distractors", 0)) for p in parents),
            "decoys": sum(int(p.meta.get("decoys", 0)) for p in parents),
            "chained": 1 + sum(int(p.meta.get("chained", 0)) for p in parents),
        }
        params = {"linked_input": target, "offset": str(offset), "new_value": str(new_value)}
        return word_child(
            self.name, parents, params, text, program, Mentions(tuple(roles)), ctx, meta
        )
