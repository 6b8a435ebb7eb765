"""User-facing configs for `veriforge train` and `veriforge sft` (pydantic, extra keys
forbidden). Every field's default and meaning is here and in docs/train.md.

`load_config` turns a YAML file into a config or raises `ConfigError` whose message names
the file, the dotted field and what was expected (pydantic lists the allowed values of a
`Literal`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ConfigError(ValueError):
    """A config file that cannot be used; the message says where and why."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class DataConfig(_Section):
    pools: list[str] = Field(min_length=1, description="training pools (local pool dirs)")
    eval_pools: list[str] = Field(default_factory=list, description="held-out pools for pass@k")
    eval_fraction: float = Field(
        0.0, ge=0.0, lt=1.0, description="share of the training pools held out for eval (by prompt)"
    )
    selection: Literal["all", "hardest", "medium", "easiest", "random"] = "all"
    budget: float = Field(1.0, gt=0.0, le=1.0, description="fraction kept by `selection`")
    curriculum: Literal["none", "easy_to_hard", "hard_to_easy"] = "none"
    curriculum_stages: int = Field(3, ge=1)
    system_prompt: str | None = None


class RolloutConfig(_Section):
    backend: Literal["transformers", "vllm"] = "transformers"
    samples_per_prompt: int = Field(8, ge=2, description="G: rollouts per prompt")
    prompts_per_step: int = Field(8, ge=1)
    max_new_tokens: int = Field(64, ge=1)
    temperature: float = Field(1.0, gt=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)
    generation_batch_size: int = Field(64, ge=1, description="prompts decoded together")
    prefix_sharing: bool = Field(
        True, description="prefill each prompt once and share its KV cache across its G samples"
    )
    decoder: Literal["loop", "generate"] = Field(
        "loop",
        description="transformers backend: its own sampling loop (exact softmax/top-p "
        "sampling, faster) or model.generate (with the model's generation_config)",
    )
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0.0, le=1.0)


class RewardConfig(_Section):
    partial_credit: bool = True
    format_weight: float = Field(0.0, description="added when the response has a \\boxed{} answer")
    overlong_buffer: int = Field(0, ge=0, description="DAPO soft overlong penalty window (0: off)")
    overlong_weight: float = Field(1.0, ge=0.0)


class LossConfig(_Section):
    scale_rewards: bool = Field(False, description="divide advantages by the group std")
    clip_low: float = Field(0.2, ge=0.0, lt=1.0)
    clip_high: float = Field(0.28, ge=0.0)
    aggregation: Literal["token-mean", "sequence-mean", "constant"] = "token-mean"
    kl_coef: float = Field(0.0, ge=0.0, description="k3 KL to the initial model; 0 loads none")
    updates_per_batch: int = Field(1, ge=1, description="passes over each rollout batch")
    mini_batches: int = Field(1, ge=1, description="optimizer steps per pass")
    micro_batch_size: int = Field(64, ge=1, description="sequences per forward/backward")
    drop_equal_groups: bool = Field(True, description="skip groups whose rewards are all equal")
    pack_tokens: int = Field(
        256,
        ge=0,
        description="with rollout.prefix_sharing, score a prompt and its completions as one "
        "packed row (block attention mask) while the row fits this many tokens; longer rows "
        "share the prompt's KV cache instead (0: never pack)",
    )


class OptimConfig(_Section):
    lr: float = Field(1e-5, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0.0)
    warmup_steps: int = Field(0, ge=0)
    schedule: Literal["constant", "linear", "cosine"] = "constant"
    max_grad_norm: float = Field(1.0, gt=0.0)


class LoraConfig(_Section):
    enabled: bool = False
    r: int = Field(16, ge=1)
    alpha: int = Field(32, ge=1)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"]
    )


class DarsConfig(_Section):
    enabled: bool = False
    schedule: Literal["equal_treatment", "hardness_weighted"] = "equal_treatment"
    max_samples: int = Field(32, ge=2, description="cap on a prompt's total rollouts")
    hard_below: float = Field(0.5, gt=0.0, le=1.0, description="stage-1 accuracy counted as hard")
    breadth: int = Field(1, ge=1, description="large-breadth factor: prompts_per_step x breadth")


class TrainConfig(_Section):
    """`veriforge train CONFIG.yaml`."""

    model: str = Field(description="transformers model dir or Hub id (must be available offline)")
    output_dir: str
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bfloat16 on CUDA, float32 on CPU"
    )
    threads: int = Field(1, ge=1, description="torch intra-op threads on CPU")
    max_steps: int = Field(100, ge=1)
    max_rollouts: int | None = Field(None, ge=1, description="stop after this many rollouts")
    save_every: int = Field(50, ge=1)
    keep_checkpoints: int = Field(2, ge=1)
    log_every: int = Field(1, ge=1)
    eval_every: int = Field(0, ge=0, description="steps between pass@k evals (0: start and end)")
    eval_k: int = Field(8, ge=1)
    eval_max_problems: int = Field(200, ge=1)
    eval_temperature: float = Field(1.0, gt=0.0)
    data: DataConfig
    rollout: RolloutConfig = Field(default_factory=RolloutConfig)
    reward: RewardConfig = Field(default_factory=RewardConfig)
    loss: LossConfig = Field(default_factory=LossConfig)
    optim: OptimConfig = Field(default_factory=OptimConfig)
    lora: LoraConfig = Field(default_factory=LoraConfig)
    dars: DarsConfig = Field(default_factory=DarsConfig)

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        if self.dars.enabled and self.dars.max_samples < self.rollout.samples_per_prompt:
            raise ValueError(
                f"dars.max_samples ({self.dars.max_samples}) must be >= "
                f"rollout.samples_per_prompt ({self.rollout.samples_per_prompt})"
            )
        return self


class SFTConfig(_Section):
    """`veriforge sft CONFIG.yaml`: supervised warm start on worked solutions."""

    model: str
    output_dir: str
    pools: list[str] = Field(min_length=1)
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    threads: int = Field(1, ge=1)
    epochs: float = Field(1.0, gt=0.0)
    max_steps: int | None = Field(None, ge=1, description="overrides epochs when set")
    batch_size: int = Field(16, ge=1)
    lr: float = Field(1e-4, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    warmup_steps: int = Field(0, ge=0)
    schedule: Literal["constant", "linear", "cosine"] = "cosine"
    max_grad_norm: float = Field(1.0, gt=0.0)
    max_length: int = Field(512, ge=8)
    max_problems: int | None = Field(None, ge=1)
    system_prompt: str | None = None
    log_every: int = Field(10, ge=1)
    lora: LoraConfig = Field(default_factory=LoraConfig)


C = TypeVar("C", bound=BaseModel)


def _describe(error: dict[str, Any]) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif "input" in error and error["type"] != "missing":
        message += f" (got {error['input']!r})"
    return f"{field}: {message}"


def parse_config(data: Any, cls: type[C], source: str = "config") -> C:
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return cls.model_validate(data)
    except ValidationError as error:
        lines = [_describe(e) for e in error.errors(include_url=False)]
        raise ConfigError(f"{source}: " + "; ".join(lines)) from None


def load_config(path: str | Path, cls: type[C]) -> C:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({error})") from None
    return parse_config(data, cls, str(path))


def config_reference(
    cls: type[BaseModel] = TrainConfig, prefix: str = ""
) -> list[tuple[str, str, str]]:
    """(dotted field, default, description) for every option: what docs/train.md lists."""
    rows: list[tuple[str, str, str]] = []
    for name, field in cls.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(config_reference(annotation, f"{prefix}{name}."))
            continue
        if field.is_required():
            default = "required"
        elif field.default_factory is not None:
            default = repr(field.default_factory())
        else:
            default = repr(field.default)
        rows.append((prefix + name, default, field.description or ""))
    return rows
