"""Learning benchmark: does GRPO improve a warm-started tiny model on held-out problems?

    .venv/bin/python benchmarks/bench_train_learning.py            # full run (~6-8 min, 1 core)
    .venv/bin/python benchmarks/bench_train_learning.py --quick    # smoke run (~1 min)

1. A ~1.1M-parameter Llama (hidden 128, 4 layers) and a tokenizer trained locally.
2. A pool from specs/arithmetic.yaml (sums, differences and "a + x = b" with operands up to
   19, every level), split by prompt into train and held-out pools (no prompt in both).
3. `sft`: a short supervised warm start on the train pool's worked solutions (230 steps of
   32): the model knows the method but samples at T=1 are often wrong.
4. `train`: GRPO (G=8, 64 prompts/step, 24-token completions, lr 1e-4 after 10 warm-up
   steps, token-mean loss, clip-higher, no std scaling) on the train pool, with held-out
   pass@1/pass@8 logged along the way. (Small batches, 16 prompts, or higher learning rates
   made this tiny model worse on unseen prompts: the per-step gradient is too noisy.)
5. Held-out pass@1 (unbiased, from 8 samples at T=1) before and after GRPO; target:
   +15 points within 15 minutes on the 2-core machine. Curve: results/bench_train_learning.png.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from train_common import RESULTS, ROOT, arithmetic_pools, held_out_eval, tiny_model

MAX_NEW = 24  # the worked solution is ~18 tokens


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench_train_learning")
    parser.add_argument("--sft-steps", type=int, default=None)
    parser.add_argument("--grpo-steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from trainers.config import SFTConfig, TrainConfig
    from trainers.loop import train
    from trainers.sft import sft

    sft_steps = args.sft_steps or (60 if args.quick else 230)
    grpo_steps = args.grpo_steps or (10 if args.quick else 150)
    work = args.work
    shutil.rmtree(work / "sft", ignore_errors=True)
    shutil.rmtree(work / "grpo", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = tiny_model(work / "base")
    train_pool, test_pool = arithmetic_pools(work)
    t0 = time.perf_counter()
    sft_dir = sft(
        SFTConfig(
            model=str(base),
            output_dir=str(work / "sft"),
            pools=[str(train_pool)],
            max_steps=sft_steps,
            batch_size=32,
            lr=3e-3,
            schedule="cosine",
            warmup_steps=20,
            seed=args.seed,
        )
    )
    t_sft = time.perf_counter() - t0
    before = held_out_eval(sft_dir, test_pool, 8, max_new_tokens=MAX_NEW, max_problems=200)
    cfg = TrainConfig(
        model=str(sft_dir),
        output_dir=str(work / "grpo"),
        seed=args.seed,
        max_steps=grpo_steps,
        save_every=max(grpo_steps // 2, 1),
        eval_every=max(grpo_steps // 5, 1),
        eval_k=8,
        eval_max_problems=100,
        data={"pools": [str(train_pool)], "eval_pools": [str(test_pool)]},
        rollout={"samples_per_prompt": 8, "prompts_per_step": 64, "max_new_tokens": MAX_NEW},
        optim={"lr": 1e-4, "warmup_steps": 10},
    )
    t0 = time.perf_counter()
    run_dir = train(cfg, show_progress=False)
    t_grpo = time.perf_counter() - t0
    after = held_out_eval(run_dir / "final", test_pool, 8, max_new_tokens=MAX_NEW, max_problems=200)
    total = time.perf_counter() - started
    gain = after["pass@1"] - before["pass@1"]
    curve = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    points = [
        (r["step"], r["eval/pass@1"], r.get("eval/pass@8")) for r in curve if "eval/pass@1" in r
    ]
    _plot(points, RESULTS / "bench_train_learning.png")
    print(
        f"held-out problems: {int(after['n'])}; SFT {sft_steps} steps ({t_sft:.0f} s), GRPO {grpo_steps} steps ({t_grpo:.0f} s)"
    )
    print(f"{'':12}{'pass@1':>8}{'pass@8':>8}")
    print(f"{'after SFT':12}{before['pass@1']:8.3f}{before['pass@8']:8.3f}")
    print(f"{'after GRPO':12}{after['pass@1']:8.3f}{after['pass@8']:8.3f}")
    verdict = "PASS" if gain >= 0.15 and total <= 900 else "MISS"
    print(
        f"gain {gain * 100:+.1f} points in {total:.0f} s total (target +15 within 900 s): {verdict}"
    )
    print(
        "curve (step, held-out pass@1, pass@8):",
        [(s, round(a, 3), round(b or 0, 3)) for s, a, b in points],
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_train_learning.json").write_text(
        json.dumps(
            {
                "quick": args.quick,
                "sft_steps": sft_steps,
                "grpo_steps": grpo_steps,
                "seconds_total": total,
                "seconds_sft": t_sft,
                "seconds_grpo": t_grpo,
                "before": before,
                "after": after,
                "gain_points": gain * 100,
                "curve": points,
                "verdict": verdict,
            },
            indent=2,
        )
    )
    return 0


def _plot(points, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    steps = [p[0] for p in points]
    ax.plot(steps, [p[1] for p in points], marker="o", label="pass@1")
    ax.plot(steps, [p[2] for p in points], marker="s", label="pass@8")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("held-out")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("arithmetic pool, tiny Llama warm-started by sft")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
