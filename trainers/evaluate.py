"""pass@k and avg@k of a model on pools, by category and difficulty band.

pass@k uses the unbiased estimator of Chen et al. (2021): with n samples of which c are
right, pass@k = 1 - C(n - c, k) / C(n, k), averaged over problems. avg@k is the mean score
of the n samples (the expected pass@1 estimated from all of them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from math import comb
from typing import Any

from evolve.models import SamplingParams
from synth.grading import grade
from trainers.prompting import format_prompt
from trainers.rollout import RolloutBackend

BANDS = (
    (0.0, 0.25, "[0,0.25)"),
    (0.25, 0.5, "[0.25,0.5)"),
    (0.5, 0.75, "[0.5,0.75)"),
    (0.75, 1.01, "[0.75,1]"),
)


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem: n samples, c correct."""
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"need 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass@{k} needs at least {k} samples, got {n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def ks_for(k: int) -> list[int]:
    """1, 2, 4, ... up to k, and k itself."""
    out, value = [], 1
    while value < k:
        out.append(value)
        value *= 2
    return [*out, k]


def band(difficulty: float) -> str:
    for low, high, name in BANDS:
        if low <= difficulty < high:
            return name
    return BANDS[-1][2]


def summarise(per_problem: Sequence[dict[str, Any]], k: int) -> dict[str, float]:
    """Averages over problems: pass@j for j in ks_for(k), avg@k."""
    out: dict[str, float] = {"n": float(len(per_problem))}
    if not per_problem:
        return out
    for j in ks_for(k):
        out[f"pass@{j}"] = sum(pass_at_k(p["samples"], p["correct"], j) for p in per_problem) / len(
            per_problem
        )
    out[f"avg@{k}"] = sum(p["score"] for p in per_problem) / len(per_problem)
    return out


def sample_and_grade(
    backend: RolloutBackend,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    k: int,
    *,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int = 0,
    system_prompt: str | None = None,
    stop: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """k samples per problem, graded: one record per problem (samples, correct, mean score)."""
    prompts = [format_prompt(tokenizer, r["prompt"], system_prompt) for r in rows]
    params = SamplingParams(
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        n=k,
        seed=seed,
        stop=tuple(stop),
    )
    results = backend.generate(prompts, params)
    records = []
    for row, res in zip(rows, results):
        grades = [grade(row, c.text) for c in res.completions]
        records.append(
            {
                "id": row["id"],
                "category": row["category"],
                "difficulty": float(row.get("difficulty") or 0.0),
                "pool": row.get("pool", ""),
                "samples": len(grades),
                "correct": sum(g.correct for g in grades),
                "score": sum(g.score for g in grades) / max(len(grades), 1),
            }
        )
    return records


def report(records: Sequence[dict[str, Any]], k: int) -> dict[str, Any]:
    """Overall, per-category and per-difficulty-band pass@k tables."""
    by_category: dict[str, list] = defaultdict(list)
    by_band: dict[str, list] = defaultdict(list)
    by_pool: dict[str, list] = defaultdict(list)
    for r in records:
        by_category[r["category"]].append(r)
        by_band[band(r["difficulty"])].append(r)
        by_pool[r["pool"]].append(r)
    return {
        "k": k,
        "overall": summarise(records, k),
        "by_category": {name: summarise(v, k) for name, v in sorted(by_category.items())},
        "by_difficulty": {name: summarise(v, k) for name, v in sorted(by_band.items())},
        "results": [
            {
                "dataset": pool,
                "category": cat,
                **summarise([r for r in v if r["category"] == cat], k),
            }
            for pool, v in sorted(by_pool.items())
            for cat in sorted({r["category"] for r in v})
        ],
    }
