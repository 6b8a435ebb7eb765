"""Rollout backends: formatted prompts in, sampled completions (text and token ids) out.

Two implementations of one protocol:

- `TransformersBackend` runs `model.generate` on the live policy (CPU or GPU): batched, left
  padded, stop strings, temperature/top-p, seeded. With `prefix_sharing` each distinct prompt
  is prefilled once and its KV cache copied to its samples, so G samples per prompt cost one
  prompt forward instead of G (the same tokens come out: tested against plain `generate`).
- `VLLMBackend` runs a colocated vLLM engine; `sync_weights` pushes the policy's weights into
  it after every update. vLLM is an optional extra (`pip install 'veriforge[vllm]'`).

Both return token ids as sampled, so the trainer scores exactly the tokens the policy drew.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from evolve.models import SamplingParams


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


@contextlib.contextmanager
def _seeded(seed: int, device: Any) -> Iterator[None]:
    """Sample from a private RNG stream: the caller's RNG state is left untouched."""
    import torch

    devices = [device] if getattr(device, "type", "cpu") == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class TransformersBackend:
    """`generate` on the policy itself (so there are no weights to sync)."""

    name = "transformers"

    def __init__(
        self, model: Any, tokenizer: Any, *, batch_size: int = 64, prefix_sharing: bool = True
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.prefix_sharing = prefix_sharing
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

        model, device = self.model, self.model.device
        width = max(len(ids) for ids in encoded)
        ids = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for row, tokens in enumerate(encoded):
            ids[row, width - len(tokens) :] = torch.tensor(tokens)
            mask[row, width - len(tokens) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        index = torch.repeat_interleave(
            torch.arange(len(encoded), device=device), torch.tensor(counts, device=device)
        )
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
        was_training = model.training
        model.eval()
        try:
            with torch.inference_mode(), _seeded(params.seed + offset, device):
                if self.prefix_sharing and width > 1:
                    from transformers import DynamicCache

                    cache = DynamicCache(config=model.config)
                    position = (mask.cumsum(-1) - 1).clamp(min=0)
                    model(
                        input_ids=ids[:, :-1],
                        attention_mask=mask[:, :-1],
                        position_ids=position[:, :-1],
                        cache=cache,
                        use_cache=True,
                        logits_to_keep=1,
                    )
                    cache.batch_select_indices(index)
                    kwargs["cache"] = cache
                output = model.generate(input_ids=ids[index], attention_mask=mask[index], **kwargs)
        finally:
            model.train(was_training)
        generated = output[:, width:].tolist()
        rows: list[list[Completion]] = [[] for _ in encoded]
        for row, prompt in zip(generated, index.tolist()):
            kept, text, finished = _trim(self.tokenizer, row, self.eos_ids, params.stop)
            rows[prompt].append(Completion(text, tuple(kept), finished))
        return [PromptRollouts(tuple(p), tuple(c)) for p, c in zip(encoded, rows)]


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
