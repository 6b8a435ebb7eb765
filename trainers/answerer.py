"""A local `transformers` model as an `evolve.models.Answerer`.

Evolution measures difficulty by letting a model answer; the CLI builds one of these from
`--model PATH` and hands it to `evolve` (which never imports this layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evolve.models import SamplingParams
from trainers.prompting import format_prompt
from trainers.rollout import TransformersBackend


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


class TransformersAnswerer:
    """The trainer's own rollout backend (batched, left-padded, prompt cache shared by the n
    samples, stop strings, temperature/top-p, a private seeded RNG) behind `complete`."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any | None = None,
        *,
        device: str = "cpu",
        batch_size: int = 8,
        name: str | None = None,
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
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        self.tokenizer = tokenizer
        self.backend = TransformersBackend(model, tokenizer, batch_size=batch_size)

    def complete(self, prompts: Sequence[str], params: SamplingParams) -> list[list[str]]:
        framed = [format_prompt(self.tokenizer, prompt) for prompt in prompts]
        return [[c.text for c in row.completions] for row in self.backend.generate(framed, params)]
