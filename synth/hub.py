"""Pools (and trained checkpoints) on the Hugging Face Hub: publish, pull, publish a model.

A dataset repo holds one or more **configs**, each a pool in the on-disk layout:

```
README.md                                one card for the whole repo (YAML `configs:` lists all)
manifest.json, data/train-*.parquet      the `default` config (published without --config)
assets/difficulty.png                    its difficulty histogram, linked from the card
CONFIG/manifest.json, CONFIG/data/...    a named config (published with --config CONFIG)
CONFIG/assets/difficulty.png
```

Publishing validates the pool first (shard hashes against the manifest, every row re-proved
from its certificate), renders the card from the rows (merged with the card already in the
repo, so other configs stay listed), compares every file with what the repo holds (git blob
ids for regular files, sha256 for LFS files) and makes exactly **one** `create_commit` with
the changed files and the deletion of stale shards of the same config — or no commit at all
when nothing changed. A commit is atomic on the Hub, so a failure at any point (bad token,
no permission, the connection lost mid-upload) publishes nothing: LFS objects uploaded before
the failure are invisible until a commit references them.

The token is whatever `huggingface_hub` finds (`HF_TOKEN`, then the login cache); it is
never printed, and no message here contains it. The endpoint is `HF_ENDPOINT` (default
https://huggingface.co).

The run-directory contract of `publish_model` is described in `find_checkpoint` and
`plan_model_upload`.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .card import (
    DEFAULT_CONFIG,
    config_prefix,
    difficulty_png,
    render_card,
    render_hub_card,
    render_model_card,
)
from .pool import DATA_DIR, MANIFEST, README, PoolError, read_manifest, read_pool, shard_paths
from .problem import Problem
from .verification import RowVerdict, verify_rows

__all__ = [
    "FileChange",
    "FileToUpload",
    "HubError",
    "HubInputError",
    "PoolVerificationError",
    "PublishResult",
    "PullResult",
    "check_config",
    "check_repo_id",
    "find_checkpoint",
    "plan_model_upload",
    "plan_upload",
    "publish_model",
    "publish_pool",
    "pull_pool",
    "validate_pool",
]

IMAGE = "assets/difficulty.png"
RESERVED_CONFIGS = frozenset({DATA_DIR, "assets"})
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
_REPO_ID_RE = re.compile(rf"^{_NAME}/{_NAME}$")
_CONFIG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

Step = Callable[[str], None]


# --------------------------------------------------------------------------------------------
# errors


class HubError(Exception):
    """Talking to the Hub failed (auth, permission, network, server); exit 1 in the CLI."""


class HubInputError(HubError):
    """Bad input: repo id, config or branch name, missing repo/config/revision; exit 2."""


class PoolVerificationError(HubError):
    """The pool failed validation (a shard was modified, or a row did not re-prove)."""

    def __init__(self, message: str, failures: list[RowVerdict] | None = None):
        super().__init__(message)
        self.failures = failures or []


def check_repo_id(repo_id: str) -> str:
    """`OWNER/NAME` as the Hub accepts it, or HubInputError."""
    if not isinstance(repo_id, str) or not _REPO_ID_RE.match(repo_id):
        raise HubInputError(
            f"{repo_id!r} is not a repo id: expected OWNER/NAME (letters, digits, '-', '_', '.'; "
            "at most 96 characters each, not starting or ending with '-' or '.')"
        )
    if "--" in repo_id or ".." in repo_id or repo_id.endswith(".git"):
        raise HubInputError(f"{repo_id!r} is not a repo id: '--', '..' and '.git' are not allowed")
    return repo_id


def check_config(config: str | None) -> str:
    """A config name (`default` for None): letters, digits, '-', '_'; not data/assets."""
    if config is None or config == DEFAULT_CONFIG:
        return DEFAULT_CONFIG
    if not _CONFIG_RE.match(config):
        raise HubInputError(
            f"config name {config!r}: use letters, digits, '-' and '_' (at most 64, starting "
            "with a letter or digit)"
        )
    if config in RESERVED_CONFIGS:
        raise HubInputError(
            f"config name {config!r} is reserved (it is a folder of the default config)"
        )
    return config


def _check_branch(revision: str | None) -> str:
    if revision is None:
        return "main"
    if re.fullmatch(r"[0-9a-f]{40}", revision) or not _BRANCH_RE.match(revision):
        raise HubInputError(
            f"--revision {revision!r}: publishing needs a branch name (letters, digits, "
            "'-', '_', '.'), not a commit or a path"
        )
    return revision


# --------------------------------------------------------------------------------------------
# files and plans


@dataclass(frozen=True)
class FileToUpload:
    """One file of an upload plan: where it goes, its size and hashes, and its bytes."""

    path_in_repo: str
    size: int
    sha256: str
    git_oid: str  # git blob id: what the Hub reports for a regular (non-LFS) file
    local_path: Path | None = None
    content: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_path(cls, path_in_repo: str, path: Path) -> FileToUpload:
        size = path.stat().st_size
        sha256, git = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha256.update(chunk)
                git.update(chunk)
        return cls(path_in_repo, size, sha256.hexdigest(), git.hexdigest(), local_path=path)

    @classmethod
    def from_bytes(cls, path_in_repo: str, data: bytes) -> FileToUpload:
        git = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        return cls(path_in_repo, len(data), hashlib.sha256(data).hexdigest(), git, content=data)

    def source(self) -> str | bytes:
        """What `CommitOperationAdd(path_or_fileobj=...)` takes."""
        return str(self.local_path) if self.local_path is not None else (self.content or b"")

    def same_as(self, remote: Any) -> bool:
        """Whether a `RepoFile` from the Hub has exactly these bytes."""
        if remote is None or getattr(remote, "size", None) != self.size:
            return False
        lfs = getattr(remote, "lfs", None)
        if lfs is not None:
            return lfs.sha256 == self.sha256
        return getattr(remote, "blob_id", None) == self.git_oid


@dataclass(frozen=True)
class FileChange:
    """What publishing does to one path: add, update, delete, or keep (already identical)."""

    path_in_repo: str
    action: str
    size: int


@dataclass
class PublishResult:
    """What `publish_pool`/`publish_model` did (or, with `dry_run`, would do)."""

    repo_id: str
    repo_type: str
    url: str
    revision: str
    config: str | None
    files: list[FileToUpload]
    changes: list[FileChange]
    dry_run: bool
    rows: int = 0
    repo_exists: bool = True
    branch_exists: bool = True
    private: bool | None = None
    remote_note: str | None = None
    commit_oid: str | None = None
    commit_url: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def uploads(self) -> list[FileChange]:
        return [c for c in self.changes if c.action in ("add", "update")]

    @property
    def deletions(self) -> list[FileChange]:
        return [c for c in self.changes if c.action == "delete"]

    @property
    def changed(self) -> bool:
        """Whether a commit is (or was) needed."""
        return bool(self.uploads or self.deletions)

    @property
    def upload_bytes(self) -> int:
        return sum(c.size for c in self.uploads)


@dataclass
class PullResult:
    """A pool downloaded from the Hub."""

    path: Path
    repo_id: str
    config: str
    revision: str | None
    commit: str
    rows: int
    files: list[str]


@dataclass
class LocalPool:
    """A pool read from disk and checked: rows, manifest and shards."""

    path: Path
    problems: list[Problem]
    manifest: dict
    shards: list[Path]


# --------------------------------------------------------------------------------------------
# validation


def _load_pool(pool: Path | str) -> LocalPool:
    """Read a pool (PoolError if it is not one) and check its shards against the manifest."""
    path = Path(pool)
    shards = shard_paths(path)
    manifest = read_manifest(path)
    problems = read_pool(path)
    if not problems:
        raise PoolError(f"{path}: the pool has no rows; nothing to publish")
    recorded = {
        str(s.get("file")): s.get("sha256")
        for s in manifest.get("shards") or []
        if isinstance(s, dict)
    }
    if recorded:
        actual = {f"{DATA_DIR}/{s.name}": s for s in shards}
        missing = sorted(set(recorded) - set(actual))
        extra = sorted(set(actual) - set(recorded))
        if missing or extra:
            raise PoolVerificationError(
                f"{path}: the shards do not match {MANIFEST} "
                f"(missing: {', '.join(missing) or '-'}; not in the manifest: {', '.join(extra) or '-'})"
            )
        for name, shard in actual.items():
            digest = FileToUpload.from_path(name, shard).sha256
            if recorded[name] != digest:
                raise PoolVerificationError(
                    f"{shard}: sha256 {digest[:16]}... does not match {MANIFEST} "
                    f"({str(recorded[name])[:16]}...): the shard changed after the pool was written"
                )
    return LocalPool(path, problems, manifest, shards)


def validate_pool(
    pool: Path | str | LocalPool,
    *,
    workers: int = 1,
    on_verdict: Callable[[RowVerdict, int], None] | None = None,
) -> LocalPool:
    """Check a pool before it is published: readable, shards as recorded, every row re-proved.

    Raises PoolError (not a pool) or PoolVerificationError (with the failing rows).
    `on_verdict(verdict, total)` is called once per row, for progress display.
    """
    local = pool if isinstance(pool, LocalPool) else _load_pool(pool)
    total = len(local.problems)
    failures: list[RowVerdict] = []

    def note(verdict: RowVerdict) -> None:
        if not verdict.ok:
            failures.append(verdict)
        if on_verdict is not None:
            on_verdict(verdict, total)

    verify_rows((p.to_row() for p in local.problems), workers=workers, on_result=note)
    if failures:
        first = failures[0]
        raise PoolVerificationError(
            f"{local.path}: {len(failures)} of {total} rows failed verification "
            f"(first: {first.id} from {first.source}: {first.reason}); nothing was published",
            failures,
        )
    return local


def plan_upload(
    pool: Path | str | LocalPool,
    config: str | None = None,
    *,
    repo_id: str = "OWNER/NAME",
    existing_card: str | None = None,
    revision: str | None = None,
) -> list[FileToUpload]:
    """The files publishing `pool` as `config` puts in the repo, sorted by path.

    Shards and the manifest are uploaded as they are; the card is rendered for `repo_id`,
    merged with `existing_card` (the repo's README, if any); the difficulty histogram is
    drawn from the rows.
    """
    local = pool if isinstance(pool, LocalPool) else _load_pool(pool)
    config = check_config(config)
    prefix = config_prefix(config)
    files = [FileToUpload.from_path(f"{prefix}{DATA_DIR}/{s.name}", s) for s in local.shards]
    files.append(FileToUpload.from_path(f"{prefix}{MANIFEST}", local.path / MANIFEST))
    difficulties = [p.difficulty for p in local.problems]
    title = repo_id.split("/")[-1] if config == DEFAULT_CONFIG else config
    files.append(
        FileToUpload.from_bytes(f"{prefix}{IMAGE}", difficulty_png(difficulties, title=title))
    )
    card = render_hub_card(
        local.problems,
        local.manifest,
        repo_id=repo_id,
        config=config,
        image=f"{prefix}{IMAGE}",
        existing=existing_card,
        revision=None if revision in (None, "main") else revision,
    )
    files.append(FileToUpload.from_bytes(README, card.encode("utf-8")))
    return sorted(files, key=lambda f: f.path_in_repo)


def _diff(
    files: list[FileToUpload], remote: dict[str, Any], stale: Callable[[str], bool]
) -> list[FileChange]:
    changes = []
    planned = {f.path_in_repo for f in files}
    for f in files:
        existing = remote.get(f.path_in_repo)
        action = "add" if existing is None else "keep" if f.same_as(existing) else "update"
        changes.append(FileChange(f.path_in_repo, action, f.size))
    for path in sorted(remote):
        if path not in planned and stale(path):
            changes.append(FileChange(path, "delete", 0))
    return changes


# --------------------------------------------------------------------------------------------
# talking to the Hub


def _api(token: str | None) -> Any:
    from huggingface_hub import HfApi

    return HfApi(token=token, library_name="veriforge")


def _token_source(token: str | None) -> str:
    if token:
        return "the token passed in"
    if os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"):
        return "the token in HF_TOKEN"
    from huggingface_hub import constants

    return f"the token in the login cache ({constants.HF_TOKEN_PATH})"


def _has_token(token: str | None) -> bool:
    from huggingface_hub import get_token

    return bool(token or get_token())


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


_NETWORK_ERRORS = {
    "CloseError",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionError",
    "NetworkError",
    "PoolTimeout",
    "ProtocolError",
    "ProxyError",
    "ReadError",
    "ReadTimeout",
    "RemoteProtocolError",
    "TimeoutException",
    "WriteError",
    "WriteTimeout",
}
_HTTP_LIBRARIES = {"httpx", "httpx2", "httpcore", "requests", "urllib3"}


def _network_error(err: BaseException) -> BaseException | None:
    for e in _chain(err):
        kind = type(e)
        if kind.__module__.split(".")[0] in _HTTP_LIBRARIES and kind.__name__ in _NETWORK_ERRORS:
            return e
        if isinstance(e, (ConnectionRefusedError, ConnectionResetError, BrokenPipeError)):
            return e
        if isinstance(e, TimeoutError):
            return e
    return None


@dataclass
class _Context:
    endpoint: str
    repo_id: str
    repo_type: str
    token: str | None
    user: str | None = None
    role: str | None = None

    @property
    def what(self) -> str:
        return f"{self.repo_type} repo {self.repo_id}"


def _server_message(err: Any) -> str:
    message = getattr(err, "server_message", None)
    response = getattr(err, "response", None)
    if not message and response is not None:
        message = response.headers.get("X-Error-Message")
    return str(message or "").strip().rstrip(".")


def _explain(err: BaseException, ctx: _Context, phase: str) -> HubError:
    """A HubError with a message a user can act on; never includes the token.

    `phase` is where it happened: auth, read, create, branch, upload, commit or download.
    """
    from huggingface_hub.errors import (
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    if isinstance(err, HubError):
        return err
    endpoint = ctx.endpoint
    for e in _chain(err):
        if isinstance(e, OfflineModeIsEnabled):
            return HubError(
                f"offline mode is on (HF_HUB_OFFLINE=1), so {endpoint} cannot be reached; "
                "unset HF_HUB_OFFLINE to talk to the Hub"
            )
    network = _network_error(err)
    if network is not None:
        detail = f"{type(network).__name__}: {network}".rstrip(": ")
        if phase == "upload":
            return HubError(
                f"lost the connection to {endpoint} while uploading to {ctx.repo_id} ({detail}); "
                "nothing was published (files only appear in the repo with the final commit, "
                "which was not made). Run the command again."
            )
        if phase == "commit":
            return HubError(
                f"lost the connection to {endpoint} during the commit to {ctx.repo_id} ({detail}); "
                "the commit is atomic, so the repo holds either all of it or none of it — "
                "nothing is half-published. Run the command again: if the commit went through, "
                "it is a no-op."
            )
        if phase == "download":
            return HubError(
                f"lost the connection to {endpoint} while downloading {ctx.repo_id} ({detail}); "
                "nothing was written. Run the command again."
            )
        done = " Nothing was published." if phase in ("create", "branch") else ""
        return HubError(f"cannot reach the Hub at {endpoint} ({detail}).{done}")

    if "Invalid metadata in README.md" in str(err):
        detail = " ".join(str(err).split())
        return HubError(
            f"the Hub rejected the card's YAML metadata: {detail} Nothing was published."
        )
    http = next((e for e in _chain(err) if isinstance(e, HfHubHTTPError)), None)
    if http is None:
        return HubError(f"{phase} failed for {ctx.repo_id}: {type(err).__name__}: {err}")
    response = http.response
    status = response.status_code if response is not None else 0
    server = _server_message(http)
    nothing = " Nothing was published." if phase in ("create", "branch", "upload", "commit") else ""
    if isinstance(http, RevisionNotFoundError):
        return HubInputError(
            f"{ctx.repo_id}: revision not found on {endpoint}{f' ({server})' if server else ''}"
        )
    if status == 401 and not (
        isinstance(http, RepositoryNotFoundError)
        and server != "Invalid credentials in Authorization header"
    ):
        if not _has_token(ctx.token):
            return HubError(
                f"authentication required by {endpoint}: no Hugging Face token found; set HF_TOKEN "
                f"or log in with `hf auth login`.{nothing}"
            )
        return HubError(
            f"authentication failed for {endpoint}: {_token_source(ctx.token)} is invalid or "
            f"expired (the Hub answered 401); set HF_TOKEN to a valid token or run "
            f"`hf auth login`.{nothing}"
        )
    if isinstance(http, RepositoryNotFoundError) or (
        status == 404 and phase in ("read", "download")
    ):
        hint = (
            "; no token was sent, so private repos are invisible (set HF_TOKEN)"
            if not _has_token(ctx.token)
            else f", or it is private and {ctx.user or 'the token user'} cannot see it"
        )
        return HubInputError(f"{ctx.repo_id}: no such {ctx.repo_type} repo on {endpoint}{hint}")
    if status == 403:
        if phase in ("read", "download"):
            return HubError(
                f"no read access to {ctx.repo_id} on {endpoint}{f': {server}' if server else ''}"
            )
        if ctx.role == "read":
            why = "the token is read-only (role 'read'); use a token with write access"
        elif ctx.user and ctx.user != ctx.repo_id.split("/")[0]:
            why = (
                f"user {ctx.user} cannot write to namespace {ctx.repo_id.split('/')[0]} "
                "(publish under your own name or an organisation you can write to)"
            )
        else:
            why = server or "the token lacks write permission"
        return HubError(f"no write access to {ctx.repo_id} on {endpoint}: {why}.{nothing}")
    if status in (409, 412) and phase == "commit":
        return HubError(
            f"{ctx.repo_id} changed on the Hub while publishing (another commit landed first); "
            "nothing was published from this run. Run the command again."
        )
    if status >= 500:
        return HubError(
            f"the Hub at {endpoint} failed with {status}{f' ({server})' if server else ''} during "
            f"the {phase} step.{nothing}"
        )
    return HubError(
        f"the Hub at {endpoint} refused the {phase} step for {ctx.repo_id} with {status}"
        f"{f': {server}' if server else ''}.{nothing}"
    )


@dataclass
class _Remote:
    exists: bool
    private: bool | None = None
    branch_exists: bool = True
    sha: str | None = None
    files: dict[str, Any] = field(default_factory=dict)
    readme: str | None = None
    note: str | None = None


def _read_remote(api: Any, ctx: _Context, branch: str, *, dry_run: bool) -> _Remote:
    """The repo's state at `branch` (or at main when the branch is still to be made)."""
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    try:
        try:
            info = api.repo_info(ctx.repo_id, repo_type=ctx.repo_type, revision=branch)
            branch_exists = True
        except RevisionNotFoundError:
            info = api.repo_info(ctx.repo_id, repo_type=ctx.repo_type)
            branch_exists = False
        files = {
            f.path: f
            for f in api.list_repo_tree(
                ctx.repo_id, repo_type=ctx.repo_type, revision=info.sha, recursive=True
            )
            if isinstance(f, RepoFile)
        }
        readme = None
        if README in files:
            path = api.hf_hub_download(
                ctx.repo_id, README, repo_type=ctx.repo_type, revision=info.sha
            )
            readme = Path(path).read_text(encoding="utf-8")
    except RepositoryNotFoundError as err:
        if getattr(err.response, "status_code", None) == 401 and _server_message(err) == (
            "Invalid credentials in Authorization header"
        ):
            raise _explain(err, ctx, "read") from err
        return _Remote(
            exists=False,
            branch_exists=False,
            note=f"{ctx.repo_id} does not exist yet (or is not visible with the current token)",
        )
    except Exception as err:
        explained = _explain(err, ctx, "read")
        if dry_run and _network_error(err) is not None:
            return _Remote(exists=False, branch_exists=False, note=str(explained))
        raise explained from err
    return _Remote(True, bool(info.private), branch_exists, info.sha, files, readme)


def _whoami(api: Any, ctx: _Context) -> None:
    """Fail fast, before any work, when there is no usable token."""
    if not _has_token(ctx.token):
        raise HubError(
            f"no Hugging Face token found: publishing to {ctx.endpoint} needs one with write "
            "access; set HF_TOKEN or log in with `hf auth login`"
        )
    try:
        info = api.whoami(token=ctx.token)
    except Exception as err:
        raise _explain(err, ctx, "auth") from err
    ctx.user = info.get("name")
    access = (info.get("auth") or {}).get("accessToken") or {}
    ctx.role = access.get("role")
    if ctx.role == "read":
        raise HubError(
            f"{_token_source(ctx.token)} is read-only (role 'read') for user {ctx.user}: "
            f"publishing to {ctx.repo_id} needs a token with write access. Nothing was published."
        )


def _repo_url(api: Any, repo_id: str, repo_type: str) -> str:
    prefix = "" if repo_type == "model" else f"{repo_type}s/"
    return f"{api.endpoint}/{prefix}{repo_id}"


def _apply(
    api: Any,
    ctx: _Context,
    result: PublishResult,
    remote: _Remote,
    *,
    private: bool,
    message: str,
    description: str,
    on_step: Step | None,
) -> None:
    """Create the repo/branch if needed, upload the changed files, make the one commit."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    step = on_step or (lambda _: None)
    parent = remote.sha
    if not remote.exists:
        step(f"creating {'private ' if private else ''}{ctx.what}")
        try:
            api.create_repo(ctx.repo_id, repo_type=ctx.repo_type, private=private, exist_ok=True)
            info = api.repo_info(ctx.repo_id, repo_type=ctx.repo_type)
        except Exception as err:
            raise _explain(err, ctx, "create") from err
        parent, result.private = info.sha, bool(info.private)
        if not result.branch_exists and result.revision == "main":
            result.branch_exists = True
    if result.revision != "main" and not remote.branch_exists:
        step(f"creating branch {result.revision}")
        try:
            api.create_branch(
                ctx.repo_id,
                branch=result.revision,
                revision=parent,
                repo_type=ctx.repo_type,
                exist_ok=True,
            )
        except Exception as err:
            raise _explain(err, ctx, "branch") from err
    by_path = {f.path_in_repo: f for f in result.files}
    additions = [
        CommitOperationAdd(
            path_in_repo=c.path_in_repo, path_or_fileobj=by_path[c.path_in_repo].source()
        )
        for c in result.uploads
    ]
    deletions = [CommitOperationDelete(path_in_repo=c.path_in_repo) for c in result.deletions]
    if additions:
        step(f"uploading {len(additions)} files ({_human(result.upload_bytes)})")
        try:
            api.preupload_lfs_files(
                ctx.repo_id, additions=additions, repo_type=ctx.repo_type, revision=result.revision
            )
        except Exception as err:
            raise _explain(err, ctx, "upload") from err
    step("committing")
    try:
        info = api.create_commit(
            ctx.repo_id,
            [*additions, *deletions],
            commit_message=message,
            commit_description=description,
            repo_type=ctx.repo_type,
            revision=result.revision,
            parent_commit=parent,
        )
    except Exception as err:
        raise _explain(err, ctx, "commit") from err
    result.commit_oid = info.oid
    result.commit_url = info.commit_url
    result.repo_exists = True
    result.branch_exists = True


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover


# --------------------------------------------------------------------------------------------
# publish a pool


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
    if not dry_run:
        step(f"checking the token for {api.endpoint}")
        _whoami(api, ctx)
    step(f"verifying {len(local.problems)} rows from their certificates")
    validate_pool(local, workers=workers, on_verdict=on_verdict)
    step(f"reading {repo_id} on {api.endpoint}")
    remote = _read_remote(api, ctx, branch, dry_run=dry_run)
    if private and remote.exists and remote.private is False:
        raise HubInputError(
            f"{repo_id} already exists and is public: --private would not make it private. "
            "Change its visibility in the repo settings first, or publish without --private."
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


# --------------------------------------------------------------------------------------------
# pull a pool


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

    from .pool import _check_replaceable, _commit

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


# --------------------------------------------------------------------------------------------
# publish a model


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
    if not dry_run:
        step(f"checking the token for {api.endpoint}")
        _whoami(api, ctx)
    step(f"reading {repo_id} on {api.endpoint}")
    remote = _read_remote(api, ctx, branch, dry_run=dry_run)
    if private and remote.exists and remote.private is False:
        raise HubInputError(
            f"{repo_id} already exists and is public: --private would not make it private. "
            "Change its visibility in the repo settings first, or publish without --private."
        )
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
