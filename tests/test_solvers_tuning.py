"""Tuning records and the spec rewrite it relies on; pysmt's global environment reset."""

from __future__ import annotations

from pathlib import Path

import pytest

from synth.backends import reset_all
from synth.engine.tuning import PairStats, TuneReport
from synth.spec import SpecError, load_spec_text
from synth.spec.edit import with_solver

ROOT = Path(__file__).resolve().parents[1]


def test_pair_statistics() -> None:
    p = PairStats("z3/mbqi", solved=4, times=[0.4, 0.1, 0.3, 0.2])
    assert p.complete and p.median == pytest.approx(0.25) and p.p95 == 0.4
    assert not PairStats("z3/ematching", unknown=2).complete
    assert not PairStats("cvc5/cegqi", solved=3, timeouts=1, times=[0.1] * 3).complete
    assert PairStats("x").median == float("inf")
    report = TuneReport(
        [PairStats("a", solved=1, times=[0.2]), PairStats("b", solved=1, times=[0.1])], "a", "b", []
    )
    assert report.ratio == pytest.approx(0.5)


def test_with_solver_keeps_the_rest_of_the_file() -> None:
    text = (ROOT / "specs" / "seating_row.yaml").read_text()
    assert "\nsolver:" not in text
    out = with_solver(text, {"backend": "cvc5", "strategy": "ground"})
    assert out.startswith(text) and out.endswith("solver:\n  backend: cvc5\n  strategy: ground\n")
    spec, _ = load_spec_text(out)
    assert (spec.solver.backend, spec.solver.strategy) == ("cvc5", "ground")
    # a solver block in the middle: replaced in place, keys after it untouched
    middle = text.replace("query:\n", "solver:\n  rlimit: 3000000  # tight\nquery:\n", 1)
    again = with_solver(middle, {"strategy": "mbqi"})
    before, after = middle.split("solver:\n", 1)
    assert again.startswith(before)
    assert again.endswith(after.split("\n", 1)[1])
    spec, _ = load_spec_text(again)
    assert (spec.solver.strategy, spec.solver.rlimit) == ("mbqi", 3_000_000)


def test_with_solver_refuses_to_write_a_broken_spec() -> None:
    text = (ROOT / "specs" / "seating_row.yaml").read_text()
    with pytest.raises(SpecError, match="unknown strategy 'cegqi' for backend z3"):
        with_solver(text, {"strategy": "cegqi"})


def test_reset_replaces_pysmt_global_environment() -> None:
    from pysmt.shortcuts import Equals, Int, Symbol, get_env
    from pysmt.typing import INT

    before = get_env()
    Equals(Symbol("leaky", INT), Int(1))
    assert before.formula_manager.get_symbol("leaky") is not None
    reset_all()
    after = get_env()
    assert after is not before
    from pysmt.exceptions import UndefinedSymbolError

    with pytest.raises(UndefinedSymbolError):
        after.formula_manager.get_symbol("leaky")  # the old formulas are gone
