"""The expression language: what it accepts, what it refuses, and that the solver compiler
means exactly what concrete evaluation means."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.engine.unknowns import declare
from synth.expr import ExprError, parse
from synth.expr.interp import Family, compile_condition, evaluate
from synth.spec.model import Unknown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x.__class__", "attribute access"),
        ("__import__('os')", "unknown function '__import__'"),
        ("_secret + 1", "names may not start with '_'"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("(lambda: 1)()", "only calls of built-in functions by name"),
        ("[lambda: 1]", "lambda"),
        ("f'{x}'", "f-strings"),
        ("sorted(x, key=len)", "keyword arguments"),
        ("sum(*x)", "starred"),
        ("2 ** 100", "literal exponent"),
        ("{'a': 1}", "dict literals"),
        ("'__class__'", "'__'"),
        ("(x := 1)", "walrus"),
        ("1 +", "syntax error"),
        ("x" + "+1" * 1500, "longer than"),
        ("abs(" * 70 + "1" + ")" * 70, "deeper"),
    ],
)
def test_unsafe_or_broken_expressions_are_rejected(text: str, message: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert message in str(info.value)


def test_rejection_names_the_column() -> None:
    with pytest.raises(ExprError) as info:
        parse("a + b.c")
    assert info.value.col == 5


def test_free_names_exclude_comprehension_targets_and_functions() -> None:
    expr = parse("all(distinct(pos[v] for v in vs) for vs in values) and n > 2")
    assert expr.names() == {"pos", "values", "n"}


def test_concrete_arithmetic_is_exact() -> None:
    assert evaluate("1/3 + 1/6", {}) == Fraction(1, 2)
    assert evaluate("0.1 + 0.2 == 0.3", {}) is True
    assert evaluate("6/3", {}) == 2 and isinstance(evaluate("6/3", {}), int)
    assert evaluate("7 // 2 + 7 % 2", {}) == 4
    assert evaluate("'ab' + 'c'", {}) == "abc"
    assert evaluate("[x * x for x in range(5) if x % 2 == 1]", {}) == [1, 9]
    assert (
        evaluate(
            "sum(a for a, b in zip(xs, ys) if b)", {"xs": [1, 2, 3], "ys": [True, False, True]}
        )
        == 4
    )


def test_concrete_errors_are_expression_errors() -> None:
    with pytest.raises(ExprError, match="division by zero"):
        evaluate("1 / 0", {})
    with pytest.raises(ExprError, match="unknown name 'y'"):
        evaluate("y + 1", {"x": 1})
    with pytest.raises(ExprError, match="range of"):
        evaluate("range(10 ** 8)", {})


def test_random_functions_are_seeded() -> None:
    first = evaluate(
        "[randint(1, 100) for i in range(5)] + sample(words('names'), 3)", {}, random.Random(42)
    )
    again = evaluate(
        "[randint(1, 100) for i in range(5)] + sample(words('names'), 3)", {}, random.Random(42)
    )
    assert first == again
    with pytest.raises(ExprError, match="only available while sampling"):
        evaluate("randint(1, 2)", {})


def test_unknown_in_index_or_filter_is_refused() -> None:
    ctx = z3.Context()
    fam = declare("x", Unknown(type="int", range=[0, 2], index={"i": "range(3)"}), {}, ctx, [])
    env = {"x": fam.symbolic(), "l": [1, 2, 3]}
    with pytest.raises(ExprError, match="index must be known"):
        compile_condition("l[x[0]] == 1", env, ctx)
    with pytest.raises(ExprError, match="must not depend on unknowns"):
        compile_condition("sum(1 for i in range(3) if x[i] > 0) == 1", env, ctx)


# -- the compiler agrees with concrete evaluation ---------------------------------------------

_LEAVES = st.sampled_from(["x", "y", "z", "0", "1", "2", "3", "-1"])


def _expressions() -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(children, st.sampled_from(["+", "-", "*"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        )
        calls = st.tuples(st.sampled_from(["abs", "min", "max"]), children, children).map(
            lambda t: f"abs({t[1]})" if t[0] == "abs" else f"{t[0]}({t[1]}, {t[2]})"
        )
        ite = st.tuples(children, children, children).map(
            lambda t: f"({t[0]} if {t[1]} > {t[2]} else {t[1]})"
        )
        return st.one_of(binary, calls, ite)

    return st.recursive(_LEAVES, extend, max_leaves=6)


def _conditions() -> st.SearchStrategy[str]:
    compare = st.tuples(
        _expressions(), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _expressions()
    ).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    special = st.sampled_from(
        [
            "distinct(x, y, z)",
            "sum([x, y, z]) == 3",
            "count(v > 1 for v in [x, y, z]) == 2",
            "implies(x > 1, y < 2)",
            "x in [0, 2]",
            "not (x == y)",
            "iff(x > 1, z > 1)",
            "xor(x == 0, y == 0)",
            "all(v >= 0 for v in [x, y]) and any(v == 3 for v in [z])",
            "x * y == 2",
            "abs(x - y) == 1",
            "min(x, y, z) + max(x, y, z) == 3",
            "ite(x > y, x, y) == 2",
            "sum(ite(v > 1, 2, -1) for v in [x, y, z]) > 0",
        ]
    )
    return st.one_of(
        compare, special, st.tuples(compare, compare).map(lambda t: f"({t[0]}) or ({t[1]})")
    )


@settings(max_examples=150, deadline=None)
@given(_conditions())
def test_compiled_condition_matches_concrete_evaluation(text: str) -> None:
    """For every assignment, the solver term is true exactly when Python says so."""
    ctx = z3.Context()
    assertions: list = []
    names = ("x", "y", "z")
    fams = {n: declare(n, Unknown(type="int", range=[0, 3]), {}, ctx, assertions) for n in names}
    formula = compile_condition(text, {n: f.symbolic() for n, f in fams.items()}, ctx)
    solver = z3.Solver(ctx=ctx)
    solver.add(assertions)
    for values in itertools.product(range(4), repeat=3):
        expected = evaluate(text, dict(zip(names, values)))
        if isinstance(formula, bool):
            assert formula == expected, (text, values)
            continue
        fixed = [fams[n].leaves[()].equals(v) for n, v in zip(names, values)]
        solver.push()
        solver.add(fixed)
        solver.add(formula if expected else z3.Not(formula))
        assert solver.check() == z3.sat, (text, values, expected)
        solver.pop()


def test_families_index_by_values() -> None:
    fam = Family("pos", {("a",): 1, ("b",): 2}, 1)
    assert evaluate("pos['a'] + pos['b']", {"pos": fam}) == 3
    with pytest.raises(ExprError, match="does not exist"):
        evaluate("pos['c']", {"pos": fam})
