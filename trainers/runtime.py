"""Devices, threads, dtypes, model loading, LoRA and LR schedules: the plumbing every
command shares.

CPU runs use ONE intra-op thread by default: on small models several OpenMP threads spin
against each other (and against other processes) and a training step gets 35-60x slower
on a 2-core machine. Raise `threads` only on an otherwise idle machine with many cores.
"""

from __future__ import annotations

import math
import os
from typing import Any

THREADS_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def set_threads(threads: int = 1) -> None:
    for name in THREADS_ENV:
        os.environ.setdefault(name, str(threads))
    import torch

    torch.set_num_threads(threads)


def resolve_device(device: str) -> Any:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda was asked for but torch sees no CUDA device")
    return torch.device(device)


def resolve_dtype(dtype: str, device: Any) -> Any:
    import torch

    if dtype == "auto":
        return torch.bfloat16 if device.type == "cuda" else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]


def quiet_transformers() -> None:
    """No per-load progress bars from transformers (our commands draw their own)."""
    from transformers.utils import logging

    logging.disable_progress_bar()


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(path: str, device: Any, dtype: Any) -> Any:
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype)
    return model.to(device)


def apply_lora(model: Any, lora: Any) -> Any:
    """Wrap the model with a `peft` LoRA adapter (only the adapter trains)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=list(lora.target_modules),
        task_type="CAUSAL_LM",
    )
    return get_peft_model(model, config)


def lr_lambda(schedule: str, warmup: int, total: int):
    """Multiplier of the base LR at optimizer step s: linear warmup, then the schedule."""

    def factor(step: int) -> float:
        if warmup and step < warmup:
            return (step + 1) / warmup
        if schedule == "constant" or total <= warmup:
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if schedule == "linear":
            return 1.0 - progress
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


def make_optimizer(
    model: Any, lr: float, weight_decay: float, betas=(0.9, 0.999), eps: float = 1e-8
):
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    # the fused kernel: one pass over all parameters instead of a few ops per tensor
    return torch.optim.AdamW(
        params, lr=lr, weight_decay=weight_decay, betas=tuple(betas), eps=eps, fused=True
    )


def make_scheduler(optimizer: Any, schedule: str, warmup: int, total: int):
    import torch

    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(schedule, warmup, total))
