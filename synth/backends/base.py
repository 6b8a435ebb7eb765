"""What every solver backend provides, and the records shared by all of them.

The engine builds formulas as z3 terms (z3 is the formula builder and the fast default
solver). A backend turns them into verdicts:

- `solver(ctx, strategy, limit)` returns an object with the small part of `z3.Solver`'s
  interface the engine uses (`add`, `check(*assumptions)`, `model()`, `push`/`pop`,
  `reason_unknown()`, `statistics()`), so generation runs unchanged on any backend;
- `prover(script, strategy, limit)` re-proves claims against an SMT-LIB2 certificate, so
  `veriforge verify --backend NAME` checks rows with an independent solver.

Verdicts are z3's `sat`/`unsat`/`unknown` constants everywhere: unknown is never a pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import z3


class BackendError(ValueError):
    """A backend or strategy name that does not exist or is not installed."""


@dataclass(frozen=True)
class Strategy:
    """A named way to run one backend.

    `native`: quantifiers over finite ranges stay quantified (the backend instantiates
    them) instead of being expanded. `incremental`: the backend may keep one solver per
    instance; otherwise every check rebuilds it (cvc5's `sygus-inst`). `options` are the
    solver options that select the instantiation machinery.
    """

    name: str
    backend: str
    native: bool
    doc: str
    options: Mapping[str, Any] = field(default_factory=dict)
    incremental: bool = True

    @property
    def label(self) -> str:
        return f"{self.backend}/{self.name}"


class Prover(Protocol):
    """Claims checked against one certificate (its assertions and definitions)."""

    log: list[str]

    def check(self, claim: str) -> z3.CheckSatResult: ...

    def count(self, project: list[str], limit: int) -> int | None:
        """Solutions projected on `project`, up to `limit` + 1; None if unknown."""
        ...


class Backend(ABC):
    """A solver family (z3 natively, cvc5 through pysmt, ...)."""

    name: str

    @abstractmethod
    def strategies(self) -> dict[str, Strategy]:
        """The strategies this backend offers, by name."""

    @abstractmethod
    def version(self) -> str:
        """The solver's version (recorded in row metadata)."""

    @abstractmethod
    def solver(self, ctx: z3.Context, strategy: Strategy, limit: int) -> Any:
        """A solver for one generated instance (z3.Solver-compatible subset)."""

    @abstractmethod
    def prover(self, script: str, strategy: Strategy, limit: int) -> Prover:
        """A prover for one certificate's claims."""

    def reset(self) -> None:
        """Drop global state between batches (pysmt's formula environment)."""
