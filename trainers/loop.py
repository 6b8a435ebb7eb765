"""`veriforge train`: the GRPO loop around `grpo.collect` and `grpo.update`.

Run directory:

```
RUN/config.yaml            the validated config (a resumed run must match it)
RUN/pools.json             pools trained on
RUN/metrics.jsonl          one JSON object per logged step (eval/pass@k at eval steps)
RUN/checkpoint-N/          model, tokenizer, trainable.safetensors, optimizer.pt,
                           scheduler.pt, rng.pt, trainer_state.json (step, rollouts, sampler)
RUN/final/                 the trained model (LoRA merged), tokenizer
RUN/eval.json              last held-out pass@k report
RUN/plots/*.png            reward, entropy, response length, pass@k
```

Start the same command again after a crash or kill: the run resumes from its latest
checkpoint and, because sampling seeds are a function of the step and every state is
restored, continues exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from trainers import checkpoint
from trainers.config import ConfigError, TrainConfig
from trainers.data import PromptSampler, load_rows, split
from trainers.evaluate import report, sample_and_grade
from trainers.grpo import collect, rollout_stats, timed, update
from trainers.plots import plot_run
from trainers.rollout import make_backend
from trainers.runtime import (
    apply_lora,
    load_model,
    load_tokenizer,
    make_optimizer,
    make_scheduler,
    resolve_device,
    resolve_dtype,
    set_threads,
)

EVAL_SEED_OFFSET = 7_777


def _config_dict(cfg: TrainConfig) -> dict[str, Any]:
    return json.loads(cfg.model_dump_json())


def _check_run_dir(run_dir: Path, cfg: TrainConfig) -> None:
    saved = run_dir / "config.yaml"
    if saved.is_file():
        previous = yaml.safe_load(saved.read_text())
        if previous != _config_dict(cfg):
            changed = sorted(
                k
                for k in set(previous) | set(_config_dict(cfg))
                if previous.get(k) != _config_dict(cfg).get(k)
            )
            raise ConfigError(
                f"{run_dir} holds a run with a different config (differs in: {', '.join(changed)}); "
                "use a new output_dir, or delete it to start over"
            )


def _truncate_metrics(path: Path, step: int) -> None:
    if not path.is_file():
        return
    kept = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line).get("step", 0) <= step
    ]
    path.write_text("".join(line + "\n" for line in kept))


def evaluate_rows(
    cfg: TrainConfig, backend: Any, tokenizer: Any, rows: list[dict]
) -> dict[str, Any]:
    records = sample_and_grade(
        backend,
        tokenizer,
        rows[: cfg.eval_max_problems],
        cfg.eval_k,
        max_new_tokens=cfg.rollout.max_new_tokens,
        temperature=cfg.eval_temperature,
        top_p=cfg.rollout.top_p,
        seed=cfg.seed + EVAL_SEED_OFFSET,
        system_prompt=cfg.data.system_prompt,
        stop=cfg.rollout.stop,
    )
    return report(records, cfg.eval_k)


def train(
    cfg: TrainConfig,
    *,
    show_progress: bool = True,
    after_step: Callable[[int], None] | None = None,
) -> Path:
    """Run (or resume) training; returns the run directory. `after_step(step)` is called
    after each step's metrics are written (tests use it to simulate a crash)."""
    set_threads(cfg.threads)
    import numpy as np
    import torch

    run_dir = Path(cfg.output_dir)
    _check_run_dir(run_dir, cfg)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    dtype = resolve_dtype(cfg.dtype, device)
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, device, dtype)
    reference = None
    if cfg.lora.enabled:
        model = apply_lora(model, cfg.lora)  # the reference is the model with its adapter off
    elif cfg.loss.kl_coef:
        reference = copy.deepcopy(model).eval().requires_grad_(False)
    model.train()

    rows = load_rows(cfg.data.pools)
    train_rows, test_rows = split(rows, cfg.data.eval_fraction, cfg.seed)
    if cfg.data.eval_pools:
        test_rows += load_rows(cfg.data.eval_pools)
    sampler = PromptSampler(
        train_rows,
        seed=cfg.seed,
        selection=cfg.data.selection,
        budget=cfg.data.budget,
        curriculum_kind=cfg.data.curriculum,
        stages=cfg.data.curriculum_stages,
    )
    optimizer = make_optimizer(
        model, cfg.optim.lr, cfg.optim.weight_decay, cfg.optim.betas, cfg.optim.eps
    )
    total_updates = cfg.max_steps * cfg.loss.updates_per_batch * cfg.loss.mini_batches
    scheduler = make_scheduler(optimizer, cfg.optim.schedule, cfg.optim.warmup_steps, total_updates)
    backend = make_backend(
        cfg.rollout.backend,
        model,
        tokenizer,
        batch_size=cfg.rollout.generation_batch_size,
        prefix_sharing=cfg.rollout.prefix_sharing,
        decoder=cfg.rollout.decoder,
        model_path=cfg.model,
        gpu_memory_utilization=cfg.rollout.vllm_gpu_memory_utilization,
        dtype="bfloat16" if dtype == torch.bfloat16 else "float32",
        seed=cfg.seed,
    )

    metrics_path = run_dir / "metrics.jsonl"
    step, rollouts_total = 0, 0
    resume = checkpoint.latest(run_dir)
    if resume is not None:
        state = checkpoint.load(resume, model, optimizer, scheduler)
        step, rollouts_total = state["step"], state["rollouts"]
        sampler.load_state_dict(state["sampler"])
        _truncate_metrics(metrics_path, step)
        backend.sync_weights(model)
    else:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.yaml").write_text(yaml.safe_dump(_config_dict(cfg), sort_keys=True))
        (run_dir / "pools.json").write_text(
            json.dumps(cfg.data.pools + cfg.data.eval_pools, indent=2)
        )
        metrics_path.unlink(missing_ok=True)

    def done() -> bool:
        return step >= cfg.max_steps or (
            cfg.max_rollouts is not None and rollouts_total >= cfg.max_rollouts
        )

    def log(record: dict[str, Any]) -> None:
        with open(metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def run_eval() -> dict[str, float]:
        if not test_rows:
            return {}
        result = evaluate_rows(cfg, backend, tokenizer, test_rows)
        (run_dir / "eval.json").write_text(json.dumps({"step": step, **result}, indent=2))
        return {f"eval/{k}": v for k, v in result["overall"].items() if k != "n"}

    if step == 0 and test_rows:
        log({"step": 0, **run_eval()})

    batch_size = cfg.rollout.prompts_per_step * cfg.dars.breadth
    pad_id = tokenizer.pad_token_id
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("train"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TextColumn("{task.fields[info]}"),
        TimeRemainingColumn(),
        disable=not show_progress,
    ) as bar:
        task = bar.add_task("train", total=cfg.max_steps, completed=step, info="")
        while not done():
            indices = sampler.next(batch_size, step / cfg.max_steps)
            batch_rows = [train_rows[i] for i in indices]
            rollouts, t_rollout = timed(collect, cfg, backend, tokenizer, batch_rows, step, pad_id)
            stats, t_update = timed(
                update, cfg, model, optimizer, scheduler, rollouts, device, reference
            )
            backend.sync_weights(model)
            step += 1
            rollouts_total += len(rollouts.rewards)
            record = {
                "step": step,
                **rollout_stats(rollouts),
                **stats,
                "rollouts_total": rollouts_total,
                "lr": scheduler.get_last_lr()[0],
                "time/rollout": t_rollout,
                "time/update": t_update,
            }
            if (cfg.eval_every and step % cfg.eval_every == 0) or done():
                record.update(run_eval())
            if step % cfg.log_every == 0 or done() or any(k.startswith("eval/") for k in record):
                log(record)
            if step % cfg.save_every == 0 or done():
                checkpoint.save(
                    run_dir,
                    step,
                    model,
                    tokenizer,
                    optimizer,
                    scheduler,
                    {"rollouts": rollouts_total, "sampler": sampler.state_dict()},
                    keep=cfg.keep_checkpoints,
                )
                plot_run(run_dir)
            bar.update(task, completed=step, info=f"reward {record['reward']:.3f}")
            if after_step is not None:
                after_step(step)
    _save_final(run_dir, model, tokenizer, cfg)
    plot_run(run_dir)
    return run_dir


def _save_final(run_dir: Path, model: Any, tokenizer: Any, cfg: TrainConfig) -> None:
    import shutil

    final, tmp = run_dir / "final", run_dir / "final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    to_save = model.merge_and_unload() if cfg.lora.enabled else model
    to_save.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
