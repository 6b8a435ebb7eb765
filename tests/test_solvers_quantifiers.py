"""forall/exists in the expression language: expanded over lists, bounded quantifiers over
ranges under native strategies, real quantifiers over integers; clear errors elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from synth.engine.solving import quantifies_over_integers
from synth.expr import ExprError, parse
from synth.expr.interp import compile_bool, evaluate
from synth.expr.quantifiers import Quantifiers
from synth.spec import SpecError, load_spec, load_spec_text

ROOT = Path(__file__).resolve().parents[1]


def env(ctx: z3.Context) -> dict:
    return {"x": z3.Int("x", ctx), "y": z3.Int("y", ctx), "n": 4, "ps": [1, 2, 3]}


def proves(formula: z3.BoolRef, claim: z3.BoolRef) -> bool:
    s = z3.Solver(ctx=formula.ctx)
    s.add(formula, z3.Not(claim))
    return s.check() == z3.unsat


def test_forall_over_integers_is_a_real_quantifier() -> None:
    ctx = z3.Context()
    f = compile_bool(
        "forall(not (x <= t < x + 3 and y <= t < y + 2) for t in integers)", env(ctx), ctx
    )
    assert z3.is_quantifier(f) and f.is_forall()
    assert "(forall ((t!0 Int))" in f.sexpr()
    x, y = env(ctx)["x"], env(ctx)["y"]
    # the intervals [x, x+3) and [y, y+2) are disjoint
    assert proves(f, z3.Or(y >= x + 3, x >= y + 2))


def test_exists_and_filters_become_guards() -> None:
    ctx = z3.Context()
    e = env(ctx)
    f = compile_bool("exists(t == y for t in integers if t > x)", e, ctx)
    assert z3.is_quantifier(f) and f.is_exists()
    assert proves(f, e["y"] > e["x"])


def test_finite_lists_expand_and_ranges_follow_the_strategy() -> None:
    ctx = z3.Context()
    e = env(ctx)
    ground = compile_bool("forall(t != y for t in range(0, n))", e, ctx)
    native = compile_bool("forall(t != y for t in range(0, n))", e, ctx, Quantifiers(native=True))
    assert not z3.is_quantifier(ground) and ground.num_args() == 4
    assert z3.is_quantifier(native)
    assert proves(ground, native) and proves(native, ground)  # same meaning
    listed = compile_bool("exists(p == y for p in ps)", e, ctx, Quantifiers(native=True))
    assert not z3.is_quantifier(listed)  # a list has no sort: always expanded


def test_nested_quantifiers_close_over_their_own_variable() -> None:
    ctx = z3.Context()
    f = compile_bool("forall(exists(u > t for u in integers) for t in integers)", env(ctx), ctx)
    assert f.sexpr() == "(forall ((t!0 Int)) (exists ((u!0 Int)) (> u!0 t!0)))"
    assert proves(z3.BoolVal(True, ctx), f)
    # the same name reused inside: the inner quantifier is closed before the outer one
    g = compile_bool(
        "forall(exists(t > 0 for t in integers) and t > 5 for t in integers)", env(ctx), ctx
    )
    s = z3.Solver(ctx=ctx)
    s.add(g)
    assert s.check() == z3.unsat  # "every integer is > 5" is false


def test_concrete_evaluation() -> None:
    assert evaluate("forall(p > 0 for p in ps)", {"ps": [1, 2]}) is True
    assert evaluate("exists(p > 2 for p in ps)", {"ps": [1, 2]}) is False
    assert evaluate("forall([True, False])", {}) is False
    assert evaluate("exists(p > 1 for p in range(3))", {}) is True


def test_integers_need_the_solver() -> None:
    with pytest.raises(ExprError, match=r"forall\(\.\.\. in integers\) needs the solver"):
        evaluate("forall(t > 0 for t in integers)", {})
    with pytest.raises(ExprError, match="only forall.* and exists.* can range over integers"):
        evaluate("all(t > 0 for t in integers)", {})
    assert "integers" not in parse("forall(t > x for t in integers)").names()


def test_triggers_become_patterns() -> None:
    ctx = z3.Context()
    q = Quantifiers(native=True, triggers={"t": (parse("x + t"),)})
    f = compile_bool("forall(x + t > y for t in integers)", env(ctx), ctx, q)
    assert f.num_patterns() == 1


def test_bundled_quantified_specs_keep_quantifiers() -> None:
    for name in ("no_overlap", "dinner_friends"):
        spec, _ = load_spec(ROOT / "specs" / f"{name}.yaml")
        assert quantifies_over_integers(spec), name
    spec, _ = load_spec(ROOT / "specs" / "seating_row.yaml")
    assert not quantifies_over_integers(spec)


SPEC = """
spec: 1
name: tiny
category: test
unknowns:
  x: {type: int, range: [0, 3]}
constraints: ["forall(t != x for t in integers if t > 1)"]
plant: {x: "1"}
query: {kind: value, ask: "x", text: "x?"}
"""


def test_solver_section_errors_name_the_field() -> None:
    with pytest.raises(SpecError, match=r"solver: unknown strategy 'qsat' for backend cvc5"):
        load_spec_text(SPEC + "solver: {backend: cvc5, strategy: qsat}\n", "t.yaml")
    with pytest.raises(SpecError, match=r"solver.triggers.t\[0\]: syntax error"):
        load_spec_text(SPEC + "solver: {strategy: ematching, triggers: {t: ['x +']}}\n", "t.yaml")
    with pytest.raises(SpecError, match="needs a 'portfolio' list"):
        load_spec_text(SPEC + "solver: {strategy: portfolio}\n", "t.yaml")
