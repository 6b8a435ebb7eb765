"""`veriforge sft`, `train`, `eval` and `difficulty` on a tiny offline model; pass@k maths."""

from __future__ import annotations

import json
from math import comb

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from synth.pool import read_manifest, read_pool, write_pool
from synth.problem import Problem
from trainers.evaluate import ks_for, pass_at_k, report
from veriforge.cli import app

runner = CliRunner()


def test_pass_at_k_by_hand():
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(1 - comb(3, 2) / comb(4, 2))  # 0.5
    assert pass_at_k(4, 0, 4) == 0.0
    assert pass_at_k(4, 1, 4) == 1.0
    with pytest.raises(ValueError, match="at least 8 samples"):
        pass_at_k(4, 1, 8)
    assert ks_for(16) == [1, 2, 4, 8, 16] and ks_for(6) == [1, 2, 4, 6]


@given(st.integers(1, 20), st.data())
def test_pass_at_k_is_monotone_in_k_and_c(n, data):
    c = data.draw(st.integers(0, n))
    values = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    assert values == sorted(values)
    assert values[0] == pytest.approx(c / n)


def test_report_groups_by_category_and_difficulty():
    records = [
        {"category": "a", "difficulty": 0.1, "pool": "p", "samples": 4, "correct": 4, "score": 1.0},
        {"category": "b", "difficulty": 0.9, "pool": "p", "samples": 4, "correct": 0, "score": 0.0},
    ]
    out = report(records, 4)
    assert out["overall"]["pass@1"] == 0.5 and out["overall"]["avg@4"] == 0.5
    assert out["by_category"]["a"]["pass@4"] == 1.0 and out["by_category"]["b"]["pass@4"] == 0.0
    assert set(out["by_difficulty"]) == {"[0,0.25)", "[0.75,1]"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from trainers.tiny import build_tiny_model

    root = tmp_path_factory.mktemp("cli")
    model = build_tiny_model(root / "model", hidden_size=32, num_layers=2, num_heads=2)
    problems = [
        Problem(
            id=f"q{a}-{b}",
            source="add",
            category="sums",
            prompt=f"{a} + {b} = ?",
            answer=str(a + b),
            answer_type="integer",
            meta={"solution": f"{a}+{b}={a + b} \\boxed{{{a + b}}}"} if a % 2 else {},
        )
        for a in range(1, 7)
        for b in range(1, 4)
    ]
    pool = write_pool(problems, root / "pool", {"source": "test"})
    return root, model, pool


def _yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_sft_then_train_then_eval(world):
    root, model, pool = world
    sft_cfg = _yaml(
        root / "sft.yaml",
        {
            "model": str(model),
            "output_dir": str(root / "sft"),
            "pools": [str(pool)],
            "max_steps": 3,
            "batch_size": 4,
        },
    )
    result = runner.invoke(app, ["sft", sft_cfg])
    assert result.exit_code == 0, result.output
    assert (root / "sft" / "final" / "model.safetensors").is_file()
    assert len((root / "sft" / "sft_metrics.jsonl").read_text().splitlines()) == 1
    train_cfg = _yaml(
        root / "train.yaml",
        {
            "model": str(root / "sft" / "final"),
            "output_dir": str(root / "run"),
            "max_steps": 2,
            "eval_k": 2,
            "data": {"pools": [str(pool)], "eval_fraction": 0.3},
            "rollout": {"samples_per_prompt": 2, "prompts_per_step": 2, "max_new_tokens": 4},
        },
    )
    result = runner.invoke(app, ["train", train_cfg, "--quiet"])
    assert result.exit_code == 0, result.output
    assert "held-out pass@1" in result.output and (root / "run" / "final" / "config.json").is_file()
    out = root / "eval.json"
    result = runner.invoke(
        app,
        [
            "eval",
            "--model",
            str(root / "run" / "final"),
            "--pool",
            str(pool),
            "-k",
            "4",
            "--max-new-tokens",
            "4",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report_ = json.loads(out.read_text())
    assert report_["overall"]["n"] == 18 and set(report_["by_category"]) == {"sums"}
    assert {"pass@1", "pass@2", "pass@4", "avg@4"} <= set(report_["overall"])


def test_sft_targets_use_worked_solutions(world):
    from trainers.sft import target_text

    assert (
        target_text({"meta": {"solution": "1+2=3 \\boxed{3}"}, "answer": "3"})
        == " 1+2=3 \\boxed{3}"
    )
    assert target_text({"meta": {}, "answer": "3"}) == " \\boxed{3}"


def test_difficulty_writes_pass_rates_into_the_pool(world, tmp_path):
    _, model, pool = world
    copy = write_pool(read_pool(pool), tmp_path / "pool", read_manifest(pool))
    result = runner.invoke(
        app,
        [
            "difficulty",
            str(copy),
            "--model",
            str(model),
            "-k",
            "3",
            "--max-new-tokens",
            "3",
            "--chunk",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = read_pool(copy)
    assert len(rows) == 18
    for row in rows:
        assert row.features["pass_rate_k"] == 3 and row.features["pass_rate_model"] == str(model)
        assert row.difficulty == pytest.approx(1 - row.features["pass_rate"])
    assert read_manifest(copy)["difficulty_estimate"]["k"] == 3
    assert not (tmp_path / "pool.difficulty-partial.jsonl").exists()


def test_bad_config_exits_2_naming_the_field(world):
    root, model, pool = world
    bad = _yaml(
        root / "bad.yaml",
        {
            "model": str(model),
            "output_dir": str(root / "x"),
            "data": {"pools": [str(pool)]},
            "loss": {"aggregation": "sum"},
        },
    )
    result = runner.invoke(app, ["train", bad])
    assert result.exit_code == 2
    assert (
        "loss.aggregation" in result.output
        and "'token-mean', 'sequence-mean' or 'constant'" in result.output
    )
    missing = _yaml(
        root / "missing.yaml",
        {
            "model": str(model),
            "output_dir": str(root / "y"),
            "data": {"pools": [str(root / "nope")]},
        },
    )
    result = runner.invoke(app, ["train", missing, "--quiet"])
    assert result.exit_code == 2 and "no such pool" in result.output


def test_eval_and_difficulty_reject_bad_input(world):
    root, model, pool = world
    result = runner.invoke(app, ["eval", "--model", str(root), "--pool", str(pool)])
    assert result.exit_code == 2 and "no config.json" in result.output
    result = runner.invoke(app, ["eval", "--model", str(model), "--pool", str(pool), "-k", "0"])
    assert result.exit_code == 2 and "-k must be >= 1" in result.output
    result = runner.invoke(app, ["difficulty", str(root / "nope"), "--model", str(model)])
    assert result.exit_code == 2 and "no such pool" in result.output
