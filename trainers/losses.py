"""The GRPO objective, as small pure tensor functions (tested against hand-computed values).

- `group_advantages`: r - mean(group), optionally divided by the group's std. Std scaling is
  off by default: it up-weights groups whose rewards barely differ (near-solved or
  near-hopeless prompts, where a stochastic reward's noise dominates) -- the bias Dr. GRPO
  points out.
- `policy_loss_terms`: the clipped surrogate with separate low/high clip ranges (DAPO's
  clip-higher) plus an optional k3 KL estimate to a frozen reference, per token.
- `aggregate`: token-mean (DAPO), sequence-mean (the original GRPO) or a constant
  normaliser (Dr. GRPO). The normaliser is passed in so that gradient accumulation over
  micro-batches gives exactly the gradient of the whole mini-batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

Aggregation = Literal["token-mean", "sequence-mean", "constant"]
AGGREGATIONS: tuple[str, ...] = ("token-mean", "sequence-mean", "constant")


def group_advantages(
    rewards: torch.Tensor, groups: torch.Tensor, scale_std: bool = False, eps: float = 1e-6
) -> torch.Tensor:
    """Per-sample advantage r_i - mean(r over i's group), groups given as integer ids.

    Groups may differ in size (DARS gives hard prompts more samples). With `scale_std` the
    centred reward is divided by the group's sample standard deviation (+ eps), as in the
    original GRPO; a group of one has std 0 and so advantage 0.
    """
    rewards = rewards.to(torch.float64)
    _, inverse = torch.unique(groups, return_inverse=True)
    count = torch.zeros(int(inverse.max()) + 1, dtype=torch.float64).index_add_(
        0, inverse, torch.ones_like(rewards)
    )
    total = torch.zeros_like(count).index_add_(0, inverse, rewards)
    mean = total / count
    centred = rewards - mean[inverse]
    if scale_std:
        square = torch.zeros_like(count).index_add_(0, inverse, centred**2)
        std = torch.sqrt(square / (count - 1).clamp(min=1))
        centred = centred / (std[inverse] + eps)
    return centred.to(torch.float32)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 estimator of KL(policy || reference) per token: exp(d) - d - 1 with
    d = ref_logp - logp. Unbiased for sampled tokens, always >= 0, low variance."""
    delta = ref_logp - logp
    return torch.exp(delta) - delta - 1


@dataclass(frozen=True)
class LossTerms:
    """Per-token tensors [batch, tokens]: the loss to aggregate and diagnostics."""

    loss: torch.Tensor
    ratio: torch.Tensor
    clipped_low: torch.Tensor
    clipped_high: torch.Tensor
    kl: torch.Tensor | None


def policy_loss_terms(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    clip_low: float = 0.2,
    clip_high: float = 0.28,
    kl_coef: float = 0.0,
    ref_logp: torch.Tensor | None = None,
) -> LossTerms:
    """-min(ratio * A, clip(ratio, 1 - clip_low, 1 + clip_high) * A) + kl_coef * k3, per token.

    `advantages` is per sequence [batch] (broadcast over tokens) or per token.
    """
    if advantages.dim() == 1:
        advantages = advantages.unsqueeze(-1)
    ratio = torch.exp(logp - old_logp)
    clipped = torch.clamp(ratio, 1 - clip_low, 1 + clip_high)
    loss = -torch.minimum(ratio * advantages, clipped * advantages)
    kl = None
    if kl_coef:
        if ref_logp is None:
            raise ValueError("kl_coef > 0 needs reference log-probs")
        kl = k3_kl(logp, ref_logp)
        loss = loss + kl_coef * kl
    clipped_low = (ratio < 1 - clip_low) & (advantages < 0)
    clipped_high = (ratio > 1 + clip_high) & (advantages > 0)
    return LossTerms(loss, ratio, clipped_low, clipped_high, kl)


@dataclass(frozen=True)
class Normaliser:
    """What the aggregate divides by, computed once for a whole mini-batch."""

    tokens: int  # completion tokens in the mini-batch
    sequences: int  # sequences in the mini-batch
    max_tokens: int  # the constant of Dr. GRPO: the generation budget per sequence


def aggregate(
    per_token: torch.Tensor, mask: torch.Tensor, mode: str, norm: Normaliser
) -> torch.Tensor:
    """Reduce a [batch, tokens] loss over a micro-batch so micro-batch sums add up to the
    mini-batch value.

    - token-mean: sum over every completion token / tokens in the mini-batch
    - sequence-mean: mean over each sequence's tokens, summed / sequences in the mini-batch
    - constant: sum over every token / (sequences * max_tokens)  (Dr. GRPO)
    """
    mask = mask.to(per_token.dtype)
    masked = per_token * mask
    if mode == "token-mean":
        return masked.sum() / max(norm.tokens, 1)
    if mode == "sequence-mean":
        per_seq = masked.sum(-1) / mask.sum(-1).clamp(min=1)
        return per_seq.sum() / max(norm.sequences, 1)
    if mode == "constant":
        return masked.sum() / max(norm.sequences * norm.max_tokens, 1)
    raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {mode!r}")
