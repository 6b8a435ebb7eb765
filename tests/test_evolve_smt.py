"""SMT-backed operators: every child is re-proved, and uniqueness holds independently."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
import z3

from evolve.operators import Context, Rejected, SpecIndex, make_operators
from evolve.operators.smt import Certificate, split_forms
from evolve.verify import VerificationError, verify_child
from synth import certificate
from synth.engine.instance import compile_spec, generate_instance
from synth.problem import Problem
from synth.spec import load_spec

SPECS = Path(__file__).resolve().parents[1] / "specs"


@pytest.fixture(scope="module")
def rows():
    out = []
    for name, level in (
        ("seating_row", "medium"),
        ("age_puzzle", None),
        ("linear_system", None),
        ("logic_grid", None),
    ):
        spec, spec_hash = load_spec(SPECS / f"{name}.yaml")
        level = level or spec.default_level or next(iter(spec.levels), "default")
        for index in range(3):
            outcome = generate_instance(compile_spec(spec, spec_hash), level, 0, index)
            if outcome.row:
                out.append(Problem.from_row(outcome.row))
    assert len(out) >= 8
    return out


@pytest.fixture(scope="module")
def ctx():
    return Context(specs=SpecIndex([SPECS]))


def independent_unique(cert_text: str) -> bool:
    """P and not(answer_holds) is unsat, checked with a fresh z3 solver on the raw text."""
    base = cert_text.split(certificate.CHECKS_MARKER, 1)[0]
    solver = z3.Solver()
    solver.from_string(base + "\n(assert answer_holds)")
    if solver.check() != z3.sat:
        return False
    solver = z3.Solver()
    solver.from_string(base + "\n(assert (not answer_holds))")
    return solver.check() == z3.unsat


def apply_all(name, rows, ctx, seeds=2):
    op = make_operators([name])[0]
    made, reasons = [], []
    for i, row in enumerate(rows):
        if not op.applicable(row, ctx):
            continue
        for s in range(seeds):
            try:
                made.append((row, op.apply([row], random.Random(i * 10 + s), ctx)))
            except Rejected as r:
                reasons.append(r.reason)
    return made, reasons


def test_drop_clue_keeps_the_answer_unique(rows, ctx):
    made, reasons = apply_all("drop-clue", rows, ctx)
    assert made, reasons
    for parent, child in made:
        assert verify_child(child) == "certificate"
        assert child.answer == parent.answer
        assert child.features["clues"] == parent.features["clues"] - 1
        assert independent_unique(child.certificate)
        asserts = lambda c: sum(f.startswith("(assert") for f in split_forms(c))
        assert asserts(child.certificate) == asserts(parent.certificate) - 1
        dropped = child.lineage["params"]["dropped"]
        assert dropped.split(". ", 1)[-1] not in child.prompt
        numbered = re.findall(r"^(\d+)\. ", child.prompt, flags=re.MULTILINE)
        assert numbered == [str(i) for i in range(1, len(numbered) + 1)]


def test_drop_clue_refuses_when_every_clue_is_needed(rows, ctx):
    _, reasons = apply_all("drop-clue", rows, ctx)
    assert set(reasons) <= {"every clue is needed", "clue lines not identifiable", "too few clues"}


def test_reask_asks_a_new_unique_question(rows, ctx):
    made, reasons = apply_all("reask", rows, ctx)
    assert len(made) >= 4, reasons
    for parent, child in made:
        verify_child(child)
        assert independent_unique(child.certificate)
        assert child.prompt.split("\n\n")[-2].startswith("What is the ")
        assert child.prompt != parent.prompt
        header = certificate.parse_header(child.certificate)
        assert header["answer"] == child.answer and header["kind"] == "unique"


def test_tighten_pushes_a_knob_and_the_engine_reproves(rows, ctx):
    made, reasons = apply_all("tighten", rows, ctx, seeds=1)
    assert made, reasons
    for parent, child in made:
        verify_child(child)
        assert (
            independent_unique(child.certificate)
            or certificate.parse_header(child.certificate)["kind"] != "unique"
        )
        knob, value = child.lineage["params"]["knob"], child.lineage["params"]["value"]
        assert child.meta["parameters"][knob] == value == parent.meta["parameters"][knob] + 1
        assert child.meta["base_spec_hash"] == parent.meta["spec_hash"]
        assert child.meta["overrides"] == {knob: value}


def test_tighten_without_specs_is_not_applicable(rows):
    op = make_operators(["tighten"])[0]
    assert not op.applicable(rows[0], Context())
    with pytest.raises(Rejected, match="spec not found"):
        op.apply([rows[0]], random.Random(0), Context(specs=SpecIndex([])))


def test_a_wrong_certificate_answer_fails_verification(rows):
    row = rows[0]
    bad = dataclasses.replace(row, answer="999")
    with pytest.raises(VerificationError, match="certificate"):
        verify_child(bad)
    cert = Certificate.parse(row.certificate)
    forms = [
        f
        if not f.startswith("(define-fun answer_holds")
        else "(define-fun answer_holds () Bool false)"
        for f in cert.forms
    ]
    forged = dataclasses.replace(row, certificate=Certificate(cert.header, forms).text(row.answer))
    with pytest.raises(VerificationError, match="expected sat"):
        verify_child(forged)
