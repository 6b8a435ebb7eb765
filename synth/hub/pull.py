"""Pull a published pool back into a local pool directory."""

from __future__ import annotations

import glob
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from synth.card import (
    DEFAULT_CONFIG,
    config_prefix,
    render_card,
)
from synth.hub.errors import (
    RESERVED_CONFIGS,
    HubError,
    HubInputError,
    PoolVerificationError,
    Step,
    check_config,
    check_repo_id,
)
from synth.hub.plan import PullResult, _load_pool
from synth.hub.remote import _api, _Context, _explain
from synth.pool import DATA_DIR, MANIFEST, README, PoolError


def _configs_in(paths: Iterable[str]) -> list[str]:
    """The veriforge configs a repo holds, from its file list."""
    paths = set(paths)
    found = set()
    for path in paths:
        parts = path.split("/")
        if parts == [MANIFEST]:
            found.add(DEFAULT_CONFIG)
        elif len(parts) == 2 and parts[1] == MANIFEST and parts[0] not in RESERVED_CONFIGS:
            found.add(parts[0])
    return sorted(found, key=lambda c: (c != DEFAULT_CONFIG, c))


def pull_pool(
    repo_id: str,
    out: Path | str,
    *,
    config: str | None = None,
    revision: str | None = None,
    token: str | None = None,
    overwrite: bool = False,
    on_step: Step | None = None,
) -> PullResult:
    """Download a published pool (one config) into `out` as a normal pool directory.

    Files land in a temporary sibling directory, are checked against the manifest's sha256s
    and read back as Problems, get a local card, and only then is the directory renamed into
    place: a failed pull leaves nothing behind. Without `config`, the `default` config is
    taken, or the only config if there is just one.
    """
    from huggingface_hub.hf_api import RepoFile

    from synth.pool import _check_replaceable, _commit

    repo_id = check_repo_id(repo_id)
    wanted_config = None if config is None else check_config(config)
    out = Path(out)
    step = on_step or (lambda _: None)
    if os.path.lexists(out):
        if not overwrite:
            raise HubInputError(f"{out} already exists; choose another path or pass --overwrite")
        try:
            _check_replaceable(out)
        except PoolError as err:
            raise HubInputError(str(err)) from err
    api = _api(token)
    ctx = _Context(api.endpoint, repo_id, "dataset", token)
    step(f"reading {repo_id} on {api.endpoint}")
    try:
        info = api.repo_info(repo_id, repo_type="dataset", revision=revision)
        tree = [
            f.path
            for f in api.list_repo_tree(
                repo_id, repo_type="dataset", revision=info.sha, recursive=True
            )
            if isinstance(f, RepoFile)
        ]
    except Exception as err:
        raise _explain(err, ctx, "read") from err
    configs = _configs_in(tree)
    if not configs:
        raise HubInputError(f"{repo_id} holds no veriforge pool (no {MANIFEST} in any config)")
    if wanted_config is None:
        if DEFAULT_CONFIG in configs or len(configs) == 1:
            chosen = configs[0]
        else:
            raise HubInputError(
                f"{repo_id} has several configs ({', '.join(configs)}); choose one with --config"
            )
    elif wanted_config not in configs:
        raise HubInputError(
            f"{repo_id} has no config {wanted_config!r} (configs: {', '.join(configs)})"
        )
    else:
        chosen = wanted_config
    prefix = config_prefix(chosen)
    data_prefix = f"{prefix}{DATA_DIR}/"
    wanted = [f"{prefix}{MANIFEST}"] + sorted(
        p
        for p in tree
        if p.startswith(data_prefix) and p.endswith(".parquet") and "/" not in p[len(data_prefix) :]
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    work = out.parent / f".{out.name}.pull-{os.getpid()}"
    if os.path.lexists(work):
        shutil.rmtree(work)
    try:
        work.mkdir()
        download = work / "download"
        step(f"downloading {len(wanted)} files of config {chosen} at {info.sha[:12]}")
        try:
            api.snapshot_download(
                repo_id,
                repo_type="dataset",
                revision=info.sha,
                allow_patterns=[glob.escape(p) for p in wanted],
                local_dir=download,
            )
        except Exception as err:
            raise _explain(err, ctx, "download") from err
        pool_dir = work / "pool"
        (pool_dir / DATA_DIR).mkdir(parents=True)
        for path in wanted:
            source = download / path
            if not source.is_file():
                raise HubError(f"{repo_id}: {path} is listed but was not downloaded")
            target = pool_dir / path[len(prefix) :]
            os.replace(source, target)
        local = _load_pool(pool_dir)  # shard hashes checked against the manifest here
        card = render_card(local.problems, local.manifest)
        (pool_dir / README).write_text(card, encoding="utf-8", newline="\n")
        _commit(pool_dir, out, overwrite)
    except (PoolError, PoolVerificationError) as err:
        raise HubError(
            f"{repo_id} (config {chosen}, commit {info.sha[:12]}) did not download as a valid "
            f"pool: {err}; nothing was written to {out}"
        ) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return PullResult(
        path=out,
        repo_id=repo_id,
        config=chosen,
        revision=revision,
        commit=info.sha,
        rows=len(local.problems),
        files=wanted,
    )
