"""Generate many instances: parallel, deterministic for any worker count, resumable.

Instance indices are processed in order and their outcomes (row or rejection) are appended
to a per-job log in `<POOL>.partial/`; a job takes the first N accepted indices. Because
every outcome is a pure function of (spec, level, seed, index), rerunning after a kill
recomputes nothing already logged and yields the same pool, byte for byte. The pool itself
is written only at the end (temporary directory, then rename).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.backends import BackendError, reset_all
from synth.engine.instance import GENERATOR_VERSION, Outcome, compile_spec, generate_instance
from synth.engine.solving import choices
from synth.problem import Problem
from synth.spec import load_spec_text
from synth.spec.model import Spec

STATE_FILE = "state.json"
# Attempts after which a job with no accepted instance at all is abandoned as futile.
FUTILE = 100
# Instances per worker between resets of global solver state (pysmt's formula environment).
RESET_EVERY = 256


class GenerationError(RuntimeError):
    """A job cannot produce its problems (e.g. a spec that never yields a unique answer)."""


@dataclass
class Job:
    """N accepted problems of one spec at one level."""

    file: str
    text: str
    spec: Spec
    hash: str
    level: str
    seed: int
    n: int
    backend: str | None = None  # per-command override of the spec's solver section
    strategy: str | None = None

    @property
    def key(self) -> str:
        solver = "".join(f"-{x}" for x in (self.backend, self.strategy) if x)
        return f"{self.spec.name}-{self.level}-{self.hash}{solver}"


@dataclass
class JobResult:
    job: Job
    rows: list[dict[str, Any]] = field(default_factory=list)
    attempted: int = 0
    rejected: Counter = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def make_jobs(
    specs: list[tuple[str, str]],
    n: int,
    seed: int,
    levels: list[str] | None,
    backend: str | None = None,
    strategy: str | None = None,
) -> list[Job]:
    """One job per (spec, level). `specs` holds (file, text); `levels` None = default level;
    `backend`/`strategy` override every spec's solver section."""
    jobs = []
    for file, text in specs:
        spec, spec_hash = load_spec_text(text, file)
        try:
            choices(spec, backend, strategy)
        except BackendError as error:
            raise GenerationError(f"{file}: {error}") from None
        wanted = levels or [spec.default_level or (next(iter(spec.levels), "default"))]
        if wanted == ["all"]:
            wanted = list(spec.levels) or ["default"]
        for level in wanted:
            if spec.levels and level not in spec.levels:
                raise GenerationError(
                    f"{file}: level {level!r} is not defined (levels: {', '.join(spec.levels)})"
                )
            jobs.append(Job(file, text, spec, spec_hash, level, seed, n, backend, strategy))
    return jobs


# -- workers -----------------------------------------------------------------------------


def _start_method() -> Any:
    """fork on Linux (workers start in milliseconds; the parent holds no z3 context and no
    threads when the pool starts), spawn elsewhere."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


_WORKER_SPECS: dict[str, Any] = {}
_WORKER_DONE = [0]


def _worker_init(texts: dict[str, tuple[str, str, str | None, str | None]]) -> None:
    import os as _os

    _os.environ.setdefault("OMP_NUM_THREADS", "1")
    for key, (file, text, backend, strategy) in texts.items():
        spec, spec_hash = load_spec_text(text, file)
        _WORKER_SPECS[key] = compile_spec(spec, spec_hash, file, backend, strategy)


def _worker_run(task: tuple[str, str, int, int]) -> Outcome:
    key, level, seed, index = task
    _WORKER_DONE[0] += 1
    if _WORKER_DONE[0] % RESET_EVERY == 0:
        reset_all()  # between instances no solver session is alive
    return generate_instance(_WORKER_SPECS[key], level, seed, index)


# -- logs --------------------------------------------------------------------------------


def _read_log(path: Path) -> list[dict[str, Any]]:
    """Complete lines of a job log; a torn last line (killed mid-write) is cut off."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        with open(path, "r+b") as handle:
            handle.truncate(end)
    entries = []
    for line in data[:end].splitlines():
        entries.append(json.loads(line))
    return entries


def _check_state(work: Path, jobs: list[Job], resume: bool) -> None:
    state = {
        "jobs": [{"key": j.key, "file": j.file, "seed": j.seed, "n": j.n} for j in jobs],
        "generator": GENERATOR_VERSION,
    }
    path = work / STATE_FILE
    if path.exists():
        if not resume:
            raise GenerationError(
                f"{work} holds an interrupted run; rerun with --resume to continue it, or "
                f"delete {work} to start over"
            )
        old = json.loads(path.read_text())
        old_keys = [(j["key"], j["seed"]) for j in old["jobs"]]
        new_keys = [(j.key, j.seed) for j in jobs]
        if old_keys != new_keys:
            raise GenerationError(
                f"{work} was started with different specs, levels or seed; delete it to start over"
            )
    work.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=1))


def run_jobs(
    jobs: list[Job],
    work: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    on_progress: Callable[[Job, int, int], None] | None = None,
    max_attempts: Callable[[int], int] = lambda n: max(200, 40 * n),
) -> list[JobResult]:
    """Run every job to N accepted rows, logging outcomes under `work`."""
    _check_state(work, jobs, resume)
    texts = {j.key: (j.file, j.text, j.backend, j.strategy) for j in jobs}
    pool = None
    if workers > 1:
        pool = _start_method().Pool(workers, initializer=_worker_init, initargs=(texts,))
    else:
        _worker_init(texts)
    try:
        return [_run_job(job, work, pool, workers, on_progress, max_attempts) for job in jobs]
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()


def _run_job(
    job: Job,
    work: Path,
    pool: Any,
    workers: int,
    on_progress: Callable[[Job, int, int], None] | None,
    max_attempts: Callable[[int], int],
) -> JobResult:
    log_path = work / f"{job.key}.jsonl"
    result = JobResult(job)
    entries = _read_log(log_path)
    next_index = 0
    for entry in entries:
        _record(result, entry)
        next_index = entry["index"] + 1
    timing_path = work / f"{job.key}.seconds"
    result.seconds = float(timing_path.read_text()) if timing_path.exists() else 0.0
    if on_progress:
        on_progress(job, len(result.rows), result.attempted)
    limit = max_attempts(job.n)
    started = time.perf_counter()
    with open(log_path, "a", encoding="utf-8") as log:
        while len(result.rows) < job.n:
            if result.attempted >= limit or (not result.rows and result.attempted >= FUTILE):
                break
            missing = job.n - len(result.rows)
            rate = max(0.05, len(result.rows) / result.attempted) if result.attempted else 1.0
            cap = limit if result.rows else FUTILE
            batch = min(
                cap - result.attempted, max(workers * 2, int(missing / rate * 1.1) + workers)
            )
            indices = range(next_index, next_index + batch)
            for outcome in _outcomes(job, indices, pool):
                entry = {"index": outcome.index}
                if outcome.row is not None:
                    entry["row"] = outcome.row
                else:
                    entry["reason"] = outcome.reason
                    entry["detail"] = outcome.detail
                log.write(json.dumps(entry, sort_keys=True) + "\n")
                log.flush()
                _record(result, entry)
                next_index = outcome.index + 1
                if on_progress:
                    on_progress(job, len(result.rows), result.attempted)
                if len(result.rows) >= job.n:
                    break
            timing_path.write_text(str(result.seconds + time.perf_counter() - started))
    result.seconds += time.perf_counter() - started
    timing_path.write_text(str(result.seconds))
    if len(result.rows) < job.n:
        reasons = ", ".join(f"{r} ({c})" for r, c in result.rejected.most_common(4))
        example = next(iter(result.examples.values()), "")
        hint = (
            "the spec never yields a verified instance"
            if not result.rows
            else f"only {len(result.rows)} of {job.n} accepted"
        )
        raise GenerationError(
            f"{job.file} [{job.level}]: {hint} after {result.attempted} attempts; "
            f"rejections: {reasons}" + (f"; e.g. {example}" if example else "")
        )
    return result


def _outcomes(job: Job, indices: range, pool: Any) -> Iterator[Outcome]:
    tasks = [(job.key, job.level, job.seed, i) for i in indices]
    if pool is None:
        for task in tasks:
            yield _worker_run(task)
    else:
        yield from pool.imap(_worker_run, tasks, chunksize=1)


def _record(result: JobResult, entry: dict[str, Any]) -> None:
    result.attempted += 1
    if "row" in entry:
        if len(result.rows) < result.job.n:
            result.rows.append(entry["row"])
    else:
        result.rejected[entry["reason"]] += 1
        if entry.get("detail") and entry["reason"] not in result.examples:
            result.examples[entry["reason"]] = entry["detail"][:300]


def manifest(results: list[JobResult], seed: int, name: str) -> dict[str, Any]:
    """The run manifest: what was asked, what came out, why instances were rejected."""
    import z3

    licenses = sorted({r.job.spec.license for r in results})
    return {
        "name": name,
        "seed": seed,
        "license": licenses[0] if len(licenses) == 1 else "other",
        "generator": {"veriforge": GENERATOR_VERSION, "z3": z3.get_version_string()},
        "specs": [
            {
                "name": r.job.spec.name,
                "file": os.path.basename(r.job.file),
                "hash": r.job.hash,
                "version": r.job.spec.version,
                "level": r.job.level,
                "category": r.job.spec.category,
                "seed": r.job.seed,
                "requested": r.job.n,
                "accepted": len(r.rows),
                "attempted": r.attempted,
                "rejected": dict(sorted(r.rejected.items())),
                "seconds": round(r.seconds, 3),
            }
            for r in results
        ],
    }


def problems(results: list[JobResult]) -> list[Problem]:
    return [Problem.from_row(row) for r in results for row in r.rows]


def clear_work(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
