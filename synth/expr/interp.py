"""Interpret checked expressions: concretely (Python values) or symbolically (z3 terms).

One walker serves both, so a clue means the same thing when it is checked against the
planted solution and when it is asserted in the solver.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

import z3

from synth.expr import symbolic as sym
from synth.expr.concrete import BASE_FUNCTIONS, NoCandidates, normalise, random_functions
from synth.expr.parse import (
    DOMAINS,
    SOLVER_FUNCTIONS,
    EmptyPickError,
    Expr,
    ExprError,
    parse,
)
from synth.expr.quantifiers import INTEGERS, Quantifiers, compile_quantifier

_BINOPS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


class Family:
    """An indexed family of values (`seat[p]`, `cell[r][c]`): concrete or symbolic leaves."""

    def __init__(
        self, name: str, leaves: Mapping[tuple, Any], arity: int, prefix: tuple = ()
    ) -> None:
        self.name = name
        self.leaves = leaves
        self.arity = arity
        self.prefix = prefix

    def __getitem__(self, index: Any) -> Any:
        key = self.prefix + (index,)
        if len(key) == self.arity:
            try:
                return self.leaves[key]
            except KeyError:
                raise KeyError(
                    f"{self.name}{''.join(f'[{k!r}]' for k in key)} does not exist"
                ) from None
        return Family(self.name, self.leaves, self.arity, key)

    def __repr__(self) -> str:
        return f"<unknown {self.name}>"


class Runtime:
    """What a compiled expression runs against: the solver context (None = concrete) and
    the function table (with the instance's RNG bound when sampling)."""

    __slots__ = ("ctx", "functions", "quantifiers", "text")

    def __init__(
        self,
        ctx: z3.Context | None,
        rng: random.Random | None,
        text: str,
        quantifiers: Quantifiers | None = None,
    ) -> None:
        self.ctx = ctx
        self.text = text
        self.functions = _BASE if rng is None else {**_BASE, **random_functions(rng)}
        self.quantifiers = quantifiers


_BASE = dict(BASE_FUNCTIONS)
Code = Callable[[Runtime, dict], Any]


def _concrete(rt: Runtime, *values: Any) -> bool:
    if rt.ctx is None:
        return True
    for v in values:
        if not sym.is_concrete(v):
            return False
    return True


def _fail(node: ast.AST, text: str, message: str) -> ExprError:
    return ExprError(message, text, getattr(node, "col_offset", -1) + 1)


class _Compiler:
    """Turns a checked tree into nested closures once; running them is then cheap."""

    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return _fail(node, self.text, message)

    def compile(self, node: ast.expr) -> Code:
        method = getattr(self, "c_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not supported")
        return method(node)

    def c_Constant(self, node: ast.Constant) -> Code:
        value = node.value
        if isinstance(value, float):
            value = normalise(Fraction(str(value)))
        return lambda rt, env: value

    def c_Name(self, node: ast.Name) -> Code:
        name = node.id
        fail = self.fail

        def run(rt: Runtime, env: dict) -> Any:
            try:
                return env[name]
            except KeyError:
                pass
            if name in DOMAINS:
                return INTEGERS
            if name in rt.functions or name in SOLVER_FUNCTIONS:
                raise fail(node, f"{name!r} is a function; call it as {name}(...)")
            raise fail(node, f"unknown name {name!r}; known names: {', '.join(sorted(env))}")

        return run

    def c_BinOp(self, node: ast.BinOp) -> Code:
        op = _BINOPS[type(node.op)]
        left, right = self.compile(node.left), self.compile(node.right)
        fn = sym.ARITH[op]
        fail = self.fail

        def run(rt: Runtime, env: dict) -> Any:
            a, b = left(rt, env), right(rt, env)
            if _concrete(rt, a, b):
                if type(a) is int and type(b) is int and op in ("+", "-", "*"):
                    return fn(a, b)
                if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
                    if op == "+" and type(a) is type(b):
                        return a + b
                    raise fail(node, f"'{op}' is not defined for lists")
                if isinstance(a, str) and isinstance(b, str) and op == "+":
                    return a + b
                if isinstance(a, str) or isinstance(b, str):
                    raise fail(node, f"'{op}' is not defined for text")
                if op == "/":
                    if b == 0:
                        raise fail(node, "division by zero")
                    return normalise(Fraction(a) / Fraction(b))
                return normalise(fn(a, b))
            return sym.arith(op, a, b, rt.ctx)

        return run

    def c_UnaryOp(self, node: ast.UnaryOp) -> Code:
        operand = self.compile(node.operand)
        if isinstance(node.op, ast.Not):
            return lambda rt, env: (
                (not v) if _concrete(rt, v := operand(rt, env)) else sym.negate(v, rt.ctx)
            )
        if isinstance(node.op, ast.UAdd):
            return operand
        return lambda rt, env: (
            -v if _concrete(rt, v := operand(rt, env)) else sym.arith("-", 0, v, rt.ctx)
        )

    def c_BoolOp(self, node: ast.BoolOp) -> Code:
        is_and = isinstance(node.op, ast.And)
        parts = [self.compile(v) for v in node.values]

        def run(rt: Runtime, env: dict) -> Any:
            values = []
            for part in parts:
                value = part(rt, env)
                if _concrete(rt, value):
                    if is_and and not value:
                        return False
                    if not is_and and value:
                        return True
                    continue
                values.append(value)
            if not values:
                return is_and
            return sym.conj(values, rt.ctx) if is_and else sym.disj(values, rt.ctx)

        return run

    def c_Compare(self, node: ast.Compare) -> Code:
        first = self.compile(node.left)
        rest = [(op, self.compile(c)) for op, c in zip(node.ops, node.comparators)]
        compare = self._compare

        def run(rt: Runtime, env: dict) -> Any:
            left = first(rt, env)
            results = []
            for op_node, right_code in rest:
                right = right_code(rt, env)
                results.append(compare(rt, op_node, left, right, node))
                left = right
            if len(results) == 1:
                return results[0]
            if _concrete(rt, *results):
                return all(results)
            return sym.conj(results, rt.ctx)

        return run

    def _compare(self, rt: Runtime, op_node: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op_node, (ast.In, ast.NotIn)):
            if not _concrete(rt, b) or not isinstance(b, (list, tuple, str)):
                raise self.fail(node, "the right side of 'in' must be a known list")
            if _concrete(rt, a):
                found = a in b
            else:
                found = sym.disj([sym.compare("==", a, item, rt.ctx) for item in b], rt.ctx)
            if isinstance(op_node, ast.In):
                return found
            return sym.negate(found, rt.ctx) if not isinstance(found, bool) else not found
        op = _CMPOPS[type(op_node)]
        if _concrete(rt, a, b):
            try:
                return sym.COMPARE[op](a, b)
            except TypeError:
                raise self.fail(
                    node, f"cannot compare {type(a).__name__} with {type(b).__name__} using '{op}'"
                ) from None
        return sym.compare(op, a, b, rt.ctx)

    def c_IfExp(self, node: ast.IfExp) -> Code:
        test, body, orelse = (self.compile(n) for n in (node.test, node.body, node.orelse))

        def run(rt: Runtime, env: dict) -> Any:
            cond = test(rt, env)
            if _concrete(rt, cond):
                return body(rt, env) if cond else orelse(rt, env)
            return sym.ite(cond, body(rt, env), orelse(rt, env), rt.ctx)

        return run

    def c_Tuple(self, node: ast.Tuple) -> Code:
        parts = [self.compile(e) for e in node.elts]
        return lambda rt, env: tuple(p(rt, env) for p in parts)

    def c_List(self, node: ast.List) -> Code:
        parts = [self.compile(e) for e in node.elts]
        return lambda rt, env: [p(rt, env) for p in parts]

    def c_Subscript(self, node: ast.Subscript) -> Code:
        value_code = self.compile(node.value)
        fail = self.fail
        if isinstance(node.slice, ast.Slice):
            bounds = [
                None if p is None else self.compile(p)
                for p in (node.slice.lower, node.slice.upper, node.slice.step)
            ]

            def run_slice(rt: Runtime, env: dict) -> Any:
                value = value_code(rt, env)
                if not isinstance(value, (list, tuple, str)):
                    raise fail(node, "only known lists can be sliced")
                return value[slice(*[None if b is None else b(rt, env) for b in bounds])]

            return run_slice
        index_code = self.compile(node.slice)

        def run(rt: Runtime, env: dict) -> Any:
            value = value_code(rt, env)
            index = index_code(rt, env)
            if not _concrete(rt, index):
                raise fail(node, "an index must be known at generation time, not an unknown")
            if isinstance(value, Family):
                if isinstance(index, tuple):
                    for part in index:
                        value = value[part]
                    return value
                return value[index]
            if isinstance(value, (list, tuple, str)):
                if type(index) is not int:
                    raise fail(node, f"list index must be an integer, not {index!r}")
                return value[index]
            raise fail(node, f"a {type(value).__name__} value cannot be indexed")

        return run

    def c_ListComp(self, node: ast.ListComp) -> Code:
        elt = self.compile(node.elt)
        gens = []
        for gen in node.generators:
            target = gen.target
            names = [target.id] if isinstance(target, ast.Name) else [t.id for t in target.elts]  # type: ignore[attr-defined]
            gens.append(
                (
                    self.compile(gen.iter),
                    names,
                    isinstance(target, ast.Name),
                    [(self.compile(c), c) for c in gen.ifs],
                    gen.iter,
                )
            )
        fail = self.fail

        def run(rt: Runtime, env: dict) -> list:
            local = dict(env)
            out: list[Any] = []

            def rec(i: int) -> None:
                if i == len(gens):
                    out.append(elt(rt, local))
                    return
                iter_code, names, single, conds, iter_node = gens[i]
                iterable = iter_code(rt, local)
                if iterable is INTEGERS:
                    raise fail(
                        iter_node,
                        "only forall(...) and exists(...) can range over integers",
                    )
                if not _concrete(rt, iterable) or not isinstance(iterable, (list, tuple, str)):
                    raise fail(iter_node, "a comprehension must iterate over a known list")
                for item in iterable:
                    if single:
                        local[names[0]] = item
                    else:
                        values = list(item)
                        if len(values) != len(names):
                            raise fail(
                                iter_node,
                                f"cannot unpack {len(values)} values into {len(names)} names",
                            )
                        local.update(zip(names, values))
                    keep = True
                    for cond_code, cond_node in conds:
                        cond = cond_code(rt, local)
                        if not _concrete(rt, cond):
                            raise fail(
                                cond_node,
                                "a comprehension filter must not depend "
                                "on unknowns; use ite(...) instead",
                            )
                        if not cond:
                            keep = False
                            break
                    if keep:
                        rec(i + 1)

            rec(0)
            return out

        return run

    c_GeneratorExp = c_ListComp

    def c_Call(self, node: ast.Call) -> Code:
        name = node.func.id  # type: ignore[attr-defined]
        args_code = [self.compile(a) for a in node.args]
        fail = self.fail
        if name in ("forall", "exists") and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, (ast.GeneratorExp, ast.ListComp)):
                return compile_quantifier(self, name, arg, node)
        if name in SOLVER_FUNCTIONS:
            solver_function = self._solver_function
            return lambda rt, env: solver_function(rt, name, [a(rt, env) for a in args_code], node)

        def run(rt: Runtime, env: dict) -> Any:
            args = [a(rt, env) for a in args_code]
            fn = rt.functions.get(name)
            if fn is None:
                raise fail(
                    node, f"{name}() is only available while sampling parameters and clue picks"
                )
            if not _concrete(rt, *args):
                raise fail(node, f"{name}() needs known values, not unknowns")
            return normalise(fn(*args))

        return run

    def _solver_function(self, rt: Runtime, name: str, args: list[Any], node: ast.Call) -> Any:
        if name in ("forall", "exists"):
            name = "all" if name == "forall" else "any"
        if name in ("sum", "count", "distinct", "all", "any", "min", "max") and len(args) == 1:
            if not isinstance(args[0], (list, tuple)):
                raise self.fail(node, f"{name}() takes a list or several arguments")
            args = list(args[0])
        arity = {"abs": 1, "implies": 2, "iff": 2, "xor": 2, "ite": 3}
        if name in arity and len(args) != arity[name]:
            raise self.fail(node, f"{name}() takes {arity[name]} arguments, got {len(args)}")
        if name in ("min", "max") and not args:
            raise self.fail(node, f"{name}() of an empty list")
        concrete = _concrete(rt, *args)
        ctx = rt.ctx
        if name in ("sum", "count"):
            if concrete:
                return normalise(sum(int(a) if isinstance(a, bool) else a for a in args))
            return sym.total(args, ctx)
        if name == "distinct":
            return len(set(args)) == len(args) if concrete else sym.distinct(args, ctx)
        if name == "all":
            return all(args) if concrete else sym.conj(args, ctx)
        if name == "any":
            return any(args) if concrete else sym.disj(args, ctx)
        if name in ("min", "max"):
            if concrete:
                return (min if name == "min" else max)(args)
            return sym.minmax(name, args, ctx)
        if name == "abs":
            return abs(args[0]) if concrete else sym.absolute(args[0], ctx)
        if name == "implies":
            return (
                ((not args[0]) or bool(args[1]))
                if concrete
                else sym.disj([sym.negate(args[0], ctx), args[1]], ctx)
            )
        if name == "iff":
            return (
                bool(args[0]) == bool(args[1])
                if concrete
                else sym.compare("==", sym.to_bool(args[0], ctx), sym.to_bool(args[1], ctx), ctx)
            )
        if name == "xor":
            return (
                bool(args[0]) != bool(args[1])
                if concrete
                else sym.compare("!=", sym.to_bool(args[0], ctx), sym.to_bool(args[1], ctx), ctx)
            )
        if _concrete(rt, args[0]):
            return args[1] if args[0] else args[2]
        return sym.ite(args[0], args[1], args[2], ctx)


_CODE: dict[str, Code] = {}


def _code(expr: Expr) -> Code:
    code = _CODE.get(expr.text)
    if code is None:
        code = _Compiler(expr.text).compile(expr.tree)
        if len(_CODE) > 20_000:
            _CODE.clear()
        _CODE[expr.text] = code
    return code


def _run(
    expr: Expr,
    names: Mapping[str, Any],
    ctx: z3.Context | None,
    rng: random.Random | None,
    quantifiers: Quantifiers | None = None,
) -> Any:
    rt = Runtime(ctx, rng, expr.text, quantifiers)
    env = names if isinstance(names, dict) else dict(names)
    try:
        return _code(expr)(rt, env)
    except ExprError:
        raise
    except NoCandidates as error:
        raise EmptyPickError(str(error), expr.text) from None
    except (
        TypeError,
        ValueError,
        KeyError,
        IndexError,
        ZeroDivisionError,
        z3.Z3Exception,
        RecursionError,
        OverflowError,
    ) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        raise ExprError(f"{type(error).__name__}: {message}", expr.text) from None


def evaluate(expr: Expr | str, names: Mapping[str, Any], rng: random.Random | None = None) -> Any:
    """Evaluate to a concrete Python value (ints, Fractions, strings, bools, lists)."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    return _run(expr, names, None, rng)


def compile_expr(
    expr: Expr | str,
    names: Mapping[str, Any],
    ctx: z3.Context,
    quantifiers: Quantifiers | None = None,
) -> Any:
    """Compile to a symbolic value (z3 term, Cases or Lin) or a concrete constant.
    `quantifiers` says whether `forall`/`exists` over `range(...)` stay quantified (native
    strategies) or are expanded (the default); over `integers` they always stay."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    return _run(expr, names, ctx, None, quantifiers)


def compile_condition(
    expr: Expr | str,
    names: Mapping[str, Any],
    ctx: z3.Context,
    quantifiers: Quantifiers | None = None,
) -> bool | z3.BoolRef:
    """Compile a constraint: a Python bool when it does not depend on unknowns."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    value = compile_expr(expr, names, ctx, quantifiers)
    try:
        return sym.to_bool(value, ctx)
    except TypeError as error:
        raise ExprError(f"expected a condition: {error}", expr.text) from None


def compile_bool(
    expr: Expr | str,
    names: Mapping[str, Any],
    ctx: z3.Context,
    quantifiers: Quantifiers | None = None,
) -> z3.BoolRef:
    """Compile a constraint to a z3 Boolean (constants become True/False)."""
    result = compile_condition(expr, names, ctx, quantifiers)
    return z3.BoolVal(result, ctx) if isinstance(result, bool) else result
