"""Publishing to and pulling from the Hub, end to end over HTTP against tests/hub_server.py
(the real `huggingface_hub` and `datasets` clients on this side)."""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import types
from pathlib import Path

import pytest
import yaml
from hub_server import ALICE_READ, ALICE_WRITE, BOB_WRITE, INVALID, FakeHub
from typer.testing import CliRunner

from synth.hub import FileToUpload, plan_upload
from synth.pool import iter_rows, read_manifest, read_pool, write_pool
from veriforge.cli import app

ROOT = Path(__file__).resolve().parents[1]
KNIGHTS = str(ROOT / "specs" / "knights_knaves.yaml")
LINEAR = str(ROOT / "specs" / "linear_system.yaml")
REPO = "alice/puzzles"
runner = CliRunner()
# huggingface_hub's own LFS upload passes a file object as `data=`; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Use 'content=<...>':DeprecationWarning")


def run(*args: object):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    for token in (ALICE_WRITE, ALICE_READ, BOB_WRITE, INVALID):
        assert token not in result.output, "a token was printed"
    return result


@pytest.fixture(scope="module")
def pools(tmp_path_factory) -> dict[str, Path]:
    """Small real pools: kk (3 rows), kk2 (4 other rows in 2 shards), lin (3 rows)."""
    root = tmp_path_factory.mktemp("pools")
    made = {}
    for name, args in {
        "kk": [KNIGHTS, "-n", "3"],
        "kk2": [KNIGHTS, "-n", "4", "--seed", "1", "--rows-per-shard", "2"],
        "lin": [LINEAR, "-n", "3"],
    }.items():
        result = run("generate", *args, "-o", root / name)
        assert result.exit_code == 0, result.output
        made[name] = root / name
    return made


@pytest.fixture
def no_backoff(monkeypatch):
    """huggingface_hub retries transient network errors with 1-8 s sleeps; skip the waits."""
    import time as real_time

    from huggingface_hub.utils import _http

    shim = types.SimpleNamespace(
        **{k: getattr(real_time, k) for k in dir(real_time) if not k.startswith("__")}
    )
    shim.sleep = lambda seconds: None
    monkeypatch.setattr(_http, "time", shim)


def rows(pool: Path) -> list[dict]:
    return list(iter_rows(pool))


def card_header(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text[4 : text.index("\n---\n", 3)])


def writes(hub: FakeHub) -> list[tuple[str, str, int]]:
    return [r for r in hub.requests if r[0] not in ("GET", "HEAD")]


def load(repo: str, **kwargs):  # type: ignore[no-untyped-def]
    import datasets

    return datasets.load_dataset(repo, split="train", **kwargs).to_list()


# --------------------------------------------------------------------------------------------
# publish


def test_publish_creates_repo_in_one_commit_and_loads_back(hub, pools):
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 0, result.output
    assert "published" in result.output and "one commit" in result.output
    repo = hub.repo(REPO)
    assert not repo.private
    assert hub.commit_count(REPO) == 2  # the Hub's initial commit + ours
    assert [r for r in hub.requests if "/commit/" in r[1] and r[0] == "POST"] == [
        ("POST", f"/api/datasets/{REPO}/commit/main", 200)
    ]
    files = hub.files(REPO)
    assert sorted(files) == [
        ".gitattributes",
        "README.md",
        "assets/difficulty.png",
        "data/train-00000-of-00001.parquet",
        "manifest.json",
    ]
    local = pools["kk"]
    assert (
        files["data/train-00000-of-00001.parquet"]
        == (local / "data" / "train-00000-of-00001.parquet").read_bytes()
    )
    assert files["manifest.json"] == (local / "manifest.json").read_bytes()
    assert files["assets/difficulty.png"].startswith(b"\x89PNG\r\n\x1a\n")
    # the parquet and the image went through LFS, the card is a regular file
    tree = repo.commits[hub.head(REPO)].tree
    assert tree["data/train-00000-of-00001.parquet"].lfs_sha256 is not None
    assert tree["assets/difficulty.png"].lfs_sha256 is not None
    assert tree["README.md"].lfs_sha256 is None

    card = files["README.md"].decode()
    header = card_header(card)
    assert header["license"] == "cc-by-4.0"
    assert header["task_categories"] == ["question-answering", "text-generation"]
    assert header["size_categories"] == ["n<1K"]
    assert {"reasoning", "verifiable", "veriforge", "truth-tellers"} <= set(header["tags"])
    assert header["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*"}]}
    ]
    assert header["dataset_info"]["splits"][0]["num_examples"] == 3
    assert "![Difficulty histogram of default](assets/difficulty.png)" in card
    assert f'load_dataset("{REPO}", split="train")' in card
    assert f"veriforge pull {REPO} -o puzzles && veriforge verify puzzles" in card
    assert "| knights_knaves | truth_tellers | 3 |" in card
    from huggingface_hub import DatasetCard

    assert DatasetCard(card).data.to_dict()["configs"][0]["config_name"] == "default"

    assert load(REPO) == rows(local)
    assert hub.unknown == []


def test_republish_unchanged_is_a_noop(hub, pools):
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    head, before = hub.head(REPO), len(hub.requests)
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output and "no commit" in result.output
    assert hub.head(REPO) == head
    assert [r for r in hub.requests[before:] if r[0] not in ("GET", "HEAD")] == []


def test_changed_pool_is_exactly_one_new_commit(hub, pools):
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    count = hub.commit_count(REPO)
    result = run("publish", pools["kk2"], "--repo", REPO)
    assert result.exit_code == 0, result.output
    assert hub.commit_count(REPO) == count + 1
    files = hub.files(REPO)
    # the old single shard is deleted in the same commit, or `data/train-*` would mix pools
    assert sorted(p for p in files if p.startswith("data/")) == [
        "data/train-00000-of-00002.parquet",
        "data/train-00001-of-00002.parquet",
    ]
    assert "delete" in result.output
    assert load(REPO) == rows(pools["kk2"])


def test_several_configs_in_one_repo(hub, pools):
    assert run("publish", pools["kk"], "--repo", REPO, "--config", "kk").exit_code == 0
    result = run("publish", pools["lin"], "--repo", REPO, "--config", "lin")
    assert result.exit_code == 0, result.output
    files = hub.files(REPO)
    assert {"kk/data/train-00000-of-00001.parquet", "lin/data/train-00000-of-00001.parquet"} <= set(
        files
    )
    assert {"kk/manifest.json", "lin/manifest.json", "kk/assets/difficulty.png"} <= set(files)
    card = files["README.md"].decode()
    header = card_header(card)
    assert [c["config_name"] for c in header["configs"]] == ["kk", "lin"]
    assert header["configs"][0]["default"] is True  # load_dataset(repo) works without name=
    assert header["configs"][1]["data_files"] == [{"split": "train", "path": "lin/data/train-*"}]
    assert [i["config_name"] for i in header["dataset_info"]] == ["kk", "lin"]
    assert {"truth-tellers", "equations"} <= set(header["tags"])
    # both configs keep their own section of the card
    assert "<!-- veriforge:config kk -->" in card and "<!-- veriforge:config lin -->" in card
    assert "![Difficulty histogram of kk](kk/assets/difficulty.png)" in card
    assert f'load_dataset("{REPO}", name="lin", split="train")' in card
    assert f"veriforge pull {REPO} --config lin -o puzzles-lin" in card

    assert load(REPO, name="kk") == rows(pools["kk"])
    assert load(REPO, name="lin") == rows(pools["lin"])
    assert load(REPO) == rows(pools["kk"])

    # republishing either config onto the merged card changes nothing
    head = hub.head(REPO)
    for name in ("kk", "lin"):
        again = run("publish", pools[name], "--repo", REPO, "--config", name)
        assert again.exit_code == 0 and "up to date" in again.output, again.output
    assert hub.head(REPO) == head

    # a default (root) config joins them; the other configs' files are untouched
    assert run("publish", pools["kk2"], "--repo", REPO).exit_code == 0
    header = card_header(hub.files(REPO)["README.md"].decode())
    assert [c["config_name"] for c in header["configs"]] == ["default", "kk", "lin"]
    assert not any(c.get("default") for c in header["configs"])
    assert hub.files(REPO)["lin/manifest.json"] == files["lin/manifest.json"]
    assert load(REPO) == rows(pools["kk2"])
    assert hub.unknown == []


def test_private_flag(hub, pools, monkeypatch):
    result = run("publish", pools["kk"], "--repo", "alice/secret", "--private")
    assert result.exit_code == 0, result.output
    assert hub.repo("alice/secret").private
    assert load("alice/secret") == rows(pools["kk"])  # alice's token sees it
    monkeypatch.delenv("HF_TOKEN")
    result = run("pull", "alice/secret", "-o", hub_tmp(pools) / "anon")
    assert result.exit_code == 2
    assert "no such dataset repo" in result.output and "no token" in result.output
    # --private never silently publishes into an existing public repo
    monkeypatch.setenv("HF_TOKEN", ALICE_WRITE)
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    head = hub.head(REPO)
    result = run("publish", pools["kk2"], "--repo", REPO, "--private")
    assert result.exit_code == 2
    assert "already exists and is public" in result.output
    assert hub.head(REPO) == head


def hub_tmp(pools: dict[str, Path]) -> Path:
    path = pools["kk"].parent / f"scratch-{time.monotonic_ns()}"
    path.mkdir()
    return path


def test_revision_publishes_to_a_branch(hub, pools):
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    main = hub.head(REPO)
    result = run("publish", pools["kk2"], "--repo", REPO, "--revision", "dev")
    assert result.exit_code == 0, result.output
    assert hub.head(REPO) == main
    assert hub.head(REPO, branch="dev") != main
    assert load(REPO, revision="dev") == rows(pools["kk2"])
    assert load(REPO) == rows(pools["kk"])
    assert 'revision="dev"' in hub.files(REPO, revision="dev")["README.md"].decode()


def test_dry_run_lists_files_and_writes_nothing(hub, pools, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")  # a dry run needs no token
    result = run("publish", pools["kk2"], "--repo", REPO, "--dry-run", "--config", "kk")
    assert result.exit_code == 0, result.output
    plan = plan_upload(pools["kk2"], "kk", repo_id=REPO)
    for f in plan:
        assert f.path_in_repo in result.output
        assert f"{f.size:,}" in result.output
    assert "would create the public dataset repo alice/puzzles" in result.output
    assert "dry run" in result.output
    assert hub.repos == {}
    assert writes(hub) == []

    # against an existing repo it shows what changes, and still writes nothing
    monkeypatch.setenv("HF_TOKEN", ALICE_WRITE)
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    before = len(hub.requests)
    result = run("publish", pools["kk"], "--repo", REPO, "--dry-run")
    assert result.exit_code == 0 and "would be a no-op" in result.output
    result = run("publish", pools["kk2"], "--repo", REPO, "--dry-run")
    assert result.exit_code == 0
    assert "changed" in result.output and "delete" in result.output and "new" in result.output
    assert [r for r in hub.requests[before:] if r[0] not in ("GET", "HEAD")] == []


def test_card_keeps_owner_text_and_other_configs(pools):
    from synth.card import render_hub_card

    kk, lin = read_pool(pools["kk"]), read_pool(pools["lin"])
    card = render_hub_card(kk, read_manifest(pools["kk"]), repo_id=REPO, config="kk")
    at = card.index("## Configs")
    card = (
        card[:at] + "<!-- veriforge:keep -->\nOur notes.\n<!-- /veriforge:keep -->\n\n" + card[at:]
    )
    both = render_hub_card(
        lin, read_manifest(pools["lin"]), repo_id=REPO, config="lin", existing=card
    )
    assert "Our notes." in both
    assert card[card.index("<!-- veriforge:config kk -->") :].split("<!-- /veriforge")[0] in both
    header = card_header(both)
    assert [c["config_name"] for c in header["configs"]] == ["kk", "lin"]
    assert header["pretty_name"] == "puzzles"
    again = render_hub_card(
        kk, read_manifest(pools["kk"]), repo_id=REPO, config="kk", existing=both
    )
    assert again == both


def test_histogram_png_without_matplotlib(monkeypatch):
    import builtins
    import io

    from PIL import Image

    from synth.card import difficulty_png

    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    png = difficulty_png([0.1, 0.15, 0.5, 0.95])
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.size == (400, 200) and png == difficulty_png([0.1, 0.15, 0.5, 0.95])


def test_plan_upload_is_deterministic(pools):
    first = plan_upload(pools["lin"], "lin", repo_id=REPO)
    second = plan_upload(pools["lin"], "lin", repo_id=REPO)
    assert [(f.path_in_repo, f.sha256) for f in first] == [
        (f.path_in_repo, f.sha256) for f in second
    ]
    assert [f.path_in_repo for f in first] == [
        "README.md",
        "lin/assets/difficulty.png",
        "lin/data/train-00000-of-00001.parquet",
        "lin/manifest.json",
    ]
    blob = FileToUpload.from_bytes("x", b"hello")
    assert blob.git_oid == hashlib.sha1(b"blob 5\0hello").hexdigest()


# --------------------------------------------------------------------------------------------
# pull


def test_pull_gives_a_normal_pool(hub, pools, tmp_path):
    assert run("publish", pools["kk2"], "--repo", REPO).exit_code == 0
    assert run("publish", pools["lin"], "--repo", REPO, "--config", "lin").exit_code == 0
    out = tmp_path / "pulled"
    result = run("pull", REPO, "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json"]
    for shard in (pools["kk2"] / "data").iterdir():
        assert (out / "data" / shard.name).read_bytes() == shard.read_bytes()
    assert read_pool(out) == read_pool(pools["kk2"])
    assert read_manifest(out) == read_manifest(pools["kk2"])
    verified = run("verify", out)
    assert verified.exit_code == 0 and "verified 4 rows" in verified.output
    import datasets

    assert datasets.load_dataset(str(out), split="train").to_list() == rows(pools["kk2"])

    lin = tmp_path / "lin"
    assert run("pull", REPO, "--config", "lin", "-o", lin).exit_code == 0
    assert read_pool(lin) == read_pool(pools["lin"])
    assert run("verify", lin).exit_code == 0

    assert run("pull", REPO, "-o", out).exit_code == 2  # exists
    assert run("pull", REPO, "-o", out, "--overwrite").exit_code == 0
    bad = run("pull", REPO, "--config", "nope", "-o", tmp_path / "x")
    assert bad.exit_code == 2 and "no config 'nope'" in bad.output and "lin" in bad.output
    missing = run("pull", "alice/missing", "-o", tmp_path / "y")
    assert missing.exit_code == 2 and "no such dataset repo" in missing.output
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())


def test_pull_needs_a_config_when_there_are_several(hub, pools, tmp_path):
    assert run("publish", pools["kk"], "--repo", REPO, "--config", "kk").exit_code == 0
    assert run("publish", pools["lin"], "--repo", REPO, "--config", "lin").exit_code == 0
    result = run("pull", REPO, "-o", tmp_path / "p")
    assert result.exit_code == 2 and "--config" in result.output
    assert run("pull", REPO, "--config", "kk", "-o", tmp_path / "p").exit_code == 0


# --------------------------------------------------------------------------------------------
# failures: clear message, non-zero exit, nothing half-published


def test_bad_token_is_401(hub, pools, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", INVALID)
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 1
    assert "authentication failed" in result.output and "HF_TOKEN" in result.output
    assert hub.repos == {}


def test_no_token_at_all(hub, pools, monkeypatch):
    monkeypatch.delenv("HF_TOKEN")
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 1 and "no Hugging Face token" in result.output
    assert hub.repos == {}


def test_missing_permission_is_403(hub, pools, monkeypatch):
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    head = hub.head(REPO)
    # a read-only token is refused up front (whoami says so) ...
    monkeypatch.setenv("HF_TOKEN", ALICE_READ)
    result = run("publish", pools["kk2"], "--repo", REPO)
    assert result.exit_code == 1
    assert "read-only" in result.output and "write access" in result.output
    assert hub.head(REPO) == head
    # ... alice cannot create repos in bob's namespace (403 from the create call) ...
    monkeypatch.setenv("HF_TOKEN", ALICE_WRITE)
    result = run("publish", pools["kk"], "--repo", "bob/puzzles")
    assert result.exit_code == 1
    assert "no write access to bob/puzzles" in result.output and "namespace bob" in result.output
    assert ("dataset", "bob/puzzles") not in hub.repos
    # ... nor push to bob's existing public repo (403 from the upload)
    hub.create_repo("bob/public")
    bob_head = hub.head("bob/public")
    result = run("publish", pools["kk"], "--repo", "bob/public")
    assert result.exit_code == 1
    assert (
        "no write access to bob/public" in result.output
        and "Nothing was published" in result.output
    )
    assert hub.head("bob/public") == bob_head
    assert any(r[2] == 403 for r in hub.requests if "bob/public" in r[1])


@pytest.mark.parametrize("failpoint", ["lfs_upload", "commit"])
def test_server_going_away_publishes_nothing(hub, pools, no_backoff, failpoint):
    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    head, files = hub.head(REPO), hub.files(REPO)
    hub.go_away(failpoint)
    result = run("publish", pools["kk2"], "--repo", REPO)
    assert result.exit_code == 1
    assert "lost the connection" in result.output
    if failpoint == "lfs_upload":
        assert "while uploading" in result.output and "nothing was published" in result.output
    else:
        assert "during the commit" in result.output and "half-published" in result.output
    assert any(r[2] == -1 for r in hub.requests)  # the server really went away mid-request
    hub.come_back()
    # the server holds no partial commit: same head, same files, same history
    assert hub.head(REPO) == head and hub.files(REPO) == files
    assert hub.commit_count(REPO) == 2
    # and running it again publishes the whole change in one commit
    assert run("publish", pools["kk2"], "--repo", REPO).exit_code == 0
    assert hub.commit_count(REPO) == 3
    assert load(REPO) == rows(pools["kk2"])


def test_server_gone_before_anything(hub, pools, no_backoff):
    hub.go_away("lfs_batch")
    hub.down = True  # nothing answers at all
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 1 and "cannot reach the Hub" in result.output
    assert hub.repos == {}


def test_dry_run_without_the_hub_still_lists_the_files(hub, pools, no_backoff):
    hub.down = True
    result = run("publish", pools["kk"], "--repo", REPO, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "cannot reach the Hub" in result.output
    assert "data/train-00000-of-00001.parquet" in result.output


def test_concurrent_commit_is_refused(hub, pools, monkeypatch):
    """Someone pushes between our read of the repo and our commit: the commit names its
    parent, so the Hub refuses it instead of silently overwriting their change."""
    import synth.hub.remote as hub_module

    assert run("publish", pools["kk"], "--repo", REPO).exit_code == 0
    real = hub_module._read_remote

    def read_then_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        state = real(*args, **kwargs)
        repo = hub.repo(REPO)
        tree = dict(repo.commits[hub.head(REPO)].tree)
        tree.pop("manifest.json")
        hub._add_commit(repo, "main", hub.head(REPO), tree, "someone else", "", "alice")
        return state

    monkeypatch.setattr(hub_module, "_read_remote", read_then_race)
    result = run("publish", pools["kk2"], "--repo", REPO)
    assert result.exit_code == 1
    assert "changed on the Hub while publishing" in result.output
    assert hub.repo(REPO).commits[hub.head(REPO)].title == "someone else"  # theirs, not ours


def test_card_rejected_by_the_hub(hub, pools, monkeypatch):
    import synth.hub.plan as hub_module

    real = hub_module.render_hub_card
    monkeypatch.setattr(
        hub_module,
        "render_hub_card",
        lambda *a, **k: real(*a, **k).replace("- n<1K", "- enormous", 1),
    )
    result = run("publish", pools["kk"], "--repo", REPO)
    assert result.exit_code == 1
    assert (
        "rejected the card's YAML metadata" in result.output and "size_categories" in result.output
    )
    assert hub.commit_count(REPO) == 1  # the repo was created, nothing was committed to it


def test_pool_failing_verification_is_not_published(hub, pools, tmp_path):
    problems = read_pool(pools["kk"])
    wrong = problems[0].to_row()
    wrong["answer"] = "Nobody"
    from synth.problem import Problem

    bad = write_pool(
        [Problem.from_row(wrong), *problems[1:]], tmp_path / "bad", read_manifest(pools["kk"])
    )
    result = run("publish", bad, "--repo", REPO)
    assert result.exit_code == 1
    assert "1 of 3 rows failed verification" in result.output and "FAIL" in result.output
    assert hub.repos == {}
    # a shard edited after the pool was written is caught by its hash
    tampered = tmp_path / "tampered"
    shutil.copytree(pools["kk"], tampered)
    shard = tampered / "data" / "train-00000-of-00001.parquet"
    shutil.copy(pools["kk2"] / "data" / "train-00000-of-00002.parquet", shard)
    result = run("publish", tampered, "--repo", REPO)
    assert result.exit_code == 1 and "does not match manifest.json" in result.output
    assert hub.repos == {}


def test_bad_input_exits_2(hub, pools, tmp_path):
    assert run("publish", pools["kk"], "--repo", "no-slash").exit_code == 2
    assert run("publish", pools["kk"], "--repo", "a/b--c").exit_code == 2
    assert run("publish", tmp_path, "--repo", REPO).exit_code == 2  # not a pool
    assert run("publish", tmp_path / "nope", "--repo", REPO).exit_code == 2
    for config in ("data", "bad name", "../x"):
        assert run("publish", pools["kk"], "--repo", REPO, "--config", config).exit_code == 2
    assert run("publish", pools["kk"], "--repo", REPO, "--revision", "a" * 40).exit_code == 2
    assert run("pull", "nope", "-o", tmp_path / "p").exit_code == 2
    assert hub.repos == {} and hub.requests == []


# --------------------------------------------------------------------------------------------
# publish-model


def make_run(root: Path, *, checkpoint: str = "final", weights: bytes = b"\0weights" * 64) -> Path:
    folder = root / checkpoint
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(
        json.dumps({"model_type": "qwen2", "_name_or_path": "Qwen/Qwen2.5-0.5B-Instruct"})
    )
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text("{}")
    (folder / "optimizer.pt").write_bytes(b"\0optimizer")
    (folder / "training_args.bin").write_bytes(b"\0pickle")
    (root / "config.yaml").write_text(
        "base_model: Qwen/Qwen2.5-0.5B-Instruct\nlicense: apache-2.0\nlr: 1.0e-06\n"
        "group_size: 8\nwandb:\n  api_key: sk-very-secret\n  project: vf\nhf_token: hf_secret_value\n"
    )
    (root / "metrics.jsonl").write_text(
        '{"step": 10, "loss": 0.9, "reward": 0.2}\n{"step": 20, "loss": 0.7, "reward": 0.45}\n'
    )
    (root / "eval.json").write_text(
        json.dumps(
            {
                "results": [
                    {"dataset": REPO, "config": "kk", "n": 120, "pass@1": 0.41, "pass@8": 0.77},
                    {"dataset": REPO, "config": "lin", "n": 80, "pass@1": 0.66, "pass@8": 0.9},
                ]
            }
        )
    )
    (root / "pools.json").write_text(json.dumps([REPO, {"path": "pools/local"}]))
    return root


def test_publish_model(hub, tmp_path):
    run_dir = make_run(tmp_path / "run")
    result = run("publish-model", run_dir, "--repo", "alice/solver", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "model.safetensors" in result.output and "optimizer.pt" not in result.output
    assert hub.repos == {}

    result = run("publish-model", run_dir, "--repo", "alice/solver", "--private")
    assert result.exit_code == 0, result.output
    repo = hub.repo("alice/solver", "model")
    assert repo.private
    files = hub.files("alice/solver", "model")
    assert sorted(files) == [
        ".gitattributes",
        "README.md",
        "config.json",
        "eval.json",
        "metrics.jsonl",
        "model.safetensors",
        "pools.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "training_config.yaml",
    ]
    for content in files.values():
        assert b"sk-very-secret" not in content and b"hf_secret_value" not in content
    card = files["README.md"].decode()
    header = card_header(card)
    assert header["library_name"] == "transformers"
    assert header["license"] == "apache-2.0"
    assert header["base_model"] == "Qwen/Qwen2.5-0.5B-Instruct"
    assert header["datasets"] == [REPO]
    assert "veriforge" in header["tags"]
    assert f"[{REPO}]({hub.url}/datasets/{REPO})" in card
    assert "`pools/local` (local)" in card
    assert "| pass@1 | pass@8 |" in card and "| 0.41 | 0.77 |" in card
    assert "group_size: 8" in card and "<redacted>" in card
    assert "2 logged steps, last step 20" in card

    again = run("publish-model", run_dir, "--repo", "alice/solver")
    assert again.exit_code == 0 and "up to date" in again.output
    assert hub.commit_count("alice/solver", "model") == 2

    # a later checkpoint with sharded weights replaces the single file in one commit
    later = tmp_path / "run2"
    make_run(later, checkpoint="checkpoint-200")
    (later / "checkpoint-200" / "model.safetensors").unlink()
    for i in (1, 2):
        (later / "checkpoint-200" / f"model-0000{i}-of-00002.safetensors").write_bytes(b"\0w%d" % i)
    (later / "checkpoint-200" / "model.safetensors.index.json").write_text("{}")
    shutil.copytree(later / "checkpoint-200", later / "checkpoint-100")
    (later / "checkpoint-100" / "model-00001-of-00002.safetensors").write_bytes(b"\0old")
    assert run("publish-model", later, "--repo", "alice/solver").exit_code == 0
    files = hub.files("alice/solver", "model")
    assert "model.safetensors" not in files
    assert files["model-00001-of-00002.safetensors"] == b"\0w1"  # the highest checkpoint
    assert hub.commit_count("alice/solver", "model") == 3


def test_publish_model_bad_run_dir(hub, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("publish-model", tmp_path / "empty", "--repo", "alice/solver")
    assert result.exit_code == 2 and "no checkpoint found" in result.output
    run_dir = make_run(tmp_path / "run")
    (run_dir / "eval.json").write_text("{not json")
    result = run("publish-model", run_dir, "--repo", "alice/solver")
    assert result.exit_code == 2 and "eval.json" in result.output
    assert hub.repos == {}
