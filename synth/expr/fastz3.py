"""Thin constructors over z3's C API for the hot paths of clue compilation.

z3's Python helpers (`And`, `Or`, `PbEq`, ...) coerce and re-check every argument; building
thousands of small clue formulas per second spends most of its time there. These build the
same terms straight through `z3core` (measured: several times fewer Python calls).
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence

import z3
from z3 import z3core


def _array(args: Sequence[z3.ExprRef]) -> ctypes.Array:
    arr = (z3.Ast * len(args))()
    for i, a in enumerate(args):
        arr[i] = a.as_ast()
    return arr


def mk_and(args: Sequence[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    if len(args) == 1:
        return args[0]
    return z3.BoolRef(z3core.Z3_mk_and(ctx.ref(), len(args), _array(args)), ctx)


def mk_or(args: Sequence[z3.BoolRef], ctx: z3.Context) -> z3.BoolRef:
    if len(args) == 1:
        return args[0]
    return z3.BoolRef(z3core.Z3_mk_or(ctx.ref(), len(args), _array(args)), ctx)


def mk_not(arg: z3.BoolRef, ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(z3core.Z3_mk_not(ctx.ref(), arg.as_ast()), ctx)


def mk_implies(a: z3.BoolRef, b: z3.BoolRef, ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(z3core.Z3_mk_implies(ctx.ref(), a.as_ast(), b.as_ast()), ctx)


def mk_bool(name: str, ctx: z3.Context) -> z3.BoolRef:
    ref = ctx.ref()
    symbol = z3core.Z3_mk_string_symbol(ref, name)
    return z3.BoolRef(z3core.Z3_mk_const(ref, symbol, z3core.Z3_mk_bool_sort(ref)), ctx)


def mk_pb(
    kind: str, args: Sequence[z3.BoolRef], coeffs: Sequence[int], k: int, ctx: z3.Context
) -> z3.BoolRef:
    """sum(coeffs * args) <kind> k with kind in {'==', '<=', '>='}."""
    n = len(args)
    arr = _array(args)
    c_arr = (ctypes.c_int * n)(*coeffs)
    fn = {"==": z3core.Z3_mk_pbeq, "<=": z3core.Z3_mk_pble, ">=": z3core.Z3_mk_pbge}[kind]
    return z3.BoolRef(fn(ctx.ref(), n, arr, c_arr, k), ctx)


def mk_atmost(args: Sequence[z3.BoolRef], k: int, ctx: z3.Context) -> z3.BoolRef:
    return z3.BoolRef(z3core.Z3_mk_atmost(ctx.ref(), len(args), _array(args), k), ctx)


_RESULTS = {1: z3.sat, -1: z3.unsat, 0: z3.unknown}


def check(solver: z3.Solver, assumptions: Sequence[z3.BoolRef]) -> z3.CheckSatResult:
    """`solver.check(*assumptions)` without the per-argument Python coercion."""
    ctx = solver.ctx
    code = z3core.Z3_solver_check_assumptions(
        ctx.ref(), solver.solver, len(assumptions), _array(assumptions)
    )
    return _RESULTS[code]
