"""Symbolic values for compiling expressions to z3 terms.

Finite-domain unknowns are one-hot encoded (a Boolean per value, exactly one true): on
puzzle-shaped problems this is 10-20x faster in z3 than bounded integers (measured on 9x9
Sudoku uniqueness checks). An expression over them is kept in the most propagating form
that stays small:

- `Cases`: mutually exclusive, exhaustive (condition, value) pairs. `x + 1 == y` over two
  5-valued variables becomes a disjunction of five conjunctions of literals.
- `Lin`: a linear pseudo-Boolean form `sum(coeff * literal) + const`, for sums over many
  variables (`sum(load[t] for t in tasks) <= 10` becomes one PB constraint).
- a plain z3 term, for everything else (unbounded ints, reals, non-linear mixes).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import z3

from synth.expr.fastz3 import mk_and, mk_atmost, mk_not, mk_or, mk_pb

CASES_LIMIT = 256
# A Cases condition is a z3 Boolean, or the Python constant True for "always".
Cond = Any

ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
    "/": lambda a, b: Fraction(a) / Fraction(b),
    "**": operator.pow,
}
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Cases:
    """Exclusive, exhaustive (condition, concrete value) pairs."""

    pairs: tuple[tuple[Cond, Any], ...]


@dataclass(frozen=True)
class Lin:
    """sum(coeff * literal) + const over Booleans; integer-valued."""

    terms: tuple[tuple[z3.BoolRef, int], ...]
    const: int


def is_concrete(value: Any) -> bool:
    return not isinstance(value, (Cases, Lin, z3.ExprRef))


def _merge(pairs: Iterable[tuple[z3.BoolRef, Any]], ctx: z3.Context) -> Cases | Any:
    """Group pairs by value (Or of conditions); a single value collapses to a constant."""
    grouped: dict[Any, list[Cond]] = {}
    order: list[Any] = []
    for cond, value in pairs:
        if cond is False:
            continue
        key = (type(value).__name__, value)
        if key not in grouped:
            grouped[key] = []
            order.append(key)
        grouped[key].append(cond)
    if len(order) == 1:
        return order[0][1]
    merged = []
    for key in order:
        conds = grouped[key]
        merged.append((conds[0] if len(conds) == 1 else _or(conds, ctx), key[1]))
    return Cases(tuple(merged))


def as_cases(value: Any, ctx: z3.Context) -> Cases | None:
    """The Cases view of a value, or None when it has none."""
    if isinstance(value, Cases):
        return value
    if isinstance(value, z3.BoolRef):
        return Cases(((value, True), (mk_not(value, ctx), False)))
    if is_concrete(value):
        return Cases(((True, value),))
    return None


def as_lin(value: Any) -> Lin | None:
    """The Lin view of an integer-valued value, or None."""
    if isinstance(value, Lin):
        return value
    if isinstance(value, bool):
        return Lin((), int(value))
    if isinstance(value, int):
        return Lin((), value)
    if isinstance(value, z3.BoolRef):
        return Lin(((value, 1),), 0)
    if isinstance(value, Cases) and all(isinstance(v, (int, bool)) for _, v in value.pairs):
        # exclusive + exhaustive: value = sum(v_i * [c_i])
        if any(c is True for c, _ in value.pairs):
            return None
        return Lin(tuple((c, int(v)) for c, v in value.pairs if v), 0)
    return None


def _lin_add(a: Lin, b: Lin, sign: int = 1) -> Lin:
    return Lin(a.terms + tuple((lit, sign * c) for lit, c in b.terms), a.const + sign * b.const)


def to_term(value: Any, ctx: z3.Context) -> z3.ExprRef:
    """Lift any value to a z3 term (If-chains for Cases, sums for Lin)."""
    if isinstance(value, z3.ExprRef):
        return value
    if isinstance(value, bool):
        return z3.BoolVal(value, ctx)
    if isinstance(value, int):
        return z3.IntVal(value, ctx)
    if isinstance(value, Fraction):
        return z3.RealVal(f"{value.numerator}/{value.denominator}", ctx)
    if isinstance(value, float):
        return z3.RealVal(str(Fraction(value)), ctx)
    if isinstance(value, Lin):
        parts = [z3.If(lit, z3.IntVal(c, ctx), z3.IntVal(0, ctx)) for lit, c in value.terms]
        return z3.Sum(parts + [z3.IntVal(value.const, ctx)])
    if isinstance(value, Cases):
        if any(isinstance(v, str) for _, v in value.pairs):
            raise TypeError("a text-valued unknown cannot be used in arithmetic")
        *rest, (_, last) = value.pairs
        term = to_term(last, ctx)
        for cond, v in reversed(rest):
            term = to_term(v, ctx) if cond is True else z3.If(cond, to_term(v, ctx), term)
        return term
    raise TypeError(f"cannot use a {type(value).__name__} value in a solver term")


def _product_size(a: Cases, b: Cases) -> int:
    return len(a.pairs) * len(b.pairs)


def arith(op: str, a: Any, b: Any, ctx: z3.Context) -> Any:
    """a <op> b for any mix of concrete and symbolic values."""
    fn = ARITH[op]
    if is_concrete(a) and is_concrete(b):
        return fn(a, b)
    ca, cb = as_cases(a, ctx), as_cases(b, ctx)
    if ca is not None and cb is not None and _product_size(ca, cb) <= CASES_LIMIT:
        pairs = []
        for c1, v1 in ca.pairs:
            for c2, v2 in cb.pairs:
                if op in ("//", "%", "/") and v2 == 0:
                    raise ZeroDivisionError("division by zero is possible here")
                pairs.append((_and(c1, c2, ctx), fn(v1, v2)))
        return _merge(pairs, ctx)
    if op in ("+", "-"):
        la, lb = as_lin(a), as_lin(b)
        if la is not None and lb is not None:
            return _lin_add(la, lb, 1 if op == "+" else -1)
    if op == "*" and (isinstance(a, int) or isinstance(b, int)):
        k, other = (a, b) if isinstance(a, int) else (b, a)
        lin = as_lin(other)
        if lin is not None:
            return Lin(tuple((lit, k * c) for lit, c in lin.terms), k * lin.const)
    ta, tb = to_term(a, ctx), to_term(b, ctx)
    if op == "/":
        return z3.ToReal(ta) / tb if z3.is_int(ta) and z3.is_int(tb) else ta / tb
    if op == "//":
        return ta / tb
    if op == "**":
        return ta**tb
    return fn(ta, tb)


def _and(a: Cond, b: Cond, ctx: z3.Context) -> Cond:
    if a is True:
        return b
    if b is True:
        return a
    return mk_and([a, b], ctx)


def _or(conds: list[Cond], ctx: z3.Context) -> Cond:
    if any(c is True for c in conds):
        return True
    return mk_or(conds, ctx)


def _pb(op: str, lin: Lin, ctx: z3.Context) -> z3.BoolRef | bool:
    """lin <op> 0 as a pseudo-Boolean constraint."""
    combined: dict[int, list[Any]] = {}
    for lit, c in lin.terms:
        key = lit.get_id()
        if key in combined:
            combined[key][1] += c
        else:
            combined[key] = [lit, c]
    pairs = [(lit, c) for lit, c in combined.values() if c != 0]
    k = -lin.const
    if not pairs:
        return COMPARE[op](0, k)
    lits, coeffs = [p[0] for p in pairs], [p[1] for p in pairs]
    if op in ("==", "!="):
        eq = mk_pb("==", lits, coeffs, k, ctx)
        return eq if op == "==" else mk_not(eq, ctx)
    if op in ("<=", "<"):
        return mk_pb("<=", lits, coeffs, k if op == "<=" else k - 1, ctx)
    return mk_pb(">=", lits, coeffs, k if op == ">=" else k + 1, ctx)


def compare(op: str, a: Any, b: Any, ctx: z3.Context) -> Any:
    """a <op> b: a Python bool when both are concrete, else a z3 Boolean."""
    fn = COMPARE[op]
    if is_concrete(a) and is_concrete(b):
        return fn(a, b)
    ca, cb = as_cases(a, ctx), as_cases(b, ctx)
    if ca is not None and cb is not None and _product_size(ca, cb) <= CASES_LIMIT * 4:
        if op in ("==", "!="):
            right: dict[Any, list[Cond]] = {}
            for c2, v2 in cb.pairs:
                right.setdefault((type(v2).__name__, v2), []).append(c2)
            hits = [
                _and(c1, _or(right[key], ctx), ctx)
                for c1, v1 in ca.pairs
                if (key := (type(v1).__name__, v1)) in right
            ]
        else:
            hits = [_and(c1, c2, ctx) for c1, v1 in ca.pairs for c2, v2 in cb.pairs if fn(v1, v2)]
        eq = False if not hits else _or(hits, ctx)
        if op == "!=":
            return (not eq) if isinstance(eq, bool) else mk_not(eq, ctx)
        return eq
    la, lb = as_lin(a), as_lin(b)
    if la is not None and lb is not None:
        return _pb(op, _lin_add(la, lb, -1), ctx)
    ta, tb = to_term(a, ctx), to_term(b, ctx)
    if z3.is_real(ta) and z3.is_int(tb):
        tb = z3.ToReal(tb)
    if z3.is_int(ta) and z3.is_real(tb):
        ta = z3.ToReal(ta)
    return fn(ta, tb)


def to_bool(value: Any, ctx: z3.Context) -> Any:
    """Truth value: Python bool if concrete, else a z3 Boolean."""
    if isinstance(value, z3.BoolRef):
        return value
    if is_concrete(value):
        if isinstance(value, (list, tuple, str)):
            raise TypeError(f"a {type(value).__name__} is not a truth value")
        return bool(value)
    return compare("!=", value, 0, ctx)


def _junction(values: list[Any], ctx: z3.Context, absorbing: bool) -> Any:
    """and (absorbing=False) / or (absorbing=True), folding known truth values away."""
    symbolic = []
    for v in values:
        b = to_bool(v, ctx)
        if b is absorbing:
            return absorbing
        if not isinstance(b, bool):
            symbolic.append(b)
    if not symbolic:
        return not absorbing
    return (mk_or if absorbing else mk_and)(symbolic, ctx)


def conj(values: list[Any], ctx: z3.Context) -> Any:
    return _junction(values, ctx, absorbing=False)


def disj(values: list[Any], ctx: z3.Context) -> Any:
    return _junction(values, ctx, absorbing=True)


def negate(value: Any, ctx: z3.Context) -> Any:
    b = to_bool(value, ctx)
    return (not b) if isinstance(b, bool) else mk_not(b, ctx)


def ite(cond: Any, a: Any, b: Any, ctx: z3.Context) -> Any:
    c = to_bool(cond, ctx)
    if isinstance(c, bool):
        return a if c else b
    ca, cb = as_cases(a, ctx), as_cases(b, ctx)
    if ca is not None and cb is not None and len(ca.pairs) + len(cb.pairs) <= CASES_LIMIT:
        not_c = mk_not(c, ctx)
        pairs = [(_and(c, c1, ctx), v) for c1, v in ca.pairs]
        pairs += [(_and(not_c, c2, ctx), v) for c2, v in cb.pairs]
        return _merge(pairs, ctx)
    ta, tb = to_term(a, ctx), to_term(b, ctx)
    if z3.is_real(ta) != z3.is_real(tb):
        ta, tb = (z3.ToReal(ta) if z3.is_int(ta) else ta), (z3.ToReal(tb) if z3.is_int(tb) else tb)
    return z3.If(c, ta, tb)


def total(values: list[Any], ctx: z3.Context) -> Any:
    """sum(...) with Booleans counting as 0/1, kept pseudo-Boolean where possible."""
    lins = [as_lin(v) for v in values]
    if all(lin is not None for lin in lins):
        terms = tuple(t for lin in lins for t in lin.terms)  # type: ignore[union-attr]
        const = sum(lin.const for lin in lins)  # type: ignore[union-attr]
        return Lin(terms, const) if terms else const
    acc: Any = 0
    for v in values:
        if isinstance(v, z3.BoolRef):
            v = Lin(((v, 1),), 0)
        acc = arith("+", acc, v, ctx) if not (is_concrete(acc) and is_concrete(v)) else acc + v
    return acc


def distinct(values: list[Any], ctx: z3.Context) -> Any:
    """All different: per-value at-most-one over Cases, else z3 Distinct."""
    if all(is_concrete(v) for v in values):
        return len(set(values)) == len(values)
    cases = [as_cases(v, ctx) for v in values]
    if all(c is not None for c in cases):
        by_value: dict[Any, list[Cond]] = {}
        for c in cases:
            for cond, v in c.pairs:  # type: ignore[union-attr]
                by_value.setdefault((type(v).__name__, v), []).append(cond)
        constraints: list[Any] = []
        for conds in by_value.values():
            fixed = sum(1 for x in conds if x is True)
            if fixed > 1:
                return False
            if fixed == 1:
                constraints += [mk_not(x, ctx) for x in conds if x is not True]
            elif len(conds) > 1:
                constraints.append(mk_atmost(conds, 1, ctx))
        if (
            len(by_value) == len(values)
            and all(len(c.pairs) == len(values) for c in cases)  # type: ignore[union-attr]
            and not any(x is True for conds in by_value.values() for x in conds)
        ):
            # a permutation of the common domain: each value is taken exactly once
            constraints = [
                mk_pb("==", conds, [1] * len(conds), 1, ctx) for conds in by_value.values()
            ]
        return conj(constraints, ctx)
    return z3.Distinct([to_term(v, ctx) for v in values])


def minmax(which: str, values: list[Any], ctx: z3.Context) -> Any:
    if all(is_concrete(v) for v in values):
        return (min if which == "min" else max)(values)
    acc = values[0]
    for v in values[1:]:
        pick = compare("<=" if which == "min" else ">=", acc, v, ctx)
        acc = ite(pick, acc, v, ctx)
    return acc


def absolute(value: Any, ctx: z3.Context) -> Any:
    if is_concrete(value):
        return abs(value)
    c = as_cases(value, ctx)
    if c is not None:
        return _merge(((cond, abs(v)) for cond, v in c.pairs), ctx)
    t = to_term(value, ctx)
    return z3.If(t >= 0, t, -t)
