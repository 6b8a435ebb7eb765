"""The offline tiny models and the transformers answerer that tests and demos build on."""

from __future__ import annotations

import hashlib

import pytest

torch = pytest.importorskip("torch")

from evolve.models import Answerer, SamplingParams
from trainers.answerer import TransformersAnswerer
from trainers.prompting import PLAIN_FORMAT, format_prompt
from trainers.tiny import build_tiny_model, default_corpus, train_tokenizer

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=3)


@pytest.fixture(scope="module")
def answerer(tiny):
    return TransformersAnswerer(tiny, batch_size=2)


def test_build_is_deterministic_and_loads_with_auto_classes(tiny, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    again = build_tiny_model(tmp_path / "again", seed=3)
    digest = lambda path: hashlib.sha256((path / "model.safetensors").read_bytes()).hexdigest()
    assert digest(tiny) == digest(again)
    assert (tiny / "tokenizer.json").read_bytes() == (again / "tokenizer.json").read_bytes()
    model = AutoModelForCausalLM.from_pretrained(tiny, local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(tiny, local_files_only=True)
    assert model.config.model_type == "llama"
    assert model.config.vocab_size == len(tokenizer)
    assert tokenizer.pad_token == "<pad>" and tokenizer.eos_token == "</s>"


def test_different_seed_gives_different_weights(tiny, tmp_path):
    other = build_tiny_model(tmp_path / "other", seed=4)
    assert (tiny / "model.safetensors").read_bytes() != (other / "model.safetensors").read_bytes()


def test_tokenizer_splits_digits_and_round_trips_any_text():
    tokenizer = train_tokenizer(default_corpus(200), vocab_size=300)
    pieces = tokenizer.tokenize("What is 128 + 7?")
    assert [p for p in pieces if p.strip("Ġ").isdigit()] == ["1", "2", "8", "7"]
    for text in ["héllo wörld ∀x ∃y", "\\boxed{-3/4}", "tabs\tand\nnewlines", "日本語 🙂"]:
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.decode(ids) == text


def test_bad_sizes_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="vocab_size must be at least"):
        train_tokenizer(["abc"], vocab_size=100)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        build_tiny_model(tmp_path / "m", hidden_size=30, num_heads=4)


def test_plain_format_without_chat_template(answerer):
    assert format_prompt(answerer.tokenizer, "What is 2+2?") == PLAIN_FORMAT.format(
        prompt="What is 2+2?"
    )


def test_chat_template_is_used_when_present(tiny):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny, local_files_only=True)
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}<assistant>"
    )
    assert (
        format_prompt(tokenizer, "hi", system="be brief") == "<system>be brief<user>hi<assistant>"
    )


def test_answerer_shapes_greedy_and_seeded_sampling(answerer):
    assert isinstance(answerer, Answerer)
    prompts = ["What is 1 + 1?", "Ava has 3 pens and gets 2 more.", "What is 9 * 9?"]
    greedy = answerer.complete(prompts, SamplingParams(max_new_tokens=6))
    assert [len(c) for c in greedy] == [1, 1, 1]
    assert greedy == answerer.complete(prompts, SamplingParams(max_new_tokens=6))
    sampled = SamplingParams(max_new_tokens=6, temperature=1.0, n=4, seed=11)
    first = answerer.complete(prompts, sampled)
    assert [len(c) for c in first] == [4, 4, 4]
    assert first == answerer.complete(prompts, sampled)
    assert len({c for group in first for c in group}) > 1


def test_answerer_does_not_disturb_global_rng(answerer):
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    answerer.complete(["x"], SamplingParams(max_new_tokens=3, temperature=1.0, seed=5))
    assert torch.equal(torch.rand(3), expected)


def test_stop_strings_are_cut(answerer):
    sampled = SamplingParams(max_new_tokens=12, temperature=1.0, n=4, seed=2)
    free = answerer.complete(["What is 1 + 1?"], sampled)[0]
    stop = next(ch for text in free for ch in text if ch.strip())
    stopped = answerer.complete(
        ["What is 1 + 1?"], SamplingParams(**{**sampled.__dict__, "stop": (stop,)})
    )[0]
    assert all(stop not in text for text in stopped)
    assert [t.split(stop)[0] for t in free] == stopped


def test_answerer_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="model directory not found"):
        TransformersAnswerer(tmp_path / "missing")
    with pytest.raises(ValueError, match="batch_size"):
        TransformersAnswerer(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        SamplingParams(max_new_tokens=0)
    with pytest.raises(ValueError, match="top_p"):
        SamplingParams(top_p=0)
