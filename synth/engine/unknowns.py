"""Declare a spec's unknowns in z3: one-hot Booleans for finite domains, terms otherwise."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from synth.expr.fastz3 import mk_bool, mk_not, mk_pb
from synth.expr.interp import Family, evaluate
from synth.expr.symbolic import Cases
from synth.spec.model import Unknown

FINITE_LIMIT = 64


@dataclass
class Leaf:
    """One solver variable: `lits` (value -> one-hot literal) for finite domains, else `term`."""

    label: str
    kind: str  # "finite", "bool", "int", "real"
    lits: tuple[tuple[Any, z3.BoolRef], ...] = ()
    term: z3.ExprRef | None = None

    def symbolic(self) -> Any:
        if self.kind == "finite":
            return Cases(tuple((lit, value) for value, lit in self.lits))
        return self.term

    def equals(self, value: Any) -> z3.BoolRef:
        """The formula `this leaf == value`."""
        if self.kind == "finite":
            for v, lit in self.lits:
                if v == value and type(v) is type(value):
                    return lit
            raise ValueError(f"{self.label} cannot be {value!r}")
        if self.kind == "bool":
            return self.term if value else mk_not(self.term, self.term.ctx)  # type: ignore
        ctx = self.term.ctx  # type: ignore[union-attr]
        if self.kind == "real":
            v = Fraction(value)
            return self.term == z3.RealVal(f"{v.numerator}/{v.denominator}", ctx)
        return self.term == z3.IntVal(int(value), ctx)

    def decode(self, model: z3.ModelRef) -> Any:
        """This leaf's value in a model."""
        if self.kind == "finite":
            for value, lit in self.lits:
                if z3.is_true(model.eval(lit, model_completion=True)):
                    return value
            raise ValueError(f"model gives no value to {self.label}")
        value = model.eval(self.term, model_completion=True)
        if self.kind == "bool":
            return z3.is_true(value)
        if self.kind == "real":
            frac = Fraction(value.numerator_as_long(), value.denominator_as_long())
            return int(frac) if frac.denominator == 1 else frac
        return value.as_long()

    def domain_size(self) -> float:
        return {"finite": len(self.lits), "bool": 2}.get(self.kind, math.inf)

    def declarations(self) -> list[tuple[str, str]]:
        """(name, SMT-LIB2 sort) of each solver variable, without asking z3."""
        if self.kind == "finite":
            return [(f"{self.label}={v}", "Bool") for v, _ in self.lits]
        return [(self.label, {"bool": "Bool", "int": "Int", "real": "Real"}[self.kind])]

    def variables(self) -> list[z3.ExprRef]:
        return [lit for _, lit in self.lits] if self.kind == "finite" else [self.term]


@dataclass
class UnknownFamily:
    name: str
    arity: int
    leaves: dict[tuple, Leaf]
    index_names: tuple[str, ...]
    _symbolic: Any = field(default=None, repr=False)

    def symbolic(self) -> Any:
        """The family as the expression compiler sees it (built once per instance)."""
        if self._symbolic is None:
            if self.arity == 0:
                self._symbolic = self.leaves[()].symbolic()
            else:
                self._symbolic = Family(
                    self.name, {k: leaf.symbolic() for k, leaf in self.leaves.items()}, self.arity
                )
        return self._symbolic

    def concrete(self, values: Mapping[tuple, Any]) -> Any:
        if self.arity == 0:
            return values[()]
        return Family(self.name, values, self.arity)


def _label(name: str, key: tuple) -> str:
    return name + "".join(f"[{k}]" for k in key)


def declare(
    name: str,
    unknown: Unknown,
    params: Mapping[str, Any],
    ctx: z3.Context,
    assertions: list[z3.BoolRef],
) -> UnknownFamily:
    """Create the variables of one unknown family; domain constraints go to `assertions`."""
    domains = []
    for index_name, expr in unknown.index.items():
        domain = evaluate(expr, params)
        if not isinstance(domain, (list, tuple)):
            raise ValueError(  # noqa: TRY004 - a spec error, reported like every other one
                f"index {index_name!r} of {name} must be a list, got {domain!r}"
            )
        domains.append(list(domain))
    values: list[Any] | None = None
    lo = hi = None
    if unknown.type == "enum":
        values = list(evaluate(unknown.values, params))  # type: ignore[arg-type]
        if len(set(map(repr, values))) != len(values) or not values:
            raise ValueError(f"enum values of {name} must be distinct and non-empty")
    if unknown.type == "int" and unknown.range is not None:
        lo, hi = (evaluate(v, params) for v in unknown.range)
        if not (isinstance(lo, int) and isinstance(hi, int)) or hi < lo:
            raise ValueError(f"range of {name} must be two integers lo <= hi, got {lo}, {hi}")
        if hi - lo + 1 <= FINITE_LIMIT:
            values = list(range(lo, hi + 1))
    leaves: dict[tuple, Leaf] = {}
    for key in itertools.product(*domains):
        label = _label(name, key)
        if values is not None:
            lits = tuple((v, mk_bool(f"{label}={v}", ctx)) for v in values)
            if len(lits) == 1:
                assertions.append(lits[0][1])
            else:
                assertions.append(mk_pb("==", [lit for _, lit in lits], [1] * len(lits), 1, ctx))
            leaves[key] = Leaf(label, "finite", lits=lits)
        elif unknown.type == "bool":
            leaves[key] = Leaf(label, "bool", term=mk_bool(label, ctx))
        elif unknown.type == "real":
            leaves[key] = Leaf(label, "real", term=z3.Real(label, ctx))
        else:
            term = z3.Int(label, ctx)
            if lo is not None:
                assertions.append(z3.And(term >= lo, term <= hi))
            leaves[key] = Leaf(label, "int", term=term)
    return UnknownFamily(name, len(domains), leaves, tuple(unknown.index))
