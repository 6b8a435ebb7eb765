"""Word-problem operators: every child is right by its own program and accounts for every
numeral; distract/decoy keep the answer; chain needs both parents; invert is unique."""

from __future__ import annotations

import dataclasses
import random
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evolve.loaders import load_source
from evolve.numbers import find_numbers
from evolve.operators import Context, Rejected, make_operators
from evolve.program import Mentions, Program, ProgramError
from evolve.verify import VerificationError, verify_child

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = 60


@pytest.fixture(scope="module")
def problems():
    loaded = load_source(ROOT / "data" / "gsm8k" / "test.jsonl", limit=200)
    mutable = [p for p in loaded.problems if p.meta["mutable"]]
    return mutable[:SAMPLE]


def children(op_name, problems, seeds=1):
    op = make_operators([op_name])[0]
    out, rejected = [], []
    for i, p in enumerate(problems):
        for s in range(seeds):
            parents = [problems[(i + 7) % len(problems)], p] if op.arity == 2 else [p]
            try:
                out.append((parents, op.apply(parents, random.Random(i * 100 + s), Context())))
            except Rejected as r:
                rejected.append(r.reason)
    return out, rejected


def assert_accounted(child):
    """Every numeral is an input showing its value, context, a distractor or a decoy."""
    program = Program.from_json(child.meta["program"])
    roles = Mentions.from_json(child.meta["mentions"]).roles
    found = find_numbers(child.prompt)
    assert len(found) == len(roles)
    for mention, (role, name) in zip(found, roles):
        assert role in ("input", "context", "distractor", "decoy")
        if role == "input":
            assert program.inputs[name] == mention.value


@pytest.mark.parametrize("op_name", ["renumber", "distract", "decoy", "chain", "invert", "extend"])
def test_children_verify_and_answer_equals_program(problems, op_name):
    made, rejected = children(op_name, problems)
    assert len(made) >= 0.6 * len(problems), (op_name, rejected[:10])
    for parents, child in made:
        assert verify_child(child) == "program"
        program = Program.from_json(child.meta["program"])
        assert Fraction(child.answer) == program.result()
        assert_accounted(child)
        assert child.lineage["operator"] == op_name
        assert child.lineage["parents"] == [p.id for p in parents]
        assert child.lineage["params"]
        assert "solution" not in child.meta  # the parent's worked solution no longer applies


@pytest.mark.parametrize("op_name,role", [("distract", "distractor"), ("decoy", "decoy")])
def test_distract_and_decoy_keep_answer_and_program(problems, op_name, role):
    made, _ = children(op_name, problems)
    for (parent,), child in made:
        assert child.answer == parent.answer
        assert child.meta["program"] == parent.meta["program"]
        assert child.meta[role + "s"] == parent.meta.get(role + "s", 0) + 1
        roles = [r for r, _ in Mentions.from_json(child.meta["mentions"]).roles]
        numeric = child.lineage["params"].get("kind", "numeric") == "numeric"
        assert roles.count(role) == (1 if numeric else 0)
        assert len(child.prompt) > len(parent.prompt)


def test_renumber_changes_numbers_and_recomputes(problems):
    made, _ = children("renumber", problems)
    changed = 0
    for (parent,), child in made:
        assert child.prompt != parent.prompt
        old = Program.from_json(parent.meta["program"])
        new = Program.from_json(child.meta["program"])
        assert new.steps == old.steps
        changed += child.answer != parent.answer
        for name, value in new.run().items():  # integrality and sign kept at every step
            if old.run()[name].denominator == 1:
                assert value.denominator == 1
            if old.run()[name] > 0:
                assert value > 0
    assert changed >= 0.8 * len(made)


def test_chain_children_need_both_answers(problems):
    made, _ = children("chain", problems)
    assert made
    sensitive = 0
    for (a, b), child in made:
        program = Program.from_json(child.meta["program"])
        a_out = "a_" + Program.from_json(a.meta["program"]).output
        linked = "b_" + child.lineage["params"]["linked_input"]
        assert program.depends_on(a_out) and program.depends_on(linked)
        assert dict(program.steps)[linked] in (a_out, f"{a_out} + c_offset", f"{a_out} - c_offset")
        assert linked not in program.inputs  # B's number is gone from the text: it comes from A
        assert "Problem A:" in child.prompt and "Problem B:" in child.prompt
        # Numerically too: changing one of A's numbers changes the child's answer (except
        # where A's own arithmetic cancels that number out).
        a_inputs = [n for n in program.inputs if n.startswith("a_") and program.depends_on(n)]
        for name in a_inputs:
            try:
                changed = program.result({name: program.inputs[name] + 1}) != program.result()
            except ProgramError:  # a bumped value dividing by zero is also a dependence
                changed = True
            if changed:
                sensitive += 1
                break
    assert sensitive >= 0.9 * len(made)


def test_invert_asks_for_an_input_with_a_unique_solution(problems):
    made, rejected = children("invert", problems)
    for (parent,), child in made:
        asked = child.lineage["params"]["asked"]
        original = Program.from_json(parent.meta["program"]).inputs[asked]
        assert Fraction(child.answer) == original
        assert "The answer to this question is" in child.prompt
    assert set(rejected) <= {
        "not unique",
        "answer does not depend on the input",
        "wrong type",
        "solution is not rational arithmetic",
        "no closed form for the input",
        "no input to ask for",
        "answer has no decimal form",
        "answer is not positive",
    }


def test_invert_rejects_a_quadratic_with_two_positive_roots():
    from synth.problem import Problem

    # x * (10 - x) = 21 has roots 3 and 7: asking for x is not unique.
    program = Program({"x1": Fraction(3), "x2": Fraction(10)}, (("s1", "x1 * (x2 - x1)"),), "s1")
    prompt = "A box holds 3 rows of 10 minus 3 pens. How many pens?"
    problem = Problem(
        id="q",
        source="t",
        category="c",
        prompt=prompt,
        answer="21",
        answer_type="integer",
        meta={
            "mutable": True,
            "program": program.to_json(),
            "mentions": [["input", "x1"], ["input", "x2"], ["input", "x1"]],
        },
    )
    verify_child(problem)
    op = make_operators(["invert"])[0]
    reasons = set()
    for seed in range(8):
        try:
            child = op.apply([problem], random.Random(seed), Context())
            assert child.lineage["params"]["asked"] == "x2"  # linear in x2: unique
        except Rejected as r:
            reasons.add(r.reason)
    assert "not unique" in reasons


def test_verification_catches_tampered_children(problems):
    (_parent,), child = children("renumber", problems[:3])[0][0]
    wrong_answer = dataclasses.replace(child, answer=str(Fraction(child.answer) + 1))
    with pytest.raises(VerificationError, match="the program gives"):
        verify_child(wrong_answer)
    first = find_numbers(child.prompt)[0]
    stray = dataclasses.replace(child, prompt=child.prompt + " She also has 999 more.")
    with pytest.raises(VerificationError, match="numerals"):
        verify_child(stray)
    edited = child.prompt[: first.start] + "12345" + child.prompt[first.end :]
    roles = Mentions.from_json(child.meta["mentions"]).roles
    if roles[0][0] == "input":
        with pytest.raises(VerificationError, match="linked to"):
            verify_child(dataclasses.replace(child, prompt=edited))


def test_operators_are_deterministic_for_a_seed(problems):
    for name in ("renumber", "distract", "decoy", "chain", "invert", "extend"):
        a, _ = children(name, problems[:10])
        b, _ = children(name, problems[:10])
        assert [c.to_row() for _, c in a] == [c.to_row() for _, c in b]


@settings(max_examples=40, deadline=None)
@given(
    index=st.integers(0, SAMPLE - 1),
    seed=st.integers(0, 2**32 - 1),
    ops=st.lists(
        st.sampled_from(["renumber", "distract", "decoy", "invert", "extend"]),
        min_size=1,
        max_size=4,
    ),
)
def test_any_sequence_of_operators_yields_verified_children(problems, index, seed, ops):
    problem = problems[index]
    rng = random.Random(seed)
    for name in ops:
        try:
            child = make_operators([name])[0].apply([problem], rng, Context())
        except Rejected:
            continue
        verify_child(child)
        assert_accounted(child)
        assert Fraction(child.answer) == Program.from_json(child.meta["program"]).result()
        problem = child
