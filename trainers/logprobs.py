"""Per-token log-probabilities (and entropies) of sampled completions under a model.

The batch keeps each prompt once (`prompt_ids`, left padded) and maps every completion to
its prompt (`group`). With prefix sharing the prompt is run once per micro-batch, its last
position scores the first token of every completion, and its KV cache is indexed out to the
completions' remaining tokens. Autograd carries the completions' gradients back through the
shared cache, so the gradient equals that of running every full sequence (up to float
summation order) at a fraction of the tokens: for G = 8 samples of a 15-token prompt with
8-token completions the forward sees 8 x 15 + 64 x 7 = 568 tokens instead of 64 x 23 = 1472.
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


def left_pad(prompts: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask [P, W] of prompts padded on the left to one width."""
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, tokens in enumerate(prompts):
        ids[row, width - len(tokens) :] = torch.tensor(tokens, dtype=torch.long)
        mask[row, width - len(tokens) :] = 1
    return ids, mask


def positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids of left-padded rows: 0 at each row's first real token."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def prefill(model: Any, ids: torch.Tensor, mask: torch.Tensor) -> tuple[Any, torch.Tensor]:
    """Run left-padded prompts into a fresh KV cache: (cache, logits [P, 1, V] at each
    prompt's last position). Rollouts and the loss forward both start from here."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    logits = model(
        input_ids=ids,
        attention_mask=mask,
        position_ids=positions(mask),
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    ).logits
    return cache, logits


def build_batch(
    prompts: list[list[int]], completions: list[list[int]], group: list[int], pad_id: int
) -> TokenBatch:
    prompt_ids, prompt_mask = left_pad(prompts, pad_id)
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


PACKABLE_ATTENTION = ("sdpa", "eager")  # implementations that honour a custom 4D mask


def completion_logprobs(
    model: Any,
    batch: TokenBatch,
    *,
    temperature: float = 1.0,
    prefix_sharing: bool = True,
    pack_tokens: int = 256,
    entropy: bool = False,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """log pi(token | prefix) for every completion token [N, Lc] (0 where masked), and the
    policy entropy at those positions when asked (detached).

    With `prefix_sharing`, short rows (a prompt plus two completions fit in `pack_tokens`)
    are packed: one forward over "prompt, completion, completion, ..." with a block mask;
    longer ones run the prompt once and share its KV cache. Without it every completion
    runs behind its own copy of the prompt."""
    lp = batch.prompt_ids.shape[1]
    block = batch.completion_ids.shape[1] - 1  # completion tokens fed as inputs
    attention = getattr(model.config, "_attn_implementation", None)
    if not prefix_sharing:
        logits = _full_logits(model, batch)
    elif attention in PACKABLE_ATTENTION and lp + 2 * block <= pack_tokens:
        logits = _packed_logits(model, batch, max(1, (pack_tokens - lp) // max(block, 1)))
    else:
        logits = _cached_logits(model, batch)
    logp, ent = _token_logprobs(logits, batch.completion_ids, temperature, entropy)
    mask = batch.completion_mask.to(logp.dtype)
    return logp * mask, (ent * mask if ent is not None else None)


def _full_logits(model: Any, batch: TokenBatch) -> torch.Tensor:
    """Every completion behind its own copy of the prompt: the reference the others match."""
    full_mask = torch.cat([batch.prompt_mask[batch.group], batch.completion_mask], dim=1)
    ids = torch.cat([batch.prompt_ids[batch.group], batch.completion_ids], dim=1)
    logits = model(
        input_ids=ids, attention_mask=full_mask, position_ids=positions(full_mask)
    ).logits
    width = batch.prompt_ids.shape[1]
    return logits[:, width - 1 : -1]


def _cached_logits(model: Any, batch: TokenBatch) -> torch.Tensor:
    """The prompt once (its last position scores every completion's first token), its KV
    cache indexed out to the completions' remaining tokens."""
    cache, first = prefill(model, batch.prompt_ids, batch.prompt_mask)
    first = first[batch.group]
    if batch.completion_ids.shape[1] == 1:
        return first
    cache.batch_select_indices(batch.group)
    inputs = batch.completion_ids[:, :-1]
    steps = torch.arange(1, inputs.shape[1] + 1, device=inputs.device).unsqueeze(0)
    keys_mask = torch.cat([batch.prompt_mask[batch.group], batch.completion_mask[:, :-1]], 1)
    rest = model(
        input_ids=inputs,
        attention_mask=keys_mask,
        position_ids=positions(batch.prompt_mask)[batch.group, -1:] + steps,
        cache=cache,
        use_cache=True,
    ).logits
    return torch.cat([first, rest], dim=1)


def _packed_logits(model: Any, batch: TokenBatch, per_row: int) -> torch.Tensor:
    """Rows of "prompt, block, block, ...": a block is one completion's tokens but its last,
    attending to the prompt and causally to itself, positioned as if it followed the prompt
    alone. A prompt's completions fill rows of up to `per_row` blocks. One forward, one
    attention call per layer, and no KV cache copies: on a 1M-parameter model with 8-token
    completions this is about 10% faster than the cached layout."""
    device = batch.prompt_ids.device
    n, width = batch.completion_ids.shape
    lp, block = batch.prompt_ids.shape[1], width - 1
    group = batch.group
    # rank of each completion within its prompt -> (row, slot)
    order = torch.argsort(group, stable=True)
    counts = torch.bincount(group, minlength=batch.prompt_ids.shape[0])
    rank = torch.empty_like(group)
    rank[order] = torch.arange(n, device=device) - (counts.cumsum(0) - counts)[group[order]]
    rows_per_prompt = (counts + per_row - 1) // per_row
    row = (rows_per_prompt.cumsum(0) - rows_per_prompt)[group] + rank // per_row
    slot = rank % per_row
    n_rows = int(rows_per_prompt.sum())
    row_prompt = torch.repeat_interleave(torch.arange(len(counts), device=device), rows_per_prompt)
    blocks = max(1, int(slot.max()) + 1) if block else 0
    length = lp + blocks * block
    position = positions(batch.prompt_mask)

    ids = torch.zeros((n_rows, length), dtype=torch.long, device=device)
    pos = torch.zeros_like(ids)
    valid = torch.zeros((n_rows, length), dtype=torch.bool, device=device)
    owner = torch.full((n_rows, length), -2, dtype=torch.long, device=device)  # -2: padding
    ids[:, :lp] = batch.prompt_ids[row_prompt]
    pos[:, :lp] = position[row_prompt]
    valid[:, :lp] = batch.prompt_mask[row_prompt].bool()
    owner[:, :lp] = -1  # -1: the prompt
    cols = lp + slot[:, None] * block + torch.arange(block, device=device)[None]
    if block:
        at = (row[:, None], cols)
        ids[at] = batch.completion_ids[:, :-1]
        pos[at] = position[group, -1:] + 1 + torch.arange(block, device=device)[None]
        valid[at] = batch.completion_mask[:, :-1].bool()
        owner[at] = slot[:, None].expand(n, block)
    index = torch.arange(length, device=device)
    sees = (owner[:, None, :] == -1) | (owner[:, None, :] == owner[:, :, None])
    mask = sees & valid[:, None, :] & (index[None, :] <= index[:, None])[None]
    mask |= torch.eye(length, dtype=torch.bool, device=device)[None]  # no all-masked query
    logits = model(
        input_ids=ids,
        attention_mask=mask[:, None],
        position_ids=pos,
        logits_to_keep=length - lp + 1,  # from the prompt's last position on
    ).logits
    first = logits[row, 0].unsqueeze(1)
    if not block:
        return first
    return torch.cat([first, logits[row[:, None], cols - lp + 1]], dim=1)
