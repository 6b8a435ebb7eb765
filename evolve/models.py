"""The one thing `evolve` needs from a model: prompts in, completions out.

Fitness (measured difficulty) and model-based operators (`rephrase`) need "a model that
answers prompts", but this layer must not import `trainers` (DESIGN.md: imports only point
down). So the contract lives here as a `Protocol`; the CLI hands in a concrete answerer: a
local `transformers` model from `trainers.answerer`, or an OpenAI-compatible HTTP endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """How to sample: the same knobs every backend understands.

    `temperature == 0` means greedy decoding (then `top_p` and `seed` do not matter).
    `stop` strings end a completion early; the stop string itself is not returned.
    """

    max_new_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    seed: int = 0
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.n < 1:
            raise ValueError(f"n must be >= 1, got {self.n}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@runtime_checkable
class Answerer(Protocol):
    """A model that answers problem prompts.

    `complete` returns one list of `params.n` completions per prompt, in prompt order. The
    prompts are raw problem texts; the answerer formats them itself (chat template or a
    plain format), because only it knows what its model was trained on.
    """

    name: str

    def complete(self, prompts: Sequence[str], params: SamplingParams) -> list[list[str]]: ...
