"""Training data: pools as rows, a held-out split, and a resumable prompt sampler.

The sampler walks a seeded permutation of the eligible problems, epoch by epoch; its whole
state is (stage, epoch, position), stored in every checkpoint, so a resumed run draws the
same prompts as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synth.pool import PoolError, read_pool, write_pool
from trainers import curriculum


def load_rows(pools: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of every pool (Problem fields; JSON columns decoded), plus `pool`: its path."""
    rows: list[dict[str, Any]] = []
    for pool in pools:
        if not Path(pool).exists():
            raise PoolError(f"{pool}: no such pool")
        for problem in read_pool(pool):
            row = {
                "id": problem.id,
                "source": problem.source,
                "category": problem.category,
                "prompt": problem.prompt,
                "answer": problem.answer,
                "answer_type": problem.answer_type,
                "grader": problem.grader,
                "certificate": problem.certificate,
                "difficulty": problem.difficulty,
                "features": problem.features,
                "meta": problem.meta,
                "pool": str(pool),
            }
            rows.append(row)
    return rows


def held_out(prompt: str, fraction: float, seed: int = 0) -> bool:
    """Deterministic split by prompt text, so a prompt never sits on both sides."""
    if fraction <= 0:
        return False
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction


def split(rows: list[dict[str, Any]], fraction: float, seed: int = 0) -> tuple[list, list]:
    train = [r for r in rows if not held_out(r["prompt"], fraction, seed)]
    test = [r for r in rows if held_out(r["prompt"], fraction, seed)]
    return train, test


@dataclass
class SamplerState:
    stage: int = 0
    epoch: int = 0
    position: int = 0


class PromptSampler:
    """Draws `batch` problem indices per step, honouring selection and curriculum."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        *,
        seed: int,
        selection: str = "all",
        budget: float = 1.0,
        curriculum_kind: str = "none",
        stages: int = 1,
        state: SamplerState | None = None,
    ) -> None:
        if not rows:
            raise ValueError("no training problems (empty pools, or all held out)")
        self.seed = seed
        self.difficulties = [curriculum.difficulty_of(r) for r in rows]
        self.selected = curriculum.select(self.difficulties, selection, budget, seed)
        self.kind = curriculum_kind
        self.stages = stages if curriculum_kind != "none" else 1
        self.state = state or SamplerState()

    def _order(self) -> list[int]:
        pool = curriculum.eligible(
            self.selected, self.difficulties, self.kind, self.state.stage, self.stages
        )
        rng = np.random.default_rng([self.seed, self.state.stage, self.state.epoch])
        return [pool[i] for i in rng.permutation(len(pool))]

    def next(self, batch: int, progress: float) -> list[int]:
        stage = curriculum.stage_of(progress, self.stages)
        if stage != self.state.stage:
            self.state = SamplerState(stage=stage)
        chosen: list[int] = []
        order = self._order()
        while len(chosen) < batch:
            if self.state.position >= len(order):
                self.state.epoch += 1
                self.state.position = 0
                order = self._order()
            take = min(batch - len(chosen), len(order) - self.state.position)
            chosen.extend(order[self.state.position : self.state.position + take])
            self.state.position += take
        return chosen

    def state_dict(self) -> dict[str, int]:
        return asdict(self.state)

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.state = SamplerState(**state)


def split_pool(
    source: Path, train_dir: Path, test_dir: Path, fraction: float, seed: int = 0
) -> tuple[int, int]:
    """Write train / held-out pools from `source` whose prompts never overlap.

    The held-out side keeps one row per distinct prompt, so pass@k is not weighted by how
    often the generator happened to repeat a problem. Returns the two row counts.
    """
    seen: set[str] = set()
    train_rows, test_rows = [], []
    for problem in read_pool(source):
        if not held_out(problem.prompt, fraction, seed):
            train_rows.append(problem)
        elif problem.prompt not in seen:
            seen.add(problem.prompt)
            test_rows.append(problem)
    meta = {"source": str(source), "split": {"held_out": fraction, "seed": seed}}
    write_pool(train_rows, train_dir, meta, overwrite=True)
    write_pool(test_rows, test_dir, meta, overwrite=True)
    return len(train_rows), len(test_rows)
