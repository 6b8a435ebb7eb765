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


# --------------------------------------------------------------------------------------------
# a local Hub for the publish/pull tests (tests/hub_server.py)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fresh in-memory Hub on 127.0.0.1 with `huggingface_hub` and `datasets` pointed at it.

    HF_TOKEN is alice's write token; HF_HOME and the caches live under tmp_path; offline mode,
    Xet, telemetry and the dataset-viewer lookups are off. Both libraries read some settings
    at import time, so their module constants are patched too (monkeypatch undoes it all).
    """
    import datasets
    from hub_server import ALICE_WRITE, FakeHub
    from huggingface_hub import constants

    server = FakeHub().start()
    home = tmp_path / "hf-home"
    env = {
        "HF_ENDPOINT": server.url,
        "HF_TOKEN": ALICE_WRITE,
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HF_DATASETS_CACHE": str(home / "datasets"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HUB_DISABLE_UPDATE_CHECK": "1",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    patches = {
        "ENDPOINT": server.url,
        "HUGGINGFACE_CO_URL_TEMPLATE": server.url + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_URL_HOSTS": constants.HF_URL_HOSTS | {"127.0.0.1"},
        "HF_HUB_OFFLINE": False,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(home / "hub"),
        "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HUB_DISABLE_UPDATE_CHECK": True,
    }
    for name, value in patches.items():
        monkeypatch.setattr(constants, name, value)
    for name, value in {
        "HF_ENDPOINT": server.url,
        "HUB_DATASETS_URL": server.url + "/datasets/{repo_id}/resolve/{revision}/{path}",
        "HF_HUB_OFFLINE": False,
        "HF_DATASETS_OFFLINE": False,
        "USE_PARQUET_EXPORT": False,
        "HF_CACHE_HOME": str(home),
        "HF_DATASETS_CACHE": home / "datasets",
        "DOWNLOADED_DATASETS_PATH": home / "datasets" / "downloads",
        "EXTRACTED_DATASETS_PATH": home / "datasets" / "downloads" / "extracted",
        "HF_MODULES_CACHE": home / "modules",
    }.items():
        if hasattr(datasets.config, name):
            monkeypatch.setattr(datasets.config, name, value)
    try:
        yield server
    finally:
        server.stop()
