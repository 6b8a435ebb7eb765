"""Shared test helpers."""

from __future__ import annotations

import os
from typing import Any

import pytest

# Tests never touch the network (load_dataset on a local directory needs none).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

from synth.problem import Problem, content_id


def build_problem(index: int = 0, **overrides: Any) -> Problem:
    """A small valid Problem; `index` varies the content, `overrides` set any field."""
    categories = ("logic", "arithmetic", "scheduling")
    values: dict[str, Any] = {
        "source": "toy-spec",
        "category": categories[index % len(categories)],
        "prompt": f"Find x such that x + {index} = {2 * index + 1}. Answer with an integer.",
        "answer": str(index + 1),
        "answer_type": "integer",
        "grader": {"kind": "integer"},
        "certificate": f"(declare-const x Int)\n(assert (= (+ x {index}) {2 * index + 1}))",
        "difficulty": (index % 11) / 10,
        "features": {"clues": index % 5, "conflicts": index * 3},
        "meta": {"seed": 7, "index": index, "spec_hash": "abc123"},
        "lineage": {},
    }
    values.update(overrides)
    if "id" not in values:
        values["id"] = content_id(values["source"], 7, index, values["prompt"], values["answer"])
    return Problem(**values)


@pytest.fixture
def make_problem():
    """The `build_problem` factory: `make_problem(i, **overrides) -> Problem`."""
    return build_problem
