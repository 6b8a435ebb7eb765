"""Solver backends and quantifier strategies: time per instance, the tuned choice against
the default, and memory over a long run.

    .venv/bin/python benchmarks/bench_solvers.py            # full run (100k-instance memory run)
    .venv/bin/python benchmarks/bench_solvers.py --quick    # smoke run (about a minute)

1. Per spec, every applicable (backend, strategy) pair generates the same sample instances
   (`synth.engine.tuning.tune`: each instance in a forked child with a time limit, time
   measured in the child). Printed: solved / unknown / timeouts and the mean and median
   milliseconds per instance; then the tuned choice (fastest complete pair) and the ratio
   of its median time to the default's (z3 with `auto`). The quantified specs
   (no_overlap, dinner_friends) exercise the native strategies; seating_row and knapsack
   are finite specs where `ground` is the default.
2. Memory: a tiny quantified spec generated instance after instance through the runner's
   worker function (`_worker_run`, which resets pysmt's global environment every
   RESET_EVERY instances): 100k instances on `pysmt-cvc5` (the leak-prone route), shorter
   runs on `cvc5` and `z3`, and one without the resets to show what they prevent. RSS is
   sampled in the child; the slope is measured after the first 10% (allocator warm-up).

The machine is shared: timings are noisy; compare ratios within one run. Results also go to
benchmarks/results/bench_solvers.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TINY = """
spec: 1
name: tiny
category: bench
parameters:
  a: {int: [0, 9]}
unknowns:
  x: {type: int, range: [0, 9]}
constraints: ["forall(t != x for t in integers if t != a)"]
plant: {x: "a"}
query: {kind: value, ask: "x", text: "x?"}
solver: {strategy: auto}
"""


def rss_kib() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


def strategies(specs: list[str], samples: int, level: str, timeout: float) -> list[dict]:
    from rich.console import Console
    from rich.table import Table

    from synth.engine.instance import compile_spec
    from synth.engine.tuning import tune
    from synth.spec import load_spec

    console = Console()
    out = []
    for name in specs:
        spec, spec_hash = load_spec(ROOT / "specs" / f"{name}.yaml")
        compiled = compile_spec(spec, spec_hash, name)
        report = tune(compiled, level, samples=samples, timeout=timeout)
        table = Table(title=f"{name} [{level}]: {samples} instances per pair")
        for col in ("backend/strategy", "solved", "unknown", "timeouts", "mean ms", "median ms"):
            table.add_column(col, justify="left" if col == "backend/strategy" else "right")
        rows = []
        for p in report.pairs:
            mean = statistics.fmean(p.times) * 1000 if p.times else None
            med = p.median * 1000 if p.times else None
            tag = (" (tuned)" if p.label == report.best else "") + (
                " (default)" if p.label == report.default else ""
            )
            table.add_row(
                p.label + tag,
                str(p.solved),
                str(p.unknown),
                str(p.timeouts),
                f"{mean:.1f}" if mean else "-",
                f"{med:.1f}" if med else "-",
            )
            rows.append(
                {
                    "pair": p.label,
                    "solved": p.solved,
                    "unknown": p.unknown,
                    "timeouts": p.timeouts,
                    "mean_ms": mean,
                    "median_ms": med,
                }
            )
        console.print(table)
        ratio = report.ratio
        console.print(
            f"{name}: tuned {report.best}, default {report.default}, tuned/default median "
            f"time = {ratio:.2f}"
            if ratio
            else f"{name}: no complete pair"
        )
        if report.disagreements:
            console.print(f"[red]disagreements[/]: {report.disagreements}")
        out.append(
            {
                "spec": name,
                "level": level,
                "pairs": rows,
                "tuned": report.best,
                "default": report.default,
                "ratio": ratio,
                "disagreements": report.disagreements,
            }
        )
    return out


def memory_child(backend: str, instances: int, reset: bool, every: int) -> None:
    """Run in a fresh process: generate `instances` tiny instances, print RSS samples."""
    from synth.engine import runner

    key = "tiny"
    runner._worker_init({key: ("tiny.yaml", TINY, backend, None)})
    if not reset:
        runner.RESET_EVERY = 10**12
    samples = []
    started = time.perf_counter()
    accepted = 0
    for i in range(instances):
        outcome = runner._worker_run((key, "default", 0, i))
        accepted += outcome.row is not None
        if i % every == 0 or i == instances - 1:
            samples.append((i, rss_kib()))
    seconds = time.perf_counter() - started
    print(json.dumps({"samples": samples, "seconds": seconds, "accepted": accepted}))


def memory(backend: str, instances: int, reset: bool) -> dict:
    every = max(1, instances // 20)
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-child",
            backend,
            str(instances),
            str(int(reset)),
            str(every),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    samples = result["samples"]
    warm = next((s for s in samples if s[0] >= instances // 10), samples[0])
    end = samples[-1]
    slope = (end[1] - warm[1]) / max(1, end[0] - warm[0]) * 1000
    print(
        f"memory {backend:10s} reset={'yes' if reset else 'no '} {instances} instances "
        f"({result['accepted']} accepted) in {result['seconds']:.0f} s: RSS {warm[1] / 1024:.1f} MiB "
        f"after {warm[0]} -> {end[1] / 1024:.1f} MiB at {end[0]}; "
        f"{slope:+.1f} KiB per 1000 instances"
    )
    return {
        "backend": backend,
        "reset": reset,
        "instances": instances,
        **result,
        "kib_per_1000": slope,
    }


def pysmt_env_growth(instances: int) -> list[dict]:
    """Formulas interned in pysmt's global environment over a run of dinner_friends on
    pysmt-cvc5, with and without the runner's periodic reset: what the reset bounds."""
    from pysmt.shortcuts import get_env

    from synth.backends import reset_all
    from synth.engine import runner

    text = (ROOT / "specs" / "dinner_friends.yaml").read_text()
    runner._worker_init({"f": ("f.yaml", text, "pysmt-cvc5", None)})
    every, out = runner.RESET_EVERY, []
    for reset in (False, True):
        runner.RESET_EVERY = every if reset else 10**12
        runner._WORKER_DONE[0] = 0
        reset_all()
        peak = 0
        for i in range(instances):
            runner._worker_run(("f", "easy", 0, i))
            peak = max(peak, len(get_env().formula_manager.formulae))
        final = len(get_env().formula_manager.formulae)
        print(
            f"pysmt global environment, {instances} dinner_friends instances, reset "
            f"{'every ' + str(every) if reset else 'never'}: {final} formulas at the end, "
            f"peak {peak}"
        )
        out.append({"reset": reset, "instances": instances, "final": final, "peak": peak})
    runner.RESET_EVERY = every
    return out


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-child":
        memory_child(sys.argv[2], int(sys.argv[3]), bool(int(sys.argv[4])), int(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument("--samples", type=int, default=None, help="instances per pair")
    parser.add_argument("--instances", type=int, default=None, help="memory-run instances")
    parser.add_argument("--skip-strategies", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    samples = args.samples or (2 if args.quick else 6)
    instances = args.instances or (2000 if args.quick else 100_000)
    specs = ["no_overlap", "dinner_friends", "seating_row", "knapsack"]
    result: dict = {"strategies": [], "memory": []}
    if not args.skip_strategies:
        result["strategies"] = strategies(specs, samples, "easy", 30.0)
    if not args.skip_memory:
        # the long run on the leak-prone pysmt route; shorter runs for the others
        for backend, reset, n in (
            ("pysmt-cvc5", True, instances),
            ("pysmt-cvc5", False, max(1000, instances // 10)),
            ("cvc5", True, max(1000, instances // 5)),
            ("z3", True, max(1000, instances // 5)),
        ):
            result["memory"].append(memory(backend, n, reset))
        result["pysmt_env"] = pysmt_env_growth(200 if args.quick else 1000)
    out = ROOT / "benchmarks" / "results" / "bench_solvers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
