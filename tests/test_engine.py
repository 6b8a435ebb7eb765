"""The generation engine: answers are proved, uniqueness is projected on the answer, unknown
is not verified, and instance i is a pure function of (spec, level, seed, i)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synth import certificate
from synth.engine import compile_spec, generate_instance
from synth.spec import load_spec, load_spec_text

SPECS = sorted((Path(__file__).resolve().parents[1] / "specs").glob("*.yaml"))
_COMPILED = {}


def compiled(path: Path):  # type: ignore[no-untyped-def]
    if path not in _COMPILED:
        spec, spec_hash = load_spec(path)
        _COMPILED[path] = compile_spec(spec, spec_hash, str(path))
    return _COMPILED[path]


def inline(text: str):  # type: ignore[no-untyped-def]
    spec, spec_hash = load_spec_text(text, "inline.yaml")
    return compile_spec(spec, spec_hash, "inline.yaml")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    path=st.sampled_from(SPECS),
    level=st.sampled_from(["easy", "medium", "hard"]),
    seed=st.integers(0, 2**31),
    index=st.integers(0, 10_000),
)
def test_every_emitted_row_reverifies_from_its_certificate(
    path: Path, level: str, seed: int, index: int
) -> None:
    outcome = generate_instance(compiled(path), level, seed, index)
    if outcome.row is None:
        assert outcome.reason  # a rejection always says why
        assert outcome.reason != "spec error", outcome.detail
        return
    row = outcome.row
    verdict = certificate.verify(row["certificate"], row["answer"])
    assert verdict.ok, (path.stem, level, seed, index, verdict.reason)
    assert row["source"] == path.stem
    assert 0.0 <= row["difficulty"] <= 1.0
    assert json.loads(row["meta"])["level"] == level


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_each_bundled_spec_yields_rows_at_every_level(path: Path) -> None:
    for level in ("easy", "medium", "hard"):
        rows = [generate_instance(compiled(path), level, 0, i).row for i in range(6)]
        assert any(rows), f"{path.stem} [{level}] produced nothing in 6 attempts"


@pytest.mark.parametrize("path", SPECS[:6], ids=lambda p: p.stem)
def test_instances_are_pure_functions_of_spec_seed_index(path: Path) -> None:
    a = generate_instance(compiled(path), "medium", 7, 3)
    b = generate_instance(compiled(path), "medium", 7, 3)
    assert a == b
    c = generate_instance(compiled(path), "medium", 8, 3)
    assert (a.row or {}).get("id") != (c.row or {}).get("id") or a.row is None


TOY = """\
spec: 1
name: toy
category: test
strategy: sample
parameters:
  target: {int: [3, 9]}
unknowns:
  x: {type: int, range: [0, 9]}
  aux: {type: int, range: [0, 9]}
constraints:
  - "x + 1 == target"
query:
  kind: value
  ask: "x"
  text: "x + 1 = {{ target }}. What is x?"
"""


def test_uniqueness_is_projected_on_the_answer() -> None:
    # `aux` is unconstrained: ten solutions, but one answer -> accepted.
    outcome = generate_instance(inline(TOY), "default", 0, 0)
    assert outcome.row is not None
    params = json.loads(outcome.row["meta"])["parameters"]
    assert outcome.row["answer"] == str(params["target"] - 1)
    assert outcome.row["answer_type"] == "integer"
    # demanding uniqueness of aux too rejects every instance
    strict = inline(TOY + "unique_over: [aux]\n")
    outcome = generate_instance(strict, "default", 0, 0)
    assert outcome.row is None and outcome.reason == "not unique"


def test_unknown_is_not_verified() -> None:
    sudoku_like = """\
spec: 1
name: hard_for_budget
category: test
strategy: sample
unknowns:
  c: {type: int, range: [1, 6], index: {r: range(6), k: range(6)}}
constraints:
  - "all(distinct(c[r][k] for k in range(6)) for r in range(6))"
  - "all(distinct(c[r][k] for r in range(6)) for k in range(6))"
query:
  kind: value
  ask: "c[0][0]"
  text: "What is in the corner?"
solver: {rlimit: 1000}
"""
    outcome = generate_instance(inline(sudoku_like), "default", 0, 0)
    assert outcome.row is None
    assert outcome.reason == "solver unknown"


COUNT = """\
spec: 1
name: arrangements
category: counting
strategy: sample
parameters:
  people: {value: [A, B, C, D]}
unknowns:
  pos: {type: int, range: [1, 4], index: {p: people}}
constraints:
  - "distinct(pos[p] for p in people)"
  - "pos['A'] != 1"
  - "pos['B'] < pos['C']"
query:
  kind: count
  over: [pos]
  text: "In how many orders can they stand?"
"""


def _brute_force_count() -> int:
    return sum(
        1 for perm in itertools.permutations(range(1, 5)) if perm[0] != 1 and perm[1] < perm[2]
    )


def test_count_query_matches_brute_force_and_verifies() -> None:
    outcome = generate_instance(inline(COUNT), "default", 0, 0)
    assert outcome.row is not None
    assert outcome.row["answer"] == str(_brute_force_count()) == "9"
    assert certificate.verify(outcome.row["certificate"], "9").ok
    wrong = certificate.verify(
        outcome.row["certificate"].replace('answer: "9"', 'answer: "8"'), "8"
    )
    assert not wrong.ok and "counted" in wrong.reason


KNAPSACK = """\
spec: 1
name: knap
category: optimization
strategy: sample
parameters:
  weight: {value: [3, 4, 5, 6]}
  value: {value: [4, 5, 7, 8]}
  cap: {value: 10}
unknowns:
  take: {type: bool, index: {i: range(4)}}
constraints:
  - "sum(ite(take[i], weight[i], 0) for i in range(4)) <= cap"
query:
  kind: optimum
  maximize: "sum(ite(take[i], value[i], 0) for i in range(4))"
  answer: assignment
  over: [take]
  format: set
  text: "Which items?"
"""


def test_optimum_is_the_brute_force_optimum() -> None:
    weight, value = [3, 4, 5, 6], [4, 5, 7, 8]
    best = max(
        (sum(v for v, t in zip(value, pick) if t), pick)
        for pick in itertools.product([0, 1], repeat=4)
        if sum(w for w, t in zip(weight, pick) if t) <= 10
    )
    outcome = generate_instance(inline(KNAPSACK), "default", 0, 0)
    assert outcome.row is not None, outcome.detail
    chosen = {int(i) for i in outcome.row["answer"].split(", ")}
    assert chosen == {i for i, t in enumerate(best[1]) if t}
    assert certificate.verify(outcome.row["certificate"], outcome.row["answer"]).ok


CHOICE = """\
spec: 1
name: mc
category: analytical_reasoning
strategy: sample
parameters:
  people: {value: [Ann, Ben, Cat]}
unknowns:
  pos: {type: int, range: [1, 3], index: {p: people}}
constraints:
  - "distinct(pos[p] for p in people)"
  - "pos['Ann'] < pos['Ben']"
query:
  kind: choice
  text: "Which must be true?"
  options:
    count: 3
    semantics: must
    families:
      - name: before
        let: {a: "choice(people)", b: "choice([q for q in people if q != a])"}
        holds: "pos[a] < pos[b]"
        text: ["{{ a }} stands before {{ b }}."]
"""


def test_choice_options_are_classified_by_entailment() -> None:
    outcome = generate_instance(inline(CHOICE), "default", 0, 0)
    assert outcome.row is not None, outcome.detail
    row = outcome.row
    options = json.loads(row["grader"])["options"]
    assert options[row["answer"]] == "Ann stands before Ben."
    assert certificate.verify(row["certificate"], row["answer"]).ok
    other = next(letter for letter in options if letter != row["answer"])
    assert not certificate.verify(
        row["certificate"].replace(f'answer: "{row["answer"]}"', f'answer: "{other}"'), other
    ).ok


def test_tampered_certificates_fail() -> None:
    path = next(p for p in SPECS if p.stem == "logic_grid")
    row = next(
        o.row for i in range(5) if (o := generate_instance(compiled(path), "easy", 0, i)).row
    )
    cert = row["certificate"]
    assert certificate.verify(cert, row["answer"]).ok
    # the row claims a different answer than the certificate proves
    assert "row says" in certificate.verify(cert, "Nobody").reason
    # drop the clues: the answer is no longer unique
    lines = cert.splitlines()
    assertions = [i for i, line in enumerate(lines) if line.startswith("(assert")]
    weakened = "\n".join(line for i, line in enumerate(lines) if i not in assertions[-3:])
    assert not certificate.verify(weakened, row["answer"]).ok
    assert not certificate.verify("(assert true)", row["answer"]).ok


def test_portable_certificate_has_no_z3_pseudo_boolean_syntax() -> None:
    path = next(p for p in SPECS if p.stem == "logic_grid")
    row = next(
        o.row for i in range(5) if (o := generate_instance(compiled(path), "hard", 0, i)).row
    )
    assert "(_ pb" not in row["certificate"] and "(_ at-" not in row["certificate"]
    assert "(check-sat)" in row["certificate"]


def test_sandboxed_templates_cannot_reach_python() -> None:
    evil = TOY.replace(
        'text: "x + 1 = {{ target }}. What is x?"', 'text: "{{ target.__class__.__mro__ }}"'
    )
    outcome = generate_instance(inline(evil), "default", 0, 0)
    assert outcome.row is None
    assert outcome.reason == "spec error"


def test_readme_example_spec_generates_verified_rows() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    text = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = inline(text)
    outcomes = [generate_instance(example, "hard", 0, i) for i in range(10)]
    rows = [o.row for o in outcomes if o.row]
    assert len(rows) >= 8, [o.detail for o in outcomes if not o.row]
    for row in rows:
        assert certificate.verify(row["certificate"], row["answer"]).ok


def test_empty_pick_skips_the_candidate_not_the_instance() -> None:
    text = """\
spec: 1
name: picky
category: test
parameters:
  people: {value: [A, B, C]}
unknowns:
  seat: {type: int, range: [1, 3], index: {p: people}}
constraints: ["distinct(seat[p] for p in people)"]
clues:
  families:
    - name: right_of
      let: {a: "choice(people)", b: "choice([q for q in people if seat[q] > seat[a]])"}
      holds: "seat[a] < seat[b]"
      text: ["{{ a }} is left of {{ b }}."]
query: {kind: which, among: "people", holds: "seat[x] == 1", text: "Who is first?"}
"""
    outcomes = [generate_instance(inline(text), "default", 0, i) for i in range(10)]
    assert all(o.row is not None for o in outcomes), [o.detail for o in outcomes]


MISC = """\
spec: 1
name: misc
category: test
strategy: sample
parameters:
  people: {value: [Ann, Ben]}
  colours: {value: [red, blue]}
unknowns:
  c: {type: enum, values: colours, index: {p: people}}
  r: {type: real}
  q: {type: real}
constraints:
  - "c['Ann'] != c['Ben']"
  - "c['Ann'] == 'red'"
  - "2 * r + q == 3.5"
  - "r - q == 1/4"
query:
  kind: yesno
  ask: "c['Ben'] == 'blue' and r > 1"
  text: "Is Ben blue and r above 1?"
"""


@pytest.mark.parametrize(
    ("kind", "ask", "answer", "answer_type"),
    [
        ("yesno", "c['Ben'] == 'blue' and r > 1", "yes", "boolean"),
        ("yesno", "r < q", "no", "boolean"),
        ("value", "c['Ben']", "blue", "text"),
        ("value", "r", "5/4", "rational"),
        ("value", "2 * r", "5/2", "rational"),
    ],
)
def test_yesno_enum_and_real_queries(kind: str, ask: str, answer: str, answer_type: str) -> None:
    text = MISC.replace("kind: yesno", f"kind: {kind}").replace(
        "ask: \"c['Ben'] == 'blue' and r > 1\"", f'ask: "{ask}"'
    )
    outcome = generate_instance(inline(text), "default", 0, 0)
    assert outcome.row is not None, outcome.detail
    assert (outcome.row["answer"], outcome.row["answer_type"]) == (answer, answer_type)
    assert certificate.verify(outcome.row["certificate"], answer).ok


def test_plant_needs_no_clue_when_the_answer_is_already_unique() -> None:
    text = """\
spec: 1
name: no_clues_needed
category: test
parameters:
  v: {int: [1, 5]}
unknowns:
  x: {type: int, range: [1, 5]}
constraints: ["x == v"]
plant: {x: "v"}
clues:
  families:
    - {name: hint, let: {h: "x"}, holds: "x >= h", text: ["x is at least {{ h }}."]}
query: {kind: value, ask: "x", text: "What is x?"}
"""
    outcome = generate_instance(inline(text), "default", 0, 0)
    assert outcome.row is not None, outcome.detail
    assert json.loads(outcome.row["features"])["clues"] == 0
