"""The run's report: per-generation fitness, per-operator acceptance, model accuracy on the
source sample vs the evolved set, coverage of the source, and PNG plots.

Written as `report.json` (machine-readable), `report.md` (for people) and `plots/*.png`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from evolve.search import RunState, acceptance
from synth.problem import Problem


def accuracy(
    problems: list[Problem], failures: dict[str, dict[str, float]]
) -> dict[str, float] | None:
    """Per model: mean share of correct completions over `problems` (None without a model)."""
    per_model: dict[str, list[float]] = {}
    for p in problems:
        for model, rate in failures.get(p.id, {}).items():
            per_model.setdefault(model, []).append(1 - rate)
    if not per_model:
        return None
    return {m: round(sum(v) / len(v), 4) for m, v in sorted(per_model.items())}


def build_report(
    state: RunState,
    source: list[Problem],
    evolved: list[Problem],
    *,
    config: dict[str, Any],
    coverage: dict[str, Any] | None,
    models: list[str],
) -> dict[str, Any]:
    sample = [p for p in source if p.id in set(state.source_ids)]
    by_op: dict[str, int] = {}
    for p in evolved:
        op = p.lineage.get("operator", "?")
        by_op[op] = by_op.get(op, 0) + 1
    report = {
        "fitness": (
            "measured difficulty (model failure rate) + structure + novelty"
            if models
            else "structural only: no model was given (--model or --endpoint), so fitness is "
            "structure + novelty and no difficulty was measured"
        ),
        "models": models,
        "config": config,
        "source_coverage": coverage,
        "generations": state.history,
        "operators": acceptance(state.op_stats),
        "evolved": len(evolved),
        "evolved_by_operator": dict(sorted(by_op.items())),
        "max_lineage_depth": max((int(p.lineage.get("depth", 0)) for p in evolved), default=0),
    }
    if models:
        report["accuracy"] = {
            "source": accuracy(sample, state.failures),
            "evolved": accuracy(evolved, state.failures),
        }
    return report


def _markdown(report: dict[str, Any]) -> str:
    lines = ["# veriforge evolve report", "", f"Fitness: {report['fitness']}.", ""]
    cov = report.get("source_coverage")
    if cov:
        lines += [
            (
                f"Source: {cov.get('rows')} rows, {cov.get('programs')} with a recovered program "
                f"(coverage {cov.get('coverage')}), {cov.get('skipped')} skipped."
            ),
            "",
        ]
    lines += [
        "## Generations",
        "",
        "| gen | children | best | mean | structure | novelty | failure rate | evolved | roots |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for h in report["generations"]:
        lines.append(
            f"| {h['generation']} | {h['children']} | {h['best']:.3f} | {h['mean']:.3f} | "
            f"{h['structure']:.3f} | {h['novelty']:.3f} | "
            f"{'-' if h['failure_rate'] is None else format(h['failure_rate'], '.3f')} | {h['evolved']} | {h['roots']} |"
        )
    lines += [
        "",
        "## Operators",
        "",
        "| operator | tried | accepted | rate | top rejections |",
        "|---|---|---|---|---|",
    ]
    for name, s in report["operators"].items():
        top = ", ".join(f"{k} ({v})" for k, v in s["rejected"].items()) or "-"
        lines.append(f"| {name} | {s['tried']} | {s['accepted']} | {s['rate']} | {top} |")
    if "accuracy" in report:
        lines += [
            "",
            "## Model accuracy",
            "",
            "| model | source sample | evolved |",
            "|---|---|---|",
        ]
        src, evo = report["accuracy"]["source"] or {}, report["accuracy"]["evolved"] or {}
        for model in report["models"]:
            lines.append(f"| {model} | {src.get(model, '-')} | {evo.get(model, '-')} |")
    return "\n".join(lines) + "\n"


def plot(report: dict[str, Any], folder: Path) -> list[Path]:
    """fitness.png (per generation), operators.png (acceptance), accuracy.png (with a model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    gens = report["generations"]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    xs = [h["generation"] for h in gens]
    for key, label in (
        ("best", "best"),
        ("mean", "mean"),
        ("structure", "structure"),
        ("novelty", "novelty"),
        ("failure_rate", "model failure rate"),
    ):
        ys = [h[key] for h in gens]
        if all(y is not None for y in ys):
            ax.plot(xs, ys, marker="o", lw=1.2, label=label)
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation")
    ax.set_ylabel("population average (best: top individual)")
    ax.set_title("fitness per generation", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    written.append(folder / "fitness.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    ops = report["operators"]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    names = list(ops)
    ax.bar(names, [ops[n]["rate"] or 0 for n in names])
    ax.set_ylabel("acceptance rate")
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    written.append(folder / "operators.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)

    if "accuracy" in report:
        src, evo = report["accuracy"]["source"] or {}, report["accuracy"]["evolved"] or {}
        models = report["models"]
        fig, ax = plt.subplots(figsize=(5.5, 3.4))
        width = 0.38
        idx = range(len(models))
        ax.bar(
            [i - width / 2 for i in idx],
            [src.get(m, 0) for m in models],
            width,
            label="source sample",
        )
        ax.bar(
            [i + width / 2 for i in idx], [evo.get(m, 0) for m in models], width, label="evolved"
        )
        ax.set_xticks(list(idx), models, rotation=15, fontsize=7)
        ax.set_ylabel("accuracy")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=7)
        fig.tight_layout()
        written.append(folder / "accuracy.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    return written


def write_report(report: dict[str, Any], folder: Path) -> list[Path]:
    """report.json, report.md and plots/ in `folder` (each file written then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in (
        ("report.json", json.dumps(report, indent=2, sort_keys=True) + "\n"),
        ("report.md", _markdown(report)),
    ):
        tmp = folder / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, folder / name)
        paths.append(folder / name)
    return paths + plot(report, folder / "plots")
