"""Training configs: bad input names the field and what is allowed; every option is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from trainers.config import (
    ConfigError,
    SFTConfig,
    TrainConfig,
    config_reference,
    load_config,
    parse_config,
)

ROOT = Path(__file__).resolve().parent.parent
BASE = {"model": "m", "output_dir": "runs/x", "data": {"pools": ["p"]}}


def _error(data, cls=TrainConfig) -> str:
    with pytest.raises(ConfigError) as info:
        parse_config(data, cls, "cfg.yaml")
    return str(info.value)


def test_defaults():
    cfg = parse_config(BASE, TrainConfig)
    assert cfg.loss.scale_rewards is False
    assert cfg.loss.kl_coef == 0.0
    assert (cfg.loss.clip_low, cfg.loss.clip_high) == (0.2, 0.28)
    assert cfg.loss.aggregation == "token-mean"
    assert cfg.threads == 1
    assert cfg.rollout.backend == "transformers"


def test_bad_choice_names_field_and_allowed_values():
    message = _error({**BASE, "loss": {"aggregation": "mean"}})
    assert "cfg.yaml" in message and "loss.aggregation" in message
    assert "'token-mean', 'sequence-mean' or 'constant'" in message and "'mean'" in message
    message = _error({**BASE, "rollout": {"backend": "sglang"}})
    assert "rollout.backend" in message and "'transformers' or 'vllm'" in message
    message = _error({**BASE, "dars": {"schedule": "uniform"}})
    assert "dars.schedule" in message and "'equal_treatment' or 'hardness_weighted'" in message


def test_unknown_missing_and_out_of_range_fields():
    assert "loss.clip: unknown field" in _error({**BASE, "loss": {"clip": 0.2}})
    assert "data: Field required" in _error({"model": "m", "output_dir": "o"})
    message = _error({**BASE, "rollout": {"samples_per_prompt": 1}})
    assert "rollout.samples_per_prompt" in message and "greater than or equal to 2" in message
    message = _error({**BASE, "dars": {"enabled": True, "max_samples": 4}})
    assert "dars.max_samples (4) must be >= rollout.samples_per_prompt (8)" in message
    assert "expected a mapping" in _error(["a"])


def test_load_config_reports_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml", TrainConfig)
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, TrainConfig)
    good = tmp_path / "good.yaml"
    good.write_text("model: m\noutput_dir: o\ndata: {pools: [p]}\nloss: {kl_coef: 0.1}\n")
    assert load_config(good, TrainConfig).loss.kl_coef == 0.1
    sft = tmp_path / "sft.yaml"
    sft.write_text("model: m\noutput_dir: o\npools: [p]\nlr: -1\n")
    with pytest.raises(ConfigError, match="lr: Input should be greater than 0"):
        load_config(sft, SFTConfig)


@pytest.mark.parametrize("cls", [TrainConfig, SFTConfig])
def test_every_option_is_documented_with_its_default(cls):
    tag = "train-options" if cls is TrainConfig else "sft-options"
    full = (ROOT / "docs" / "train.md").read_text()
    doc = full.split(f"<!-- {tag} -->")[1].split(f"<!-- /{tag} -->")[0]
    for name, default, _ in config_reference(cls):
        row = re.search(rf"^\| `{re.escape(name)}` \| ([^|]*) \|", doc, re.MULTILINE)
        assert row, f"docs/train.md does not document {cls.__name__} option {name}"
        assert default in row.group(1).replace("`", ""), f"{name}: default {default} not in docs"


def test_shipped_configs_are_valid():
    for path in sorted((ROOT / "configs").glob("*train*.yaml")):
        load_config(path, TrainConfig)
    for path in sorted((ROOT / "configs").glob("*sft*.yaml")):
        load_config(path, SFTConfig)
