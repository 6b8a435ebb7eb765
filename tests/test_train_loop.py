"""The training loop on a tiny offline Llama: run directory, exact resume, DARS, LoRA + KL."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from synth.pool import write_pool
from synth.problem import Problem
from trainers.config import ConfigError, TrainConfig
from trainers.loop import train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    from trainers.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("loop")
    model = build_tiny_model(root / "model", hidden_size=32, num_layers=2, num_heads=2)
    problems = [
        Problem(
            id=f"p{a}-{b}",
            source="add",
            category="arithmetic" if a % 2 else "sums",
            prompt=f"{a} + {b} = ?",
            answer=str(a + b),
            answer_type="integer",
            difficulty=round((a + b) / 20, 3),
        )
        for a in range(1, 10)
        for b in range(1, 6)
    ]
    pool = write_pool(problems, root / "pool", {"source": "test"})
    return root, model, pool


def _config(root, model, pool, name, **over) -> TrainConfig:
    data = {
        "model": str(model),
        "output_dir": str(root / name),
        "max_steps": 4,
        "save_every": 2,
        "eval_k": 2,
        "eval_max_problems": 6,
        "data": {"pools": [str(pool)], "eval_fraction": 0.2},
        "rollout": {"samples_per_prompt": 4, "prompts_per_step": 3, "max_new_tokens": 4},
        "optim": {"lr": 1e-3},
    }
    for key, value in over.items():
        if isinstance(value, dict):
            data[key] = {**data.get(key, {}), **value}
        else:
            data[key] = value
    return TrainConfig.model_validate(data)


def _metrics(path):
    return [
        {k: v for k, v in json.loads(line).items() if not k.startswith("time/")}
        for line in path.read_text().splitlines()
    ]


class Crash(Exception):
    pass


def test_run_directory_and_exact_resume(setup):
    root, model, pool = setup
    over = {
        "loss": {
            "updates_per_batch": 2,
            "mini_batches": 2,
            "micro_batch_size": 5,
            "drop_equal_groups": False,
        },
        # an untrained model is never right; a stop string and the overlong penalty make
        # rewards differ by completion length, so the updates have something to follow
        "rollout": {"stop": [" "]},
        "reward": {"overlong_buffer": 2},
    }
    whole = train(_config(root, model, pool, "whole", **over), show_progress=False)
    for name in (
        "config.yaml",
        "pools.json",
        "metrics.jsonl",
        "eval.json",
        "final/config.json",
        "final/model.safetensors",
        "checkpoint-4/optimizer.pt",
        "checkpoint-4/scheduler.pt",
        "checkpoint-4/rng.pt",
        "checkpoint-4/trainer_state.json",
        "plots/reward.png",
        "plots/entropy.png",
        "plots/response_length.png",
        "plots/pass_at_k.png",
    ):
        assert (whole / name).is_file(), name
    state = json.loads((whole / "checkpoint-4" / "trainer_state.json").read_text())
    assert state["step"] == 4 and set(state["sampler"]) == {"stage", "epoch", "position"}
    records = _metrics(whole / "metrics.jsonl")
    assert records[0]["step"] == 0 and "eval/pass@1" in records[0]
    assert [r["step"] for r in records] == [0, 1, 2, 3, 4]
    assert {"reward", "entropy", "response_length", "loss", "grad_norm", "clip_high"} <= set(
        records[2]
    )

    def crash(step):
        if step == 3:
            raise Crash

    cfg = _config(root, model, pool, "crashed", **over)
    with pytest.raises(Crash):
        train(cfg, show_progress=False, after_step=crash)
    assert not (root / "crashed" / "final").exists()
    train(cfg, show_progress=False)
    a = load_file(str(whole / "final" / "model.safetensors"))
    b = load_file(str(root / "crashed" / "final" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert _metrics(root / "crashed" / "metrics.jsonl") == records
    start = load_file(str(model / "model.safetensors"))
    assert any(not torch.equal(a[k], start[k]) for k in a)  # training changed the weights


def test_a_run_directory_refuses_another_config(setup):
    root, model, pool = setup
    train(_config(root, model, pool, "fixed", max_steps=1, save_every=1), show_progress=False)
    with pytest.raises(ConfigError, match="different config .*max_steps"):
        train(_config(root, model, pool, "fixed", max_steps=2), show_progress=False)


def test_dars_adds_rollouts_to_hard_prompts(setup):
    root, model, pool = setup
    cfg = _config(
        root,
        model,
        pool,
        "dars",
        max_steps=2,
        dars={"enabled": True, "max_samples": 10},
        data={"eval_fraction": 0.0},
    )
    run = train(cfg, show_progress=False)
    records = _metrics(run / "metrics.jsonl")
    # an untrained model gets nothing right: every prompt is hard and reaches the cap
    assert all(r["dars_extra"] == 3 * 6 and r["rollouts"] == 30 for r in records)
    assert records[-1]["rollouts_total"] == 60


def test_lora_with_kl_and_max_rollouts(setup):
    root, model, pool = setup
    cfg = _config(
        root,
        model,
        pool,
        "lora",
        max_steps=10,
        max_rollouts=24,
        lora={"enabled": True, "r": 4, "alpha": 8, "target_modules": ["q_proj", "v_proj"]},
        loss={"kl_coef": 0.1, "drop_equal_groups": False, "aggregation": "constant"},
        reward={"format_weight": 0.5, "overlong_buffer": 2},
    )
    run = train(cfg, show_progress=False)
    records = _metrics(run / "metrics.jsonl")
    assert records[-1]["step"] == 2 and records[-1]["rollouts_total"] == 24
    assert "kl" in records[-1] and records[-1]["kl"] >= 0
    assert min(r["reward"] for r in records if "reward" in r) < 0  # overlong penalty applied
    merged = load_file(str(run / "final" / "model.safetensors"))
    assert not any("lora" in k for k in merged)  # merged into a plain transformers checkpoint
