"""One `veriforge evolve` run end to end: load, evolve (resumably), write pool and report.

The work directory `<POOL>.partial/` holds the per-generation state while the run is in
progress; the pool is written only at the end (temporary directory, then rename, by
`synth.pool.write_pool`) and the work directory is removed after that.
"""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evolve.loaders import LoadResult, load_source
from evolve.models import Answerer
from evolve.operators import Context, SpecIndex
from evolve.report import build_report, write_report
from evolve.search import Evolution, EvolveConfig, EvolveError, Progress
from synth.pool import write_pool
from synth.problem import Problem

EVOLVE_VERSION = "1"


@dataclass
class RunResult:
    pool: Path
    report_dir: Path
    report: dict[str, Any]
    evolved: list[Problem]


def work_dir(out: Path) -> Path:
    return out.parent / f"{out.name}.partial"


def finished_rows(state: Any, models: bool) -> list[Problem]:
    """The evolved members of the final population, fitness recorded in `features`."""
    rows = []
    for ind in state.population:
        if ind.problem.lineage.get("operator") == "source":
            continue
        features = {
            **ind.problem.features,
            "evolve_fitness": ind.fitness,
            "evolve_structure": ind.structural,
            "evolve_novelty": ind.novelty,
            **{f"evolve_{k}": v for k, v in ind.parts.items()},
        }
        if ind.failure is not None:
            features["model_failure_rate"] = round(ind.failure, 6)
        difficulty = ind.failure if models and ind.failure is not None else ind.structural
        rows.append(
            dataclasses.replace(
                ind.problem, features=features, difficulty=round(min(1.0, max(0.0, difficulty)), 6)
            )
        )
    return rows


def evolve_source(
    source: str | Path,
    out: str | Path,
    config: EvolveConfig,
    *,
    fmt: str = "auto",
    mapping: Mapping[str, str] | None = None,
    answerers: Sequence[Answerer] = (),
    spec_dirs: Sequence[str | Path] = ("specs",),
    resume: bool = False,
    overwrite: bool = False,
    report_dir: str | Path | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    loaded: LoadResult | None = None,
) -> RunResult:
    out = Path(out)
    work = work_dir(out)
    if out.exists() and not overwrite:
        raise EvolveError(
            f"{out}: a pool already exists there; choose another path or pass --overwrite"
        )
    if (work / "state.json").exists() and not resume:
        raise EvolveError(
            f"{work}: an interrupted run is there; pass --resume to continue it, or delete the folder"
        )
    result = loaded or load_source(source, fmt, mapping, limit=limit)
    specs = SpecIndex([d for d in spec_dirs if Path(d).is_dir()])
    ctx = Context(specs=specs)
    run = Evolution(
        result.problems, config, answerers=answerers, ctx=ctx, work=work, progress=progress
    )
    state = run.run(resume=resume)
    models = [a.name for a in answerers]
    evolved = finished_rows(state, bool(models))
    if not evolved:
        raise EvolveError(
            "no evolved problem survived selection; try more generations or other operators "
            f"(acceptance: {state.op_stats})"
        )
    report = build_report(
        state,
        result.problems,
        evolved,
        config=config.model_dump(),
        coverage=result.coverage() if result.format != "pool" else None,
        models=models,
    )
    manifest = {
        "name": f"{result.name} (evolved)",
        "description": (
            f"Evolved from {result.name} by veriforge evolve: {len(evolved)} problems, every "
            "answer re-verified (program re-executed or certificate re-proved)."
        ),
        "seed": config.seed,
        "generator": {"veriforge-evolve": EVOLVE_VERSION},
        "evolve": {
            "source": str(source),
            "source_format": result.format,
            "config": config.model_dump(),
            "models": models,
            "fitness": report["fitness"],
        },
    }
    write_pool(evolved, out, manifest, overwrite=overwrite)
    folder = Path(report_dir) if report_dir else out.parent / f"{out.name}-report"
    write_report(report, folder)
    shutil.rmtree(work, ignore_errors=True)
    return RunResult(out, folder, report, evolved)
