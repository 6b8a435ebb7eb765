"""Rollout backends: formatted prompts in, sampled completions (text and token ids) out.

Two implementations of one protocol:

- `TransformersBackend` decodes on the live policy (CPU or GPU) with its own short sampling
  loop over the model's KV cache: batched, left padded, stop strings, temperature/top-p,
  seeded from a private generator. Each distinct prompt is prefilled once and its cache
  copied to its samples (`prefix_sharing`), so G samples per prompt cost one prompt forward
  instead of G. It samples from exactly softmax(logits / T) cut to the top-p nucleus -- the
  distribution the trainer's log-probs assume -- with none of the extra logits processors a
  model's `generation_config` may carry (repetition penalties, top-k), and it skips
  `generate`'s per-step machinery, which dominates a small model's decode time on CPU.
  Greedy decoding gives the same tokens as `model.generate` (tested); `decoder="generate"`
  runs `model.generate` itself, for models whose forward the loop does not fit.
- `VLLMBackend` runs a colocated vLLM engine; `sync_weights` pushes the policy's weights into
  it after every update. vLLM is an optional extra (`pip install 'veriforge[vllm]'`).

Both return token ids as sampled, so the trainer scores exactly the tokens the policy drew.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from evolve.models import SamplingParams
from trainers.logprobs import left_pad, positions, prefill

DECODERS = ("loop", "generate")


class RolloutError(RuntimeError):
    """A backend cannot be used (missing extra, no GPU, bad model)."""


VLLM_MISSING = (
    "rollout.backend 'vllm' needs the optional vLLM extra: pip install 'veriforge[vllm]' "
    "(Linux with a CUDA GPU). Use rollout.backend: transformers otherwise."
)


@dataclass(frozen=True)
class Completion:
    """One sampled completion. `token_ids` include a stop string's tokens and the EOS token
    when they ended it; `text` excludes both. `finished` is False when max_new_tokens cut it."""

    text: str
    token_ids: tuple[int, ...]
    finished: bool


@dataclass(frozen=True)
class PromptRollouts:
    prompt_ids: tuple[int, ...]
    completions: tuple[Completion, ...]


class RolloutBackend(Protocol):
    """Samples completions for formatted prompts; `counts[i]` samples for prompt i."""

    name: str

    def generate(
        self, prompts: Sequence[str], params: SamplingParams, counts: Sequence[int] | None = None
    ) -> list[PromptRollouts]: ...

    def sync_weights(self, model: Any) -> None: ...


def encode_prompts(tokenizer: Any, prompts: Sequence[str]) -> list[list[int]]:
    """Token ids of formatted prompts. Chat-templated text already carries its special
    tokens; plain text gets the tokenizer's own (BOS where it adds one)."""
    from trainers.prompting import has_chat_template

    special = not has_chat_template(tokenizer)
    return [tokenizer(p, add_special_tokens=special)["input_ids"] for p in prompts]


def _trim(
    tokenizer: Any, ids: list[int], eos_ids: set[int], stop: Sequence[str]
) -> tuple[list[int], str, bool]:
    """Cut a generated row at its first EOS or stop string: (kept ids, text, finished)."""
    finished = False
    for index, token in enumerate(ids):
        if token in eos_ids:
            ids, finished = ids[: index + 1], True
            break
    text = tokenizer.decode(ids, skip_special_tokens=True)
    if stop:
        hits = [(text.find(s), s) for s in stop if s and s in text]
        if hits:
            at, word = min(hits)
            # the fewest tokens whose text reaches past the stop string
            need = at + len(word)
            lo, hi = 1, len(ids)
            while lo < hi:
                mid = (lo + hi) // 2
                if len(tokenizer.decode(ids[:mid], skip_special_tokens=True)) >= need:
                    hi = mid
                else:
                    lo = mid + 1
            ids, text, finished = ids[:lo], text[:at], True
    return ids, text, finished


def sample_tokens(
    logits: Any, temperature: float, top_p: float, generator: Any | None = None
) -> Any:
    """One token per row of `logits` [N, V]: argmax when `temperature == 0`, else a draw from
    softmax(logits / temperature) restricted to the smallest set of tokens whose mass reaches
    `top_p`. Inverse-CDF sampling (one uniform per row) is several times cheaper on CPU than
    `torch.multinomial`, which draws an exponential for every vocabulary entry."""
    import torch

    if temperature == 0:
        return logits.argmax(-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    order = None
    if top_p < 1.0:
        probs, order = probs.sort(dim=-1, descending=True)
        before = probs.cumsum(-1) - probs  # mass of the more likely tokens
        probs = probs.masked_fill(before >= top_p, 0.0)  # the first token always stays
    cdf = probs.cumsum(-1)
    draw = torch.rand((cdf.shape[0], 1), generator=generator, device=cdf.device, dtype=cdf.dtype)
    picked = torch.searchsorted(cdf, draw * cdf[:, -1:], right=True)
    picked = picked.clamp(max=cdf.shape[-1] - 1)
    if order is not None:
        picked = order.gather(-1, picked)
    return picked.squeeze(-1)


def _stop_window(stop: Sequence[str]) -> int:
    """Tokens to decode at the end of a row to see a stop string that just appeared: one
    character takes at most four byte-level tokens, plus one partial character each side."""
    return 4 * max((len(word) for word in stop), default=0) + 8


def _stopped(tokenizer: Any, tail: list[int], stop: Sequence[str]) -> bool:
    """Whether a stop string shows in the settled text of a row's last tokens. A partial
    UTF-8 character at either end of the window decodes to U+FFFD and is dropped first: it
    is not text yet (and may become a different character with the next token), so it must
    not end a row that the full text would not end."""
    text = tokenizer.decode(tail, skip_special_tokens=True).strip("\ufffd")
    return any(word in text for word in stop)


class TransformersBackend:
    """Samples from the live policy itself (so there are no weights to sync)."""

    name = "transformers"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        batch_size: int = 64,
        prefix_sharing: bool = True,
        decoder: str = "loop",
    ) -> None:
        if decoder not in DECODERS:
            raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, got {decoder!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.prefix_sharing = prefix_sharing
        self.decoder = decoder
        eos = model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos] if eos is not None else []
        if tokenizer.eos_token_id is not None:
            eos = [*eos, tokenizer.eos_token_id]
        self.eos_ids = {int(e) for e in eos}
        self.pad_id = (
            tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else min(self.eos_ids or {0})
        )

    def sync_weights(self, model: Any) -> None:
        self.model = model

    def generate(
        self, prompts: Sequence[str], params: SamplingParams, counts: Sequence[int] | None = None
    ) -> list[PromptRollouts]:
        counts = list(counts) if counts is not None else [params.n] * len(prompts)
        if len(counts) != len(prompts):
            raise ValueError(f"{len(prompts)} prompts but {len(counts)} counts")
        encoded = encode_prompts(self.tokenizer, prompts)
        out: list[PromptRollouts] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = range(start, min(start + self.batch_size, len(prompts)))
            rows = self._generate_chunk(
                [encoded[i] for i in chunk], [counts[i] for i in chunk], params, start
            )
            out.extend(rows)
        return out

    def _generate_chunk(
        self, encoded: list[list[int]], counts: list[int], params: SamplingParams, offset: int
    ) -> list[PromptRollouts]:
        import torch

        device = self.model.device
        ids, mask = left_pad(encoded, self.pad_id)
        index = torch.repeat_interleave(torch.arange(len(encoded)), torch.tensor(counts))
        generator = torch.Generator(device=device).manual_seed(params.seed + offset)
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode():
                decode = self._decode if self.decoder == "loop" else self._hf_generate
                generated = decode(
                    ids.to(device), mask.to(device), index.to(device), params, generator
                ).tolist()
        finally:
            self.model.train(was_training)
        rows: list[list[Completion]] = [[] for _ in encoded]
        for row, prompt in zip(generated, index.tolist()):
            kept, text, finished = _trim(self.tokenizer, row, self.eos_ids, params.stop)
            rows[prompt].append(Completion(text, tuple(kept), finished))
        return [PromptRollouts(tuple(p), tuple(c)) for p, c in zip(encoded, rows)]

    def _decode(self, ids: Any, mask: Any, index: Any, params: SamplingParams, generator: Any):
        """Sampled token ids [N, T] for the left-padded prompts `ids` [P, W], row i continuing
        prompt `index[i]`; rows are padded after their EOS. T < max_new_tokens when every row
        ended early (EOS or a stop string)."""
        import torch

        model = self.model
        if not self.prefix_sharing:  # every sample prefills its own copy of the prompt
            ids, mask, index = ids[index], mask[index], None
        # one prefill per distinct prompt; its last position gives every sample's first token
        cache, logits = prefill(model, ids, mask)
        logits, position = logits[:, -1], positions(mask)
        if index is not None:
            cache.batch_select_indices(index)
            logits, mask, position = logits[index], mask[index], position[index]
        rows = logits.shape[0]
        out = torch.full(
            (rows, params.max_new_tokens), self.pad_id, dtype=torch.long, device=ids.device
        )
        done = torch.zeros(rows, dtype=torch.bool, device=ids.device)
        eos = torch.tensor(sorted(self.eos_ids), dtype=torch.long, device=ids.device)
        step_pos = position[:, -1:]
        window = _stop_window(params.stop)
        temperature = 0.0 if params.greedy else params.temperature
        for t in range(params.max_new_tokens):
            token = sample_tokens(logits, temperature, params.top_p, generator)
            token = token.masked_fill(done, self.pad_id)
            out[:, t] = token
            done |= torch.isin(token, eos)
            if params.stop:
                tails = out[:, max(0, t + 1 - window) : t + 1].tolist()
                for row in (~done).nonzero().flatten().tolist():
                    if _stopped(self.tokenizer, tails[row], params.stop):
                        done[row] = True
            if t + 1 == params.max_new_tokens or bool(done.all()):
                return out[:, : t + 1]
            step_pos = step_pos + 1
            mask = torch.cat([mask, torch.ones_like(step_pos)], dim=1)
            logits = model(
                input_ids=token[:, None],
                attention_mask=mask,
                position_ids=step_pos,
                cache=cache,
                use_cache=True,
            ).logits[:, -1]
        return out

    def _hf_generate(self, ids: Any, mask: Any, index: Any, params: SamplingParams, generator: Any):
        """The same rows through `model.generate` (decoder: generate): its logits processors,
        the model's `generation_config` and its sampler. The prompt cache is still shared."""
        import torch

        model, width = self.model, ids.shape[1]
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": not params.greedy,
            "pad_token_id": self.pad_id,
            "eos_token_id": sorted(self.eos_ids) or None,
        }
        if not params.greedy:
            kwargs.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
        if self.prefix_sharing and width > 1:  # generate feeds the last prompt token itself
            cache, _ = prefill(model, ids[:, :-1], mask[:, :-1])
            cache.batch_select_indices(index)
            kwargs["cache"] = cache
        devices = [ids.device] if ids.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # generate draws from the global RNG
            torch.manual_seed(
                int(torch.randint(2**62, (1,), generator=generator, device=generator.device))
            )
            output = model.generate(input_ids=ids[index], attention_mask=mask[index], **kwargs)
        return output[:, width:]


class VLLMBackend:
    """A vLLM engine in this process, on the same GPU as the policy (colocated)."""

    name = "vllm"

    def __init__(
        self,
        model_path: str,
        tokenizer: Any,
        *,
        gpu_memory_utilization: float = 0.3,
        dtype: str = "auto",
        seed: int = 0,
        max_model_len: int | None = None,
    ) -> None:
        try:
            import vllm
        except ImportError as error:
            raise RolloutError(VLLM_MISSING) from error
        self._vllm = vllm
        self.tokenizer = tokenizer
        self.llm = vllm.LLM(
            model=model_path,
            gpu_memory_utilization=gpu_memory_utilization,
            dtype=dtype,
            seed=seed,
            max_model_len=max_model_len,
            enable_prefix_caching=True,
        )

    def generate(
        self, prompts: Sequence[str], params: SamplingParams, counts: Sequence[int] | None = None
    ) -> list[PromptRollouts]:
        counts = list(counts) if counts is not None else [params.n] * len(prompts)
        encoded = encode_prompts(self.tokenizer, prompts)
        sampling = [
            self._vllm.SamplingParams(
                n=count,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                stop=list(params.stop) or None,
                seed=params.seed + i,
            )
            for i, count in enumerate(counts)
        ]
        outputs = self.llm.generate(
            [{"prompt_token_ids": ids} for ids in encoded], sampling, use_tqdm=False
        )
        rows = []
        for ids, output in zip(encoded, outputs):
            completions = tuple(
                Completion(o.text, tuple(o.token_ids), o.finish_reason == "stop")
                for o in output.outputs
            )
            rows.append(PromptRollouts(tuple(ids), completions))
        return rows

    def sync_weights(self, model: Any) -> None:
        """Load the policy's current weights into the engine (LoRA adapters merged first)."""
        runner_model = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        merged = hasattr(model, "merge_adapter")
        if merged:
            model.merge_adapter()
        try:
            for name, param in model.named_parameters():
                if "lora_" in name:
                    continue
                name = name.removeprefix("base_model.model.").replace(".base_layer", "")
                runner_model.load_weights([(name, param.data)])
        finally:
            if merged:
                model.unmerge_adapter()
        self.llm.reset_prefix_cache()


def make_backend(kind: str, model: Any, tokenizer: Any, **options: Any) -> RolloutBackend:
    """The backend named in a config (`transformers` or `vllm`)."""
    if kind == "transformers":
        return TransformersBackend(
            model,
            tokenizer,
            batch_size=options.get("batch_size", 64),
            prefix_sharing=options.get("prefix_sharing", True),
            decoder=options.get("decoder", "loop"),
        )
    if kind == "vllm":
        return VLLMBackend(
            options["model_path"],
            tokenizer,
            gpu_memory_utilization=options.get("gpu_memory_utilization", 0.3),
            dtype=options.get("dtype", "auto"),
            seed=options.get("seed", 0),
        )
    raise ValueError(f"rollout backend must be transformers or vllm, got {kind!r}")
