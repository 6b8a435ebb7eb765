"""Speed against TRL's GRPOTrainer, in one run: seconds per step and peak memory.

    .venv/bin/python benchmarks/bench_train_speed.py            # 30 measured steps each
    .venv/bin/python benchmarks/bench_train_speed.py --steps 10 # quicker

Both trainers run the same ~1.1M-parameter Llama (hidden 128, 4 layers, local tokenizer)
on the same prompts ("Question: a + b = ?\\nAnswer:") with G = 8 samples per prompt,
8 prompts per step, 8-token completions, fp32, one intra-op thread, rewards from
`synth.grading` (TRL through `trl_reward`), one policy update per rollout batch, no KL, and
every group kept (veriforge's drop of equal-reward groups is switched off so both do the
same work). Each trainer runs in its own subprocess (`OMP_NUM_THREADS=1`), so its peak RSS
(ru_maxrss) is its own. Seconds per step: median wall-clock time from step end to step
end after 3 warm-up steps. TRL needs the bench extra (`pip install 'veriforge[bench]'`).

Target: veriforge <= 0.5x TRL's seconds per step, and no more peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from train_common import RESULTS, ROOT, tiny_model

WARMUP = 3


def _rows(n: int = 512) -> list[dict]:
    import random

    rng = random.Random(0)
    rows = []
    for i in range(n):
        a, b = rng.randint(10, 99), rng.randint(10, 99)
        rows.append({"prompt": f"{a} + {b} = ?", "answer": str(a + b), "answer_type": "integer"})
    return rows


def run_trl(model: Path, steps: int) -> list[float]:
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from synth.grading import trl_reward
    from trainers.prompting import format_prompt

    torch.set_num_threads(1)
    tokenizer = AutoTokenizer.from_pretrained(model)
    policy = AutoModelForCausalLM.from_pretrained(model, dtype=torch.float32)
    data = Dataset.from_list(
        [{**r, "prompt": format_prompt(tokenizer, r["prompt"]), "grader": ""} for r in _rows()]
    )
    marks: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            marks.append(time.perf_counter())

    config = GRPOConfig(
        output_dir=str(ROOT / "out" / "bench_train_speed_trl"),
        use_cpu=True,
        bf16=False,
        num_generations=8,
        per_device_train_batch_size=64,
        steps_per_generation=1,
        gradient_accumulation_steps=1,
        max_completion_length=8,
        max_steps=steps + WARMUP,
        learning_rate=1e-5,
        beta=0.0,
        num_iterations=1,
        temperature=1.0,
        logging_steps=10_000,
        save_strategy="no",
        report_to="none",
        gradient_checkpointing=False,
        dataloader_num_workers=0,
        disable_tqdm=True,
        seed=0,
    )
    trainer = GRPOTrainer(
        model=policy,
        reward_funcs=[trl_reward],
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        callbacks=[Clock()],
    )
    trainer.train()
    return [b - a for a, b in zip(marks[WARMUP - 1 :], marks[WARMUP:])]


def run_veriforge(model: Path, steps: int, work: Path) -> list[float]:
    import shutil

    from synth.pool import write_pool
    from synth.problem import Problem
    from trainers.config import TrainConfig
    from trainers.loop import train

    pool = work / "speed-pool"
    if not (pool / "manifest.json").is_file():
        problems = [
            Problem(id=f"s{i}", source="speed", category="sums", **r) for i, r in enumerate(_rows())
        ]
        write_pool(problems, pool, {"source": "bench"}, overwrite=True)
    run_dir = work / "speed-run"
    shutil.rmtree(run_dir, ignore_errors=True)
    cfg = TrainConfig(
        model=str(model),
        output_dir=str(run_dir),
        max_steps=steps + WARMUP,
        save_every=100_000,
        data={"pools": [str(pool)]},
        rollout={
            "samples_per_prompt": 8,
            "prompts_per_step": 8,
            "max_new_tokens": 8,
            "temperature": 1.0,
        },
        loss={"drop_equal_groups": False, "micro_batch_size": 64},
        optim={"lr": 1e-5},
        dtype="float32",
        device="cpu",
    )
    marks: list[float] = []
    train(cfg, show_progress=False, after_step=lambda step: marks.append(time.perf_counter()))
    return [b - a for a, b in zip(marks[WARMUP - 1 :], marks[WARMUP:])]


def child(args: argparse.Namespace) -> int:
    model = tiny_model(args.work / "speed-model")
    if args.child == "trl":
        times = run_trl(model, args.steps)
    else:
        times = run_veriforge(model, args.steps, args.work)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"times": times, "rss_mb": rss_mb}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench_train_speed")
    parser.add_argument("--child", choices=["trl", "veriforge"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.child:
        return child(args)
    tiny_model(args.work / "speed-model")
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    results = {}
    for name in ("trl", "veriforge"):
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                "--steps",
                str(args.steps),
                "--work",
                str(args.work),
            ],
            check=False,
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).parent,
        )
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            print(f"{name}: failed (exit {proc.returncode})")
            return 1
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        data["median_s"] = statistics.median(data["times"])
        results[name] = data
    trl = results["trl"]
    print(f"{'trainer':17}{'s/step (median)':>17}{'peak RSS MB':>13}{'time/TRL':>10}{'RSS/TRL':>9}")
    for name, data in results.items():
        data["time_ratio"] = data["median_s"] / trl["median_s"]
        data["memory_ratio"] = data["rss_mb"] / trl["rss_mb"]
        print(
            f"{name:17}{data['median_s']:17.4f}{data['rss_mb']:13.0f}{data['time_ratio']:10.2f}{data['memory_ratio']:9.2f}"
        )
    for name in ("veriforge",):
        data = results[name]
        verdict = "PASS" if data["time_ratio"] <= 0.5 and data["memory_ratio"] <= 1.0 else "MISS"
        print(
            f"{name}: time {data['time_ratio']:.2f}x TRL (target <= 0.5), memory "
            f"{data['memory_ratio']:.2f}x (target <= 1.0): {verdict}"
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_train_speed.json").write_text(
        json.dumps(
            {
                "steps": args.steps,
                **{
                    name: {k: v for k, v in data.items() if k != "times"}
                    for name, data in results.items()
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
