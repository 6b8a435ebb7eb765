"""Publish a pool as (one config of) a dataset repo, in one commit or none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from synth.card import (
    DEFAULT_CONFIG,
    config_prefix,
)
from synth.hub.errors import Step, _check_branch, check_config, check_repo_id
from synth.hub.plan import PublishResult, _diff, _load_pool, plan_upload, validate_pool
from synth.hub.remote import _api, _apply, _Context, _repo_url, open_repo
from synth.pool import DATA_DIR
from synth.verification import RowVerdict


def publish_pool(
    pool: Path | str,
    repo_id: str,
    *,
    private: bool = False,
    config: str | None = None,
    revision: str | None = None,
    dry_run: bool = False,
    token: str | None = None,
    workers: int = 1,
    on_verdict: Callable[[RowVerdict, int], None] | None = None,
    on_step: Step | None = None,
) -> PublishResult:
    """Validate `pool` and publish it to the dataset repo `repo_id` in one commit.

    `config` puts the pool under `CONFIG/` and lists it next to the repo's other configs in
    the card; `revision` is a branch (created from main if missing); `private` makes a new
    repo private (an existing public repo is refused rather than silently published to).
    Re-publishing unchanged content makes no commit (`result.changed` is False). With
    `dry_run`, nothing that writes is contacted and the result lists what would change.
    """
    repo_id = check_repo_id(repo_id)
    config_name = check_config(config)
    branch = _check_branch(revision)
    step = on_step or (lambda _: None)
    local = _load_pool(pool)
    api = _api(token)
    ctx = _Context(api.endpoint, repo_id, "dataset", token)

    def verify() -> None:
        step(f"verifying {len(local.problems)} rows from their certificates")
        validate_pool(local, workers=workers, on_verdict=on_verdict)

    remote = open_repo(
        api, ctx, branch, private=private, dry_run=dry_run, step=step, before_read=verify
    )
    files = plan_upload(
        local, config_name, repo_id=repo_id, existing_card=remote.readme, revision=branch
    )
    prefix = config_prefix(config_name)
    stale_dir = f"{prefix}{DATA_DIR}/"
    changes = _diff(files, remote.files, lambda p: p.startswith(stale_dir))
    result = PublishResult(
        repo_id=repo_id,
        repo_type="dataset",
        url=_repo_url(api, repo_id, "dataset"),
        revision=branch,
        config=None if config_name == DEFAULT_CONFIG else config_name,
        files=files,
        changes=changes,
        dry_run=dry_run,
        rows=len(local.problems),
        repo_exists=remote.exists,
        branch_exists=remote.branch_exists,
        private=remote.private if remote.exists else private,
        remote_note=remote.note,
    )
    if dry_run or not result.changed:
        return result
    what = f"config {config_name}" if config_name != DEFAULT_CONFIG else "pool"
    counts = local.manifest.get("counts") or {}
    categories = ", ".join(f"{k}: {v}" for k, v in sorted((counts.get("categories") or {}).items()))
    description = "\n".join(
        [
            f"{len(local.problems)} verified problems ({categories}).",
            f"Uploaded: {', '.join(c.path_in_repo for c in result.uploads) or '-'}.",
            f"Deleted: {', '.join(c.path_in_repo for c in result.deletions) or '-'}.",
        ]
    )
    _apply(
        api,
        ctx,
        result,
        remote,
        private=private,
        message=f"Publish veriforge {what} ({len(local.problems)} problems)",
        description=description,
        on_step=on_step,
    )
    return result
