"""A local `transformers` model as an `evolve.models.Answerer`.

Evolution measures difficulty by letting a model answer; the CLI builds one of these from
`--model PATH` and hands it to `evolve` (which never imports this layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

from evolve.models import SamplingParams
from trainers.prompting import format_prompt


def load_model_and_tokenizer(path: Path | str, device: str = "cpu") -> tuple[Any, Any]:
    """Load a causal LM and its tokenizer from a local directory, never from the network."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    local = Path(path)
    if not local.is_dir():
        raise FileNotFoundError(f"model directory not found: {local}")
    tokenizer = AutoTokenizer.from_pretrained(local, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(local, local_files_only=True).to(device)
    model.eval()
    return model, tokenizer


def prepare_tokenizer(tokenizer: Any) -> Any:
    """Left padding (generation continues from the right edge) and a pad token."""
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the earliest stop string (generate keeps the stop string; we do not)."""
    cut = len(text)
    for marker in stop:
        where = text.find(marker)
        if where != -1:
            cut = min(cut, where)
    return text[:cut]


class TransformersAnswerer:
    """Batched `generate` with left padding, stop strings, temperature/top-p and a seed."""

    def __init__(
        self,
        model: Any,
        tokenizer: Optional[Any] = None,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        name: Optional[str] = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if isinstance(model, (str, Path)):
            self.name = name or str(model)
            model, loaded = load_model_and_tokenizer(model, device)
            tokenizer = tokenizer or loaded
        else:
            if tokenizer is None:
                raise ValueError("a tokenizer is required when passing a model object")
            self.name = name or type(model).__name__
            model = model.to(device)
        self.model = model
        self.tokenizer = prepare_tokenizer(tokenizer)
        self.device = device
        self.batch_size = batch_size

    def complete(self, prompts: Sequence[str], params: SamplingParams) -> list[list[str]]:
        import torch

        results: list[list[str]] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = [format_prompt(self.tokenizer, p) for p in prompts[start : start + self.batch_size]]
            encoded = self.tokenizer(batch, return_tensors="pt", padding=True).to(self.device)
            options: dict[str, Any] = {
                "max_new_tokens": params.max_new_tokens,
                "num_return_sequences": params.n,
                "pad_token_id": self.tokenizer.pad_token_id,
                "do_sample": not params.greedy,
            }
            if not params.greedy:
                options.update(temperature=params.temperature, top_p=params.top_p)
            if params.stop:
                options.update(stop_strings=list(params.stop), tokenizer=self.tokenizer)
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                torch.manual_seed(params.seed + start)
                output = self.model.generate(**encoded, **options)
            new_tokens = output[:, encoded["input_ids"].shape[1] :]
            texts = self.tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
            texts = [cut_at_stop(text, params.stop) for text in texts]
            results.extend(texts[i : i + params.n] for i in range(0, len(texts), params.n))
        return results
