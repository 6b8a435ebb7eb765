"""DARS vs plain GRPO at an equal rollout budget, and hard / easy / random selection at a
10% budget: held-out pass@1 and pass@k (k up to 16) per arm, several seeds, a plot.

    .venv/bin/python benchmarks/bench_train_dars.py              # 2 seeds (~12 min, 1 core)
    .venv/bin/python benchmarks/bench_train_dars.py --seeds 3
    .venv/bin/python benchmarks/bench_train_dars.py --quick      # smoke run

Set-up (all offline, one CPU thread): the tiny Llama and the arithmetic pool of
bench_train_learning.py, warm-started by a short `sft` so that held-out pass@1 is low but
pass@16 is not. Measured difficulty for the selection arms comes from `veriforge
difficulty` (trainers.difficulty.estimate) with the warm-started model, k = 4.

Arms (each trained from the same warm start, per seed):
- grpo:        plain GRPO, G = 8, 32 prompts/step (lr 1e-4), 20 steps: the rollout budget;
- dars-et:     DARS Equal-Treatment (stage 1 G = 8, cap 32), same rollout budget;
- dars-hw:     DARS Hardness-Weighted, same budget;
- hardest10 / easiest10 / random10: plain GRPO on 10% of the train pool chosen by measured
  difficulty, the same number of steps as grpo.
Held-out: pass@1, 2, 4, 8, 16 from 16 samples per problem at T = 1.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

from train_common import RESULTS, ROOT, arithmetic_pools, held_out_eval, tiny_model

MAX_NEW = 24


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--budget", type=int, default=None, help="rollouts per arm")
    parser.add_argument("--sft-steps", type=int, default=230)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--prompts", type=int, default=32, help="prompts per step")
    parser.add_argument("--eval-problems", type=int, default=100)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench_train_dars")
    args = parser.parse_args()
    import torch

    from synth.pool import read_manifest, read_pool, write_pool
    from trainers.config import SFTConfig, TrainConfig
    from trainers.difficulty import estimate
    from trainers.loop import train
    from trainers.runtime import load_model, load_tokenizer
    from trainers.sft import sft

    budget = args.budget or (args.prompts * 8 * (3 if args.quick else 20))
    seeds = 1 if args.quick else args.seeds
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = tiny_model(work / "base")
    train_pool, test_pool = arithmetic_pools(work)
    warm = work / "sft" / "final"
    if not (warm / "config.json").is_file():
        sft(
            SFTConfig(
                model=str(base),
                output_dir=str(work / "sft"),
                pools=[str(train_pool)],
                max_steps=args.sft_steps,
                batch_size=32,
                lr=3e-3,
                schedule="cosine",
                warmup_steps=20,
            )
        )
    measured = work / "arith-train-measured"
    if not (measured / "manifest.json").is_file():
        shutil.rmtree(measured, ignore_errors=True)
        write_pool(read_pool(train_pool), measured, read_manifest(train_pool))
        estimate(
            measured,
            load_model(str(warm), torch.device("cpu"), torch.float32),
            load_tokenizer(str(warm)),
            model_name=str(warm),
            k=4,
            max_new_tokens=MAX_NEW,
            chunk=64,
        )
    start_eval = held_out_eval(
        warm, test_pool, 16, max_new_tokens=MAX_NEW, max_problems=args.eval_problems
    )
    steps_plain = budget // (args.prompts * 8)
    arms = {
        "grpo": {},
        "dars-et": {"dars": {"enabled": True, "schedule": "equal_treatment", "max_samples": 32}},
        "dars-hw": {"dars": {"enabled": True, "schedule": "hardness_weighted", "max_samples": 32}},
        "hardest10": {"data": {"selection": "hardest", "budget": 0.1}},
        "easiest10": {"data": {"selection": "easiest", "budget": 0.1}},
        "random10": {"data": {"selection": "random", "budget": 0.1}},
    }
    results: dict[str, list[dict]] = {name: [] for name in arms}
    for seed in range(seeds):
        for name, over in arms.items():
            run = work / "runs" / f"{name}-s{seed}"
            shutil.rmtree(run, ignore_errors=True)
            data = {"pools": [str(measured)], **over.get("data", {})}
            cfg = TrainConfig(
                model=str(warm),
                output_dir=str(run),
                seed=seed,
                max_steps=steps_plain * 8,
                max_rollouts=budget,
                save_every=10_000,
                eval_every=0,
                data=data,
                rollout={
                    "samples_per_prompt": 8,
                    "prompts_per_step": args.prompts,
                    "max_new_tokens": MAX_NEW,
                },
                optim={"lr": args.lr, "warmup_steps": 5},
                dars=over.get("dars", {}),
            )
            if name not in ("dars-et", "dars-hw"):
                cfg = cfg.model_copy(update={"max_steps": steps_plain})
            t0 = time.perf_counter()
            train(cfg, show_progress=False)
            final = held_out_eval(
                run / "final",
                test_pool,
                16,
                max_new_tokens=MAX_NEW,
                max_problems=args.eval_problems,
            )
            lines = (run / "metrics.jsonl").read_text().splitlines()
            last = json.loads(lines[-1])
            results[name].append(
                {
                    "seed": seed,
                    "steps": last["step"],
                    "rollouts": last["rollouts_total"],
                    "seconds": time.perf_counter() - t0,
                    **final,
                }
            )
            print(
                f"{name:10} seed {seed}: steps {last['step']:4d} rollouts {last['rollouts_total']:6d} "
                f"pass@1 {final['pass@1']:.3f} pass@16 {final['pass@16']:.3f}",
                flush=True,
            )
    print(f"\nwarm start: pass@1 {start_eval['pass@1']:.3f} pass@16 {start_eval['pass@16']:.3f}")
    print(
        f"budget {budget} rollouts per arm; held-out {args.eval_problems} problems x 16 samples; {seeds} seed(s)"
    )
    ks = [1, 2, 4, 8, 16]
    print(f"{'arm':11}" + "".join(f"{'pass@' + str(k):>16}" for k in ks))
    summary = {}
    for name, runs in results.items():
        row = {}
        for k in ks:
            values = [r[f"pass@{k}"] for r in runs]
            row[k] = (statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)
        summary[name] = {f"pass@{k}": {"mean": m, "sd": s} for k, (m, s) in row.items()}
        print(f"{name:11}" + "".join(f"{m:10.3f} ±{s:.3f}" for m, s in row.values()))
    _plot(results, start_eval, ks, RESULTS / "bench_train_dars.png")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_train_dars.json").write_text(
        json.dumps(
            {
                "budget": budget,
                "seeds": seeds,
                "lr": args.lr,
                "warm_start": start_eval,
                "summary": summary,
                "runs": results,
                "seconds": time.perf_counter() - started,
            },
            indent=2,
        )
    )
    print(f"total {time.perf_counter() - started:.0f} s; plot: {RESULTS / 'bench_train_dars.png'}")
    return 0


def _plot(results, start, ks, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, names, title in (
        (axes[0], ["grpo", "dars-et", "dars-hw"], "equal rollout budget"),
        (
            axes[1],
            ["hardest10", "easiest10", "random10", "grpo"],
            "10% selection (grpo: full pool)",
        ),
    ):
        ax.plot(ks, [start[f"pass@{k}"] for k in ks], "k--", label="warm start")
        for name in names:
            means = [statistics.mean(r[f"pass@{k}"] for r in results[name]) for k in ks]
            ax.plot(ks, means, marker="o", label=name)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_xlabel("k")
        ax.set_ylabel("held-out pass@k")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
