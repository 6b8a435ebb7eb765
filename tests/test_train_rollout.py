"""Rollout backends and log-probs on a tiny offline Llama."""

from __future__ import annotations

import pytest
import torch

from evolve.models import SamplingParams
from trainers.logprobs import build_batch, completion_logprobs
from trainers.prompting import format_prompt
from trainers.rollout import (
    VLLM_MISSING,
    RolloutError,
    TransformersBackend,
    VLLMBackend,
    _stopped,
    _trim,
    sample_tokens,
)

torch.set_num_threads(1)
PROMPTS = [
    "Question: 1 + 2 = ?\nAnswer:",
    "Question: 17 - 3 = ?\nAnswer:",
    "Question: 5 + 5 = ?\nAnswer:",
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from trainers.tiny import build_tiny_model

    path = build_tiny_model(
        tmp_path_factory.mktemp("tiny") / "m", hidden_size=32, num_layers=2, num_heads=2
    )
    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def test_prefix_sharing_samples_the_same_tokens_as_plain_generate(tiny):
    model, tok = tiny
    params = SamplingParams(max_new_tokens=10, temperature=1.0, n=3, seed=5)
    shared = TransformersBackend(model, tok, prefix_sharing=True).generate(
        PROMPTS, params, counts=[2, 3, 1]
    )
    plain = TransformersBackend(model, tok, prefix_sharing=False).generate(
        PROMPTS, params, counts=[2, 3, 1]
    )
    assert shared == plain
    assert [len(r.completions) for r in shared] == [2, 3, 1]
    again = TransformersBackend(model, tok).generate(PROMPTS, params, counts=[2, 3, 1])
    assert again == shared  # seeded
    other = TransformersBackend(model, tok).generate(
        PROMPTS, SamplingParams(max_new_tokens=10, n=3, temperature=1.0, seed=6)
    )
    assert other != shared


def test_generation_does_not_touch_the_global_rng(tiny):
    model, tok = tiny
    torch.manual_seed(0)
    expected = torch.rand(1)
    torch.manual_seed(0)
    TransformersBackend(model, tok).generate(
        PROMPTS[:1], SamplingParams(max_new_tokens=4, temperature=1.0, seed=1)
    )
    assert torch.equal(torch.rand(1), expected)


def test_batches_give_the_same_completions_for_each_prompt(tiny):
    model, tok = tiny
    params = SamplingParams(max_new_tokens=6, temperature=0.0, n=1)
    whole = TransformersBackend(model, tok, batch_size=8).generate(PROMPTS, params)
    split = TransformersBackend(model, tok, batch_size=1).generate(PROMPTS, params)
    assert [r.completions[0].text for r in whole] == [r.completions[0].text for r in split]
    for r in whole:
        assert r.completions[0].finished is False or len(r.completions[0].token_ids) <= 6


def test_trim_cuts_at_eos_and_stop_strings(tiny):
    _, tok = tiny
    ids = tok(" 12 apples\nmore", add_special_tokens=False)["input_ids"]
    kept, text, finished = _trim(tok, ids + [tok.eos_token_id, 5], {tok.eos_token_id}, ["\n"])
    assert text == " 12 apples" and finished
    assert "\n" in tok.decode(kept) and not tok.decode(kept).endswith("more")
    kept, text, finished = _trim(tok, ids + [tok.eos_token_id, 5], {tok.eos_token_id}, [])
    assert kept[-1] == tok.eos_token_id and finished and text == " 12 apples\nmore"
    kept, text, finished = _trim(tok, ids, {tok.eos_token_id}, [])
    assert kept == ids and not finished


def test_stop_strings_end_generation(tiny):
    model, tok = tiny
    params = SamplingParams(max_new_tokens=24, temperature=1.0, n=8, seed=0, stop=(" ",))
    for r in TransformersBackend(model, tok).generate(PROMPTS, params):
        for c in r.completions:
            assert " " not in c.text
            if c.finished and tok.eos_token_id not in c.token_ids:
                assert " " in tok.decode(list(c.token_ids))


def test_greedy_decoding_matches_model_generate(tiny):
    model, tok = tiny
    params = SamplingParams(max_new_tokens=7, temperature=0.0, n=2)
    ours = TransformersBackend(model, tok).generate(PROMPTS, params)
    for prompt, rollouts in zip(PROMPTS, ours):
        ids = tok(prompt, return_tensors="pt")["input_ids"]
        with torch.no_grad():
            out = model.generate(
                ids, max_new_tokens=7, do_sample=False, pad_token_id=tok.pad_token_id
            )
        expected = out[0, ids.shape[1] :].tolist()
        if tok.eos_token_id in expected:
            expected = expected[: expected.index(tok.eos_token_id) + 1]
        assert [list(c.token_ids) for c in rollouts.completions] == [expected, expected]


def test_the_generate_decoder_agrees_with_the_loop(tiny):
    model, tok = tiny
    greedy = SamplingParams(max_new_tokens=7, temperature=0.0, n=2)
    loop = TransformersBackend(model, tok).generate(PROMPTS, greedy)
    assert TransformersBackend(model, tok, decoder="generate").generate(PROMPTS, greedy) == loop
    sampled = SamplingParams(max_new_tokens=12, temperature=1.0, n=4, seed=9, stop=(" ",))
    backend = TransformersBackend(model, tok, decoder="generate")
    first = backend.generate(PROMPTS, sampled, counts=[1, 4, 2])
    assert backend.generate(PROMPTS, sampled, counts=[1, 4, 2]) == first  # seeded
    assert [len(r.completions) for r in first] == [1, 4, 2]
    assert all(" " not in c.text for r in first for c in r.completions)
    with pytest.raises(ValueError, match="decoder must be one of loop, generate, got 'beam'"):
        TransformersBackend(model, tok, decoder="beam")


def test_sampling_follows_the_tempered_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0, -30.0]]).repeat(40_000, 1)
    generator = torch.Generator().manual_seed(0)
    for temperature in (1.0, 0.5):
        drawn = sample_tokens(logits, temperature, 1.0, generator)
        freq = torch.bincount(drawn, minlength=5).float() / len(drawn)
        expected = torch.softmax(logits[0] / temperature, -1)
        assert torch.allclose(freq, expected, atol=0.01), (temperature, freq, expected)
        assert int(freq[4] * len(drawn)) == 0  # a ~1e-14 token is never drawn
    # top-p keeps the smallest set reaching p: here {0, 1} (0.64 + 0.24 >= 0.8)
    nucleus = sample_tokens(logits, 1.0, 0.8, generator)
    assert set(nucleus.tolist()) == {0, 1}
    freq = torch.bincount(nucleus, minlength=5).float() / len(nucleus)
    p = torch.softmax(logits[0], -1)
    assert abs(float(freq[0]) - float(p[0] / (p[0] + p[1]))) < 0.01
    # a tiny top-p still keeps the most likely token; temperature 0 is the argmax
    assert set(sample_tokens(logits[:50], 1.0, 1e-6, generator).tolist()) == {0}
    assert sample_tokens(torch.tensor([[0.0, 3.0, 1.0]]), 0.0, 1.0).tolist() == [1]
    # the same generator seed draws the same tokens
    a = sample_tokens(logits[:100], 1.0, 0.9, torch.Generator().manual_seed(4))
    b = sample_tokens(logits[:100], 1.0, 0.9, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)


def test_a_partial_character_never_ends_a_row(tiny):
    _, tok = tiny
    word = tok("Ҋ", add_special_tokens=False)["input_ids"]
    assert len(word) > 1  # a two-byte character is two byte-level tokens here
    assert not _stopped(tok, word[:1], ["\ufffd"])  # its first byte is not text yet
    assert not _stopped(tok, word[-1:], ["\ufffd"])
    space = tok(" x", add_special_tokens=False)["input_ids"]
    assert _stopped(tok, word + space, [" "])
    assert not _stopped(tok, word, [" "])


def _scored_batch(model, tok, counts, max_new_tokens=6):
    rollouts = TransformersBackend(model, tok).generate(
        PROMPTS, SamplingParams(max_new_tokens=max_new_tokens, temperature=1.0, seed=3), counts
    )
    group, comps = [], []
    for j, r in enumerate(rollouts):
        for c in r.completions:
            group.append(j)
            comps.append(list(c.token_ids))
    comps[1] = comps[1][:2]  # a ragged completion
    return build_batch([list(r.prompt_ids) for r in rollouts], comps, group, tok.pad_token_id)


@pytest.mark.parametrize(
    "pack_tokens",
    [256, 30, 0],
    ids=["packed, one row per prompt", "packed, two completions per row", "shared KV cache"],
)
def test_shared_prefix_logprobs_and_gradients_match_full_sequences(tiny, pack_tokens):
    model, tok = tiny
    batch = _scored_batch(model, tok, [2, 5, 1])
    shared, ent = completion_logprobs(model, batch, pack_tokens=pack_tokens, entropy=True)
    full, _ = completion_logprobs(model, batch, prefix_sharing=False)
    assert torch.allclose(shared, full, atol=1e-5)
    assert bool((shared[batch.completion_mask == 0] == 0).all())
    assert ent is not None and bool((ent[batch.completion_mask.bool()] > 0).all())
    g1 = torch.autograd.grad(shared.sum(), list(model.parameters()))
    full, _ = completion_logprobs(model, batch, prefix_sharing=False)
    g2 = torch.autograd.grad(full.sum(), list(model.parameters()))
    assert all(torch.allclose(a, b, atol=1e-4) for a, b in zip(g1, g2))
    # a sub-batch re-indexes its prompts and gives the same values
    rows = torch.tensor([1, 4])
    sub, _ = completion_logprobs(model, batch.select(rows), pack_tokens=pack_tokens)
    assert torch.allclose(sub, shared[rows][:, : sub.shape[1]], atol=1e-5)


def test_packing_is_chosen_by_row_length_and_attention(tiny, monkeypatch):
    from trainers import logprobs

    model, tok = tiny
    batch = _scored_batch(model, tok, [2, 2, 2])  # prompts of <= 13 tokens, 6-token completions
    used = []
    for name in ("_packed_logits", "_cached_logits", "_full_logits"):
        real = getattr(logprobs, name)
        monkeypatch.setattr(
            logprobs, name, lambda *a, _real=real, _name=name: used.append(_name) or _real(*a)
        )
    width = batch.prompt_ids.shape[1] + 2 * (batch.completion_ids.shape[1] - 1)
    completion_logprobs(model, batch, pack_tokens=width)
    completion_logprobs(model, batch, pack_tokens=width - 1)
    completion_logprobs(model, batch, prefix_sharing=False)
    assert model.config._attn_implementation == "sdpa"
    # attention that would ignore a custom 4D mask (flash-attention kernels) never packs
    monkeypatch.setattr(logprobs, "PACKABLE_ATTENTION", ("eager",))
    completion_logprobs(model, batch, pack_tokens=256)
    assert used == ["_packed_logits", "_cached_logits", "_full_logits", "_cached_logits"]


@pytest.mark.parametrize("pack_tokens", [256, 0])
def test_one_token_completions_are_scored_from_the_prompt_alone(tiny, pack_tokens):
    model, tok = tiny
    batch = _scored_batch(model, tok, [1, 2, 1], max_new_tokens=1)
    assert batch.completion_ids.shape[1] == 1
    shared, _ = completion_logprobs(model, batch, pack_tokens=pack_tokens)
    full, _ = completion_logprobs(model, batch, prefix_sharing=False)
    assert torch.allclose(shared, full, atol=1e-5)


def test_logprobs_use_the_sampling_temperature(tiny):
    model, tok = tiny
    batch = build_batch(
        [tok("Question: 1\nAnswer:")["input_ids"]], [[5, 6, 7]], [0], tok.pad_token_id
    )
    with torch.no_grad():
        logits = model(input_ids=torch.cat([batch.prompt_ids, batch.completion_ids], 1)).logits
        width = batch.prompt_ids.shape[1]
        expected = torch.log_softmax(logits[0, width - 1 : -1] / 0.5, -1)[[0, 1, 2], [5, 6, 7]]
        got, _ = completion_logprobs(model, batch, temperature=0.5)
    assert torch.allclose(got[0], expected, atol=1e-5)


def test_plain_and_chat_prompt_formats(tiny):
    _, tok = tiny
    assert format_prompt(tok, "2 + 2 = ?") == "Question: 2 + 2 = ?\nAnswer:"

    class Chat:
        chat_template = "x"

        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return "|".join(m["role"] + ":" + m["content"] for m in messages) + "|assistant:"

    assert format_prompt(Chat(), "hi", system="be brief") == "system:be brief|user:hi|assistant:"


def test_vllm_missing_gives_a_clear_message(tiny):
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(RolloutError) as info:
            VLLMBackend("model", tiny[1])
        assert str(info.value) == VLLM_MISSING
        assert (
            "pip install 'veriforge[vllm]'" in VLLM_MISSING
            and "rollout.backend: transformers" in VLLM_MISSING
        )
    else:  # pragma: no cover - GPU machines with vLLM
        pytest.skip("vLLM is installed")
