"""Hard-example selection under a budget, curriculum stages and the resumable sampler."""

from __future__ import annotations

import pytest

from trainers.curriculum import difficulty_of, eligible, select, stage_of
from trainers.data import PromptSampler, held_out, split

DIFF = [0.9, 0.1, 0.5, 0.3, 0.7, 0.0, 1.0, 0.2, 0.6, 0.4]  # index i has a distinct difficulty


def test_select_hardest_medium_easiest_random():
    assert select(DIFF, "hardest", 0.2) == [0, 6]
    assert select(DIFF, "easiest", 0.2) == [1, 5]
    assert select(DIFF, "medium", 0.2) == [2, 9]  # the two around the median (0.4, 0.5)
    picked = select(DIFF, "random", 0.3, seed=1)
    assert len(picked) == 3 and picked == select(DIFF, "random", 0.3, seed=1)
    assert select(DIFF, "random", 0.3, seed=2) != picked or len(set(DIFF)) < 3
    assert select(DIFF, "all", 0.1) == list(range(10))
    assert select(DIFF, "hardest", 0.01) == [6]  # at least one


def test_select_rejects_bad_arguments():
    with pytest.raises(ValueError, match="all, hardest, medium, easiest, random"):
        select(DIFF, "hard", 0.1)
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        select(DIFF, "hardest", 0.0)


def test_difficulty_prefers_measured_pass_rate():
    assert difficulty_of({"difficulty": 0.2, "features": {"pass_rate": 0.75}}) == 0.25
    assert difficulty_of({"difficulty": 0.2, "features": {}}) == 0.2


def test_curriculum_windows():
    assert [stage_of(p, 3) for p in (0.0, 0.33, 0.34, 0.66, 0.67, 0.99, 1.0)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        2,
    ]
    everything = list(range(10))
    assert eligible(everything, DIFF, "easy_to_hard", 0, 2) == sorted([5, 1, 7, 3, 9])
    assert eligible(everything, DIFF, "easy_to_hard", 1, 2) == everything
    assert eligible(everything, DIFF, "hard_to_easy", 0, 2) == sorted([6, 0, 4, 8, 2])
    assert eligible(everything, DIFF, "none", 0, 5) == everything


def test_sampler_walks_epochs_and_restores_its_position():
    rows = [{"prompt": str(i), "difficulty": d, "features": {}} for i, d in enumerate(DIFF)]
    first = PromptSampler(rows, seed=3)
    seq = [first.next(4, 0.0) for _ in range(5)]
    assert sorted(seq[0] + seq[1] + seq[2][:2]) == list(range(10))  # one epoch covers every row
    again = PromptSampler(rows, seed=3)
    again.next(4, 0.0)
    again.next(4, 0.0)
    state = again.state_dict()
    resumed = PromptSampler(rows, seed=3)
    resumed.load_state_dict(state)
    assert [resumed.next(4, 0.0) for _ in range(3)] == seq[2:]


def test_sampler_follows_the_curriculum():
    rows = [{"prompt": str(i), "difficulty": d, "features": {}} for i, d in enumerate(DIFF)]
    sampler = PromptSampler(rows, seed=0, curriculum_kind="easy_to_hard", stages=2)
    early = {i for _ in range(5) for i in sampler.next(3, 0.1)}
    assert early <= {5, 1, 7, 3, 9}
    late = {i for _ in range(10) for i in sampler.next(3, 0.9)}
    assert late == set(range(10))


def test_held_out_split_is_by_prompt_and_deterministic():
    rows = [{"prompt": f"p{i % 50}"} for i in range(200)]
    train, test = split(rows, 0.2, seed=0)
    assert {r["prompt"] for r in train}.isdisjoint({r["prompt"] for r in test})
    assert 0 < len(test) < len(rows)
    assert held_out("p1", 0.2) == held_out("p1", 0.2)
    assert not held_out("p1", 0.0)
