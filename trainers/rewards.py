"""Rewards for sampled completions: the grading layer's verdict plus optional shaping.

- correctness: `synth.grading.grade(...).score` (1 right, 0 wrong; assignments may earn
  partial credit when `partial_credit` is on);
- format (`format_weight`): added when the completion states its answer in `\\boxed{}`;
- overlong (DAPO's soft overlong punishment, `overlong_buffer` tokens): 0 up to
  L - buffer tokens, then falling linearly to -`overlong_weight` at the limit L, and
  -`overlong_weight` for a completion cut by the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from synth.grading import grade
from synth.grading.extract import boxed


@dataclass(frozen=True)
class Reward:
    total: float
    correct: bool
    score: float


def overlong_penalty(
    length: int, finished: bool, max_tokens: int, buffer: int, weight: float
) -> float:
    if buffer <= 0:
        return 0.0
    if not finished or length >= max_tokens:
        return -weight
    free = max_tokens - buffer
    if length <= free:
        return 0.0
    return -weight * (length - free) / buffer


def reward(
    problem: Mapping[str, Any],
    text: str,
    length: int,
    finished: bool,
    *,
    max_tokens: int,
    partial_credit: bool = True,
    format_weight: float = 0.0,
    overlong_buffer: int = 0,
    overlong_weight: float = 1.0,
) -> Reward:
    verdict = grade(problem, text, partial_credit=partial_credit)
    total = verdict.score
    if format_weight and boxed(text):
        total += format_weight
    total += overlong_penalty(length, finished, max_tokens, overlong_buffer, overlong_weight)
    return Reward(total, verdict.correct, verdict.score)
