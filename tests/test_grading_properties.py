"""Grading properties, checked on generated inputs (hypothesis): every equivalent rendering
of a gold number is accepted and a different value never is; a choice letter is accepted
in any rendering iff it is the gold one; a set answer in any order is accepted, a grid
with one wrong cell earns (n-1)/n; and grading is total: any text, however broken, gets a
Grade and never an exception."""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synth.grading import Grade, grade
from synth.problem import ANSWER_TYPES

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

fractions = st.builds(
    Fraction,
    st.integers(min_value=-(10**7), max_value=10**7),
    st.integers(min_value=1, max_value=400),
)


def _row(value: Fraction) -> dict[str, str]:
    if value.denominator == 1:
        return {"answer": str(value.numerator), "answer_type": "integer", "grader": ""}
    return {"answer": f"{value.numerator}/{value.denominator}", "answer_type": "rational"}


def _terminating(value: Fraction) -> bool:
    q = value.denominator
    for p in (2, 5):
        while q % p == 0:
            q //= p
    return q == 1


def _decimal(value: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 60
        return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


def renderings(value: Fraction) -> list[str]:
    """Bare forms of `value` a reader must accept."""
    p, q = value.numerator, value.denominator
    sign = "-" if p < 0 else ""
    forms = []
    if q == 1:
        forms += [str(p), f"{p}.0", f"{p}.000"]
        if abs(p) >= 1000:
            forms += [f"{p:,}", f"{p:,}".replace(",", "{,}"), f"{p:,}".replace(",", "\\,")]
    forms += [
        f"{p}/{q}",
        f"\\frac{{{p}}}{{{q}}}",
        f"\\dfrac{{{p}}}{{{q}}}",
        f"{sign}\\frac{{{abs(p)}}}{{{q}}}",
        f"\\frac{{{2 * p}}}{{{2 * q}}}",
        f"{3 * p}/{3 * q}",
    ]
    if _terminating(value):
        forms.append(_decimal(value))
    return forms


WRAPPERS = [
    "{}",
    "\\boxed{{{}}}",
    "\\fbox{{{}}}",
    "\\boxed{{\\boxed{{{}}}}}",
    "$\\boxed{{{}}}$",
    "Answer: {}",
    "**Answer:** {}",
    "The final answer is {}.",
    "The final answer is ${}$.",
    "<answer>{}</answer>",
    "Working it out step by step...\n\nSo the result is \\boxed{{{}}}.",
    "\\boxed{{\\displaystyle {}}}",
    "\\boxed{{\\left({}\\right)}}",
]


@SETTINGS
@given(value=fractions, form=st.data(), wrapper=st.sampled_from(WRAPPERS), minus=st.booleans())
def test_every_rendering_of_the_gold_number_is_accepted(
    value: Fraction, form: st.DataObject, wrapper: str, minus: bool
) -> None:
    text = form.draw(st.sampled_from(renderings(value)), label="form")
    if minus:
        text = text.replace("-", "\u2212")
    response = wrapper.format(text)
    result = grade(_row(value), response)
    assert result.correct, (response, result)
    assert result.score == 1.0


@SETTINGS
@given(value=fractions, wrapper=st.sampled_from(WRAPPERS))
def test_integer_gold_accepts_rational_forms(value: Fraction, wrapper: str) -> None:
    """An integer problem graded as rational (and the other way round) agrees."""
    row = {"answer": str(value.numerator), "answer_type": "rational"}
    assert grade(row, wrapper.format(f"\\frac{{{2 * value.numerator}}}{{2}}")).correct


@SETTINGS
@given(
    value=fractions,
    delta=st.builds(
        Fraction,
        st.integers(min_value=-1000, max_value=1000).filter(bool),
        st.sampled_from([1, 2, 3, 7, 100, 1000, 10**6]),
    ),
    form=st.data(),
    wrapper=st.sampled_from(WRAPPERS),
)
def test_a_different_value_is_rejected(
    value: Fraction, delta: Fraction, form: st.DataObject, wrapper: str
) -> None:
    other = value + delta
    text = form.draw(st.sampled_from(renderings(other)), label="form")
    result = grade(_row(value), wrapper.format(text))
    assert not result.correct, (wrapper.format(text), result)
    assert result.score == 0.0


@SETTINGS
@given(value=fractions, wrapper=st.sampled_from(WRAPPERS[1:4]))
def test_two_different_final_answers_are_rejected(value: Fraction, wrapper: str) -> None:
    right = renderings(value)[0]
    wrong = renderings(value + 1)[0]
    both = wrapper.format(right) + " or perhaps " + wrapper.format(wrong)
    assert not grade(_row(value), both).correct
    assert grade(_row(value), wrapper.format(right) + " again " + wrapper.format(right)).correct


# -- choice ------------------------------------------------------------------------------

CITY_NAMES = ["Paris", "London", "Berlin", "Rome", "Oslo", "Lima", "Cairo", "Quito"]
LETTER_FORMS = [
    "{}",
    "{l}",
    "({})",
    "{})",
    "{}.",
    "\\boxed{{{}}}",
    "\\boxed{{({})}}",
    "\\boxed{{\\text{{{}}}}}",
    "\\textbf{{{}}}",
    "**{}**",
    "Option {}",
    "The answer is ({}).",
    "**Answer:** {}",
    "<answer>{}</answer>",
    "Final answer: \\boxed{{{}}}",
]


@SETTINGS
@given(
    size=st.integers(min_value=2, max_value=8),
    data=st.data(),
    form=st.sampled_from(LETTER_FORMS),
)
def test_choice_letter_accepted_iff_gold(size: int, data: st.DataObject, form: str) -> None:
    letters = "ABCDEFGH"[:size]
    options = dict(zip(letters, CITY_NAMES))
    gold = data.draw(st.sampled_from(letters), label="gold")
    said = data.draw(st.sampled_from(letters), label="said")
    row = {"answer": gold, "answer_type": "choice", "grader": {"options": options}}
    response = form.format(said, l=said.lower())
    assert grade(row, response).correct is (said == gold), response
    by_text = grade(row, f"\\boxed{{{options[said]}}}")
    assert by_text.correct is (said == gold)
    both = f"({said}) {options[said]}"
    assert grade(row, both).correct is (said == gold), both


# -- assignments -----------------------------------------------------------------------

PEOPLE = ["Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi"]


@SETTINGS
@given(data=st.data(), joiner=st.sampled_from([", ", ",", " and ", "; ", " & "]))
def test_any_permutation_of_a_set_answer_is_accepted(data: st.DataObject, joiner: str) -> None:
    people = data.draw(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=8, unique=True))
    chosen = data.draw(st.lists(st.sampled_from(people), min_size=1, unique=True))
    order = data.draw(st.permutations(chosen))
    grader = {"format": "set", "variables": [f"knight[{p}]" for p in people]}
    row = {"answer": ", ".join(chosen), "answer_type": "assignment", "grader": grader}
    response = "\\boxed{" + joiner.join(order) + "}"
    assert grade(row, response).correct, response
    missing = [p for p in people if p not in chosen]
    if missing:
        extra = "\\boxed{" + ", ".join([*order, missing[0]]) + "}"
        result = grade(row, extra)
        assert not result.correct
        assert result.score == (len(people) - 1) / len(people)


@SETTINGS
@given(
    rows=st.integers(min_value=1, max_value=6),
    cols=st.integers(min_value=1, max_value=6),
    data=st.data(),
)
def test_grid_with_one_wrong_cell_gets_partial_credit(
    rows: int, cols: int, data: st.DataObject
) -> None:
    n = rows * cols
    cells = data.draw(st.lists(st.integers(1, 9), min_size=n, max_size=n), label="cells")
    wrong_at = data.draw(st.integers(0, n - 1), label="cell")
    wrong = data.draw(st.integers(1, 9).filter(lambda v: v != cells[wrong_at]), label="value")
    grader = {"format": "grid", "variables": [f"cell[{i}][{j}]" for i in range(rows) for j in range(cols)]}  # fmt: skip

    def render(values: list[int]) -> str:
        lines = [" ".join(map(str, values[r * cols : (r + 1) * cols])) for r in range(rows)]
        return "\n".join(lines)

    row = {"answer": render(cells), "answer_type": "assignment", "grader": grader}
    assert grade(row, "\\boxed{" + render(cells) + "}").correct
    changed = list(cells)
    changed[wrong_at] = wrong
    response = "\\boxed{" + render(changed) + "}"
    on = grade(row, response, partial_credit=True)
    off = grade(row, response, partial_credit=False)
    assert not on.correct and not off.correct
    assert on.score == (n - 1) / n
    assert off.score == 0.0


# -- totality --------------------------------------------------------------------------

GOLD = {
    "integer": ("-12", ""),
    "rational": ("3/4", ""),
    "real": ("2.5", {"tolerance": 1e-3}),
    "expression": ("x^2+1", ""),
    "choice": ("B", {"options": {"A": "Paris", "B": "London"}}),
    "multi_choice": ("A,B", {"options": {"A": "Paris", "B": "London", "C": "Rome"}}),
    "boolean": ("yes", ""),
    "text": ("Alice", {"options": ["Alice", "Bob"]}),
    "assignment": ("1 2\n2 1", {"format": "grid", "variables": ["a", "b", "c", "d"]}),
}
assert set(GOLD) == set(ANSWER_TYPES)

PIECES = [
    "\\boxed{", "\\fbox{", "{", "}", "<answer>", "</answer>", "Answer:", "The final answer is",
    "\\frac{", "\\sqrt{", "^", "**", "$", "\\(", "\\)", "\\left(", "\\right)", "\\text{",
    "-", "\u2212", "7", "1,234", "0.5", "%", "x", "e", "\\pi", "(", ")", "\n", " ", "\\",
    "\x00", "9^9^9^9", "10^{10^{10}}", "__import__('os')", "yes", "B", "Alice", "&", "\\\\",
    "\\begin{pmatrix}", "\\end{pmatrix}", "1e999999", "\\exp(", "/0",
]  # fmt: skip

junk = st.one_of(
    st.text(max_size=400),
    st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
    st.binary(max_size=400).map(lambda b: b.decode("utf-8", "replace")),
    st.lists(st.sampled_from(PIECES), max_size=60).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answer_type=st.sampled_from(sorted(GOLD)), response=junk, partial=st.booleans())
def test_grading_is_total(answer_type: str, response: str, partial: bool) -> None:
    gold, grader = GOLD[answer_type]
    row = {"answer": gold, "answer_type": answer_type, "grader": grader}
    result = grade(row, response, partial_credit=partial)
    assert isinstance(result, Grade)
    assert isinstance(result.correct, bool) and isinstance(result.reason, str)
    assert 0.0 <= result.score <= 1.0
    assert result.correct == (result.score == 1.0)
    assert result.extracted is None or isinstance(result.extracted, str)


@SETTINGS
@given(answer_type=st.sampled_from(sorted(GOLD)), response=junk)
def test_junk_inside_markers_is_total(answer_type: str, response: str) -> None:
    gold, grader = GOLD[answer_type]
    row = {"answer": gold, "answer_type": answer_type, "grader": grader}
    for wrapped in (
        f"\\boxed{{{response}}}",
        f"<answer>{response}</answer>",
        f"Answer: {response}",
    ):
        assert isinstance(grade(row, wrapped), Grade)


@SETTINGS
@given(value=fractions, noise=st.text(alphabet="abc xyz.,;:!?", max_size=80))
def test_prose_before_a_boxed_answer_does_not_matter(value: Fraction, noise: str) -> None:
    assume("answer" not in noise)
    response = noise + "\n\\boxed{" + renderings(value)[0] + "}"
    assert grade(_row(value), response).correct
