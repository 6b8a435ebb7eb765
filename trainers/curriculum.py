"""Which problems to train on, and in what order.

- `select`: hard-example selection under a budget. Keep a fraction of a pool, chosen by
  difficulty: the hardest, the medium band (closest to the median), the easiest, or a
  seeded random subset. Difficulty is the measured pass rate where `veriforge difficulty`
  wrote one (1 - pass rate), else the row's `difficulty` column.
- `stage_of` / `eligible`: a curriculum across training. The selected problems are sorted
  by difficulty and cut into `stages` equal buckets; at a fraction f of training the sampler
  draws from buckets 0..floor(f * stages) (easy-to-hard: a growing window that keeps the
  easy problems in), or the mirror image for hard-to-easy.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

Strategy = Literal["all", "hardest", "medium", "easiest", "random"]
STRATEGIES: tuple[str, ...] = ("all", "hardest", "medium", "easiest", "random")
CurriculumKind = Literal["none", "easy_to_hard", "hard_to_easy"]


def difficulty_of(row: Mapping[str, Any]) -> float:
    """1 - measured pass rate when the row has one in `features`, else `difficulty`."""
    features = row.get("features") or {}
    if isinstance(features, Mapping) and isinstance(features.get("pass_rate"), (int, float)):
        return 1.0 - float(features["pass_rate"])
    return float(row.get("difficulty") or 0.0)


def _order(difficulties: Sequence[float]) -> list[int]:
    """Indices from easiest to hardest; ties broken by index (deterministic)."""
    return sorted(range(len(difficulties)), key=lambda i: (difficulties[i], i))


def select(
    difficulties: Sequence[float], strategy: str, fraction: float, seed: int = 0
) -> list[int]:
    """Indices of the kept problems (ascending), `round(fraction * n)` of them (at least 1)."""
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = len(difficulties)
    if strategy == "all" or n == 0:
        return list(range(n))
    keep = max(1, round(fraction * n))
    order = _order(difficulties)
    if strategy == "easiest":
        chosen = order[:keep]
    elif strategy == "hardest":
        chosen = order[n - keep :]
    elif strategy == "medium":
        start = (n - keep) // 2
        chosen = order[start : start + keep]
    else:
        chosen = random.Random(seed).sample(range(n), keep)
    return sorted(chosen)


def stage_of(progress: float, stages: int) -> int:
    """The curriculum stage (0-based) at a fraction `progress` in [0, 1] of training."""
    return min(stages - 1, max(0, int(progress * stages)))


def eligible(
    indices: Sequence[int],
    difficulties: Sequence[float],
    kind: str,
    stage: int,
    stages: int,
) -> list[int]:
    """The problems (from `indices`) the sampler may draw at `stage`."""
    if kind == "none" or stages <= 1:
        return list(indices)
    ordered = sorted(indices, key=lambda i: (difficulties[i], i))
    if kind == "hard_to_easy":
        ordered.reverse()
    elif kind != "easy_to_hard":
        raise ValueError(f"curriculum must be none, easy_to_hard or hard_to_easy, got {kind!r}")
    upto = max(1, round(len(ordered) * (stage + 1) / stages))
    return sorted(ordered[:upto])
