"""`veriforge demo` (what `make demo` runs) and `veriforge tiny-model`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from synth.pool import read_pool
from veriforge.cli import app

runner = CliRunner()


def run(*args: object):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_tiny_model_writes_a_loadable_checkpoint(tmp_path):
    from transformers import AutoConfig

    result = run(
        "tiny-model", tmp_path / "m", "--hidden-size", "32", "--layers", "1", "--heads", "2"
    )
    assert result.exit_code == 0, result.output
    assert "parameters written to" in result.output
    config = AutoConfig.from_pretrained(tmp_path / "m")
    assert (config.hidden_size, config.num_hidden_layers, config.num_attention_heads) == (32, 1, 2)
    assert json.loads((tmp_path / "m" / "tokenizer_config.json").read_text())["eos_token"] == "</s>"


def test_tiny_model_bad_shape_exits_2(tmp_path):
    result = run("tiny-model", tmp_path / "m", "--hidden-size", "30", "--heads", "4")
    assert result.exit_code == 2
    assert "divisible by num_heads" in result.output
    assert not (tmp_path / "m").exists()


def test_demo_unknown_stage_exits_2(tmp_path):
    result = run("demo", "-o", tmp_path, "--stages", "generate,deploy")
    assert result.exit_code == 2
    assert "unknown deploy; choose from generate, evolve, train" in result.output


def test_demo_generate_and_evolve_stages(tmp_path):
    result = run("demo", "-o", tmp_path, "-n", "2", "--workers", "1", "--stages", "generate,evolve")
    assert result.exit_code == 0, result.output
    generated = read_pool(tmp_path / "pool")
    assert len({p.source for p in generated}) >= 20
    evolved = read_pool(tmp_path / "evolved")
    assert evolved and all(p.lineage.get("operator") or p.lineage.get("parents") for p in evolved)
    assert (tmp_path / "evolved-report" / "report.md").is_file()
    assert "demo done" in result.output
