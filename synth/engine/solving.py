"""Which solver runs a spec's instances: (backend, strategy) pairs from its solver section.

Kept apart from instance generation so the choice is made once per spec (and bad names
fail before any work, naming what is installed).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import z3

from synth.backends import Backend, Strategy, choose
from synth.expr import parse
from synth.expr.parse import DOMAINS
from synth.expr.quantifiers import Quantifiers
from synth.spec.model import Spec


def quantifies_over_integers(spec: Spec) -> bool:
    """Does any constraint, fact or clue quantify over the unbounded `integers`?"""
    texts: list[Any] = list(spec.constraints)
    texts += [f.holds for f in spec.facts if f.holds is not None]
    texts += [f.holds for f in spec.clues.families]
    for text in texts:
        if isinstance(text, bool):
            continue
        tree = parse(text).tree
        if any(isinstance(n, ast.Name) and n.id in DOMAINS for n in ast.walk(tree)):
            return True
    return False


@dataclass(frozen=True)
class Choice:
    """One (backend, strategy) pair with the spec's settings for it."""

    backend: Backend
    strategy: Strategy
    limit: int
    quantifiers: Quantifiers

    @property
    def label(self) -> str:
        return self.strategy.label

    def solver(self, ctx: z3.Context) -> Any:
        return self.backend.solver(ctx, self.strategy, self.limit)


def choice_for(spec: Spec, backend: str, strategy: str, unbounded: bool) -> Choice:
    b, s = choose(backend, strategy, unbounded)
    triggers = {}
    if s.name == "ematching":
        triggers = {k: tuple(parse(v) for v in vs) for k, vs in spec.solver.triggers.items()}
    limit = spec.solver.rlimit if b.name == "z3" else spec.solver.cvc5_rlimit
    return Choice(b, s, limit, Quantifiers(native=s.native, triggers=triggers))


def choices(spec: Spec, backend: str | None = None, strategy: str | None = None) -> list[Choice]:
    """The pairs that run this spec: one, or the portfolio's list. `backend`/`strategy`
    override the spec (a per-command choice). Raises BackendError for bad names."""
    unbounded = quantifies_over_integers(spec)
    name = strategy or spec.solver.strategy
    if name == "portfolio" and backend is None:
        return [choice_for(spec, e.backend, e.strategy, unbounded) for e in spec.solver.portfolio]
    return [choice_for(spec, backend or spec.solver.backend, name, unbounded)]
