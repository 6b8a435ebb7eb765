"""Publish a trained checkpoint with a model card (the run-directory contract)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from synth.card import (
    render_model_card,
)
from synth.hub.errors import _REPO_ID_RE, HubInputError, Step, _check_branch, check_repo_id
from synth.hub.plan import FileToUpload, PublishResult, _diff
from synth.hub.remote import _api, _apply, _Context, _repo_url, open_repo
from synth.pool import README

CHECKPOINT_EXCLUDE = (
    "optimizer.pt",
    "optimizer.bin",
    "scheduler.pt",
    "scaler.pt",
    "rng_state*.pth",
    "training_args.bin",
    "trainer_state.json",
    "optimizer*",
    "scheduler*",
    "random_states*",
    "*.pkl",
    "*.pt",
    "*.pth",
    ".*",
)
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.gguf", "*.h5", "*.msgpack", "*.ckpt")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "tokenizer.model",
    "vocab.json",
    "spiece.model",
)
RUN_FILES = {
    "config.yaml": "training_config.yaml",
    "metrics.jsonl": "metrics.jsonl",
    "eval.json": "eval.json",
    "pools.json": "pools.json",
}
_SECRET_KEY = re.compile(
    r"(^|[_-])token$|secret|passw(or)?d|api[_-]?key|private[_-]?key|credential|^auth(orization)?$",
    re.IGNORECASE,
)  # hf_token, access-token, client_secret, api_key...; not max_tokens or tokenizer


def _matches(name: str, patterns: Iterable[str]) -> bool:
    from fnmatch import fnmatch

    return any(fnmatch(name, p) for p in patterns)


def _is_checkpoint(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    has_config = (folder / "config.json").is_file() or (folder / "adapter_config.json").is_file()
    has_weights = any(
        p.is_file()
        and _matches(p.name, WEIGHT_PATTERNS)
        and not _matches(p.name, CHECKPOINT_EXCLUDE)
        for p in folder.iterdir()
    )
    return has_config and has_weights


def find_checkpoint(run_dir: Path | str) -> Path:
    """The checkpoint folder of a run directory.

    The run-dir contract: a `transformers` checkpoint (`config.json` — or `adapter_config.json`
    for a PEFT adapter —, weights `*.safetensors`/`*.bin`, tokenizer files) in `RUN_DIR/final/`,
    else the highest-numbered `RUN_DIR/checkpoint-N/`, else `RUN_DIR` itself.
    """
    run = Path(run_dir)
    if not run.is_dir():
        raise HubInputError(f"{run}: no such run directory")
    if _is_checkpoint(run / "final"):
        return run / "final"
    numbered = []
    for child in run.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", child.name)
        if match and _is_checkpoint(child):
            numbered.append((int(match[1]), child))
    if numbered:
        return max(numbered)[1]
    if _is_checkpoint(run):
        return run
    raise HubInputError(
        f"{run}: no checkpoint found: expected a transformers checkpoint (config.json and "
        "*.safetensors or *.bin weights) in final/, in checkpoint-N/, or in the run directory"
    )


def _redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: "<redacted>"
            if isinstance(k, str) and _SECRET_KEY.search(k) and isinstance(v, str) and v
            else _redact(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HubInputError(f"{path}: not valid JSON: {err}") from err


def _read_metrics(path: Path) -> list[dict[str, Any]]:
    records = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise HubInputError(f"{path}: cannot read: {err}") from err
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise HubInputError(f"{path}:{number}: not JSON: {err.msg}") from err
        if not isinstance(record, dict):
            raise HubInputError(f"{path}:{number}: expected a JSON object per line")
        records.append(record)
    return records


def _read_pools(path: Path) -> list[dict[str, Any]]:
    value = _read_json(path)
    if isinstance(value, dict):
        value = value.get("pools", [])
    if not isinstance(value, list):
        raise HubInputError(f"{path}: expected a list of pools (repo ids, paths or objects)")
    pools = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            item = (
                {"repo_id": item}
                if _REPO_ID_RE.match(item) and not Path(item).exists()
                else {"path": item}
            )
        if not isinstance(item, dict) or not (item.get("repo_id") or item.get("path")):
            raise HubInputError(f"{path}: pools[{index}] needs a repo_id or a path")
        if item.get("repo_id"):
            check_repo_id(str(item["repo_id"]))
        pools.append(
            {k: item[k] for k in ("repo_id", "path", "config", "revision", "split") if item.get(k)}
        )
    return pools


def _base_model(training: dict[str, Any], checkpoint: Path) -> str | None:
    candidates: list[Any] = [training.get("base_model"), training.get("model_name_or_path")]
    model = training.get("model")
    if isinstance(model, dict):
        candidates += [model.get("base_model"), model.get("name_or_path"), model.get("name")]
    else:
        candidates.append(model)
    config = checkpoint / "config.json"
    if config.is_file():
        try:
            candidates.append(json.loads(config.read_text(encoding="utf-8")).get("_name_or_path"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            pass
    for candidate in candidates:
        if (
            isinstance(candidate, str)
            and _REPO_ID_RE.match(candidate)
            and not Path(candidate).exists()
        ):
            return candidate
    return None


def plan_model_upload(
    run_dir: Path | str,
    *,
    repo_id: str = "OWNER/NAME",
    endpoint: str = "https://huggingface.co",
    license: str | None = None,
) -> tuple[list[FileToUpload], list[str]]:
    """The files `publish_model` uploads from a run directory, and warnings.

    Run-dir contract (the trainer writes it; anything optional may be missing):

    - the checkpoint (see `find_checkpoint`): uploaded at the repo root, without optimizer,
      scheduler, RNG and trainer-state files or subfolders;
    - `config.yaml`: the training config; uploaded as `training_config.yaml` and shown in
      the card with values of secret-looking keys (token, password, api_key...) redacted;
      `base_model` (or `model_name_or_path`, `model`) names the base model, `license` the
      licence;
    - `metrics.jsonl`: one JSON object per logged step (`{"step": 10, "loss": ..., ...}`);
    - `eval.json`: pass@k results, `{"results": [{"dataset": "OWNER/NAME", "config": ...,
      "split": ..., "category": ..., "n": 200, "pass@1": 0.41, "pass@8": 0.77}, ...]}` or a
      flat `{"pass@1": 0.41, ...}`;
    - `pools.json`: the pools trained on, a list of repo ids (`"OWNER/NAME"`), local paths, or
      objects `{"repo_id": ..., "config": ..., "revision": ...}` / `{"path": ...}`.
    """
    run = Path(run_dir)
    checkpoint = find_checkpoint(run)
    warnings: list[str] = []
    files = []
    for item in sorted(checkpoint.iterdir()):
        if item.is_file() and not _matches(item.name, CHECKPOINT_EXCLUDE):
            files.append(FileToUpload.from_path(item.name, item))
    if not any((checkpoint / name).is_file() for name in TOKENIZER_FILES):
        warnings.append(
            f"{checkpoint}: no tokenizer files; users will need the base model's tokenizer"
        )
    training: dict[str, Any] = {}
    if (run / "config.yaml").is_file():
        try:
            loaded = yaml.safe_load((run / "config.yaml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise HubInputError(f"{run / 'config.yaml'}: not valid YAML: {err}") from err
        if loaded is not None and not isinstance(loaded, dict):
            raise HubInputError(f"{run / 'config.yaml'}: expected a mapping of training settings")
        training = _redact(loaded or {})
        text = yaml.safe_dump(training, sort_keys=False, allow_unicode=True, width=100)
        files.append(FileToUpload.from_bytes(RUN_FILES["config.yaml"], text.encode("utf-8")))
    metrics = _read_metrics(run / "metrics.jsonl") if (run / "metrics.jsonl").is_file() else []
    evaluation = _read_json(run / "eval.json") if (run / "eval.json").is_file() else None
    if evaluation is not None and not isinstance(evaluation, (dict, list)):
        raise HubInputError(f"{run / 'eval.json'}: expected an object or a list of results")
    pools = _read_pools(run / "pools.json") if (run / "pools.json").is_file() else []
    for name in ("metrics.jsonl", "eval.json", "pools.json"):
        if (run / name).is_file():
            files.append(FileToUpload.from_path(RUN_FILES[name], run / name))
    card = render_model_card(
        repo_id=repo_id,
        endpoint=endpoint,
        checkpoint=str(checkpoint.relative_to(run)) if checkpoint != run else ".",
        base_model=_base_model(training, checkpoint),
        license=license or (str(training["license"]) if training.get("license") else None),
        training=training,
        metrics=metrics,
        evaluation=evaluation,
        pools=pools,
        files=[(f.path_in_repo, f.size) for f in files],
    )
    files.append(FileToUpload.from_bytes(README, card.encode("utf-8")))
    return sorted(files, key=lambda f: f.path_in_repo), warnings


def publish_model(
    run_dir: Path | str,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    dry_run: bool = False,
    token: str | None = None,
    license: str | None = None,
    on_step: Step | None = None,
) -> PublishResult:
    """Publish a run's checkpoint with a model card to the model repo `repo_id`, in one commit.

    Same guarantees as `publish_pool`: one atomic commit, none when nothing changed, nothing
    written with `dry_run`. Weight files in the repo that the new checkpoint no longer has
    (e.g. a different shard count) are deleted in the same commit.
    """
    repo_id = check_repo_id(repo_id)
    branch = _check_branch(revision)
    step = on_step or (lambda _: None)
    api = _api(token)
    files, warnings = plan_model_upload(
        run_dir, repo_id=repo_id, endpoint=api.endpoint, license=license
    )
    ctx = _Context(api.endpoint, repo_id, "model", token)
    remote = open_repo(api, ctx, branch, private=private, dry_run=dry_run, step=step)
    managed = set(RUN_FILES.values())
    changes = _diff(
        files,
        remote.files,
        lambda p: (
            "/" not in p
            and (_matches(p, WEIGHT_PATTERNS) or p in managed or p.endswith(".index.json"))
        ),
    )
    result = PublishResult(
        repo_id=repo_id,
        repo_type="model",
        url=_repo_url(api, repo_id, "model"),
        revision=branch,
        config=None,
        files=files,
        changes=changes,
        dry_run=dry_run,
        repo_exists=remote.exists,
        branch_exists=remote.branch_exists,
        private=remote.private if remote.exists else private,
        remote_note=remote.note,
        warnings=warnings,
    )
    if dry_run or not result.changed:
        return result
    _apply(
        api,
        ctx,
        result,
        remote,
        private=private,
        message=f"Publish veriforge checkpoint {find_checkpoint(run_dir).name}",
        description=f"Uploaded: {', '.join(c.path_in_repo for c in result.uploads) or '-'}.",
        on_step=on_step,
    )
    return result
