"""One GRPO step: sample G completions per prompt (DARS adds more for hard prompts), grade
them, turn rewards into group-relative advantages, and update the policy with the clipped
surrogate -- several passes over the batch when asked, with the old log-probs stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

import torch

from evolve.models import SamplingParams
from trainers import dars
from trainers.config import TrainConfig
from trainers.logprobs import TokenBatch, build_batch, completion_logprobs
from trainers.losses import Normaliser, aggregate, group_advantages, policy_loss_terms
from trainers.prompting import format_prompt
from trainers.rewards import reward
from trainers.rollout import PromptRollouts, RolloutBackend


def sample_seed(seed: int, step: int, stage: int) -> int:
    """The sampling seed of a step's rollout stage: a pure function, so resumes match."""
    return (seed * 1_000_003 + step * 8 + stage) % (2**31 - 1)


@dataclass
class Rollouts:
    """A step's samples, flat: completion i answers prompt `group[i]`."""

    rows: list[dict[str, Any]]
    batch: TokenBatch
    rewards: torch.Tensor
    correct: torch.Tensor
    finished: torch.Tensor
    texts: list[str]
    stage1: int  # samples drawn in stage 1
    extra: list[int] = field(default_factory=list)  # DARS stage-2 samples per prompt


def collect(
    cfg: TrainConfig,
    backend: RolloutBackend,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    step: int,
    pad_id: int,
) -> Rollouts:
    """Stage 1: G samples per prompt. With DARS, stage 2: extra samples for hard prompts."""
    r = cfg.rollout
    prompts = [format_prompt(tokenizer, row["prompt"], cfg.data.system_prompt) for row in rows]
    params = SamplingParams(
        max_new_tokens=r.max_new_tokens,
        temperature=r.temperature,
        top_p=r.top_p,
        n=r.samples_per_prompt,
        seed=sample_seed(cfg.seed, step, 0),
        stop=tuple(r.stop),
    )
    results: list[PromptRollouts] = backend.generate(prompts, params)
    merged = [list(res.completions) for res in results]
    extra: list[int] = []
    if cfg.dars.enabled:
        accuracy = []
        for row, res in zip(rows, results):
            scores = [_grade(cfg, row, c).correct for c in res.completions]
            accuracy.append(sum(scores) / len(scores))
        extra = dars.extra_samples(
            accuracy,
            r.samples_per_prompt,
            cfg.dars.max_samples,
            cfg.dars.schedule,
            cfg.dars.hard_below,
            cfg.loss.scale_rewards,
        )
        hard = [j for j, e in enumerate(extra) if e > 0]
        if hard:
            again = backend.generate(
                [prompts[j] for j in hard],
                SamplingParams(**{**params.__dict__, "seed": sample_seed(cfg.seed, step, 1)}),
                counts=[extra[j] for j in hard],
            )
            for j, res in zip(hard, again):
                merged[j].extend(res.completions)
    group, completions, rewards, correct, finished, texts = [], [], [], [], [], []
    for j, (row, items) in enumerate(zip(rows, merged)):
        for c in items:
            verdict = _grade(cfg, row, c)
            group.append(j)
            completions.append(list(c.token_ids))
            rewards.append(verdict.total)
            correct.append(verdict.correct)
            finished.append(c.finished)
            texts.append(c.text)
    batch = build_batch([list(res.prompt_ids) for res in results], completions, group, pad_id)
    return Rollouts(
        list(rows),
        batch,
        torch.tensor(rewards, dtype=torch.float32),
        torch.tensor(correct, dtype=torch.bool),
        torch.tensor(finished, dtype=torch.bool),
        texts,
        stage1=len(rows) * r.samples_per_prompt,
        extra=extra,
    )


def _grade(cfg: TrainConfig, row: dict[str, Any], completion: Any):
    return reward(
        row,
        completion.text,
        len(completion.token_ids),
        completion.finished,
        max_tokens=cfg.rollout.max_new_tokens,
        partial_credit=cfg.reward.partial_credit,
        format_weight=cfg.reward.format_weight,
        overlong_buffer=cfg.reward.overlong_buffer,
        overlong_weight=cfg.reward.overlong_weight,
    )


def kept_rows(rollouts: Rollouts, drop_equal: bool) -> torch.Tensor:
    """Completions whose group has some reward spread (all of them unless `drop_equal`)."""
    if not drop_equal:
        return torch.arange(len(rollouts.rewards))
    group = rollouts.batch.group
    n = int(group.max()) + 1 if len(group) else 0
    high = torch.full((n,), -math.inf).scatter_reduce(0, group, rollouts.rewards, "amax")
    low = torch.full((n,), math.inf).scatter_reduce(0, group, rollouts.rewards, "amin")
    spread = (high - low) > 1e-9
    return spread[group].nonzero().flatten()


def _gather(store: dict[int, torch.Tensor], part: torch.Tensor, width: int) -> torch.Tensor:
    """Stored per-token values of `part`, cut or zero-padded to `width` columns."""
    out = []
    for r in part.tolist():
        values = store[r][:width]
        if len(values) < width:
            values = torch.nn.functional.pad(values, (0, width - len(values)))
        out.append(values)
    return torch.stack(out)


def _chunks(rows: torch.Tensor, parts: int) -> list[torch.Tensor]:
    return [c for c in torch.tensor_split(rows, parts) if len(c)]


def update(
    cfg: TrainConfig,
    model: Any,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    rollouts: Rollouts,
    device: Any,
    reference: Any = None,
) -> dict[str, float]:
    """Policy-gradient updates on one rollout batch; returns loss diagnostics."""
    loss_cfg = cfg.loss
    score = {
        "temperature": cfg.rollout.temperature,
        "prefix_sharing": cfg.rollout.prefix_sharing,
        "pack_tokens": loss_cfg.pack_tokens,
    }
    advantages = group_advantages(rollouts.rewards, rollouts.batch.group, loss_cfg.scale_rewards)
    rows = kept_rows(rollouts, loss_cfg.drop_equal_groups)
    stats: dict[str, float] = {
        "groups_dropped": 1.0
        - len(torch.unique(rollouts.batch.group[rows])) / max(len(rollouts.rows), 1),
    }
    if len(rows) == 0:
        return stats
    micro = loss_cfg.micro_batch_size
    needs_old = loss_cfg.updates_per_batch > 1 or loss_cfg.mini_batches > 1
    old: dict[int, torch.Tensor] = {}
    ref: dict[int, torch.Tensor] = {}
    if needs_old or loss_cfg.kl_coef:
        with torch.no_grad():
            for part in torch.split(rows, micro):
                sub = rollouts.batch.select(part).to(device)
                if needs_old:
                    lp, _ = completion_logprobs(model, sub, **score)
                    for i, r in enumerate(part.tolist()):
                        old[r] = lp[i]
                if loss_cfg.kl_coef:
                    context = model.disable_adapter() if reference is None else nullcontext()
                    scorer = model if reference is None else reference
                    with context:
                        lp, _ = completion_logprobs(scorer, sub, **score)
                    for i, r in enumerate(part.tolist()):
                        ref[r] = lp[i]
    totals = {
        "loss": 0.0,
        "clip_low": 0.0,
        "clip_high": 0.0,
        "kl": 0.0,
        "grad_norm": 0.0,
        "entropy": 0.0,
    }
    tokens_seen = 0.0
    optimizer_steps = 0
    max_tokens = cfg.rollout.max_new_tokens
    for _ in range(loss_cfg.updates_per_batch):
        for mini in _chunks(rows, loss_cfg.mini_batches):
            mask_all = rollouts.batch.completion_mask[mini]
            norm = Normaliser(int(mask_all.sum()), len(mini), max_tokens)
            for part in torch.split(mini, micro):
                sub = rollouts.batch.select(part).to(device)
                logp, entropy = completion_logprobs(model, sub, entropy=True, **score)
                width = logp.shape[1]
                old_lp = _gather(old, part, width) if needs_old else logp.detach()
                ref_lp = _gather(ref, part, width) if loss_cfg.kl_coef else None
                terms = policy_loss_terms(
                    logp,
                    old_lp,
                    advantages[part].to(device),
                    loss_cfg.clip_low,
                    loss_cfg.clip_high,
                    loss_cfg.kl_coef,
                    ref_lp,
                )
                mask = sub.completion_mask
                loss = aggregate(terms.loss, mask, loss_cfg.aggregation, norm)
                loss.backward()
                count = float(mask.sum())
                tokens_seen += count
                m = mask.bool()
                totals["loss"] += float(loss.detach())
                totals["clip_low"] += float(terms.clipped_low[m].sum())
                totals["clip_high"] += float(terms.clipped_high[m].sum())
                totals["entropy"] += float(entropy[m].sum())
                if terms.kl is not None:
                    totals["kl"] += float(terms.kl.detach()[m].sum())
            grad = torch.nn.utils.clip_grad_norm_(
                [p for p in model.parameters() if p.requires_grad], cfg.optim.max_grad_norm
            )
            totals["grad_norm"] += float(grad)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            optimizer_steps += 1
    stats.update(
        loss=totals["loss"] / max(optimizer_steps, 1),
        grad_norm=totals["grad_norm"] / max(optimizer_steps, 1),
        clip_low=totals["clip_low"] / max(tokens_seen, 1),
        clip_high=totals["clip_high"] / max(tokens_seen, 1),
        entropy=totals["entropy"] / max(tokens_seen, 1),
    )
    if loss_cfg.kl_coef:
        stats["kl"] = totals["kl"] / max(tokens_seen, 1)
    return stats


def rollout_stats(rollouts: Rollouts) -> dict[str, float]:
    lengths = rollouts.batch.completion_mask.sum(-1).float()
    return {
        "reward": float(rollouts.rewards.mean()),
        "accuracy": float(rollouts.correct.float().mean()),
        "response_length": float(lengths.mean()),
        "truncated": float((~rollouts.finished).float().mean()),
        "rollouts": float(len(rollouts.rewards)),
        "dars_extra": float(sum(rollouts.extra)),
    }


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start
