"""Tiny offline models: a locally trained tokenizer and a small Llama built from a config.

Tests, the demo and the CPU benchmarks need real `transformers` models without downloading
anything. These are ordinary checkpoints (`save_pretrained` layout, safetensors weights), so
every code path that loads a Hub model loads them too: `AutoModelForCausalLM.from_pretrained`
and `AutoTokenizer.from_pretrained` on the directory.

Digits are split one per token before byte-level BPE runs: a tokenizer that merges "128" into
one token makes arithmetic needlessly hard for a model this small.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only; importing transformers is slow
    from transformers import PreTrainedTokenizerFast

SPECIAL_TOKENS = {
    "pad_token": "<pad>",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
}

_NAMES = ("Ava", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
_THINGS = ("apples", "books", "coins", "marbles", "pens", "stamps", "cards", "shells")


def default_corpus(size: int = 2000, seed: int = 0) -> Iterator[str]:
    """Arithmetic and short word-problem text in the prompt/answer shapes veriforge uses.

    Deterministic for a seed, so the same arguments train the same tokenizer.
    """
    rng = random.Random(seed)
    for index in range(size):
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        op, value = rng.choice((("+", a + b), ("-", a - b), ("*", a * b)))
        name, thing = rng.choice(_NAMES), rng.choice(_THINGS)
        if index % 2:
            yield f"Question: What is {a} {op} {b}?\nAnswer: {a} {op} {b} = {value}. \\boxed{{{value}}}"
        else:
            yield (
                f"Question: {name} has {a} {thing} and gets {b} more. How many {thing} does "
                f"{name} have now?\nAnswer: {a} + {b} = {a + b}. The answer is \\boxed{{{a + b}}}."
            )


def train_tokenizer(texts: Iterable[str], vocab_size: int = 512) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts` (any text encodes: bytes are the fallback)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = list(SPECIAL_TOKENS.values())
    if vocab_size < 256 + len(specials):
        raise ValueError(f"vocab_size must be at least {256 + len(specials)} (bytes + specials)")
    tokenizer = Tokenizer(models.BPE(unk_token=SPECIAL_TOKENS["unk_token"]))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, **SPECIAL_TOKENS)


def build_tiny_model(
    out_dir: Path | str,
    *,
    texts: Iterable[str] | None = None,
    vocab_size: int = 512,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 1024,
    seed: int = 0,
) -> Path:
    """Write a randomly initialised LlamaForCausalLM and its tokenizer to `out_dir`.

    The weights are a pure function of the arguments (seeded init), so two builds with the
    same arguments are interchangeable in tests.
    """
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if hidden_size % num_heads:
        raise ValueError(
            f"hidden_size ({hidden_size}) must be divisible by num_heads ({num_heads})"
        )
    out = Path(out_dir)
    tokenizer = train_tokenizer(texts if texts is not None else default_corpus(), vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 4 * hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        num_key_value_heads=num_heads,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def parameter_count(model_dir: Path | str) -> int:
    """Number of parameters of a saved model (tied embeddings counted once)."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    return sum(p.numel() for p in model.parameters())
