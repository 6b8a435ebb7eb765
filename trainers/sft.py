"""`veriforge sft CONFIG.yaml`: a supervised warm start on pools with worked solutions.

Each example is the formatted prompt followed by the row's `meta["solution"]` (a worked
solution ending in the boxed answer) or, when a row has none, a short `\\boxed{answer}`;
the loss covers only the completion and its EOS token. The model is written to
`output_dir` in the transformers layout (through a temporary directory, then renamed).
"""

from __future__ import annotations

import json
import math
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trainers.config import SFTConfig
from trainers.data import load_rows
from trainers.prompting import format_prompt
from trainers.rollout import encode_prompts
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


def target_text(row: dict[str, Any]) -> str:
    solution = (row.get("meta") or {}).get("solution")
    if isinstance(solution, str) and solution.strip():
        return " " + solution.strip()
    return f" \\boxed{{{row['answer']}}}"


def build_examples(
    rows: list[dict], tokenizer: Any, system: str | None, max_length: int
) -> list[tuple[list[int], int]]:
    """(token ids, number of prompt tokens) per row, cut to max_length."""
    prompts = [format_prompt(tokenizer, r["prompt"], system) for r in rows]
    encoded = encode_prompts(tokenizer, prompts)
    examples = []
    for ids, row in zip(encoded, rows):
        target = tokenizer(target_text(row), add_special_tokens=False)["input_ids"] + [
            tokenizer.eos_token_id
        ]
        examples.append(((ids + target)[:max_length], len(ids)))
    return examples


def sft(cfg: SFTConfig, *, on_step: Callable[[int, int, float], None] | None = None) -> Path:
    set_threads(cfg.threads)
    import torch

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    tokenizer = load_tokenizer(cfg.model)
    model = load_model(cfg.model, device, resolve_dtype(cfg.dtype, device))
    if cfg.lora.enabled:
        model = apply_lora(model, cfg.lora)
    model.train()
    rows = load_rows(cfg.pools)
    if cfg.max_problems:
        rows = rows[: cfg.max_problems]
    examples = build_examples(rows, tokenizer, cfg.system_prompt, cfg.max_length)
    per_epoch = math.ceil(len(examples) / cfg.batch_size)
    total = cfg.max_steps or max(1, math.ceil(per_epoch * cfg.epochs))
    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg.schedule, cfg.warmup_steps, total)
    rng = random.Random(cfg.seed)
    order: list[int] = []
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    metrics = open(out / "sft_metrics.jsonl", "w", encoding="utf-8")  # noqa: SIM115 - closed below
    pad = tokenizer.pad_token_id
    for step in range(1, total + 1):
        if len(order) < cfg.batch_size:
            fresh = list(range(len(examples)))
            rng.shuffle(fresh)
            order.extend(fresh)
        batch = [examples[i] for i in order[: cfg.batch_size]]
        del order[: cfg.batch_size]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (tokens, prompt_len) in enumerate(batch):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
            labels[row, prompt_len : len(tokens)] = torch.tensor(tokens[prompt_len:])
        loss = model(
            input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)
        ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(
            [p for p in model.parameters() if p.requires_grad], cfg.max_grad_norm
        )
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if step % cfg.log_every == 0 or step == total:
            metrics.write(
                json.dumps(
                    {"step": step, "loss": float(loss.detach()), "lr": scheduler.get_last_lr()[0]}
                )
                + "\n"
            )
            metrics.flush()
        if on_step:
            on_step(step, total, float(loss.detach()))
    metrics.close()
    final, tmp = out / "final", out / "final.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    to_save = model.merge_and_unload() if cfg.lora.enabled else model
    to_save.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final
