"""PNG plots of a run's metrics.jsonl: reward, entropy, response length and pass@k."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PANELS = (
    ("reward", "reward"),
    ("entropy", "entropy"),
    ("response_length", "response length (tokens)"),
)


def read_metrics(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_run(run_dir: Path) -> list[Path]:
    """Write reward.png, entropy.png, response_length.png and pass_at_k.png; returns paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_metrics(run_dir / "metrics.jsonl")
    out_dir = run_dir / "plots"
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for key, label in PANELS:
        points = [(r["step"], r[key]) for r in records if key in r]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        if points:
            ax.plot(*zip(*points), lw=1.2)
        ax.set_xlabel("step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out_dir / f"{key}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    evals = [r for r in records if any(k.startswith("eval/pass@") for k in r)]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    keys = sorted(
        {k for r in evals for k in r if k.startswith("eval/pass@")},
        key=lambda k: int(k.split("@")[1]),
    )
    for key in keys:
        points = [(r["step"], r[key]) for r in evals if key in r]
        ax.plot(*zip(*points), marker="o", lw=1.2, label=key.removeprefix("eval/"))
    if keys:
        ax.legend(fontsize=8)
    ax.set_xlabel("step")
    ax.set_ylabel("held-out pass@k")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out_dir / "pass_at_k.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written
