"""Executable programs of word problems, in the spec expression language.

A program is a list of named steps (`s1 = x1 - x2 - x3`, `s2 = s1 * x4`) over named inputs
whose values come from numerals in the text. Steps are parsed and evaluated by
`synth.expr` (whitelisted syntax tree, exact rationals; nothing is `eval`ed). Which numeral
of the text feeds which input is stored next to the program as the text's *mentions*: the
roles, in text order, of every numeral the scanner in `evolve.numbers` finds.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from evolve.numbers import Mention, find_numbers
from synth.expr import ExprError, parse
from synth.expr.interp import evaluate

ROLES = ("input", "context", "distractor", "decoy")


class ProgramError(ValueError):
    """A program that does not parse, evaluate, or agree with its text."""


@dataclass(frozen=True)
class Program:
    """Named inputs (exact values), named steps in order, and the step that is the answer."""

    inputs: dict[str, Fraction]
    steps: tuple[tuple[str, str], ...]
    output: str
    fixed: frozenset[str] = field(default_factory=frozenset)  # inputs operators must not change

    def __post_init__(self) -> None:
        # Inputs in name order: the same program iterates the same way after a JSON round
        # trip (pool rows store canonical, key-sorted JSON), which keeps runs resumable.
        object.__setattr__(
            self, "inputs", {k: Fraction(self.inputs[k]) for k in sorted(self.inputs)}
        )
        known = set(self.inputs)
        for name, text in self.steps:
            try:
                expr = parse(text)
            except ExprError as error:
                raise ProgramError(f"step {name} = {text!r}: {error}") from None
            unknown = sorted(expr.names() - known)
            if unknown:
                raise ProgramError(f"step {name} = {text!r} reads undefined {', '.join(unknown)}")
            if name in known:
                raise ProgramError(f"step name {name!r} is defined twice")
            known.add(name)
        if self.output not in known:
            raise ProgramError(f"output {self.output!r} is not an input or a step")

    def run(self, values: Mapping[str, Fraction] | None = None) -> dict[str, Fraction]:
        """Every input and step value (inputs overridden by `values`)."""
        env: dict[str, Any] = {**self.inputs, **(values or {})}
        for name, text in self.steps:
            try:
                result = evaluate(text, env)
            except ExprError as error:
                raise ProgramError(f"step {name} = {text!r}: {error}") from None
            if isinstance(result, bool) or not isinstance(result, (int, Fraction)):
                raise ProgramError(f"step {name} = {text!r} gave {result!r}, not a number")
            env[name] = Fraction(result)
        return env

    def result(self, values: Mapping[str, Fraction] | None = None) -> Fraction:
        return self.run(values)[self.output]

    def depends_on(self, name: str) -> bool:
        """Whether the output reads `name` (an input or a step), directly or through steps."""
        needed = {self.output}
        for step, text in reversed(self.steps):
            if step in needed:
                needed |= set(parse(text).names())
        return name in needed

    def used_inputs(self) -> list[str]:
        return [name for name in self.inputs if self.depends_on(name)]

    def inlined(self) -> ast.expr:
        """The output as one expression tree (for depth and size)."""
        trees: dict[str, ast.expr] = {n: ast.Name(n) for n in self.inputs}
        for name, text in self.steps:
            tree = ast.parse(text, mode="eval").body
            trees[name] = _substitute(tree, trees)
        return trees[self.output]

    def depth(self) -> int:
        return _depth(self.inlined())

    def size(self) -> int:
        """Arithmetic operations in the inlined output expression."""
        return sum(isinstance(n, (ast.BinOp, ast.UnaryOp)) for n in ast.walk(self.inlined()))

    def to_json(self) -> dict[str, Any]:
        return {
            "inputs": {k: _frac_text(v) for k, v in self.inputs.items()},
            "steps": [list(s) for s in self.steps],
            "output": self.output,
            "fixed": sorted(self.fixed),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Program:
        try:
            return cls(
                inputs={k: Fraction(v) for k, v in data["inputs"].items()},
                steps=tuple((str(n), str(t)) for n, t in data["steps"]),
                output=str(data["output"]),
                fixed=frozenset(data.get("fixed", ())),
            )
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as error:
            if isinstance(error, ProgramError):
                raise
            raise ProgramError(f"malformed program: {error}") from None


def _frac_text(value: Fraction) -> str:
    value = Fraction(value)
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _substitute(tree: ast.expr, trees: Mapping[str, ast.expr]) -> ast.expr:
    class Sub(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return trees.get(node.id, node)

    return Sub().visit(ast.parse(ast.unparse(tree), mode="eval").body)


def _depth(node: ast.AST) -> int:
    if isinstance(node, ast.BinOp):
        return 1 + max(_depth(node.left), _depth(node.right))
    if isinstance(node, ast.UnaryOp):
        return _depth(node.operand)
    return 0


@dataclass(frozen=True)
class Mentions:
    """The role of every numeral in a text, in text order; inputs also carry their name."""

    roles: tuple[tuple[str, str], ...]  # (role, input name or "")

    def to_json(self) -> list[list[str]]:
        return [list(r) for r in self.roles]

    @classmethod
    def from_json(cls, data: Any) -> Mentions:
        return cls(tuple((str(r), str(n)) for r, n in data))


def check_alignment(text: str, program: Program, mentions: Mentions) -> list[Mention]:
    """Raise unless every numeral of `text` has a role and each input numeral shows its value.

    Returns the scanned numerals. This is the check that a child's text and its program
    still describe the same problem: no stray number, no input whose text says otherwise.
    """
    found = find_numbers(text)
    if len(found) != len(mentions.roles):
        raise ProgramError(
            f"the text has {len(found)} numerals but {len(mentions.roles)} are accounted for"
        )
    shown: dict[str, Fraction] = {}
    for mention, (role, name) in zip(found, mentions.roles):
        if role not in ROLES:
            raise ProgramError(f"unknown numeral role {role!r}")
        if role != "input":
            continue
        if name not in program.inputs:
            raise ProgramError(f"numeral {mention.text!r} is linked to unknown input {name!r}")
        if mention.value != program.inputs[name]:
            raise ProgramError(
                f"numeral {mention.text!r} is linked to {name} = {program.inputs[name]}"
            )
        shown[name] = mention.value
    hidden = [n for n in program.inputs if n not in shown and n not in program.fixed]
    if hidden:
        raise ProgramError(f"inputs {', '.join(hidden)} do not appear in the text")
    return found
