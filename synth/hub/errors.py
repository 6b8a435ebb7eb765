"""Hub errors and checks of repo ids, config names and branches."""

from __future__ import annotations

import re
from collections.abc import Callable

from synth.card import (
    DEFAULT_CONFIG,
)
from synth.pool import DATA_DIR
from synth.verification import RowVerdict

IMAGE = "assets/difficulty.png"
RESERVED_CONFIGS = frozenset({DATA_DIR, "assets"})
_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9])?"
_REPO_ID_RE = re.compile(rf"^{_NAME}/{_NAME}$")
_CONFIG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BRANCH_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
Step = Callable[[str], None]


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
