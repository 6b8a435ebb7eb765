"""Talking to the Hub: the client, reading a repo, one atomic commit, errors in words."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.hub.errors import HubError, HubInputError, Step
from synth.hub.plan import PublishResult
from synth.pool import README


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


def open_repo(
    api: Any,
    ctx: _Context,
    branch: str,
    *,
    private: bool,
    dry_run: bool,
    step: Step,
    before_read: Callable[[], None] | None = None,
) -> _Remote:
    """Check the token (unless dry-run), run `before_read`, read the repo, and refuse to
    publish "privately" into a repo that already exists in public."""
    if not dry_run:
        step(f"checking the token for {api.endpoint}")
        _whoami(api, ctx)
    if before_read is not None:
        before_read()
    step(f"reading {ctx.repo_id} on {api.endpoint}")
    remote = _read_remote(api, ctx, branch, dry_run=dry_run)
    if private and remote.exists and remote.private is False:
        raise HubInputError(
            f"{ctx.repo_id} already exists and is public: --private would not make it private. "
            "Change its visibility in the repo settings first, or publish without --private."
        )
    return remote


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
        step(f"uploading {len(additions)} files ({human_size(result.upload_bytes)})")
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


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover
