"""Backends and strategies: the same instances give the same verdicts under every strategy,
unknown is rejected, backends re-prove certificates, disagreements are reported, bad names
fail clearly, and the portfolio's content does not depend on who wins."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst
from typer.testing import CliRunner

from synth import certificate
from synth.backends import (
    BackendError,
    applicable,
    choose,
    get_backend,
    installed,
    register,
    unregister,
)
from synth.backends.portfolio import race
from synth.backends.z3native import Z3Backend, Z3Prover
from synth.engine import compile_spec, generate_instance
from synth.engine.solving import quantifies_over_integers
from synth.spec import load_spec, load_spec_text
from synth.verification import verify_rows
from veriforge.cli import app

ROOT = Path(__file__).resolve().parents[1]
FRIENDS = ROOT / "specs" / "dinner_friends.yaml"
OVERLAP = ROOT / "specs" / "no_overlap.yaml"
runner = CliRunner()


def compiled(path: Path, backend: str | None = None, strategy: str | None = None):  # type: ignore[no-untyped-def]
    spec, spec_hash = load_spec(path)
    return compile_spec(spec, spec_hash, str(path), backend, strategy)


_COMPILED = {}


def content(row: dict) -> tuple:
    """Everything but the solver's own bookkeeping (meta.solver, solver statistics)."""
    meta = {k: v for k, v in json.loads(row["meta"]).items() if k not in ("solver", "rlimit")}
    return (row["id"], row["prompt"], row["answer"], row["certificate"], row["grader"], meta)


# -- same instances, same verdicts ------------------------------------------------------


def test_every_strategy_gives_the_same_verdicts_on_a_quantified_spec() -> None:
    spec, _ = load_spec(FRIENDS)
    pairs = applicable(quantifies_over_integers(spec))
    labels = {f"{b.name}/{s.name}" for b, s in pairs}
    assert {"z3/mbqi", "z3/ematching", "z3/qsat", "cvc5/cegqi", "cvc5/sygus-inst"} <= labels
    assert "z3/ground" not in labels  # no finite expansion of a quantifier over integers
    results: dict[str, list] = {}
    for b, s in pairs:
        c = compiled(FRIENDS, b.name, s.name)
        results[f"{b.name}/{s.name}"] = [generate_instance(c, "easy", 0, i) for i in range(2)]
    reference = results["z3/mbqi"]
    assert all(o.row is not None for o in reference)
    for label, outcomes in results.items():
        for ref, got in zip(reference, outcomes):
            if got.reason == "solver unknown":
                assert got.row is None  # unknown is rejected, never accepted
                continue
            assert got.row is not None, (label, got.reason, got.detail)
            assert content(got.row) == content(ref.row), label
            assert json.loads(got.row["meta"])["solver"] == {
                "backend": label.split("/")[0],
                "strategy": label.split("/")[1],
            }


def test_finite_specs_agree_across_backends() -> None:
    for name, level in (("seating_row", "easy"), ("knapsack", "easy"), ("counting", "easy")):
        path = ROOT / "specs" / f"{name}.yaml"
        rows = {}
        for backend, strategy in (
            ("z3", "ground"),
            ("z3", "mbqi"),
            ("cvc5", "ground"),
            ("pysmt-cvc5", "ground"),
        ):
            outs = [
                generate_instance(compiled(path, backend, strategy), level, 1, i) for i in range(2)
            ]
            rows[backend, strategy] = [content(o.row) if o.row else o.reason for o in outs]
        first = rows["z3", "ground"]
        assert any(not isinstance(r, str) for r in first), name
        for key, value in rows.items():
            assert value == first, (name, key)


def test_ematching_without_triggers_is_unknown_and_rejected() -> None:
    outcome = generate_instance(compiled(OVERLAP, "z3", "ematching"), "easy", 0, 0)
    assert outcome.row is None
    assert outcome.reason == "solver unknown"
    assert "incomplete quantifiers" in outcome.detail


def test_a_resource_limit_hit_is_unknown_and_rejected() -> None:
    text = FRIENDS.read_text().replace(
        "solver:\n  strategy: auto", "solver:\n  strategy: auto\n  cvc5_rlimit: 1000"
    )
    spec, h = load_spec_text(text, "tight.yaml")
    outcome = generate_instance(compile_spec(spec, h, "tight.yaml", "cvc5", "cegqi"), "easy", 0, 0)
    assert outcome.row is None and outcome.reason == "solver unknown"


# -- certificates under other backends ---------------------------------------------------


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    out = []
    for path in (
        FRIENDS,
        OVERLAP,
        ROOT / "specs" / "knights_knaves.yaml",
        ROOT / "specs" / "counting.yaml",
    ):
        c = compiled(path)
        out += [o.row for o in (generate_instance(c, "easy", 3, i) for i in range(3)) if o.row]
    return out


@pytest.mark.parametrize("backend", ["z3", "cvc5", "pysmt-cvc5", "pysmt-z3"])
def test_backends_reprove_certificates(rows: list[dict], backend: str) -> None:
    assert any(certificate.quantified(r["certificate"]) for r in rows)
    for row in rows:
        verdict = certificate.verify(row["certificate"], row["answer"], backend=backend)
        assert verdict.ok, (backend, row["source"], verdict.reason)


@pytest.mark.parametrize("backend", ["z3", "cvc5", "pysmt-cvc5"])
def test_a_tampered_certificate_fails_on_every_backend(rows: list[dict], backend: str) -> None:
    row = next(r for r in rows if r["source"] == "dinner_friends")
    answer = int(row["answer"])
    wrong = str(answer % 4 + 1)
    lines = row["certificate"].splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("(define-fun answer_holds"))
    assert f"={answer}|" in lines[i]
    lines[i] = lines[i].replace(f"={answer}|", f"={wrong}|")  # claim another seat
    text = "\n".join(lines).replace(f'; answer: "{answer}"', f'; answer: "{wrong}"')
    verdict = certificate.verify(text, wrong, backend=backend)
    assert not verdict.ok
    assert verdict.reason.startswith("expected sat for answer_holds, solver says unsat")


class LiarBackend(Z3Backend):
    """A deliberately wrong backend: claims every uniqueness check is satisfiable."""

    name = "liar"

    def prover(self, script, strategy, limit):  # type: ignore[no-untyped-def]
        prover = Z3Prover(self, script, strategy, limit)
        honest = prover.check

        def check(claim: str) -> z3.CheckSatResult:
            return z3.sat if claim == "(not answer_holds)" else honest(claim)

        prover.check = check  # type: ignore[method-assign]
        return prover


@pytest.fixture
def liar():  # type: ignore[no-untyped-def]
    register(LiarBackend())
    yield "liar"
    unregister("liar")


def test_disagreement_between_backends_is_reported_row_by_row(rows: list[dict], liar: str) -> None:
    unique = [r for r in rows if "kind: unique" in r["certificate"]]
    verdicts = verify_rows(unique, backends=["z3", liar])
    assert verdicts and all(not v.ok and v.disagreement for v in verdicts)
    v = verdicts[0]
    assert v.backends["z3"] == "ok"
    assert "expected unsat for (not answer_holds), solver says sat" in v.backends["liar"]
    assert v.reason.startswith("backends disagree: z3: proved; liar: expected unsat")


def test_cli_verify_backend_all_reports_disagreements(tmp_path: Path, liar: str) -> None:
    pool = tmp_path / "pool"
    result = runner.invoke(
        app, ["generate", str(FRIENDS), "-n", "2", "-o", str(pool), "--difficulty", "easy"]
    )
    assert result.exit_code == 0, result.output
    ok = runner.invoke(app, ["verify", str(pool), "--backend", "cvc5"])
    assert ok.exit_code == 0 and "verified 2 rows with cvc5" in ok.output
    bad = runner.invoke(app, ["verify", str(pool), "--backend", "all"])
    assert bad.exit_code == 1
    assert "backends disagree" in bad.output
    assert "2 of 2 rows failed verification; 2 with backends disagreeing" in bad.output


# -- bad names ---------------------------------------------------------------------------


def test_bad_names_say_what_is_installed() -> None:
    have = ", ".join(installed())
    with pytest.raises(BackendError, match=f"unknown backend 'z5'; installed backends: {have}"):
        get_backend("z5")
    with pytest.raises(BackendError, match="backend 'pysmt-msat' is not installed; installed"):
        get_backend("pysmt-msat")
    with pytest.raises(
        BackendError,
        match="unknown strategy 'cegqi' for backend 'z3'; z3 strategies: ground, mbqi, ematching, qsat",
    ):
        choose("z3", "cegqi", False)
    with pytest.raises(
        BackendError, match="expands quantifiers, but this spec quantifies over integers"
    ):
        choose("cvc5", "ground", True)
    with pytest.raises(BackendError, match="can re-prove certificates but not generate"):
        get_backend("pysmt-z3", generate=True)


def test_cli_bad_names_exit_2(tmp_path: Path) -> None:
    for args, message in (
        (
            ["verify", str(tmp_path), "--backend", "z5"],
            "unknown backend 'z5'; installed backends: z3, cvc5",
        ),
        (
            ["verify", str(tmp_path), "--backend", "cvc5", "--strategy", "qsat"],
            "unknown strategy 'qsat' for backend 'cvc5'",
        ),
        (
            ["generate", str(FRIENDS), "-o", str(tmp_path / "p"), "--strategy", "ground"],
            "no finite expansion",
        ),
        (
            ["generate", str(FRIENDS), "-o", str(tmp_path / "p"), "--backend", "yices"],
            "unknown backend 'yices'",
        ),
        (["tune", str(FRIENDS), "--samples", "0"], "--samples must be at least 1"),
        (["tune", str(FRIENDS), "--pairs", "z3/ground"], "z3/ground not applicable here"),
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)


# -- portfolio ---------------------------------------------------------------------------


def portfolio_spec(pairs: str, budget: float = 60) -> str:
    return FRIENDS.read_text().replace(
        "solver:\n  strategy: auto",
        f"solver:\n  strategy: portfolio\n  budget: {budget}\n  portfolio: {pairs}",
    )


def test_portfolio_content_does_not_depend_on_the_winner() -> None:
    text = portfolio_spec(
        "[{backend: z3, strategy: ematching}, {backend: z3, strategy: mbqi}, {backend: cvc5, strategy: cegqi}]"
    )
    spec, h = load_spec_text(text, "p.yaml")
    c = compile_spec(spec, h, "p.yaml")
    reference = compile_spec(spec, h, "p.yaml", "z3", "mbqi")
    for i in range(2):
        got = generate_instance(c, "easy", 0, i)
        assert got.row is not None
        # every column but meta.solver is the same whichever pair produced it
        for pair in (("z3", "mbqi"), ("cvc5", "cegqi")):
            want = generate_instance(
                compile_spec(spec, h, "p.yaml", *pair), "easy", 0, i, None, False
            )
            assert {**want.row, "meta": None} == {**got.row, "meta": None}, pair
            strip = ("solver", "rlimit")
            assert {k: v for k, v in json.loads(want.row["meta"]).items() if k not in strip} == {
                k: v for k, v in json.loads(got.row["meta"]).items() if k not in strip
            }
        assert content(got.row) == content(generate_instance(reference, "easy", 0, i).row)
        solver = json.loads(got.row["meta"])["solver"]
        assert solver["portfolio"] == ["z3/ematching", "z3/mbqi", "cvc5/cegqi"]
        assert json.loads(got.row["meta"])["rlimit"] == spec.solver.rlimit
        assert solver["winner"] in ("z3/mbqi", "cvc5/cegqi")  # never the incomplete one


def test_portfolio_with_no_definitive_answer_rejects() -> None:
    pairs = "[{backend: z3, strategy: ematching}, {backend: cvc5, strategy: cegqi}]\n  cvc5_rlimit: 1000"
    spec, h = load_spec_text(portfolio_spec(pairs), "p.yaml")
    outcome = generate_instance(compile_spec(spec, h, "p.yaml"), "easy", 0, 0)
    assert outcome.row is None and outcome.reason == "solver unknown"
    assert "portfolio: z3/ematching: solver unknown; cvc5/cegqi: solver unknown" in outcome.detail


def test_race_takes_the_first_definitive_answer_and_honours_the_budget() -> None:
    result = race(
        [
            ("slow", lambda: (time.sleep(5), "late")[1]),
            ("unsure", lambda: None),
            ("fast", lambda: "yes"),
        ],
        budget=3,
        definitive=lambda v: v is not None,
    )
    assert result.winner == "fast" and result.result == "yes"
    started = time.monotonic()
    result = race(
        [("slow", lambda: (time.sleep(5), "late")[1])], budget=0.5, definitive=lambda v: True
    )
    assert result.winner is None and result.timed_out == ["slow"]
    assert time.monotonic() - started < 3


# -- tune ----------------------------------------------------------------------------------


def test_tune_writes_the_best_complete_choice(tmp_path: Path) -> None:
    spec = tmp_path / "friends.yaml"
    original = FRIENDS.read_text().replace(
        "solver:\n  strategy: auto\n", "solver:\n  strategy: auto\n  rlimit: 30000000\n"
    )
    spec.write_text(original)
    args = [
        "tune",
        str(spec),
        "--samples",
        "2",
        "--difficulty",
        "easy",
        "--pairs",
        "z3/mbqi,z3/ematching,cvc5/cegqi",
    ]
    printed = runner.invoke(app, [*args, "--print"])
    assert printed.exit_code == 0, printed.output
    assert spec.read_text() == original  # --print leaves the file alone
    assert "z3/ematching" in printed.output and "solver:" in printed.output
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    for column in ("solved", "unknown", "timeouts", "median ms", "p95 ms"):
        assert column in result.output
    text = spec.read_text()
    head = original.split("solver:")[0]
    assert text.startswith(head)  # everything before the solver section is untouched
    model, _ = load_spec_text(text, str(spec))
    assert (model.solver.backend, model.solver.strategy) in (("z3", "mbqi"), ("cvc5", "cegqi"))
    assert model.solver.rlimit == 30_000_000  # other solver settings are kept


for _pair in (("z3", "mbqi"), ("z3", "qsat"), ("cvc5", "cegqi")):
    _COMPILED[_pair] = compiled(FRIENDS, *_pair)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    level=hst.sampled_from(["easy", "medium"]),
    seed=hst.integers(0, 2**31),
    index=hst.integers(0, 10_000),
)
def test_property_backends_agree_on_any_instance(level: str, seed: int, index: int) -> None:
    outcomes = {
        pair: generate_instance(_COMPILED[pair], level, seed, index)
        for pair in (("z3", "mbqi"), ("z3", "qsat"), ("cvc5", "cegqi"))
    }
    verdicts = {
        pair: content(o.row) if o.row else ("rejected", o.reason) for pair, o in outcomes.items()
    }
    assert len(set(map(repr, verdicts.values()))) == 1, verdicts
