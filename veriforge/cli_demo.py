"""`veriforge demo` (what `make demo` runs) and `veriforge tiny-model`. Wiring only.

The demo walks the whole pipeline on embedded defaults, offline, in a few minutes on a
laptop CPU: generate and verify a pool from every bundled spec; evolve GSM8K problems into
harder verified variants; then build a tiny Llama, warm-start it on worked solutions and
train it with GRPO, printing held-out pass@k before and after.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from veriforge.cli import _fail, app, bundled_specs, console, generate, show, verify

STAGES = ("generate", "evolve", "train")
ROOT = Path(__file__).resolve().parent.parent


@app.command("tiny-model")
def tiny_model(
    out: Annotated[Path, typer.Argument(help="directory to write the model and tokenizer to")],
    hidden_size: Annotated[int, typer.Option(help="model width")] = 128,
    layers: Annotated[int, typer.Option(help="decoder layers")] = 4,
    heads: Annotated[int, typer.Option(help="attention heads (must divide hidden size)")] = 4,
    vocab_size: Annotated[int, typer.Option(help="BPE vocabulary (>= 260)")] = 512,
    seed: Annotated[int, typer.Option(help="initialisation seed")] = 0,
) -> None:
    """Build a small random Llama and a locally trained tokenizer (offline, transformers format)."""
    from trainers.tiny import build_tiny_model, parameter_count

    try:
        path = build_tiny_model(
            out,
            hidden_size=hidden_size,
            num_layers=layers,
            num_heads=heads,
            vocab_size=vocab_size,
            seed=seed,
        )
    except ValueError as error:
        _fail(str(error))
    console.print(f"tiny Llama with {parameter_count(path):,} parameters written to {path}")


def _stages(value: str) -> list[str]:
    chosen = [s.strip() for s in value.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in STAGES]
    if unknown or not chosen:
        _fail(
            f"--stages: unknown {', '.join(unknown) or '(empty)'}; choose from {', '.join(STAGES)}"
        )
    return chosen


def _generate_stage(out: Path, n: int, workers: int) -> None:
    specs = bundled_specs()
    if not specs:
        _fail("no bundled specs found in specs/")
    pool = out / "pool"
    console.rule(f"[bold]1. generate[/]: {len(specs)} bundled specs, {n} problems each -> {pool}")
    generate(specs, n=n, out=pool, seed=0, workers=workers, overwrite=True)
    verify(pool, workers=workers)
    show(pool, n=1, source=None, certificate=False)


def _evolve_stage(out: Path) -> None:
    from veriforge.cli_evolve import evolve

    source = ROOT / "data" / "gsm8k" / "test.jsonl"
    if not source.is_file():
        _fail(f"{source} is missing: the GSM8K test set ships with the repository")
    console.rule("[bold]2. evolve[/]: 200 GSM8K test problems, 3 generations")
    evolve(source, out=out / "evolved", generations=3, population=32, limit=200, overwrite=True)
    show(out / "evolved", n=1, source=None, certificate=False)


def _train_stage(out: Path, workers: int) -> None:
    from trainers.config import SFTConfig, TrainConfig
    from trainers.data import split_pool
    from trainers.loop import train
    from trainers.sft import sft

    console.rule("[bold]3. train[/]: tiny Llama, SFT warm start, then GRPO on an arithmetic pool")
    model = out / "tiny-model"
    tiny_model(model, hidden_size=128, layers=4, heads=4, vocab_size=512, seed=0)
    generate(
        [ROOT / "specs" / "arithmetic.yaml"],
        n=700,
        out=out / "arith",
        seed=0,
        workers=workers,
        difficulty="hard",
        overwrite=True,
    )
    pool, held_out = out / "arith-train", out / "arith-test"
    kept, tested = split_pool(out / "arith", pool, held_out, fraction=0.1)
    console.print(f"split by prompt: {kept} training rows, {tested} held-out problems")
    warm = sft(
        SFTConfig(
            model=str(model),
            output_dir=str(out / "sft"),
            pools=[str(pool)],
            max_steps=300,
            batch_size=32,
            lr=3e-3,
            warmup_steps=20,
        )
    )
    console.print(f"SFT model: {warm}")
    run = train(
        TrainConfig.model_validate(
            {
                "model": str(warm),
                "output_dir": str(out / "grpo"),
                "max_steps": 20,
                "save_every": 10,
                "eval_k": 8,
                "eval_max_problems": 100,
                "data": {"pools": [str(pool)], "eval_pools": [str(held_out)], "eval_fraction": 0.0},
                # 64 prompts a step: with fewer, this tiny model's per-step gradient is noisy
                # enough to lose held-out accuracy (benchmarks/bench_train_learning.py)
                "rollout": {"samples_per_prompt": 8, "prompts_per_step": 64, "max_new_tokens": 24},
                "optim": {"lr": 1e-4, "warmup_steps": 10},
            }
        ),
        show_progress=True,
    )
    evals = [row for row in _metrics(run / "metrics.jsonl") if "eval/pass@1" in row]
    if len(evals) >= 2:
        first, last = evals[0], evals[-1]
        console.print(
            f"held-out pass@1 {first['eval/pass@1']:.3f} -> {last['eval/pass@1']:.3f}, "
            f"pass@8 {first['eval/pass@8']:.3f} -> {last['eval/pass@8']:.3f} over "
            f"{last['step']} GRPO steps (a short demo; benchmarks/bench_train_learning.py "
            "trains long enough to measure learning)"
        )
    console.print(f"run written to {run}: metrics.jsonl, plots/, checkpoints, eval.json")


def _metrics(path: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@app.command()
def demo(
    out: Annotated[Path, typer.Option("-o", help="where to write everything")] = Path("out/demo"),
    n: Annotated[int, typer.Option("-n", help="problems per bundled spec")] = 24,
    workers: Annotated[int, typer.Option(help="worker processes")] = 2,
    stages: Annotated[
        str, typer.Option(help="comma-separated: generate, evolve, train")
    ] = ",".join(STAGES),
) -> None:
    """Run the whole pipeline offline on embedded defaults (what `make demo` runs)."""
    chosen = _stages(stages)
    out.mkdir(parents=True, exist_ok=True)
    if "generate" in chosen:
        _generate_stage(out, n, workers)
    if "evolve" in chosen:
        _evolve_stage(out)
    if "train" in chosen:
        _train_stage(out, workers)
    console.rule(f"[bold green]demo done[/]: outputs in {out}")
