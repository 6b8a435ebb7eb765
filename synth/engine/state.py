"""Per-instance generation state: the solver, the unknowns, the clues added so far."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from synth.engine.unknowns import Leaf, UnknownFamily
from synth.expr import fastz3
from synth.spec.model import Spec

# A solution: unknown family name -> index tuple -> value.
Solution = Mapping[str, Mapping[tuple, Any]]


class Reject(Exception):
    """This instance is not emitted; `reason` is a short, countable label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


def jsonable(value: Any) -> Any:
    """Parameters as JSON (rationals as "p/q" strings)."""
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (int, str, bool, float)) or value is None:
        return value
    return str(value)


def answer_text(value: Any) -> str:
    """A value as answer text (booleans as yes/no)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass
class Clue:
    """A clue: its formula, sentence, family and picks; `guard` is None once dropped."""

    holds: z3.BoolRef
    text: str
    family: str
    lets: dict[str, Any]
    guard: z3.BoolRef | None = None


@dataclass
class State:
    """Everything one instance accumulates while it is generated."""

    spec: Spec
    level: str
    rng: random.Random
    ctx: z3.Context
    solver: Any  # z3.Solver, or a backend solver with the same interface
    params: dict[str, Any]
    families: dict[str, UnknownFamily]
    assertions: list[z3.BoolRef] = field(default_factory=list)
    fact_texts: list[str] = field(default_factory=list)
    clues: list[Clue] = field(default_factory=list)
    plant: dict[str, dict[tuple, Any]] | None = None  # the hidden solution (plant)
    query_let: dict[str, Any] = field(default_factory=dict)  # the query's picks
    checks: int = 0
    _symbolic_base: dict[str, Any] | None = field(default=None, repr=False)
    _concrete_base: tuple[Any, dict[str, Any]] | None = field(default=None, repr=False)

    # -- environments ---------------------------------------------------------------------
    # Parameters plus unknowns, as symbols (for compiling) or as the values of a solution
    # (for picks and checks). The bases are built once per instance and per solution.
    def symbolic_env(self, extra: Mapping[str, Any] = ()) -> dict[str, Any]:
        if self._symbolic_base is None:
            self._symbolic_base = {
                **self.params,
                **{n: f.symbolic() for n, f in self.families.items()},
            }
        return {**self._symbolic_base, **(extra or {})}

    def concrete_env(
        self, solution: Solution | None, extra: Mapping[str, Any] = ()
    ) -> dict[str, Any]:
        if solution is None:
            return {**self.params, **(extra or {})}
        if self._concrete_base is None or self._concrete_base[0] is not solution:
            values = {n: f.concrete(solution[n]) for n, f in self.families.items()}
            self._concrete_base = (solution, {**self.params, **values})
        return {**self._concrete_base[1], **(extra or {})}

    # -- solver -----------------------------------------------------------------------------
    def check(self, assumptions: list[z3.BoolRef], what: str) -> z3.CheckSatResult:
        self.checks += 1
        if type(self.solver) is z3.Solver:  # the native default: skip z3py's coercions
            result = fastz3.check(self.solver, assumptions)
        else:  # a portable backend's solver (same interface)
            result = self.solver.check(*assumptions)
        if result == z3.unknown:
            raise Reject("solver unknown", f"{what}: {self.solver.reason_unknown()}")
        return result

    def guards(self) -> list[z3.BoolRef]:
        return [c.guard for c in self.clues if c.guard is not None]

    def leaves(self, names: list[str]) -> list[Leaf]:
        return [leaf for n in names for leaf in self.families[n].leaves.values()]
