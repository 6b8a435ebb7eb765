"""Per-token log-probabilities (and entropies) of sampled completions under a model.

The batch keeps each prompt once (`prompt_ids`, left padded) and maps every completion to
its prompt (`group`). With prefix sharing the prompt is run once per micro-batch and its KV
cache indexed out to the completions; autograd carries the completions' gradients back
through the shared cache, so the gradient equals that of running every full sequence (up to
float summation order) at a fraction of the tokens: for G = 8 samples of a 14-token prompt
with 8-token completions the forward sees 2.3x fewer tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch


@dataclass
class TokenBatch:
    """Tensors for scoring: prompts [P, Lp] left padded; completions [N, Lc] right padded."""

    prompt_ids: torch.Tensor
    prompt_mask: torch.Tensor
    group: torch.Tensor  # [N] prompt row of each completion
    completion_ids: torch.Tensor
    completion_mask: torch.Tensor

    def select(self, rows: torch.Tensor) -> TokenBatch:
        """A sub-batch of completions (their prompts re-indexed, unused prompts dropped)."""
        groups, inverse = torch.unique(self.group[rows], return_inverse=True)
        prompt_mask = self.prompt_mask[groups]
        keep = prompt_mask.any(0)  # drop columns that are padding for every kept prompt
        first = int(keep.nonzero()[0]) if keep.any() else 0
        return TokenBatch(
            self.prompt_ids[groups][:, first:],
            prompt_mask[:, first:],
            inverse,
            self.completion_ids[rows],
            self.completion_mask[rows],
        )

    def to(self, device: Any) -> TokenBatch:
        return TokenBatch(
            *(
                t.to(device)
                for t in (
                    self.prompt_ids,
                    self.prompt_mask,
                    self.group,
                    self.completion_ids,
                    self.completion_mask,
                )
            )
        )


def build_batch(
    prompts: list[list[int]], completions: list[list[int]], group: list[int], pad_id: int
) -> TokenBatch:
    width = max(len(p) for p in prompts)
    prompt_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    prompt_mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, tokens in enumerate(prompts):
        prompt_ids[row, width - len(tokens) :] = torch.tensor(tokens, dtype=torch.long)
        prompt_mask[row, width - len(tokens) :] = 1
    length = max(1, max((len(c) for c in completions), default=1))
    completion_ids = torch.full((len(completions), length), pad_id, dtype=torch.long)
    completion_mask = torch.zeros((len(completions), length), dtype=torch.long)
    for row, tokens in enumerate(completions):
        if tokens:
            completion_ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
            completion_mask[row, : len(tokens)] = 1
    return TokenBatch(
        prompt_ids,
        prompt_mask,
        torch.tensor(group, dtype=torch.long),
        completion_ids,
        completion_mask,
    )


def _token_logprobs(logits: torch.Tensor, targets: torch.Tensor, temperature: float, entropy: bool):
    logits = logits.float()
    if temperature != 1.0:
        logits = logits / temperature
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    ent = None
    if entropy:
        with torch.no_grad():
            ent = -(logp_all.exp() * logp_all).sum(-1)
    return logp, ent


def completion_logprobs(
    model: Any,
    batch: TokenBatch,
    *,
    temperature: float = 1.0,
    prefix_sharing: bool = True,
    entropy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """log pi(token | prefix) for every completion token [N, Lc] (0 where masked), and the
    policy entropy at those positions when asked (detached)."""
    full_mask = torch.cat([batch.prompt_mask[batch.group], batch.completion_mask], dim=1)
    width = batch.prompt_ids.shape[1]
    if prefix_sharing and width > 1:
        from transformers import DynamicCache

        cache = DynamicCache(config=model.config)
        position = (batch.prompt_mask.cumsum(-1) - 1).clamp(min=0)
        model(
            input_ids=batch.prompt_ids[:, :-1],
            attention_mask=batch.prompt_mask[:, :-1],
            position_ids=position[:, :-1],
            cache=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        cache.batch_select_indices(batch.group)
        inputs = torch.cat(
            [batch.prompt_ids[batch.group, -1:], batch.completion_ids[:, :-1]], dim=1
        )
        steps = torch.arange(inputs.shape[1], device=inputs.device).unsqueeze(0)
        positions = position[batch.group, -1:] + steps
        # keys: the cached prompt (all but its last token) + the new chunk
        logits = model(
            input_ids=inputs,
            attention_mask=full_mask[:, :-1],
            position_ids=positions,
            cache=cache,
            use_cache=True,
        ).logits
    else:
        ids = torch.cat([batch.prompt_ids[batch.group], batch.completion_ids], dim=1)
        positions = (full_mask.cumsum(-1) - 1).clamp(min=0)
        logits = model(input_ids=ids, attention_mask=full_mask, position_ids=positions).logits
        logits = logits[:, width - 1 : -1]
    logp, ent = _token_logprobs(logits, batch.completion_ids, temperature, entropy)
    mask = batch.completion_mask.to(logp.dtype)
    return logp * mask, (ent * mask if ent is not None else None)
