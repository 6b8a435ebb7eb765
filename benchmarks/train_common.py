"""Shared set-up for the training benchmarks: a tiny Llama, an arithmetic pool from
specs/arithmetic.yaml split into train / held-out by prompt, and held-out evaluation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "benchmarks" / "results"


def tiny_model(out: Path, *, hidden: int = 128, layers: int = 4, seed: int = 0) -> Path:
    """A ~1.1M-parameter Llama (hidden 128, 4 layers, vocab ~400) with a local tokenizer."""
    from trainers.tiny import build_tiny_model

    if not (out / "config.json").is_file():
        build_tiny_model(out, hidden_size=hidden, num_layers=layers, num_heads=4, seed=seed)
    return out


def arithmetic_pools(
    work: Path, n: int = 2000, seed: int = 0, held_out: float = 0.2, level: str = "hard"
) -> tuple[Path, Path]:
    """Generate the arithmetic pool (two-digit sums with worked solutions) and write train /
    held-out pools whose prompts never overlap."""
    import hashlib

    from trainers.data import split_pool

    spec = ROOT / "specs" / "arithmetic.yaml"
    key = hashlib.sha256(spec.read_bytes() + f"{n}:{seed}:{held_out}:{level}".encode()).hexdigest()[
        :8
    ]
    full, train, test = (
        work / f"arith-all-{key}",
        work / f"arith-train-{key}",
        work / f"arith-test-{key}",
    )
    if not (train / "manifest.json").is_file():
        if not (full / "manifest.json").is_file():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "veriforge",
                    "generate",
                    str(ROOT / "specs" / "arithmetic.yaml"),
                    "-n",
                    str(n),
                    "--difficulty",
                    level,
                    "--seed",
                    str(seed),
                    "-o",
                    str(full),
                    "--overwrite",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        split_pool(full, train, test, held_out, seed)
    return train, test


def held_out_eval(
    model_dir: Path | str,
    pool: Path,
    k: int,
    *,
    max_new_tokens: int = 8,
    max_problems: int = 200,
    seed: int = 1234,
    temperature: float = 1.0,
) -> dict[str, Any]:
    """pass@1..k and avg@k on the held-out pool (k samples per problem at `temperature`)."""
    import torch

    from trainers.data import load_rows
    from trainers.evaluate import report, sample_and_grade
    from trainers.rollout import TransformersBackend
    from trainers.runtime import load_model, load_tokenizer, set_threads

    set_threads(1)
    tokenizer = load_tokenizer(str(model_dir))
    model = load_model(str(model_dir), torch.device("cpu"), torch.float32)
    rows = load_rows([str(pool)])[:max_problems]
    backend = TransformersBackend(model, tokenizer, batch_size=64)
    records = sample_and_grade(
        backend,
        tokenizer,
        rows,
        k,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
    )
    return report(records, k)["overall"]
