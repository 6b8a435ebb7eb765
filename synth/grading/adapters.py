"""Reward adapters, so veriforge pools plug into the trainers people already run.

- TRL: `trl_reward(prompts, completions, **columns)`; pass it as a `reward_funcs` entry of
  `GRPOTrainer`; the pool's `answer`, `answer_type`, `grader` (and `certificate`) columns
  arrive as keyword lists.
- verl: `compute_score(data_source, solution_str, ground_truth, extra_info)`; put
  `answer_type`/`grader` in `extra_info` (or a dict with them as `ground_truth`).
- reasoning-gym: `score_answer(answer, entry)` with `entry["answer"]` and
  `entry["metadata"]` holding `answer_type`/`grader`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from synth.grading.grade import grade

_INTEGER = re.compile(r"^-?\d+$")
_RATIONAL = re.compile(r"^-?\d+/\d+$|^-?\d*\.\d+$")


def infer_answer_type(answer: str) -> str:
    """For rows that carry only an answer string: integer, rational or text."""
    answer = answer.strip()
    if _INTEGER.match(answer):
        return "integer"
    if _RATIONAL.match(answer):
        return "rational"
    return "text"


def _row(
    answer: Any, answer_type: Any = None, grader: Any = None, certificate: Any = None
) -> dict[str, Any]:
    answer = str(answer)
    return {
        "answer": answer,
        "answer_type": answer_type or infer_answer_type(answer),
        "grader": grader or "",
        "certificate": certificate or "",
    }


def _text(completion: Any) -> str:
    """A completion as text: plain strings, or chat messages (the last assistant turn)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return str(completion.get("content", ""))
    if isinstance(completion, Sequence) and completion:
        messages = [m for m in completion if isinstance(m, Mapping)]
        assistant = [m for m in messages if m.get("role") == "assistant"] or messages
        return str(assistant[-1].get("content", "")) if assistant else ""
    return ""


def trl_reward(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
    """TRL reward function: 1.0 for a correct final answer, else 0.0 (partial credit for
    assignments). Needs the `answer` column; uses `answer_type`, `grader`, `certificate`."""
    if "answer" not in columns:
        raise ValueError("trl_reward needs the pool's 'answer' column in the dataset")
    n = len(completions)
    for key in ("answer", "answer_type", "grader", "certificate"):
        values = columns.get(key)
        if values is not None and len(values) != n:
            raise ValueError(
                f"trl_reward got {n} completions but {len(values)} values in column {key!r}"
            )
    column = {
        k: columns.get(k) or [None] * n for k in ("answer", "answer_type", "grader", "certificate")
    }
    return [
        grade(
            _row(
                column["answer"][i],
                column["answer_type"][i],
                column["grader"][i],
                column["certificate"][i],
            ),
            _text(completions[i]),
        ).score
        for i in range(n)
    ]


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
) -> float:
    """verl-style reward: the grade's score for `solution_str`."""
    info = dict(extra_info or {})
    if isinstance(ground_truth, Mapping):
        info = {**ground_truth, **info}
        ground_truth = ground_truth.get("answer", "")
    if isinstance(info.get("grader"), Mapping):
        info["grader"] = json.dumps(info["grader"])
    return grade(
        _row(ground_truth, info.get("answer_type"), info.get("grader"), info.get("certificate")),
        solution_str,
    ).score


def score_answer(answer: str | None, entry: Mapping[str, Any]) -> float:
    """reasoning-gym-style: score an (already extracted or full) answer for a dataset entry."""
    if answer is None:
        return 0.0
    meta = entry.get("metadata") or {}
    return grade(
        _row(
            entry["answer"],
            meta.get("answer_type") or entry.get("answer_type"),
            meta.get("grader") or entry.get("grader"),
            meta.get("certificate") or entry.get("certificate"),
        ),
        answer,
    ).score
