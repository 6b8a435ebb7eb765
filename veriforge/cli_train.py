"""`veriforge` commands for the train layer, registered on the main app. Wiring only:
the work happens in `trainers` (torch and transformers are imported inside the commands,
so `veriforge --help` stays fast)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from veriforge.cli import FAILED, _fail, app, console, err


def _load(path: Path, kind: str):  # type: ignore[no-untyped-def]
    from trainers.config import ConfigError, SFTConfig, TrainConfig, load_config

    try:
        return load_config(path, TrainConfig if kind == "train" else SFTConfig)
    except ConfigError as error:
        _fail(str(error))


def _model_dir(model: str) -> None:
    """A local model directory, or a Hub id (owner/name) already in the local cache."""
    path = Path(model)
    if path.exists() and not (path / "config.json").is_file():
        _fail(f"model {model}: not a transformers model directory (no config.json)")
    if not path.exists() and model.count("/") != 1:
        _fail(f"model {model}: no such directory (and not a Hub id like owner/name)")


@app.command()
def train(
    config: Annotated[Path, typer.Argument(help="training config (YAML); see docs/train.md")],
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
) -> None:
    """GRPO training on pools (resumes from the run directory's latest checkpoint)."""
    cfg = _load(config, "train")
    from synth.pool import PoolError
    from trainers.config import ConfigError
    from trainers.loop import train as run
    from trainers.rollout import RolloutError

    _model_dir(cfg.model)
    try:
        run_dir = run(cfg, show_progress=not quiet)
    except (ConfigError, PoolError) as error:
        _fail(str(error))
    except RolloutError as error:
        _fail(str(error))
    except KeyboardInterrupt:
        err.print("interrupted; run the same command again to resume from the last checkpoint")
        raise typer.Exit(130)
    result = run_dir / "eval.json"
    if result.is_file():
        overall = json.loads(result.read_text())["overall"]
        console.print(
            "held-out " + ", ".join(f"{k} {v:.3f}" for k, v in overall.items() if k != "n")
        )
    console.print(f"run written to {run_dir}")


@app.command()
def sft(
    config: Annotated[Path, typer.Argument(help="SFT config (YAML); see docs/train.md")],
) -> None:
    """Supervised warm start on worked solutions (meta.solution, else a boxed answer)."""
    cfg = _load(config, "sft")
    from synth.pool import PoolError
    from trainers.sft import sft as run

    _model_dir(cfg.model)
    with Progress(
        TextColumn("sft"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("sft", total=None, info="")

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, info=f"loss {loss:.3f}")

        try:
            final = run(cfg, on_step=on_step)
        except PoolError as error:
            _fail(str(error))
    console.print(f"model written to {final}")


def _table(title: str, groups: dict[str, dict[str, float]]) -> Table:
    table = Table(title=title, title_justify="left")
    keys = [k for k in next(iter(groups.values()), {}) if k != "n"]
    table.add_column("group")
    table.add_column("problems", justify="right")
    for key in keys:
        table.add_column(key, justify="right")
    for name, values in groups.items():
        table.add_row(
            name, str(int(values.get("n", 0))), *(f"{values.get(k, 0.0):.3f}" for k in keys)
        )
    return table


@app.command("eval")
def eval_command(
    model: Annotated[str, typer.Option("--model", help="transformers model directory")],
    pool: Annotated[list[Path], typer.Option("--pool", help="pool directory (repeatable)")],
    k: Annotated[int, typer.Option("-k", help="samples per problem (pass@1..k)")] = 16,
    max_new_tokens: Annotated[int, typer.Option(help="completion budget")] = 256,
    temperature: Annotated[float, typer.Option(help="sampling temperature (> 0)")] = 1.0,
    top_p: Annotated[float, typer.Option(help="nucleus sampling")] = 1.0,
    max_problems: Annotated[int | None, typer.Option(help="evaluate the first N problems")] = None,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    batch_size: Annotated[int, typer.Option(help="prompts per generate call")] = 16,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
    out: Annotated[Path | None, typer.Option("-o", help="write the report as JSON")] = None,
) -> None:
    """Unbiased pass@k and avg@k by category and difficulty band."""
    if k < 1:
        _fail(f"-k must be >= 1, got {k}")
    if temperature <= 0:
        _fail(f"--temperature must be > 0 (pass@k needs sampling), got {temperature}")
    if device not in ("auto", "cpu", "cuda"):
        _fail(f"--device must be auto, cpu or cuda, got {device!r}")
    _model_dir(model)
    from synth.pool import PoolError
    from trainers.data import load_rows
    from trainers.evaluate import report, sample_and_grade
    from trainers.rollout import TransformersBackend
    from trainers.runtime import (
        load_model,
        load_tokenizer,
        resolve_device,
        resolve_dtype,
        set_threads,
    )

    try:
        rows = load_rows([str(p) for p in pool])
    except PoolError as error:
        _fail(str(error))
    rows = rows[:max_problems] if max_problems else rows
    set_threads(1)
    dev = resolve_device(device)
    tokenizer = load_tokenizer(model)
    backend = TransformersBackend(
        load_model(model, dev, resolve_dtype("auto", dev)), tokenizer, batch_size=batch_size
    )
    records = []
    with Progress(
        TextColumn("eval"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    ) as bar:
        task = bar.add_task("eval", total=len(rows))
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            records += sample_and_grade(
                backend,
                tokenizer,
                chunk,
                k,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=top_p,
                seed=seed + start,
            )
            bar.advance(task, len(chunk))
    result = report(records, k)
    console.print(_table("overall", {"all": result["overall"]}))
    console.print(_table("by category", result["by_category"]))
    console.print(_table("by difficulty", result["by_difficulty"]))
    if out:
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(json.dumps({"model": model, **result}, indent=2))
        tmp.replace(out)
        console.print(f"report written to {out}")


@app.command()
def difficulty(
    pool: Annotated[Path, typer.Argument(help="pool directory (rewritten in place)")],
    model: Annotated[str, typer.Option("--model", help="transformers model directory")],
    k: Annotated[int, typer.Option("-k", help="samples per problem")] = 8,
    max_new_tokens: Annotated[int, typer.Option(help="completion budget")] = 256,
    temperature: Annotated[float, typer.Option(help="sampling temperature (> 0)")] = 1.0,
    seed: Annotated[int, typer.Option(help="sampling seed")] = 0,
    chunk: Annotated[
        int, typer.Option(help="problems per generate call (and per resume unit)")
    ] = 32,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
) -> None:
    """Measure each problem's pass rate with a model; write features.pass_rate and difficulty."""
    if k < 1:
        _fail(f"-k must be >= 1, got {k}")
    if temperature <= 0:
        _fail(f"--temperature must be > 0, got {temperature}")
    _model_dir(model)
    from synth.pool import PoolError, read_manifest
    from trainers.difficulty import estimate
    from trainers.runtime import (
        load_model,
        load_tokenizer,
        resolve_device,
        resolve_dtype,
        set_threads,
    )

    try:
        read_manifest(pool)
    except PoolError as error:
        _fail(str(error))
    set_threads(1)
    dev = resolve_device(device)
    tokenizer = load_tokenizer(model)
    net = load_model(model, dev, resolve_dtype("auto", dev))
    with Progress(
        TextColumn("difficulty"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
    ) as bar:
        task = bar.add_task("chunks", total=None)
        try:
            summary = estimate(
                pool,
                net,
                tokenizer,
                model_name=model,
                k=k,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                seed=seed,
                chunk=chunk,
                on_chunk=lambda done, total: bar.update(task, completed=done, total=total),
            )
        except PoolError as error:
            _fail(str(error), FAILED)
    console.print(
        f"{summary['problems']} problems: mean pass rate {summary['mean_pass_rate']:.3f} "
        f"(k={k}); written to {pool}"
    )
