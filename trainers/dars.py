"""DARS: Difficulty Adaptive Rollout Sampling (Yang et al. 2025, "Depth-Breadth Synergy in
RLVR").

Why: under GRPO a group of n rollouts with accuracy a carries a cumulative advantage
(sum of |A_i|) of 2 n a (1 - a) without std scaling, 2 n sqrt(a (1 - a)) with it. Both peak
at a = 0.5, so hard prompts (small a) get little weight exactly where the model's reasoning
boundary is. DARS spends a second rollout stage on them:

1. stage 1: every prompt gets `n0` rollouts; their mean reward estimates its accuracy a_j;
2. stage 2: a prompt with a_j < `hard_below` gets extra rollouts so that its group reaches

   - Equal-Treatment (ET): the cumulative advantage of a medium prompt (a = 0.5) at n0:
     n_j = n0 * c(0.5) / c(a_j)
   - Hardness-Weighted (HW): that target scaled by the prompt's hardness relative to a medium
     one, 2 (1 - a_j): n_j = n0 * c(0.5) / c(a_j) * 2 (1 - a_j)

   with c(a) = a (1 - a) (or sqrt(a (1 - a)) when advantages are std-scaled), rounded to the
   nearest integer and capped at `max_samples`; a_j = 0 (nothing right yet) gets the cap.
   With n0 = 8 and no std scaling, ET gives 18, 11 and 9 rollouts at a = 1/8, 2/8, 3/8:
   the table of the authors' reference implementation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

Schedule = Literal["equal_treatment", "hardness_weighted"]
SCHEDULES: tuple[str, ...] = ("equal_treatment", "hardness_weighted")


def cumulative_advantage_unit(accuracy: float, scale_std: bool = False) -> float:
    """c(a): a group's cumulative advantage per rollout, up to the constant 2."""
    value = accuracy * (1.0 - accuracy)
    return math.sqrt(value) if scale_std else value


def target_samples(
    accuracy: float,
    n0: int,
    max_samples: int,
    schedule: str = "equal_treatment",
    hard_below: float = 0.5,
    scale_std: bool = False,
) -> int:
    """Total rollouts (stage 1 included) a prompt with estimated `accuracy` should get."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be in [0, 1], got {accuracy}")
    if accuracy >= hard_below:
        return n0
    unit = cumulative_advantage_unit(accuracy, scale_std)
    if unit <= 0.0:
        return max(max_samples, n0)
    total = n0 * cumulative_advantage_unit(0.5, scale_std) / unit
    if schedule == "hardness_weighted":
        total *= 2.0 * (1.0 - accuracy)
    return max(n0, min(max_samples, math.floor(total + 0.5)))


def extra_samples(
    accuracies: Sequence[float],
    n0: int,
    max_samples: int,
    schedule: str = "equal_treatment",
    hard_below: float = 0.5,
    scale_std: bool = False,
) -> list[int]:
    """Stage-2 rollouts per prompt: target_samples(...) - n0."""
    return [
        target_samples(a, n0, max_samples, schedule, hard_below, scale_std) - n0 for a in accuracies
    ]


def schedule_table(
    n0: int, max_samples: int, schedule: str, scale_std: bool = False
) -> list[tuple[float, int]]:
    """(accuracy, total rollouts) for every accuracy stage 1 can observe: k / n0."""
    return [
        (k / n0, target_samples(k / n0, n0, max_samples, schedule, scale_std=scale_std))
        for k in range(n0 + 1)
    ]
