"""`veriforge` commands for the evolve layer, registered on the main app. Wiring only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from veriforge.cli import FAILED, _fail, app, console, err


def _mapping(pairs: str | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out = {}
    for pair in pairs.split(","):
        target, sep, column = pair.partition("=")
        if not sep or not target.strip() or not column.strip():
            _fail(f"--map expects TARGET=COLUMN pairs separated by commas, got {pair!r}")
        out[target.strip()] = column.strip()
    return out


@app.command()
def evolve(
    source: Annotated[
        Path, typer.Argument(help="benchmark file (.jsonl/.json/.parquet), datasets folder or pool")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="evolved pool directory to write")],
    operators: Annotated[
        str,
        typer.Option(
            help="comma-separated: renumber, distract, decoy, chain, invert, extend, "
            "tighten, drop-clue, reask, rephrase"
        ),
    ] = "renumber,distract,decoy,chain,invert,extend",
    generations: Annotated[int, typer.Option(help="generations to run")] = 5,
    population: Annotated[int, typer.Option(help="population size")] = 32,
    model: Annotated[
        str | None, typer.Option(help="local transformers model directory (fitness, rephrase)")
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible server URL, e.g. http://localhost:8000/v1"),
    ] = None,
    endpoint_model: Annotated[
        str | None, typer.Option(help="model name at the endpoint (default: first listed)")
    ] = None,
    chat: Annotated[bool, typer.Option(help="use /v1/chat/completions at the endpoint")] = False,
    samples: Annotated[
        int, typer.Option(help="completions per problem for measured difficulty")
    ] = 1,
    max_new_tokens: Annotated[int, typer.Option(help="completion length for the model")] = 256,
    seed: Annotated[int, typer.Option(help="run seed; same seed, same pool")] = 0,
    format: Annotated[
        str, typer.Option("--format", help="auto, gsm8k, svamp, math, table or pool")
    ] = "auto",
    map: Annotated[
        str | None, typer.Option("--map", help="column mapping, e.g. prompt=q,answer=a")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="use only the first N source rows")] = None,
    specs: Annotated[
        list[Path] | None, typer.Option(help="spec folders for tighten (default: specs/)")
    ] = None,
    report: Annotated[Path | None, typer.Option(help="report folder (default: OUT-report)")] = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted run")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing pool")] = False,
) -> None:
    """Evolve a benchmark into harder variants whose answers are re-verified."""
    from pydantic import ValidationError

    from evolve.loaders import SourceError, load_source
    from evolve.pipeline import evolve_source
    from evolve.search import EvolveConfig, EvolveError
    from synth.pool import PoolError

    if model and endpoint:
        _fail("pass either --model or --endpoint, not both")
    if out.exists() and not overwrite:
        _fail(f"{out} already exists; pass --overwrite to replace it")
    partial = out.parent / f"{out.name}.partial"
    if (partial / "state.json").exists() and not resume:
        _fail(f"{partial}: an interrupted run is there; pass --resume to continue it, or delete it")
    if limit is not None and limit < 1:
        _fail(f"--limit must be at least 1, got {limit}")
    names = [n.strip() for n in operators.split(",") if n.strip()]
    try:
        config = EvolveConfig(
            operators=names,
            generations=generations,
            population=population,
            seed=seed,
            samples=samples,
            max_new_tokens=max_new_tokens,
        )
    except ValidationError as error:
        first = error.errors()[0]
        _fail(f"--{first['loc'][0] if first['loc'] else 'option'}: {first['msg']}")
    if "rephrase" in names and not (model or endpoint):
        _fail("the rephrase operator needs a model: pass --model or --endpoint")
    try:
        loaded = load_source(source, format, _mapping(map), limit=limit)
    except SourceError as error:
        _fail(str(error))
    answerers = []
    if model:
        if not Path(model).is_dir() or not (Path(model) / "config.json").is_file():
            _fail(f"--model {model}: not a transformers model directory (no config.json)")
        import torch

        from trainers.answerer import TransformersAnswerer

        torch.set_num_threads(1)
        answerers.append(TransformersAnswerer(model))
    if endpoint:
        from evolve.endpoint import EndpointAnswerer, EndpointError

        try:
            answerers.append(
                EndpointAnswerer(endpoint, endpoint_model, mode="chat" if chat else "completions")
            )
        except (EndpointError, ValueError) as error:
            _fail(str(error))
    cov = loaded.coverage()
    if loaded.format != "pool":
        err.print(
            f"{source}: {cov['rows']} problems ({cov['skipped']} skipped), programs for "
            f"{cov['programs']} of {cov['word_problems']} word problems"
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=False) as bar:
        tasks: dict[str, int] = {}

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        try:
            result = evolve_source(
                source,
                out,
                config,
                answerers=answerers,
                spec_dirs=specs or [Path("specs")],
                resume=resume,
                overwrite=overwrite,
                report_dir=report,
                progress=on_progress,
                loaded=loaded,
            )
        except EvolveError as error:
            bar.stop()
            _fail(str(error), FAILED)
        except PoolError as error:
            bar.stop()
            _fail(str(error), FAILED)
        except KeyboardInterrupt:
            bar.stop()
            err.print(
                f"interrupted; rerun the same command with --resume to continue from {out}.partial"
            )
            raise typer.Exit(130)
        except RuntimeError as error:  # a model backend failing mid-run
            bar.stop()
            _fail(str(error), FAILED)
    table = Table(title=f"evolved {len(result.evolved)} problems -> {result.pool}")
    for column in ("operator", "tried", "accepted", "rate"):
        table.add_column(column)
    for name, s in result.report["operators"].items():
        table.add_row(name, str(s["tried"]), str(s["accepted"]), str(s["rate"]))
    console.print(table)
    console.print(f"fitness: {result.report['fitness']}")
    if "accuracy" in result.report:
        console.print(
            f"accuracy on the source sample: {result.report['accuracy']['source']}; "
            f"on the evolved set: {result.report['accuracy']['evolved']}"
        )
    console.print(f"report: {result.report_dir / 'report.md'}")
