"""`veriforge difficulty POOL --model M -k 8`: measure each problem's pass rate with a model
and write it into the pool (`features.pass_rate`, `difficulty = 1 - pass_rate`).

Work goes in fixed chunks whose sampling seed depends only on the chunk's index, and each
finished chunk is appended to `POOL.difficulty-partial.jsonl`; an interrupted run started
again skips finished chunks and gets the same numbers. The pool is rewritten atomically
(temporary directory, then rename) only when every chunk is done.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synth.pool import read_manifest, read_pool, write_pool
from trainers.evaluate import sample_and_grade
from trainers.rollout import TransformersBackend


def partial_path(pool: Path) -> Path:
    return pool.parent / f"{pool.name}.difficulty-partial.jsonl"


def estimate(
    pool: str | Path,
    model: Any,
    tokenizer: Any,
    *,
    model_name: str,
    k: int = 8,
    max_new_tokens: int = 256,
    temperature: float = 1.0,
    seed: int = 0,
    chunk: int = 32,
    on_chunk: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Estimate pass rates and rewrite `pool`; returns a summary (problems, mean pass rate)."""
    pool = Path(pool)
    problems = read_pool(pool)
    manifest = read_manifest(pool)
    rows = [
        {**p.to_row(), "grader": p.grader, "features": p.features, "meta": p.meta} for p in problems
    ]
    partial = partial_path(pool)
    settings = {
        "model": model_name,
        "k": k,
        "max_new_tokens": max_new_tokens,
        "temperature": temperature,
        "seed": seed,
        "chunk": chunk,
    }
    done: dict[int, dict[str, int]] = {}
    if partial.is_file():
        lines = partial.read_text().splitlines()
        if lines and json.loads(lines[0]) == settings:
            for line in lines[1:]:
                record = json.loads(line)
                done[record["chunk"]] = record["correct"]
        else:
            partial.unlink()
    if not partial.is_file():
        partial.write_text(json.dumps(settings) + "\n")
    backend = TransformersBackend(model, tokenizer, batch_size=chunk)
    chunks = range(0, len(rows), chunk)
    for number, start in enumerate(chunks):
        if number not in done:
            records = sample_and_grade(
                backend,
                tokenizer,
                rows[start : start + chunk],
                k,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                seed=seed * 100_003 + number,
            )
            done[number] = {r["id"]: r["correct"] for r in records}
            with open(partial, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"chunk": number, "correct": done[number]}) + "\n")
        if on_chunk:
            on_chunk(number + 1, len(chunks))
    correct = {pid: c for part in done.values() for pid, c in part.items()}
    updated = []
    for problem in problems:
        rate = correct[problem.id] / k
        features = {
            **problem.features,
            "pass_rate": rate,
            "pass_rate_k": k,
            "pass_rate_model": model_name,
        }
        updated.append(
            dataclasses.replace(problem, features=features, difficulty=round(1.0 - rate, 6))
        )
    manifest = {**manifest, "difficulty_estimate": settings}
    manifest.pop("counts", None)
    manifest.pop("shards", None)
    write_pool(updated, pool, manifest, overwrite=True)
    partial.unlink(missing_ok=True)
    rates = [correct[p.id] / k for p in problems]
    return {"problems": len(problems), "mean_pass_rate": sum(rates) / max(len(rates), 1), "k": k}
