"""The `veriforge` command line. Wiring only: the work happens in `synth`."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="veriforge: verified reasoning problems from SMT-backed specs.",
)
console = Console()
err = Console(stderr=True)

BAD_INPUT = 2
FAILED = 1


def _fail(message: str, code: int = BAD_INPUT) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def bundled_specs() -> list[Path]:
    """The spec files shipped in the repository's `specs/` folder."""
    folder = Path(__file__).resolve().parents[1] / "specs"
    return sorted(folder.glob("*.yaml"))


def _read_specs(paths: list[Path]) -> list[tuple[str, str]]:
    from synth.spec import SpecError, load_spec_text

    specs = []
    for path in paths:
        if path.is_dir():
            _fail(f"{path}: is a directory; pass spec files (e.g. {path}/*.yaml)")
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            _fail(f"{path}: cannot read spec: {error}")
        try:
            load_spec_text(text, str(path))
        except SpecError as error:
            _fail(str(error))
        specs.append((str(path), text))
    return specs


def _levels(difficulty: str | None) -> list[str] | None:
    if not difficulty:
        return None
    return [d.strip() for d in difficulty.split(",") if d.strip()]


def _workers(workers: int) -> int:
    if workers < 1:
        _fail(f"--workers must be at least 1, got {workers}")
    return workers


@app.command()
def generate(
    specs: Annotated[list[Path], typer.Argument(help="spec files (YAML)")],
    n: Annotated[int, typer.Option("-n", "--num", help="problems per spec and level")] = 20,
    out: Annotated[Path, typer.Option("-o", "--out", help="pool directory to write")] = Path(
        "pool"
    ),
    seed: Annotated[int, typer.Option(help="run seed; same seed, same pool")] = 0,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    difficulty: Annotated[
        str | None,
        typer.Option(help="level(s): e.g. hard, easy,medium, or all; default: each spec's default"),
    ] = None,
    resume: Annotated[bool, typer.Option(help="continue an interrupted run")] = False,
    overwrite: Annotated[bool, typer.Option(help="replace an existing pool")] = False,
    rows_per_shard: Annotated[int, typer.Option(help="rows per Parquet shard")] = 50_000,
    backend: Annotated[
        str | None, typer.Option(help="solver backend for every spec (z3, cvc5, pysmt-cvc5)")
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(help="quantifier strategy for every spec (see docs/solvers.md)"),
    ] = None,
) -> None:
    """Generate a pool of verified problems from spec files."""
    from synth.engine.runner import (
        GenerationError,
        clear_work,
        make_jobs,
        manifest,
        problems,
        run_jobs,
    )
    from synth.pool import PoolError, write_pool

    if n < 1:
        _fail(f"-n must be at least 1, got {n}")
    _workers(workers)
    if out.exists() and not overwrite:
        _fail(f"{out} already exists; pass --overwrite to replace it")
    texts = _read_specs(specs)
    try:
        jobs = make_jobs(texts, n, seed, _levels(difficulty), backend, strategy)
    except GenerationError as error:
        _fail(str(error))
    work = out.parent / f"{out.name}.partial"
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
    )
    # No auto-refresh thread: worker processes are forked while the bar is live.
    with Progress(*columns, console=err, transient=False, auto_refresh=False) as progress:
        tasks = {
            j.key: progress.add_task(f"{j.spec.name} [{j.level}]", total=j.n, note="") for j in jobs
        }
        last = [0.0]

        def on_progress(job, accepted: int, attempted: int) -> None:
            progress.update(
                tasks[job.key], completed=accepted, note=f"{attempted - accepted} rejected"
            )
            now = time.monotonic()
            if now - last[0] > 0.1 or accepted == job.n:
                last[0] = now
                progress.refresh()

        try:
            results = run_jobs(jobs, work, workers=workers, resume=resume, on_progress=on_progress)
        except GenerationError as error:
            progress.stop()
            clear_work(work)  # the spec must change to succeed: nothing to resume
            _fail(str(error))
        except KeyboardInterrupt:
            progress.stop()
            err.print(
                f"interrupted; progress is kept in {work}. Rerun the same command with "
                "--resume to continue."
            )
            raise typer.Exit(130)
    rows = problems(results)
    try:
        write_pool(
            rows,
            out,
            manifest(results, seed, out.name),
            overwrite=overwrite,
            rows_per_shard=rows_per_shard,
        )
    except PoolError as error:
        _fail(str(error))
    clear_work(work)
    _summary(results)
    console.print(f"wrote {len(rows)} problems to {out}")


def _summary(results) -> None:  # type: ignore[no-untyped-def]
    table = Table(title="generated", title_justify="left")
    for col, justify in (
        ("spec", "left"),
        ("level", "left"),
        ("kept", "right"),
        ("per s", "right"),
        ("rejections", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        reasons = ", ".join(f"{reason} {count}" for reason, count in r.rejected.most_common(2))
        table.add_row(
            r.job.spec.name,
            r.job.level,
            f"{len(r.rows)}/{r.attempted}",
            f"{len(r.rows) / max(r.seconds, 1e-9):.1f}",
            reasons or "-",
        )
    console.print(table)


@app.command()
def validate(
    specs: Annotated[list[Path], typer.Argument(help="spec files (YAML)")],
    trials: Annotated[int, typer.Option(help="instances to try per level")] = 20,
    difficulty: Annotated[str | None, typer.Option(help="level(s) to try; default all")] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Check specs (schema, expressions, templates), then report a trial run's acceptance."""
    from synth.engine import compile_spec, generate_instance
    from synth.spec import load_spec_text

    texts = _read_specs(specs)
    table = Table(title="validation")
    for col in ("spec", "level", "accepted", "acceptance", "rejections"):
        table.add_column(col)
    never = []
    for file, text in texts:
        spec, spec_hash = load_spec_text(text, file)
        compiled = compile_spec(spec, spec_hash, file)
        levels = _levels(difficulty) or list(spec.levels) or ["default"]
        for level in levels:
            if spec.levels and level not in spec.levels:
                _fail(f"{file}: level {level!r} is not defined (levels: {', '.join(spec.levels)})")
            reasons: Counter = Counter()
            examples: dict[str, str] = {}
            accepted = 0
            for index in range(trials):
                outcome = generate_instance(compiled, level, seed, index)
                if outcome.row is not None:
                    accepted += 1
                else:
                    reasons[outcome.reason] += 1
                    examples.setdefault(outcome.reason or "", outcome.detail)
            detail = "; ".join(f"{r} x{c}: {examples[r][:120]}" for r, c in reasons.most_common())
            table.add_row(
                spec.name, level, f"{accepted}/{trials}", f"{accepted / trials:.0%}", detail or "-"
            )
            if accepted == 0:
                never.append(
                    f"{file} [{level}]: no verified instance in {trials} trials ({detail})"
                )
    console.print(table)
    if never:
        _fail("\n".join(never))
    console.print("[green]ok[/]")


@app.command()
def verify(
    pool: Annotated[Path, typer.Argument(help="pool directory")],
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    backend: Annotated[
        str,
        typer.Option(
            help="solver that re-proves the rows: z3, cvc5, pysmt-<solver> (through pysmt), "
            "or all (one backend per installed solver; all must agree)"
        ),
    ] = "z3",
    strategy: Annotated[
        str, typer.Option(help="quantifier strategy (auto: native where quantifiers remain)")
    ] = "auto",
) -> None:
    """Re-prove every row from its stored SMT-LIB2 certificate alone."""
    from synth.backends import BackendError, choose
    from synth.pool import PoolError, iter_rows
    from synth.verification import resolve_backends, verify_rows

    _workers(workers)
    names = resolve_backends(backend)
    try:
        for name in names:
            choose(name, strategy, False, generate=False)
    except BackendError as error:
        _fail(str(error))
    try:
        rows = list(iter_rows(pool))
    except PoolError as error:
        _fail(str(error))
    failures = []
    with Progress(
        TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task = progress.add_task("verify", total=len(rows))

        def on_result(verdict) -> None:  # type: ignore[no-untyped-def]
            progress.advance(task)
            if not verdict.ok:
                failures.append(verdict)

        verify_rows(rows, workers=workers, on_result=on_result, backends=names, strategy=strategy)
    disagreements = [v for v in failures if v.disagreement]
    if disagreements:
        table = Table(title="backends disagree", show_lines=True)
        table.add_column("row")
        table.add_column("source")
        for name in names:
            table.add_column(name)
        for v in disagreements:
            table.add_row(v.id, v.source, *(v.backends.get(n, "") for n in names))
        err.print(table)
    for verdict in failures:
        err.print(
            f"[red]FAIL[/] {verdict.id} ({verdict.source}): {verdict.reason}", highlight=False
        )
    if failures:
        what = f"; {len(disagreements)} with backends disagreeing" if disagreements else ""
        _fail(f"{len(failures)} of {len(rows)} rows failed verification{what}", FAILED)
    console.print(
        f"[green]verified[/] {len(rows)} rows with {', '.join(names)}: every answer "
        "re-proved correct and unique from its certificate"
    )


@app.command()
def tune(
    spec: Annotated[Path, typer.Argument(help="spec file (YAML)")],
    samples: Annotated[int, typer.Option(help="sample instances per (backend, strategy)")] = 6,
    difficulty: Annotated[str | None, typer.Option(help="level to sample")] = None,
    seed: Annotated[int, typer.Option(help="seed of the sample instances")] = 0,
    timeout: Annotated[float, typer.Option(help="seconds per instance before a timeout")] = 20.0,
    pairs: Annotated[
        str | None,
        typer.Option(help="only these pairs, comma-separated (e.g. z3/mbqi,cvc5/cegqi)"),
    ] = None,
    print_only: Annotated[
        bool,
        typer.Option("--print", help="print the solver YAML to add instead of editing the spec"),
    ] = False,
) -> None:
    """Time every applicable (backend, strategy) pair on sample instances of SPEC and
    record the fastest complete one in the spec's solver section."""
    from synth.backends import BackendError
    from synth.engine.instance import compile_spec
    from synth.engine.tuning import tune as run_tune
    from synth.spec import SpecError
    from synth.spec.edit import solver_yaml, with_solver

    if samples < 1:
        _fail(f"--samples must be at least 1, got {samples}")
    if timeout <= 0:
        _fail(f"--timeout must be positive, got {timeout}")
    ((file, text),) = _read_specs([spec])
    from synth.spec import load_spec_text

    model, spec_hash = load_spec_text(text, file)
    level = difficulty or model.default_level or next(iter(model.levels), "default")
    if model.levels and level not in model.levels:
        _fail(f"{file}: level {level!r} is not defined (levels: {', '.join(model.levels)})")
    try:
        compiled = compile_spec(model, spec_hash, file, model.solver.backend, "auto")
    except BackendError as error:
        _fail(str(error))
    only = [p.strip() for p in pairs.split(",") if p.strip()] if pairs else None
    if only:
        from synth.backends import applicable
        from synth.engine.solving import quantifies_over_integers

        usable = [s.label for _, s in applicable(quantifies_over_integers(model))]
        wrong = [p for p in only if p not in usable]
        if wrong:
            _fail(
                f"--pairs: {', '.join(wrong)} not applicable here; choose from: {', '.join(usable)}"
            )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("tuning", total=None)

        def on_step(label: str, index: int) -> None:
            progress.update(task, description=f"tuning {label}", advance=1)

        report = run_tune(
            compiled,
            level,
            samples=samples,
            seed=seed,
            timeout=timeout,
            only=only,
            on_step=on_step,
        )
    if not report.pairs:
        _fail(f"no applicable (backend, strategy) pair matches {pairs!r}")
    from rich.markup import escape

    table = Table(title=escape(f"{model.name} [{level}]: {samples} sample instances"))
    for column in ("backend/strategy", "solved", "unknown", "timeouts", "median ms", "p95 ms"):
        table.add_column(column, justify="left" if column == "backend/strategy" else "right")

    def ms(x: float) -> str:
        return "-" if x == float("inf") else f"{x * 1000:.1f}"

    for p in report.pairs:
        mark = " (best)" if p.label == report.best else ""
        mark += " (default)" if p.label == report.default else ""
        table.add_row(
            p.label + mark, str(p.solved), str(p.unknown), str(p.timeouts), ms(p.median), ms(p.p95)
        )
    console.print(table)
    for line in report.disagreements:
        err.print(f"[red]DISAGREE[/] {line}", highlight=False)
    if report.disagreements:
        _fail("backends disagree on some instances; nothing written", FAILED)
    if report.best is None:
        _fail("no pair solved every sample instance; nothing written", FAILED)
    backend_name, strategy_name = report.best.split("/", 1)
    update = {"backend": backend_name, "strategy": strategy_name}
    if report.ratio is not None:
        console.print(
            f"best: {report.best}; median time {report.ratio:.2f}x the default ({report.default})"
        )
    if print_only:
        console.print("add to the spec:\n" + solver_yaml({**_solver_raw(text), **update}))
        return
    try:
        new_text = with_solver(text, update, file)
    except SpecError as error:
        _fail(str(error), FAILED)
    tmp = spec.with_name(spec.name + ".tmp")
    tmp.write_text(new_text, "utf-8")
    os.replace(tmp, spec)
    console.print(f"wrote solver: backend {backend_name}, strategy {strategy_name} into {spec}")


def _solver_raw(text: str) -> dict:
    import yaml

    raw = yaml.safe_load(text) or {}
    return dict(raw.get("solver") or {})


@app.command()
def info(pool: Annotated[Path, typer.Argument(help="pool directory")]) -> None:
    """Summarise a pool: counts, categories, difficulty and how it was made."""
    from synth.card import difficulty_histogram
    from synth.pool import PoolError, iter_rows, read_manifest

    try:
        rows = list(iter_rows(pool))
        man = read_manifest(pool)
    except PoolError as error:
        _fail(str(error))
    console.print(f"[bold]{pool}[/]: {len(rows)} problems")
    for title, key in (
        ("source", "source"),
        ("category", "category"),
        ("answer type", "answer_type"),
    ):
        table = Table(title=f"by {title}")
        table.add_column(title)
        table.add_column("rows", justify="right")
        for value, count in sorted(Counter(r[key] for r in rows).items()):
            table.add_row(value, str(count))
        console.print(table)
    hist = difficulty_histogram(r["difficulty"] for r in rows)
    console.print("difficulty:")
    peak = max(hist) or 1
    for i, count in enumerate(hist):
        bar = "#" * round(30 * count / peak)
        console.print(f"  {i / 10:.1f}-{(i + 1) / 10:.1f} {count:5d} {bar}")
    if man.get("specs"):
        table = Table(title="generation")
        for col in ("spec", "level", "accepted", "attempted", "seconds", "rejected"):
            table.add_column(col)
        for s in man["specs"]:
            table.add_row(
                s.get("name", "?"),
                str(s.get("level", "")),
                str(s.get("accepted")),
                str(s.get("attempted")),
                str(s.get("seconds")),
                json.dumps(s.get("rejected", {})),
            )
        console.print(table)


@app.command()
def show(
    pool: Annotated[Path, typer.Argument(help="pool directory")],
    n: Annotated[int, typer.Option("-n", help="rows to show")] = 3,
    source: Annotated[str | None, typer.Option(help="only rows of this spec")] = None,
    certificate: Annotated[bool, typer.Option(help="print the SMT-LIB2 certificate too")] = False,
) -> None:
    """Print a few rows of a pool."""
    from synth.pool import PoolError, iter_rows

    try:
        rows = [r for r in iter_rows(pool) if source is None or r["source"] == source]
    except PoolError as error:
        _fail(str(error))
    for row in rows[:n]:
        console.rule(
            f"{row['id']}  {row['source']} / {row['category']}  difficulty {row['difficulty']:.2f}"
        )
        console.print(row["prompt"], highlight=False, markup=False)
        console.print(f"[bold]answer[/] ({row['answer_type']}): ", end="")
        console.print(row["answer"], highlight=False, markup=False)
        if certificate:
            console.print(row["certificate"], highlight=False, markup=False)


RESPONSE_KEYS = ("response", "completion", "output", "text")


def _read_responses(path: Path) -> list[tuple[str, str]]:
    """(row id, response) pairs from a JSONL file; exits 2 naming the bad line."""
    pairs = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        _fail(f"{path}: cannot read responses: {error}")
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                _fail(f"{path}:{number}: not JSON: {error.msg}")
            if not isinstance(record, dict) or "id" not in record:
                _fail(f"{path}:{number}: expected an object with 'id' and 'response'")
            key = next((k for k in RESPONSE_KEYS if k in record), None)
            if key is None:
                _fail(f"{path}:{number}: no response text (one of {', '.join(RESPONSE_KEYS)})")
            pairs.append((str(record["id"]), str(record[key] or "")))
    return pairs


@app.command()
def grade(
    pool: Annotated[Path, typer.Argument(help="pool directory")],
    responses: Annotated[Path, typer.Argument(help='JSONL: {"id": row id, "response": text}')],
    out: Annotated[Path | None, typer.Option("-o", help="per-response grades (JSONL)")] = None,
    partial_credit: Annotated[bool, typer.Option(help="partial credit for assignments")] = True,
) -> None:
    """Grade model responses against a pool: per-response grades and accuracy tables."""
    from synth.grading import grade as grade_one
    from synth.pool import PoolError, iter_rows

    try:
        rows = {r["id"]: r for r in iter_rows(pool)}
    except PoolError as error:
        _fail(str(error))
    pairs = _read_responses(responses)
    out = out or responses.with_name(responses.stem + ".grades.jsonl")
    missing = sorted({i for i, _ in pairs if i not in rows})
    if pairs and len(missing) == len({i for i, _ in pairs}):
        _fail(f"none of the ids in {responses} is in {pool} (e.g. {missing[0]!r})")
    results = []
    with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), console=err) as bar:
        task = bar.add_task("grade", total=len(pairs))
        for row_id, response in pairs:
            bar.advance(task)
            row = rows.get(row_id)
            if row is None:
                continue
            g = grade_one(row, response, partial_credit=partial_credit)
            results.append(
                {
                    "id": row_id,
                    "source": row["source"],
                    "category": row["category"],
                    "difficulty": row["difficulty"],
                    "correct": g.correct,
                    "score": g.score,
                    "extracted": g.extracted,
                    "reason": g.reason,
                }
            )
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in results), "utf-8")
    tmp.replace(out)
    if missing:
        err.print(
            f"[yellow]warning:[/] {len(missing)} ids are not in the pool and were "
            f"skipped (e.g. {missing[0]})"
        )
    _accuracy_table("by category", results, lambda r: r["category"])
    _accuracy_table(
        "by difficulty",
        results,
        lambda r: (
            f"{min(int(r['difficulty'] * 5), 4) / 5:.1f}-"
            f"{min(int(r['difficulty'] * 5), 4) / 5 + 0.2:.1f}"
        ),
    )
    correct = sum(r["correct"] for r in results)
    console.print(
        f"accuracy {correct}/{len(results)} = {correct / max(1, len(results)):.1%}; grades in {out}"
    )


def _accuracy_table(title: str, results: list[dict], key) -> None:  # type: ignore[no-untyped-def]
    groups: dict[str, list[dict]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    table = Table(title=title, title_justify="left")
    for col, justify in (
        ("group", "left"),
        ("responses", "right"),
        ("accuracy", "right"),
        ("mean score", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for name, items in sorted(groups.items()):
        acc = sum(i["correct"] for i in items) / len(items)
        score = sum(i["score"] for i in items) / len(items)
        table.add_row(name, str(len(items)), f"{acc:.1%}", f"{score:.3f}")
    console.print(table)


@app.command()
def schema(
    out: Annotated[Path | None, typer.Option("-o", help="write to this file")] = None,
) -> None:
    """Print the JSON Schema of the spec format (for editor completion)."""
    from synth.spec.model import Spec

    text = json.dumps(Spec.model_json_schema(by_alias=True), indent=2)
    if out:
        out.write_text(text + "\n")
        console.print(f"wrote {out}")
    else:
        sys.stdout.write(text + "\n")


REPO_HELP = "Hub repo id, OWNER/NAME"


def _hub_errors(error: Exception) -> None:
    """Exit with the right code for an error from synth.hub (2 bad input, 1 failure)."""
    from synth.hub import HubError, HubInputError, PoolVerificationError
    from synth.pool import PoolError

    if isinstance(error, PoolVerificationError):
        for verdict in error.failures[:20]:
            err.print(
                f"[red]FAIL[/] {verdict.id} ({verdict.source}): {verdict.reason}", highlight=False
            )
        if len(error.failures) > 20:
            err.print(f"... and {len(error.failures) - 20} more")
        _fail(str(error), FAILED)
    if isinstance(error, (HubInputError, PoolError)):
        _fail(str(error), BAD_INPUT)
    if isinstance(error, HubError):
        _fail(str(error), FAILED)
    raise error


_ACTIONS = {"add": "new", "update": "changed", "delete": "delete", "keep": "unchanged"}


def _changes_table(result) -> Table:  # type: ignore[no-untyped-def]
    table = Table(title_justify="left", show_edge=False)
    table.add_column("change")
    table.add_column("path")
    table.add_column("bytes", justify="right")
    for change in result.changes:
        style = {"add": "green", "update": "yellow", "delete": "red"}.get(change.action, "dim")
        size = "" if change.action == "delete" else f"{change.size:,}"
        table.add_row(f"[{style}]{_ACTIONS[change.action]}[/]", change.path_in_repo, size)
    return table


def _publish_report(result, what: str) -> None:  # type: ignore[no-untyped-def]
    from synth.hub.remote import human_size

    target = result.repo_id
    if result.config:
        target += f" (config {result.config})"
    if result.revision != "main":
        target += f" on branch {result.revision}"
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)
    console.print(_changes_table(result))
    uploads, deletions = len(result.uploads), len(result.deletions)
    summary = f"{uploads} file{'s' * (uploads != 1)} to upload ({human_size(result.upload_bytes)})"
    if deletions:
        summary += f", {deletions} to delete"
    if result.dry_run:
        if result.remote_note:
            err.print(f"[yellow]note:[/] {result.remote_note}", highlight=False)
        if not result.repo_exists:
            kind = "private" if result.private else "public"
            console.print(
                f"would create the {kind} {result.repo_type} repo {result.repo_id}", soft_wrap=True
            )
        elif not result.branch_exists:
            console.print(f"would create branch {result.revision} from main", soft_wrap=True)
        if result.changed:
            console.print(
                f"[bold]dry run:[/] publishing {what} to {target} would make one commit: {summary}",
                soft_wrap=True,
            )
        else:
            console.print(
                f"[bold]dry run:[/] {target} already holds exactly {what}; publishing "
                "would be a no-op (no commit)",
                soft_wrap=True,
            )
        return
    if not result.changed:
        console.print(
            f"[green]up to date:[/] {target} already holds exactly {what}; "
            "nothing changed, no commit made",
            soft_wrap=True,
        )
        console.print(result.url, soft_wrap=True)
        return
    done = summary.replace("to upload", "uploaded").replace("to delete", "deleted")
    console.print(
        f"[green]published[/] {what} to {target} in one commit "
        f"{(result.commit_oid or '')[:12]}: {done}",
        soft_wrap=True,
    )
    console.print(result.commit_url or result.url, soft_wrap=True)


@app.command()
def publish(
    pool: Annotated[Path, typer.Argument(help="pool directory")],
    repo: Annotated[str, typer.Option("--repo", help=REPO_HELP)],
    private: Annotated[bool, typer.Option(help="create the repo as private")] = False,
    config: Annotated[
        str | None,
        typer.Option(help="publish as this config (under CONFIG/), next to the repo's others"),
    ] = None,
    revision: Annotated[
        str | None, typer.Option(help="branch to commit to (created from main if missing)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="show which files would be uploaded; write nothing")
    ] = False,
    workers: Annotated[int, typer.Option(help="worker processes for verification")] = 1,
) -> None:
    """Verify a pool, render its dataset card and publish it to the Hub in one commit."""
    from synth.hub import publish_pool

    _workers(workers)
    with Progress(
        TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    ) as progress:
        task: list = []

        def on_verdict(verdict, total: int) -> None:  # type: ignore[no-untyped-def]
            if not task:
                task.append(progress.add_task("verify", total=total))
            progress.advance(task[0])

        def on_step(message: str) -> None:
            progress.console.print(f"[dim]{message}[/]", highlight=False)

        try:
            result = publish_pool(
                pool,
                repo,
                private=private,
                config=config,
                revision=revision,
                dry_run=dry_run,
                workers=workers,
                on_verdict=on_verdict,
                on_step=on_step,
            )
        except Exception as error:  # noqa: BLE001 - mapped to exit codes, re-raised otherwise
            progress.stop()
            _hub_errors(error)
    _publish_report(result, f"the pool {pool} ({result.rows} verified problems)")


@app.command()
def pull(
    repo_id: Annotated[str, typer.Argument(help=REPO_HELP)],
    out: Annotated[Path, typer.Option("-o", "--out", help="pool directory to write")],
    config: Annotated[str | None, typer.Option(help="which config of the repo")] = None,
    revision: Annotated[
        str | None, typer.Option(help="branch, tag or commit (default: main)")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing pool")] = False,
) -> None:
    """Download a published pool into a local pool directory (then `veriforge verify` it)."""
    from synth.hub import pull_pool

    try:
        result = pull_pool(
            repo_id,
            out,
            config=config,
            revision=revision,
            overwrite=overwrite,
            on_step=lambda message: err.print(f"[dim]{message}[/]", highlight=False),
        )
    except Exception as error:  # noqa: BLE001 - mapped to exit codes, re-raised otherwise
        _hub_errors(error)
    console.print(
        f"pulled {result.rows} problems of {result.repo_id} (config {result.config}, commit "
        f"{result.commit[:12]}) into {result.path}; check them with: veriforge verify {result.path}",
        soft_wrap=True,
    )


@app.command("publish-model")
def publish_model_command(
    run_dir: Annotated[Path, typer.Argument(help="training run directory")],
    repo: Annotated[str, typer.Option("--repo", help=REPO_HELP)],
    private: Annotated[bool, typer.Option(help="create the repo as private")] = False,
    revision: Annotated[
        str | None, typer.Option(help="branch to commit to (created from main if missing)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="show which files would be uploaded; write nothing")
    ] = False,
    license: Annotated[
        str | None, typer.Option(help="licence id for the card (default: the run's config)")
    ] = None,
) -> None:
    """Publish a run's checkpoint with a model card (config, pools, pass@k) to the Hub.

    RUN_DIR holds a transformers checkpoint in final/, checkpoint-N/ or itself, and optionally
    config.yaml, metrics.jsonl, eval.json and pools.json (see the README).
    """
    from synth.hub import find_checkpoint, publish_model

    try:
        result = publish_model(
            run_dir,
            repo,
            private=private,
            revision=revision,
            dry_run=dry_run,
            license=license,
            on_step=lambda message: err.print(f"[dim]{message}[/]", highlight=False),
        )
        checkpoint = find_checkpoint(run_dir)
    except Exception as error:  # noqa: BLE001 - mapped to exit codes, re-raised otherwise
        _hub_errors(error)
    _publish_report(result, f"the checkpoint {checkpoint}")


# Layer commands live in their own modules and register themselves on `app`; they import
# heavy dependencies (torch, transformers) inside the commands so `--help` stays instant.
from veriforge import cli_demo, cli_evolve, cli_train  # noqa: F401


def main() -> None:
    app()


if __name__ == "__main__":
    main()
