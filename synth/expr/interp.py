"""Interpret checked expressions: concretely (Python values) or symbolically (z3 terms).

One walker serves both, so a clue means the same thing when it is checked against the
planted solution and when it is asserted in the solver.
"""

from __future__ import annotations

import ast
import random
from fractions import Fraction
from typing import Any, Iterator, Mapping

import z3

from synth.expr import symbolic as sym
from synth.expr.concrete import BASE_FUNCTIONS, normalise, random_functions
from synth.expr.parse import SOLVER_FUNCTIONS, Expr, ExprError, parse

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.Pow: "**"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
           ast.GtE: ">="}


class Family:
    """An indexed family of values (`seat[p]`, `cell[r][c]`): concrete or symbolic leaves."""

    def __init__(self, name: str, leaves: Mapping[tuple, Any], arity: int,
                 prefix: tuple = ()) -> None:
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
                raise KeyError(f"{self.name}{''.join(f'[{k!r}]' for k in key)} does not exist"
                               ) from None
        return Family(self.name, self.leaves, self.arity, key)

    def __repr__(self) -> str:
        return f"<unknown {self.name}>"


class _Interpreter:
    def __init__(self, text: str, names: Mapping[str, Any], ctx: z3.Context | None,
                 rng: random.Random | None) -> None:
        self.text = text
        self.scopes: list[Mapping[str, Any]] = [names]
        self.ctx = ctx
        self.functions = dict(BASE_FUNCTIONS)
        if rng is not None:
            self.functions.update(random_functions(rng))

    @property
    def symbolic(self) -> bool:
        return self.ctx is not None

    def fail(self, node: ast.AST, message: str) -> ExprError:
        return ExprError(message, self.text, getattr(node, "col_offset", -1) + 1)

    def run(self, node: ast.expr) -> Any:
        try:
            return self.eval(node)
        except ExprError:
            raise
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError,
                z3.Z3Exception, RecursionError, OverflowError) as error:
            message = error.args[0] if isinstance(error, KeyError) and error.args else error
            raise ExprError(f"{type(error).__name__}: {message}", self.text) from None

    # -- nodes ---------------------------------------------------------------------------
    def eval(self, node: ast.expr) -> Any:
        method = getattr(self, "eval_" + type(node).__name__, None)
        if method is None:
            raise self.fail(node, f"{type(node).__name__} is not supported")
        return method(node)

    def eval_Constant(self, node: ast.Constant) -> Any:
        if isinstance(node.value, float):
            return normalise(Fraction(str(node.value)))
        return node.value

    def eval_Name(self, node: ast.Name) -> Any:
        for scope in reversed(self.scopes):
            if node.id in scope:
                return scope[node.id]
        if node.id in self.functions or node.id in SOLVER_FUNCTIONS:
            raise self.fail(node, f"{node.id!r} is a function; call it as {node.id}(...)")
        known = sorted({k for s in self.scopes for k in s})
        raise self.fail(node, f"unknown name {node.id!r}; known names: {', '.join(known)}")

    def eval_BinOp(self, node: ast.BinOp) -> Any:
        op = _BINOPS[type(node.op)]
        a, b = self.eval(node.left), self.eval(node.right)
        if self._concrete(a, b):
            if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
                if op == "+" and type(a) is type(b):
                    return a + b
                raise self.fail(node, f"'{op}' is not defined for lists")
            if isinstance(a, str) or isinstance(b, str):
                raise self.fail(node, f"'{op}' is not defined for text")
            if op == "/":
                if b == 0:
                    raise self.fail(node, "division by zero")
                return normalise(Fraction(a) / Fraction(b))
            return normalise(sym.ARITH[op](a, b))
        return sym.arith(op, a, b, self.ctx)

    def eval_UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return (not value) if self._concrete(value) else sym.negate(value, self.ctx)
        if isinstance(node.op, ast.UAdd):
            return value
        return -value if self._concrete(value) else sym.arith("-", 0, value, self.ctx)

    def eval_BoolOp(self, node: ast.BoolOp) -> Any:
        is_and = isinstance(node.op, ast.And)
        values = []
        for child in node.values:
            value = self.eval(child)
            if self._concrete(value):
                if is_and and not value:
                    return False
                if not is_and and value:
                    return True
                continue
            values.append(value)
        if not values:
            return is_and
        return sym.conj(values, self.ctx) if is_and else sym.disj(values, self.ctx)

    def eval_Compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        results = []
        for op_node, right_node in zip(node.ops, node.comparators):
            right = self.eval(right_node)
            results.append(self._compare(op_node, left, right, node))
            left = right
        if len(results) == 1:
            return results[0]
        if all(self._concrete(r) for r in results):
            return all(results)
        return sym.conj(results, self.ctx)

    def _compare(self, op_node: ast.cmpop, a: Any, b: Any, node: ast.AST) -> Any:
        if isinstance(op_node, (ast.In, ast.NotIn)):
            if not self._concrete(b) or not isinstance(b, (list, tuple, str)):
                raise self.fail(node, "the right side of 'in' must be a known list")
            if self._concrete(a):
                found = a in b
            else:
                found = sym.disj([sym.compare("==", a, item, self.ctx) for item in b], self.ctx)
            if isinstance(op_node, ast.In):
                return found
            return sym.negate(found, self.ctx) if not isinstance(found, bool) else not found
        op = _CMPOPS[type(op_node)]
        if self._concrete(a, b):
            try:
                return sym.COMPARE[op](a, b)
            except TypeError:
                raise self.fail(node, f"cannot compare {type(a).__name__} with "
                                      f"{type(b).__name__} using '{op}'") from None
        return sym.compare(op, a, b, self.ctx)

    def eval_IfExp(self, node: ast.IfExp) -> Any:
        cond = self.eval(node.test)
        if self._concrete(cond):
            return self.eval(node.body if cond else node.orelse)
        return sym.ite(cond, self.eval(node.body), self.eval(node.orelse), self.ctx)

    def eval_Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self.eval(e) for e in node.elts)

    def eval_List(self, node: ast.List) -> list:
        return [self.eval(e) for e in node.elts]

    def eval_Subscript(self, node: ast.Subscript) -> Any:
        value = self.eval(node.value)
        if isinstance(node.slice, ast.Slice):
            if not isinstance(value, (list, tuple, str)):
                raise self.fail(node, "only known lists can be sliced")
            parts = [None if p is None else self.eval(p)
                     for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            return value[slice(*parts)]
        index = self.eval(node.slice)
        if not self._concrete(index):
            raise self.fail(node, "an index must be known at generation time, not an unknown")
        if isinstance(index, tuple) and isinstance(value, Family):
            for part in index:
                value = value[part]
            return value
        if isinstance(value, (Family, list, tuple, str)):
            if isinstance(value, (list, tuple, str)) and not isinstance(index, int):
                raise self.fail(node, f"list index must be an integer, not {index!r}")
            return value[index]
        raise self.fail(node, f"a {type(value).__name__} value cannot be indexed")

    def eval_ListComp(self, node: ast.ListComp) -> list:
        return list(self._comprehension(node.elt, node.generators))

    eval_GeneratorExp = eval_ListComp

    def _comprehension(self, elt: ast.expr, generators: list[ast.comprehension]) -> Iterator[Any]:
        def rec(i: int) -> Iterator[Any]:
            if i == len(generators):
                yield self.eval(elt)
                return
            gen = generators[i]
            iterable = self.eval(gen.iter)
            if not self._concrete(iterable) or not isinstance(iterable, (list, tuple, str)):
                raise self.fail(gen.iter, "a comprehension must iterate over a known list")
            for item in iterable:
                scope = self._bind(gen.target, item)
                self.scopes.append(scope)
                try:
                    keep = True
                    for cond_node in gen.ifs:
                        cond = self.eval(cond_node)
                        if not self._concrete(cond):
                            raise self.fail(cond_node, "a comprehension filter must not depend "
                                                       "on unknowns; use ite(...) instead")
                        if not cond:
                            keep = False
                            break
                    if keep:
                        yield from rec(i + 1)
                finally:
                    self.scopes.pop()
        return rec(0)

    def _bind(self, target: ast.expr, item: Any) -> dict[str, Any]:
        if isinstance(target, ast.Name):
            return {target.id: item}
        names = [t.id for t in target.elts]  # type: ignore[attr-defined]
        values = list(item)
        if len(names) != len(values):
            raise self.fail(target, f"cannot unpack {len(values)} values into {len(names)} names")
        return dict(zip(names, values))

    def eval_Call(self, node: ast.Call) -> Any:
        name = node.func.id  # type: ignore[attr-defined]
        args = [self.eval(a) for a in node.args]
        if name in SOLVER_FUNCTIONS:
            return self._solver_function(name, args, node)
        if name not in self.functions:
            raise self.fail(node, f"{name}() is only available while sampling parameters and "
                                  "clue picks")
        if not self._concrete(*args):
            raise self.fail(node, f"{name}() needs known values, not unknowns")
        return normalise(self.functions[name](*args))

    def _solver_function(self, name: str, args: list[Any], node: ast.Call) -> Any:
        if name in ("sum", "count", "distinct", "all", "any", "min", "max") and len(args) == 1:
            if not isinstance(args[0], (list, tuple)):
                raise self.fail(node, f"{name}() takes a list or several arguments")
            args = list(args[0])
        arity = {"abs": 1, "implies": 2, "iff": 2, "xor": 2, "ite": 3}
        if name in arity and len(args) != arity[name]:
            raise self.fail(node, f"{name}() takes {arity[name]} arguments, got {len(args)}")
        if name in ("min", "max") and not args:
            raise self.fail(node, f"{name}() of an empty list")
        concrete = self._concrete(*args)
        ctx = self.ctx
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
            return (min if name == "min" else max)(args) if concrete else sym.minmax(name, args, ctx)
        if name == "abs":
            return abs(args[0]) if concrete else sym.absolute(args[0], ctx)
        if name == "implies":
            return ((not args[0]) or bool(args[1])) if concrete else sym.disj(
                [sym.negate(args[0], ctx), args[1]], ctx)
        if name == "iff":
            return bool(args[0]) == bool(args[1]) if concrete else sym.compare(
                "==", sym.to_bool(args[0], ctx), sym.to_bool(args[1], ctx), ctx)
        if name == "xor":
            return bool(args[0]) != bool(args[1]) if concrete else sym.compare(
                "!=", sym.to_bool(args[0], ctx), sym.to_bool(args[1], ctx), ctx)
        # ite
        if self._concrete(args[0]):
            return args[1] if args[0] else args[2]
        return sym.ite(args[0], args[1], args[2], ctx)

    def _concrete(self, *values: Any) -> bool:
        return not self.symbolic or all(sym.is_concrete(v) for v in values)


def evaluate(expr: Expr | str, names: Mapping[str, Any], rng: random.Random | None = None) -> Any:
    """Evaluate to a concrete Python value (ints, Fractions, strings, bools, lists)."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    return _Interpreter(expr.text, names, None, rng).run(expr.tree)


def compile_expr(expr: Expr | str, names: Mapping[str, Any], ctx: z3.Context) -> Any:
    """Compile to a symbolic value (z3 term, Cases or Lin) or a concrete constant."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    return _Interpreter(expr.text, names, ctx, None).run(expr.tree)


def compile_condition(expr: Expr | str, names: Mapping[str, Any],
                      ctx: z3.Context) -> bool | z3.BoolRef:
    """Compile a constraint: a Python bool when it does not depend on unknowns."""
    expr = expr if isinstance(expr, Expr) else parse(expr)
    value = compile_expr(expr, names, ctx)
    try:
        return sym.to_bool(value, ctx)
    except TypeError as error:
        raise ExprError(f"expected a condition: {error}", expr.text) from None


def compile_bool(expr: Expr | str, names: Mapping[str, Any], ctx: z3.Context) -> z3.BoolRef:
    """Compile a constraint to a z3 Boolean (constants become True/False)."""
    result = compile_condition(expr, names, ctx)
    return z3.BoolVal(result, ctx) if isinstance(result, bool) else result
