"""What a publish would upload: the pool validated, its files listed and hashed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.card import (
    DEFAULT_CONFIG,
    config_prefix,
    difficulty_png,
    render_hub_card,
)
from synth.hub.errors import IMAGE, PoolVerificationError, check_config
from synth.pool import DATA_DIR, MANIFEST, README, PoolError, read_manifest, read_pool, shard_paths
from synth.problem import Problem
from synth.verification import RowVerdict, verify_rows


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
