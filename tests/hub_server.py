"""A small in-memory Hugging Face Hub, spoken to over real HTTP by the real `huggingface_hub`
and `datasets` clients (tests point `HF_ENDPOINT` at it).

It implements the part of the Hub's API that `HfApi` (repos, commits, LFS, trees, branches),
`hf_hub_download`/`snapshot_download` and `datasets.load_dataset` use, with git-like
semantics: every commit is an immutable snapshot of the tree, blob ids are real git blob
SHA-1s, LFS files are stored as pointers whose content lives in a per-repo LFS store, and a
commit is applied all at once or not at all. Xet is never advertised, so the client uses the
plain LFS batch API (`basic` transfer) — tests also set `HF_HUB_DISABLE_XET=1`, because
`huggingface_hub` picks Xet on its own whenever `hf_xet` is installed.

Users and tokens (`TOKENS`): alice has a write and a read-only token, bob a write token;
any other bearer token is rejected with 401 like the real Hub does. `go_away(on=...)`
simulates the server dying in the middle of an upload: the matching request's connection is
dropped without a response and every later request too, until `come_back()`.

Unknown routes answer 404 and are recorded in `FakeHub.unknown`, so a test can assert that
the clients used nothing the fake does not implement.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import json
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import yaml

ALICE_WRITE = "hf_alice_write_0123456789abcdefghij"
ALICE_READ = "hf_alice_read_0123456789abcdefghijk"
BOB_WRITE = "hf_bob_write_0123456789abcdefghijkl"
INVALID = "hf_not_a_valid_token_0123456789abcd"
TOKENS: dict[str, tuple[str, str]] = {
    ALICE_WRITE: ("alice", "write"),
    ALICE_READ: ("alice", "read"),
    BOB_WRITE: ("bob", "write"),
}

GITATTRIBUTES = b"""*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.png filter=lfs diff=lfs merge=lfs -text
*.jpg filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
"""
REGULAR_LIMIT = 5 * 1024 * 1024  # larger files must go through LFS
_EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
_FAILPOINTS = ("lfs_upload", "commit", "preupload", "lfs_batch")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


@dataclass(frozen=True)
class Blob:
    """One file of a tree: regular content, or an LFS pointer to `lfs_sha256`."""

    oid: str  # git blob id (of the content, or of the pointer for LFS files)
    size: int  # size of the real content
    content: bytes | None = None  # regular files only
    lfs_sha256: str | None = None
    pointer_size: int | None = None


@dataclass
class Commit:
    oid: str
    parent: str | None
    tree: dict[str, Blob]
    title: str
    message: str
    author: str
    date: datetime


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created: datetime
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    lfs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code
        self.headers = headers or {}
        self.body = body


class _Drop(Exception):
    """Close the connection without answering (the server 'went away')."""


class FakeHub:
    """The server: `start()`, `url`, `stop()`; state is inspectable while it runs and after."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.unknown: list[tuple[str, str]] = []
        self.down = False
        self.fail_on: str | None = None
        self._tickets: dict[str, tuple[tuple[str, str], str, int]] = {}
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_away(self, on: str) -> None:
        """Drop the connection of the next `on` request ("lfs_upload", "commit", "preupload",
        "lfs_batch") without an answer, and every request after it until `come_back()`."""
        if on not in _FAILPOINTS:
            raise ValueError(f"unknown failpoint {on!r}; one of {_FAILPOINTS}")
        self.fail_on = on

    def come_back(self) -> None:
        self.down = False
        self.fail_on = None

    # -- inspection helpers for tests ------------------------------------------------------

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def head(self, repo_id: str, repo_type: str = "dataset", branch: str = "main") -> str:
        return self.repo(repo_id, repo_type).branches[branch]

    def commit_count(self, repo_id: str, repo_type: str = "dataset", branch: str = "main") -> int:
        repo = self.repo(repo_id, repo_type)
        count, oid = 0, repo.branches.get(branch)
        while oid is not None:
            count += 1
            oid = repo.commits[oid].parent
        return count

    def files(
        self, repo_id: str, repo_type: str = "dataset", revision: str = "main"
    ) -> dict[str, bytes]:
        """Path -> content (LFS content resolved) of a revision."""
        repo = self.repo(repo_id, repo_type)
        commit = repo.commits[self._resolve(repo, revision)]
        return {path: self._content(repo, blob) for path, blob in commit.tree.items()}

    def create_repo(self, repo_id: str, repo_type: str = "dataset", private: bool = False) -> Repo:
        with self.lock:
            return self._create_repo(repo_type, repo_id, private, repo_id.split("/")[0])

    # -- internals -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return _EPOCH + timedelta(seconds=next(self._counter))

    def _create_repo(self, repo_type: str, repo_id: str, private: bool, author: str) -> Repo:
        repo = Repo(repo_type, repo_id, private, self._now())
        self.repos[(repo_type, repo_id)] = repo
        blob = Blob(git_blob_sha1(GITATTRIBUTES), len(GITATTRIBUTES), GITATTRIBUTES)
        self._add_commit(repo, "main", None, {".gitattributes": blob}, "initial commit", "", author)
        return repo

    def _add_commit(
        self,
        repo: Repo,
        branch: str,
        parent: str | None,
        tree: dict[str, Blob],
        title: str,
        message: str,
        author: str,
    ) -> Commit:
        date = self._now()
        digest = hashlib.sha1()
        digest.update(f"{parent}\n{title}\n{message}\n{author}\n{date.isoformat()}\n".encode())
        for path in sorted(tree):
            digest.update(f"{path}\0{tree[path].oid}\n".encode())
        commit = Commit(digest.hexdigest(), parent, dict(tree), title, message, author, date)
        repo.commits[commit.oid] = commit
        repo.branches[branch] = commit.oid
        return commit

    def _resolve(self, repo: Repo, revision: str) -> str:
        if revision in repo.branches:
            return repo.branches[revision]
        if re.fullmatch(r"[0-9a-f]{40}", revision) and revision in repo.commits:
            return revision
        raise HttpError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")

    def _content(self, repo: Repo, blob: Blob) -> bytes:
        if blob.lfs_sha256 is not None:
            return repo.lfs[blob.lfs_sha256]
        assert blob.content is not None
        return blob.content


def _iso(date: datetime) -> str:
    return date.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _lfs_patterns(tree: dict[str, Blob]) -> list[str]:
    blob = tree.get(".gitattributes")
    if blob is None or blob.content is None:
        return []
    patterns = []
    for line in blob.content.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def _is_lfs(path: str, size: int, sample: bytes, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    if any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(path, p) for p in patterns):
        return True
    if size >= REGULAR_LIMIT or b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def validate_card_yaml(content: str, repo_type: str) -> list[str]:
    """The checks the Hub runs on a README's YAML header before accepting a commit."""
    if not content.startswith("---\n"):
        return []
    end = content.find("\n---\n", 3)
    if end < 0:
        return ["the YAML header is not closed with a '---' line"]
    try:
        data = yaml.safe_load(content[4:end])
    except yaml.YAMLError as err:
        return [f"invalid YAML: {err}"]
    if data is None:
        return []
    if not isinstance(data, dict):
        return ["metadata must be a YAML mapping"]
    errors = []
    for key in ("license", "language", "tags", "task_categories", "size_categories", "datasets"):
        value = data.get(key)
        if value is not None and not (
            isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        ):
            errors.append(f'"{key}" must be a string or a list of strings')
    sizes = {
        "n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M", "10M<n<100M",
        "100M<n<1B", "1B<n<10B", "10B<n<100B", "100B<n<1T", "n>1T",
    }  # fmt: skip
    for size in data.get("size_categories") or []:
        if size not in sizes:
            errors.append(f'"size_categories" has unknown value {size!r}')
    configs = data.get("configs")
    if configs is not None and repo_type == "dataset":
        if not isinstance(configs, list):
            errors.append('"configs" must be a list')
            configs = []
        names = []
        for index, cfg in enumerate(configs):
            if not isinstance(cfg, dict) or not isinstance(cfg.get("config_name"), str):
                errors.append(f'"configs[{index}]" must have a string "config_name"')
                continue
            names.append(cfg["config_name"])
            files = cfg.get("data_files")
            ok = isinstance(files, str) or (
                isinstance(files, list)
                and all(
                    isinstance(f, str)
                    or (
                        isinstance(f, dict)
                        and isinstance(f.get("split"), str)
                        and isinstance(f.get("path"), (str, list))
                    )
                    for f in files
                )
            )
            if not ok:
                errors.append(f'"configs[{index}].data_files" is malformed')
        if len(names) != len(set(names)):
            errors.append('"configs" has duplicate config names')
        if sum(1 for c in configs if isinstance(c, dict) and c.get("default")) > 1:
            errors.append('"configs" marks more than one config as default')
    info = data.get("dataset_info")
    if info is not None:
        infos = info if isinstance(info, list) else [info]
        for item in infos:
            if not isinstance(item, dict):
                errors.append('"dataset_info" entries must be mappings')
                continue
            for split in item.get("splits") or []:
                if not isinstance(split, dict) or not isinstance(split.get("num_examples"), int):
                    errors.append('"dataset_info.splits" entries need an integer "num_examples"')
    if repo_type == "model":
        for key in ("base_model", "library_name", "pipeline_tag"):
            value = data.get(key)
            if value is not None and not isinstance(value, (str, list)):
                errors.append(f'"{key}" must be a string')
    return errors


class _Handler(BaseHTTPRequestHandler):
    fake: FakeHub
    protocol_version = "HTTP/1.1"
    server_version = "FakeHub/1.0"

    def setup(self) -> None:
        super().setup()
        # headers and body are separate writes: without this, Nagle + delayed ACKs add ~40 ms
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing --------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _body(self) -> bytes:
        if hasattr(self, "_cached_body"):
            return self._cached_body
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._cached_body = body
        return body

    def _json_body(self) -> Any:
        try:
            return json.loads(self._body() or b"null")
        except json.JSONDecodeError as err:
            raise HttpError(400, f"invalid JSON body: {err}") from err

    def _send(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        method: str = "GET",
    ) -> None:
        entry = self.fake.requests[self._log_index]
        self.fake.requests[self._log_index] = (entry[0], entry[1], status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)

    def _send_json(self, value: Any, status: int = 200, **kwargs: Any) -> None:
        self._send(status, json.dumps(value).encode(), **kwargs)

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        split = urlsplit(self.path)
        self._query = parse_qs(split.query)
        segments = [unquote(s) for s in split.path.split("/")[1:]]
        self.__dict__.pop("_cached_body", None)  # one handler serves a whole keep-alive connection
        # Logged before answering: once the client has its answer, the log shows the request.
        with fake.lock:
            self._log_index = len(fake.requests)
            fake.requests.append((method, split.path, 0))
        try:
            if fake.down:
                raise _Drop()
            self._user = self._authenticate()
            self._route(method, segments)
        except _Drop:
            fake.down = True
            fake.requests[self._log_index] = (method, split.path, -1)
            # A dying server does not read the rest of the upload either.
            self._drop()
            return
        except HttpError as err:
            headers = dict(err.headers)
            if err.code:
                headers["X-Error-Code"] = err.code
            headers["X-Error-Message"] = err.message
            body = err.body if err.body is not None else {"error": err.message}
            if method in ("POST", "PUT"):
                self._body()  # keep the connection in sync
            self._send_json(body, err.status, headers=headers, method=method)

    def _authenticate(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization", "")
        if not header:
            return None
        token = header.removeprefix("Bearer ")
        if token not in TOKENS:
            raise HttpError(401, "Invalid credentials in Authorization header")
        return TOKENS[token]

    def _failpoint(self, name: str) -> None:
        if self.fake.fail_on == name:
            self.fake.fail_on = None
            raise _Drop()

    # -- routing ---------------------------------------------------------------------------

    def _route(self, method: str, s: list[str]) -> int:
        fake = self.fake
        if s == ["api", "whoami-v2"] and method == "GET":
            return self._whoami()
        if s == ["api", "validate-yaml"] and method == "POST":
            return self._validate_yaml()
        if s == ["api", "repos", "create"] and method == "POST":
            return self._create_repo()
        if s == ["api", "repos", "delete"] and method == "DELETE":
            return self._delete_repo()
        if len(s) == 3 and s[:2] == ["_lfs", "upload"] and method == "PUT":
            return self._lfs_upload(s[2])
        if len(s) == 3 and s[:2] == ["_lfs", "verify"] and method == "POST":
            return self._lfs_verify(s[2])
        if len(s) >= 4 and s[0] == "api" and s[1] in ("datasets", "models"):
            repo_type = s[1][:-1]
            repo_id = f"{s[2]}/{s[3]}"
            rest = s[4:]
            return self._repo_api(method, repo_type, repo_id, rest)
        # LFS batch: /datasets/{repo}.git/info/lfs/objects/batch or /{repo}.git/... for models
        lfs_tail = ["info", "lfs", "objects", "batch"]
        if s[-4:] == lfs_tail and method == "POST":
            head = s[:-4]
            if len(head) == 3 and head[0] == "datasets" and head[2].endswith(".git"):
                return self._lfs_batch("dataset", f"{head[1]}/{head[2][:-4]}")
            if len(head) == 2 and head[1].endswith(".git"):
                return self._lfs_batch("model", f"{head[0]}/{head[1][:-4]}")
        # Downloads: /datasets/{repo}/resolve/{rev}/{path} or /{repo}/resolve/{rev}/{path}
        if method in ("GET", "HEAD"):
            if len(s) >= 6 and s[0] == "datasets" and s[3] == "resolve":
                return self._resolve_file(method, "dataset", f"{s[1]}/{s[2]}", s[4], s[5:])
            if len(s) >= 5 and s[2] == "resolve":
                return self._resolve_file(method, "model", f"{s[0]}/{s[1]}", s[3], s[4:])
        fake.unknown.append((method, self.path))
        raise HttpError(404, f"fake hub: no route for {method} {self.path}")

    def _repo_api(self, method: str, repo_type: str, repo_id: str, rest: list[str]) -> int:
        if not rest and method == "GET":
            return self._repo_info(repo_type, repo_id, "main")
        if len(rest) == 2 and rest[0] == "revision" and method == "GET":
            return self._repo_info(repo_type, repo_id, rest[1])
        if len(rest) >= 2 and rest[0] == "tree" and method == "GET":
            return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]))
        if len(rest) == 2 and rest[0] == "paths-info" and method == "POST":
            return self._paths_info(repo_type, repo_id, rest[1])
        if len(rest) == 2 and rest[0] == "preupload" and method == "POST":
            return self._preupload(repo_type, repo_id, rest[1])
        if len(rest) == 2 and rest[0] == "commit" and method == "POST":
            return self._commit(repo_type, repo_id, rest[1])
        if len(rest) == 2 and rest[0] == "commits" and method == "GET":
            return self._commits(repo_type, repo_id, rest[1])
        if rest == ["refs"] and method == "GET":
            return self._refs(repo_type, repo_id)
        if len(rest) == 2 and rest[0] == "branch" and method in ("POST", "DELETE"):
            return self._branch(method, repo_type, repo_id, rest[1])
        if rest == ["settings"] and method == "PUT":
            return self._settings(repo_type, repo_id)
        self.fake.unknown.append((method, self.path))
        raise HttpError(404, f"fake hub: no route for {method} {self.path}")

    # -- access control --------------------------------------------------------------------

    def _get_repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> Repo:
        repo = self.fake.repos.get((repo_type, repo_id))
        user = self._user
        visible = repo is not None and (not repo.private or (user and user[0] == _owner(repo_id)))
        if not visible:
            raise HttpError(
                401 if user is None else 404, "Repository not found", code="RepoNotFound"
            )
        assert repo is not None
        if write:
            if user is None:
                raise HttpError(401, "You must be authenticated to write to this repository")
            name, role = user
            if name != _owner(repo_id):
                raise HttpError(403, f"You don't have the rights to write to {repo_id}")
            if role != "write":
                raise HttpError(
                    403, "Forbidden: you must use a write token to write to a repository"
                )
        return repo

    # -- endpoints -------------------------------------------------------------------------

    def _whoami(self) -> int:
        if self._user is None:
            raise HttpError(401, "Invalid username or password.")
        name, role = self._user
        self._send_json(
            {
                "type": "user",
                "id": hashlib.sha1(name.encode()).hexdigest()[:24],
                "name": name,
                "fullname": name.title(),
                "email": f"{name}@example.com",
                "emailVerified": True,
                "isPro": False,
                "orgs": [],
                "auth": {
                    "type": "access_token",
                    "accessToken": {"displayName": f"{name}-{role}", "role": role},
                },
            }
        )
        return 200

    def _validate_yaml(self) -> int:
        payload = self._json_body() or {}
        errors = validate_card_yaml(
            str(payload.get("content", "")), payload.get("repoType", "model")
        )
        body = {"errors": [{"message": e} for e in errors], "warnings": []}
        self._send_json(body, 400 if errors else 200)
        return 400 if errors else 200

    def _create_repo(self) -> int:
        payload = self._json_body() or {}
        if self._user is None:
            raise HttpError(401, "You must be authenticated to create a repository")
        user, role = self._user
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or user
        name = payload.get("name", "")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}", name or ""):
            raise HttpError(400, f"Invalid repo name {name!r}")
        repo_id = f"{namespace}/{name}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self._base()}/{prefix}{repo_id}"
        if namespace != user or role != "write":
            raise HttpError(
                403,
                f'You don\'t have the rights to create a {repo_type} under the namespace "{namespace}"',
            )
        with self.fake.lock:
            if (repo_type, repo_id) in self.fake.repos:
                raise HttpError(
                    409,
                    f"You already created this {repo_type} repo",
                    body={"error": f"You already created this {repo_type} repo", "url": url},
                )
            private = payload.get("visibility") == "private" or bool(payload.get("private"))
            self.fake._create_repo(repo_type, repo_id, private, user)
        self._send_json({"url": url, "name": repo_id, "id": repo_id})
        return 200

    def _delete_repo(self) -> int:
        payload = self._json_body() or {}
        repo_type = payload.get("type") or "model"
        namespace = payload.get("organization") or (self._user or ("", ""))[0]
        repo_id = f"{namespace}/{payload.get('name')}"
        self._get_repo(repo_type, repo_id, write=True)
        with self.fake.lock:
            del self.fake.repos[(repo_type, repo_id)]
        self._send_json({})
        return 200

    def _settings(self, repo_type: str, repo_id: str) -> int:
        repo = self._get_repo(repo_type, repo_id, write=True)
        payload = self._json_body() or {}
        if "private" in payload:
            repo.private = bool(payload["private"])
        if "visibility" in payload:
            repo.private = payload["visibility"] == "private"
        self._send_json({})
        return 200

    def _base(self) -> str:
        host = self.headers.get("Host") or "127.0.0.1"
        return f"http://{host}"

    def _entry(self, path: str, blob: Blob) -> dict[str, Any]:
        entry: dict[str, Any] = {"type": "file", "oid": blob.oid, "size": blob.size, "path": path}
        if blob.lfs_sha256 is not None:
            entry["lfs"] = {
                "oid": blob.lfs_sha256,
                "size": blob.size,
                "pointerSize": blob.pointer_size,
            }
        return entry

    @staticmethod
    def _folder_entry(path: str, tree: dict[str, Blob]) -> dict[str, Any]:
        digest = hashlib.sha1()
        for name in sorted(p for p in tree if p.startswith(path + "/")):
            digest.update(f"{name}\0{tree[name].oid}\n".encode())
        return {"type": "directory", "oid": digest.hexdigest(), "size": 0, "path": path}

    def _repo_info(self, repo_type: str, repo_id: str, revision: str) -> int:
        repo = self._get_repo(repo_type, repo_id)
        sha = self.fake._resolve(repo, revision)
        commit = repo.commits[sha]
        card_data = None
        readme = commit.tree.get("README.md")
        if readme is not None and readme.content is not None:
            text = readme.content.decode("utf-8", "replace")
            if text.startswith("---\n") and "\n---\n" in text[3:]:
                try:
                    card_data = yaml.safe_load(text[4 : text.index("\n---\n", 3)])
                except yaml.YAMLError:
                    card_data = None
        with_meta = self._query.get("blobs", ["false"])[0] == "true"
        siblings = []
        for path in sorted(commit.tree):
            sibling: dict[str, Any] = {"rfilename": path}
            blob = commit.tree[path]
            if with_meta:
                sibling.update(size=blob.size, blobId=blob.oid)
                if blob.lfs_sha256 is not None:
                    sibling["lfs"] = {
                        "sha256": blob.lfs_sha256,
                        "size": blob.size,
                        "pointerSize": blob.pointer_size,
                    }
            siblings.append(sibling)
        tags = []
        if isinstance(card_data, dict):
            for key in ("tags", "task_categories"):
                value = card_data.get(key)
                tags.extend(value if isinstance(value, list) else [value] if value else [])
        self._send_json(
            {
                "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
                "id": repo_id,
                "author": _owner(repo_id),
                "sha": sha,
                "createdAt": _iso(repo.created),
                "lastModified": _iso(commit.date),
                "private": repo.private,
                "gated": False,
                "disabled": False,
                "downloads": 0,
                "likes": 0,
                "tags": [t for t in tags if isinstance(t, str)],
                "cardData": card_data if isinstance(card_data, dict) else None,
                "siblings": siblings,
                "usedStorage": sum(b.size for b in commit.tree.values()),
            }
        )
        return 200

    def _tree(self, repo_type: str, repo_id: str, revision: str, path: str) -> int:
        repo = self._get_repo(repo_type, repo_id)
        tree = repo.commits[self.fake._resolve(repo, revision)].tree
        recursive = self._query.get("recursive", ["false"])[0].lower() == "true"
        path = path.strip("/")
        prefix = f"{path}/" if path else ""
        if path and not any(p.startswith(prefix) for p in tree):
            raise HttpError(404, f"{path} does not exist on {revision}", code="EntryNotFound")
        entries: dict[str, dict[str, Any]] = {}
        for file_path, blob in tree.items():
            if not file_path.startswith(prefix):
                continue
            rest = file_path[len(prefix) :].split("/")
            if len(rest) == 1:
                entries[file_path] = self._entry(file_path, blob)
            else:
                folders = range(1, len(rest)) if recursive else range(1, 2)
                for depth in folders:
                    folder = prefix + "/".join(rest[:depth])
                    entries.setdefault(folder, self._folder_entry(folder, tree))
                if recursive:
                    entries[file_path] = self._entry(file_path, blob)
        self._send_json([entries[k] for k in sorted(entries)])
        return 200

    def _paths_info(self, repo_type: str, repo_id: str, revision: str) -> int:
        repo = self._get_repo(repo_type, repo_id)
        tree = repo.commits[self.fake._resolve(repo, revision)].tree
        content_type = self.headers.get("Content-Type", "")
        if content_type.startswith("application/json"):
            paths = (self._json_body() or {}).get("paths", [])
        else:
            paths = parse_qs(self._body().decode()).get("paths", [])
        result = []
        for path in paths:
            path = path.strip("/")
            if path in tree:
                result.append(self._entry(path, tree[path]))
            elif any(p.startswith(path + "/") for p in tree):
                result.append(self._folder_entry(path, tree))
        self._send_json(result)
        return 200

    def _preupload(self, repo_type: str, repo_id: str, revision: str) -> int:
        self._failpoint("preupload")
        repo = self._get_repo(repo_type, repo_id, write=True)
        tree = repo.commits[self.fake._resolve(repo, revision)].tree
        patterns = _lfs_patterns(tree)
        files = []
        for item in (self._json_body() or {}).get("files", []):
            sample = base64.b64decode(item.get("sample", ""))
            lfs = _is_lfs(item["path"], int(item.get("size", 0)), sample, patterns)
            existing = tree.get(item["path"])
            oid = None
            if existing is not None:
                oid = existing.lfs_sha256 if existing.lfs_sha256 is not None else existing.oid
            files.append(
                {
                    "path": item["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": oid,
                }
            )
        self._send_json({"files": files, "commitOid": repo.branches.get(revision)})
        return 200

    def _lfs_batch(self, repo_type: str, repo_id: str) -> int:
        self._failpoint("lfs_batch")
        payload = self._json_body() or {}
        operation = payload.get("operation")
        repo = self._get_repo(repo_type, repo_id, write=operation == "upload")
        if "basic" not in (payload.get("transfers") or ["basic"]):
            raise HttpError(400, "the fake hub only speaks the basic LFS transfer")
        objects = []
        for obj in payload.get("objects", []):
            oid, size = obj["oid"], int(obj["size"])
            item: dict[str, Any] = {"oid": oid, "size": size}
            if operation == "upload" and oid not in repo.lfs:
                ticket = secrets.token_urlsafe(16)
                self.fake._tickets[ticket] = ((repo_type, repo_id), oid, size)
                item["authenticated"] = True
                item["actions"] = {
                    "upload": {"href": f"{self._base()}/_lfs/upload/{ticket}"},
                    "verify": {"href": f"{self._base()}/_lfs/verify/{ticket}"},
                }
            elif operation == "download":
                if oid not in repo.lfs:
                    item["error"] = {"code": 404, "message": "Object does not exist"}
                else:
                    item["actions"] = {"download": {"href": "unsupported"}}
            objects.append(item)
        self._send(
            200,
            json.dumps({"transfer": "basic", "objects": objects, "hash_algo": "sha256"}).encode(),
            content_type="application/vnd.git-lfs+json",
        )
        return 200

    def _lfs_upload(self, ticket: str) -> int:
        if self.fake.fail_on == "lfs_upload":
            self.fake.fail_on = None
            self.rfile.read(min(64, int(self.headers.get("Content-Length") or 64)))
            raise _Drop()
        target = self.fake._tickets.get(ticket)
        if target is None:
            raise HttpError(403, "invalid or expired upload URL")
        key, oid, size = target
        data = self._body()
        if len(data) != size or hashlib.sha256(data).hexdigest() != oid:
            raise HttpError(400, "uploaded content does not match the announced oid and size")
        with self.fake.lock:
            self.fake.repos[key].lfs[oid] = data
        self._send(200)
        return 200

    def _lfs_verify(self, ticket: str) -> int:
        target = self.fake._tickets.get(ticket)
        if target is None:
            raise HttpError(403, "invalid or expired verify URL")
        key, oid, _ = target
        self._body()
        if oid not in self.fake.repos[key].lfs:
            raise HttpError(404, "object not uploaded")
        self._send_json({})
        return 200

    def _commit(self, repo_type: str, repo_id: str, revision: str) -> int:
        body = self._body()
        self._failpoint("commit")
        repo = self._get_repo(repo_type, repo_id, write=True)
        if revision not in repo.branches:
            raise HttpError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HttpError(400, "the first line of a commit must be its header")
        header = lines[0]["value"]
        user = self._user[0] if self._user else "?"
        with self.fake.lock:
            head = repo.branches[revision]
            parent = header.get("parentCommit")
            if parent is not None and not head.startswith(parent):
                raise HttpError(412, "A commit has happened since. Please refresh and try again.")
            tree = dict(repo.commits[head].tree)
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value", {})
                path = str(value.get("path", "")).strip("/")
                if not path or ".." in path.split("/"):
                    raise HttpError(400, f"invalid path {path!r}")
                if key == "file":
                    content = base64.b64decode(value["content"])
                    tree[path] = Blob(git_blob_sha1(content), len(content), content)
                elif key == "lfsFile":
                    oid = value["oid"]
                    if oid not in repo.lfs:
                        raise HttpError(
                            422,
                            f"Your push was rejected because an LFS pointer pointed to a file "
                            f"that does not exist: {path}",
                        )
                    size = len(repo.lfs[oid])
                    pointer = lfs_pointer(oid, size)
                    tree[path] = Blob(git_blob_sha1(pointer), size, None, oid, len(pointer))
                elif key == "deletedFile":
                    if path not in tree:
                        raise HttpError(
                            404, "A file with this name doesn't exist", code="EntryNotFound"
                        )
                    del tree[path]
                elif key == "deletedFolder":
                    doomed = [p for p in tree if p.startswith(path + "/")]
                    if not doomed:
                        raise HttpError(
                            404, "A folder with this name doesn't exist", code="EntryNotFound"
                        )
                    for p in doomed:
                        del tree[p]
                else:
                    raise HttpError(400, f"unknown commit operation {key!r}")
            readme = tree.get("README.md")
            if readme is not None and readme.content is not None:
                errors = validate_card_yaml(readme.content.decode("utf-8", "replace"), repo_type)
                if errors:
                    raise HttpError(400, "Invalid metadata in README.md: " + "; ".join(errors))
            commit = self.fake._add_commit(
                repo,
                revision,
                head,
                tree,
                header.get("summary") or "update",
                header.get("description") or "",
                user,
            )
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        self._send_json(
            {
                "success": True,
                "commitOid": commit.oid,
                "commitUrl": f"{self._base()}/{prefix}{repo_id}/commit/{commit.oid}",
                "hookOutput": "",
            }
        )
        return 200

    def _commits(self, repo_type: str, repo_id: str, revision: str) -> int:
        repo = self._get_repo(repo_type, repo_id)
        oid: str | None = self.fake._resolve(repo, revision)
        items = []
        while oid is not None:
            commit = repo.commits[oid]
            items.append(
                {
                    "id": commit.oid,
                    "title": commit.title,
                    "message": commit.message,
                    "authors": [{"user": commit.author}],
                    "date": _iso(commit.date),
                }
            )
            oid = commit.parent
        self._send_json(items)
        return 200

    def _refs(self, repo_type: str, repo_id: str) -> int:
        repo = self._get_repo(repo_type, repo_id)
        branches = [
            {"name": name, "ref": f"refs/heads/{name}", "targetCommit": oid}
            for name, oid in sorted(repo.branches.items())
        ]
        self._send_json({"branches": branches, "converts": [], "tags": []})
        return 200

    def _branch(self, method: str, repo_type: str, repo_id: str, branch: str) -> int:
        repo = self._get_repo(repo_type, repo_id, write=True)
        if method == "DELETE":
            if branch not in repo.branches or branch == "main":
                raise HttpError(404, f"Invalid rev id: {branch}", code="RevisionNotFound")
            del repo.branches[branch]
            self._send_json({})
            return 200
        payload = self._json_body() or {}
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", branch):
            raise HttpError(400, f"Invalid reference for a branch: {branch}")
        with self.fake.lock:
            if branch in repo.branches:
                raise HttpError(409, f"Reference already exists: refs/heads/{branch}")
            start = self.fake._resolve(repo, payload.get("startingPoint") or "main")
            repo.branches[branch] = start
        self._send_json({})
        return 200

    def _resolve_file(
        self, method: str, repo_type: str, repo_id: str, revision: str, path_parts: list[str]
    ) -> int:
        repo = self._get_repo(repo_type, repo_id)
        sha = self.fake._resolve(repo, revision)
        path = "/".join(path_parts)
        blob = repo.commits[sha].tree.get(path)
        headers = {"X-Repo-Commit": sha, "Accept-Ranges": "bytes"}
        if blob is None:
            raise HttpError(404, "Entry not found", code="EntryNotFound", headers=headers)
        data = self.fake._content(repo, blob)
        if blob.lfs_sha256 is not None:
            headers["ETag"] = f'"{blob.lfs_sha256}"'
            headers["X-Linked-Etag"] = f'"{blob.lfs_sha256}"'
            headers["X-Linked-Size"] = str(blob.size)
        else:
            headers["ETag"] = f'"{blob.oid}"'
        status = 200
        requested = self.headers.get("Range")
        if requested:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", requested.strip())
            if not match:
                raise HttpError(416, "invalid range")
            first, last = match.groups()
            if first == "":
                start, end = max(0, len(data) - int(last)), len(data) - 1
            else:
                start = int(first)
                end = min(int(last), len(data) - 1) if last else len(data) - 1
            if start >= len(data) and len(data) > 0:
                raise HttpError(
                    416, "range not satisfiable", headers={"Content-Range": f"bytes */{len(data)}"}
                )
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start : end + 1]
            status = 206
        self._send(
            status, data, content_type="application/octet-stream", headers=headers, method=method
        )
        return status


def _owner(repo_id: str) -> str:
    return repo_id.split("/", 1)[0]


def resolve_url(base: str, repo_id: str, path: str, revision: str = "main") -> str:
    """The download URL of a dataset file (for tests that fetch raw bytes)."""
    return f"{base}/datasets/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"
