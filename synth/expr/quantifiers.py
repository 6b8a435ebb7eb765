"""`forall(...)` and `exists(...)`: expanded over finite lists, real quantifiers otherwise.

Syntax is a Python generator inside the call, so a spec reads like maths and stays inside
the whitelisted expression language (no code in data):

    forall(not (start[a] <= t < end(a) and start[b] <= t < end(b)) for t in integers)
    exists(seat[h] == s + 1 for h in guests if [g, h] in friends)

- over a known list (guests, pairs, ...) the quantifier is expanded into `all`/`any`;
- over `range(lo, hi)` it is expanded by default (the `ground` strategy) and kept as a
  bounded quantifier `forall t. lo <= t < hi -> body` under a native strategy (mbqi,
  cegqi, ...), so the backend's instantiation machinery does the work;
- over `integers` no expansion exists: it is always a real quantifier over Int. It needs the
  solver (it cannot be evaluated on concrete values).

A filter (`if ...`) that depends on a quantified variable becomes a guard: an implication
under `forall`, a conjunct under `exists`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import z3

from synth.expr import symbolic as sym
from synth.expr.parse import Expr

if TYPE_CHECKING:  # pragma: no cover
    from synth.expr.interp import Runtime, _Compiler


class _Integers:
    """The unbounded domain `integers` (a sentinel: never iterated concretely)."""

    def __repr__(self) -> str:
        return "integers"


INTEGERS = _Integers()


@dataclass(frozen=True)
class Quantifiers:
    """How quantifiers compile: `native` keeps `range(...)` quantifiers; `triggers` maps a
    bound variable's name to E-matching patterns (expressions over the body's names)."""

    native: bool = False
    triggers: Mapping[str, tuple[Expr, ...]] = field(default_factory=dict)


@dataclass
class _Gen:
    names: list[str]
    single: bool
    iter_code: Callable[[Runtime, dict], Any]
    range_args: list[Callable[[Runtime, dict], Any]] | None
    conds: list[tuple[Callable[[Runtime, dict], Any], ast.expr]]
    iter_node: ast.expr


def _bool(value: Any, ctx: z3.Context | None) -> Any:
    return sym.to_bool(value, ctx)


def _term(value: Any, ctx: z3.Context) -> z3.BoolRef:
    value = sym.to_bool(value, ctx)
    return z3.BoolVal(value, ctx) if isinstance(value, bool) else value


def compile_quantifier(
    compiler: _Compiler, name: str, gen: ast.GeneratorExp | ast.ListComp, node: ast.Call
) -> Callable[[Runtime, dict], Any]:
    """Compile `forall(elt for ...)` / `exists(elt for ...)` into a closure."""
    universal = name == "forall"
    elt = compiler.compile(gen.elt)
    gens: list[_Gen] = []
    for g in gen.generators:
        target = g.target
        names = [target.id] if isinstance(target, ast.Name) else [t.id for t in target.elts]  # type: ignore[attr-defined]
        range_args = None
        it = g.iter
        if (
            isinstance(it, ast.Call)
            and isinstance(it.func, ast.Name)
            and it.func.id == "range"
            and len(it.args) in (1, 2)
        ):
            range_args = [compiler.compile(a) for a in it.args]
        gens.append(
            _Gen(
                names,
                isinstance(target, ast.Name),
                compiler.compile(it),
                range_args,
                [(compiler.compile(c), c) for c in g.ifs],
                it,
            )
        )
    fail = compiler.fail

    def junction(values: list[Any], ctx: z3.Context | None) -> Any:
        return sym.conj(values, ctx) if universal else sym.disj(values, ctx)

    def guarded(guards: list[Any], inner: Any, ctx: z3.Context | None) -> Any:
        if not guards:
            return inner
        if universal:
            return sym.disj([sym.negate(sym.conj(guards, ctx), ctx), inner], ctx)
        return sym.conj([*guards, inner], ctx)

    def run(rt: Runtime, env: dict) -> Any:
        local = dict(env)
        ctx = rt.ctx
        native = rt.quantifiers is not None and rt.quantifiers.native and ctx is not None

        def filters(g: _Gen) -> list[Any] | None:
            """Symbolic filters (guards); None when a concrete filter is false."""
            guards = []
            for code, cond_node in g.conds:
                value = code(rt, local)
                if sym.is_concrete(value):
                    if not value:
                        return None
                    continue
                guards.append(_bool(value, ctx))
            return guards

        def rec(i: int, depth: int) -> Any:
            if i == len(gens):
                return _bool(elt(rt, local), ctx)
            g = gens[i]
            bounds: tuple[int, int] | None = None
            if native and g.range_args is not None:
                args = [a(rt, local) for a in g.range_args]
                if all(type(a) is int for a in args):
                    bounds = (0, args[0]) if len(args) == 1 else (args[0], args[1])
            iterable = None if bounds else g.iter_code(rt, local)
            if bounds is not None or iterable is INTEGERS:
                if ctx is None:
                    raise fail(
                        g.iter_node,
                        f"{name}(... in integers) needs the solver; use it in constraints "
                        "or facts, not in values computed from a solution",
                    )
                if not g.single:
                    raise fail(g.iter_node, "a quantified variable must be a single name")
                var = z3.Int(f"{g.names[0]}!{depth}", ctx)
                local[g.names[0]] = var
                guards = filters(g)
                if guards is None:
                    return universal  # an empty domain
                if bounds is not None:
                    guards = [var >= bounds[0], var < bounds[1], *guards]
                body = _term(guarded(guards, rec(i + 1, depth + 1), ctx), ctx)
                patterns = []
                if rt.quantifiers is not None:
                    triggers = rt.quantifiers.triggers.get(g.names[0], ())
                    from synth.expr.interp import compile_expr

                    terms = [sym.to_term(compile_expr(t, local, ctx), ctx) for t in triggers]
                    if terms:
                        patterns = [z3.MultiPattern(*terms) if len(terms) > 1 else terms[0]]
                make = z3.ForAll if universal else z3.Exists
                return make([var], body, patterns=patterns)
            if not sym.is_concrete(iterable) or not isinstance(iterable, (list, tuple, str)):
                raise fail(g.iter_node, f"{name}(...) must range over a known list or integers")
            results = []
            for item in iterable:
                if g.single:
                    local[g.names[0]] = item
                else:
                    values = list(item)
                    if len(values) != len(g.names):
                        raise fail(
                            g.iter_node,
                            f"cannot unpack {len(values)} values into {len(g.names)} names",
                        )
                    local.update(zip(g.names, values))
                guards = filters(g)
                if guards is None:
                    continue
                inner = guarded(guards, rec(i + 1, depth), ctx)
                if isinstance(inner, bool) and inner is not universal:
                    return inner  # short circuit: a false conjunct / a true disjunct
                results.append(inner)
            return junction(results, ctx)

        return rec(0, 0)

    return run
