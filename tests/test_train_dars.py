"""DARS schedule tables against their formulas (and the reference implementation's table)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainers.dars import extra_samples, schedule_table, target_samples


def _et(a: float, n0: int, cap: int, std: bool = False) -> int:
    c = (lambda x: math.sqrt(x * (1 - x))) if std else (lambda x: x * (1 - x))
    return min(cap, math.floor(n0 * c(0.5) / c(a) + 0.5)) if a > 0 else cap


def test_equal_treatment_matches_the_authors_table():
    # yangzhch6/DARS resample_func1 with n0 = 8, cap 32: 0 -> 32, 1/8 -> 18, 2/8 -> 11, 3/8 -> 9
    table = dict(schedule_table(8, 32, "equal_treatment"))
    assert [table[a] for a in (0, 1 / 8, 2 / 8, 3 / 8, 4 / 8, 1.0)] == [32, 18, 11, 9, 8, 8]


@pytest.mark.parametrize("std", [False, True])
def test_equal_treatment_formula(std):
    for k in range(9):
        a = k / 8
        expected = 8 if a >= 0.5 else max(8, _et(a, 8, 40, std))
        assert target_samples(a, 8, 40, "equal_treatment", scale_std=std) == expected


def test_hardness_weighted_formula():
    for k in range(1, 4):
        a = k / 8
        raw = 8 * 0.25 / (a * (1 - a)) * 2 * (1 - a)  # = 8 * 0.5 / a
        assert target_samples(a, 8, 64, "hardness_weighted") == min(64, math.floor(raw + 0.5))
    assert [n for _, n in schedule_table(8, 64, "hardness_weighted")][:4] == [64, 32, 16, 11]


def test_extra_samples_and_threshold():
    assert extra_samples([0.0, 0.125, 0.5, 1.0], 8, 32) == [24, 10, 0, 0]
    assert extra_samples([0.25], 8, 32, hard_below=0.2) == [0]
    with pytest.raises(ValueError, match="equal_treatment, hardness_weighted"):
        target_samples(0.1, 8, 32, "uniform")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        target_samples(1.5, 8, 32)


@given(
    st.integers(2, 16),
    st.integers(0, 64),
    st.sampled_from(["equal_treatment", "hardness_weighted"]),
)
def test_schedules_are_capped_and_never_below_n0_and_harder_gets_more(n0, extra_cap, schedule):
    cap = n0 + extra_cap
    totals = [n for _, n in schedule_table(n0, cap, schedule)]
    assert all(n0 <= n <= cap for n in totals)
    assert totals == sorted(totals, reverse=True)
