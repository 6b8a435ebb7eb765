"""Pool I/O: round trips, byte-identical shards, the Hub layout, atomic writes, the card."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from synth import pool as pool_module
from synth.card import difficulty_histogram, render_card, size_category
from synth.pool import (
    PoolError,
    PoolExistsError,
    iter_rows,
    read_manifest,
    read_pool,
    shard_paths,
    write_pool,
)
from synth.problem import COLUMNS, features

MANIFEST = {
    "name": "toy pool",
    "license": "cc-by-4.0",
    "seed": 7,
    "generator": {"veriforge": "0.1.0", "z3-solver": "5.4.1.0"},
    "specs": [
        {
            "name": "toy-spec",
            "file": "specs/toy.yaml",
            "hash": "0123456789abcdef0123456789abcdef",
            "version": 2,
            "seed": 7,
            "requested": 30,
            "accepted": 25,
            "rejected": {"not_unique": 3, "unknown": 2},
            "seconds": 1.25,
        }
    ],
}


@pytest.fixture
def problems(make_problem):
    problems = [make_problem(i) for i in range(25)]
    # awkward content: unicode, pipes, backtick fences, newlines, JSON with nesting
    problems.append(
        make_problem(
            100,
            category="weird | cat",
            prompt="Ünïcode ✓ prompt with ```fences``` and | pipes\nsecond line",
            answer="a|b",
            answer_type="text",
            grader={"kind": "text", "options": {"b": [1, 2], "a": None}},
            difficulty=1.0,
        )
    )
    return problems


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_header(text: str) -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, "card does not start with a YAML header"
    return yaml.safe_load(match.group(1))


def test_round_trip(tmp_path, problems):
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    assert out == tmp_path / "pool"
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "data", "manifest.json"]
    assert read_pool(out) == problems
    rows = list(iter_rows(out))
    assert [r["id"] for r in rows] == [p.id for p in problems]
    assert all(isinstance(r["grader"], str) for r in rows)  # raw: JSON still encoded
    assert [p.name for p in shard_paths(out)] == ["train-00000-of-00001.parquet"]


def test_manifest_gets_counts_and_shards(tmp_path, problems):
    original = json.loads(json.dumps(MANIFEST))
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    assert MANIFEST == original  # the caller's dict is not modified
    text = (out / "manifest.json").read_text()
    manifest = read_manifest(out)
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert manifest["seed"] == 7
    counts = manifest["counts"]
    assert counts["total"] == len(problems)
    assert counts["splits"] == {"train": len(problems)}
    assert sum(counts["sources"].values()) == len(problems)
    assert counts["categories"]["weird | cat"] == 1
    assert sum(counts["categories"].values()) == len(problems)
    (shard,) = manifest["shards"]
    assert shard["file"] == "data/train-00000-of-00001.parquet"
    assert shard["rows"] == len(problems)
    assert shard["sha256"] == sha(out / shard["file"])


def test_shards_are_byte_identical(tmp_path, problems):
    a = write_pool(problems, tmp_path / "a", MANIFEST, rows_per_shard=10)
    b = write_pool(list(problems), tmp_path / "b", dict(MANIFEST), rows_per_shard=10)
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:  # shards, manifest and card all identical
        assert sha(a / rel) == sha(b / rel), rel


def test_shard_schema_and_metadata(tmp_path, problems):
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    (shard,) = shard_paths(out)
    schema = pq.read_schema(shard)
    assert schema.names == list(COLUMNS)
    assert b"huggingface" in schema.metadata
    hf = json.loads(schema.metadata[b"huggingface"])
    assert hf["info"]["features"] == features().to_dict()
    meta = pq.ParquetFile(shard).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_load_dataset_reads_pool(tmp_path, problems):
    datasets = pytest.importorskip("datasets")
    out = write_pool(problems, tmp_path / "pool", MANIFEST, rows_per_shard=10)
    dsd = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    assert list(dsd) == ["train"]
    ds = dsd["train"]
    assert ds.features == features()
    assert ds["id"] == [p.id for p in problems]
    assert ds[len(problems) - 1]["prompt"] == problems[-1].prompt


def test_load_dataset_checks_card_split_sizes(tmp_path, problems):
    """`datasets` really reads `dataset_info.splits` from the card (and verifies it)."""
    datasets = pytest.importorskip("datasets")
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    readme = out / "README.md"
    text = readme.read_text()
    wrong = f"num_examples: {len(problems)}\n"
    assert text.count(wrong) == 1
    readme.write_text(text.replace(wrong, f"num_examples: {len(problems) + 1}\n"))
    with pytest.raises(datasets.exceptions.NonMatchingSplitsSizesError):
        datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))


def test_rows_per_shard(tmp_path, problems):
    out = write_pool(problems, tmp_path / "pool", MANIFEST, rows_per_shard=10, split="test")
    names = [p.name for p in shard_paths(out)]
    assert names == [
        "test-00000-of-00003.parquet",
        "test-00001-of-00003.parquet",
        "test-00002-of-00003.parquet",
    ]
    assert [pq.ParquetFile(p).metadata.num_rows for p in shard_paths(out)] == [10, 10, 6]
    assert [s["rows"] for s in read_manifest(out)["shards"]] == [10, 10, 6]
    assert read_pool(out, split="test") == problems
    with pytest.raises(PoolError, match="no shards for split 'train'"):
        read_pool(out, split="train")
    header = card_header((out / "README.md").read_text())
    assert header["configs"][0]["data_files"] == [{"split": "test", "path": "data/test-*"}]


def test_empty_pool(tmp_path):
    out = write_pool([], tmp_path / "pool", {})
    assert [p.name for p in shard_paths(out)] == ["train-00000-of-00001.parquet"]
    assert read_pool(out) == []
    assert read_manifest(out)["counts"]["total"] == 0


def test_existing_pool_is_not_overwritten(tmp_path, problems, make_problem):
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    before = {p: sha(p) for p in out.rglob("*") if p.is_file()}
    with pytest.raises(PoolExistsError, match=re.escape(str(out))):
        write_pool([make_problem(999)], out, {})
    assert {p: sha(p) for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool"]


def test_overwrite_replaces_pool(tmp_path, problems, make_problem):
    out = write_pool(problems, tmp_path / "pool", MANIFEST, rows_per_shard=10)
    write_pool([make_problem(999)], out, {}, overwrite=True)
    assert read_pool(out) == [make_problem(999)]
    assert [p.name for p in shard_paths(out)] == ["train-00000-of-00001.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool"]


def test_overwrite_refuses_non_pool(tmp_path, make_problem):
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(PoolError, match="not a pool"):
        write_pool([make_problem(0)], precious, {}, overwrite=True)
    assert (precious / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("where", ["card", "second shard"])
def test_failure_mid_write_leaves_nothing(tmp_path, problems, monkeypatch, where):
    if where == "card":

        def boom(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(pool_module, "render_card", boom)
    else:
        real = pool_module._write_shard
        calls = []

        def boom(rows, path, schema):
            calls.append(path)
            if len(calls) == 2:
                raise RuntimeError("boom")
            real(rows, path, schema)

        monkeypatch.setattr(pool_module, "_write_shard", boom)
    with pytest.raises(RuntimeError, match="boom"):
        write_pool(problems, tmp_path / "pool", MANIFEST, rows_per_shard=10)
    assert list(tmp_path.iterdir()) == []


def test_failed_overwrite_keeps_old_pool(tmp_path, problems, make_problem, monkeypatch):
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    monkeypatch.setattr(pool_module, "render_card", lambda *a: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        write_pool([make_problem(999)], out, {}, overwrite=True)
    assert read_pool(out) == problems
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool"]


def test_bad_inputs(tmp_path, make_problem):
    with pytest.raises(PoolError, match="duplicate problem id"):
        write_pool([make_problem(1), make_problem(1)], tmp_path / "p", {})
    with pytest.raises(PoolError, match="split name"):
        write_pool([make_problem(1)], tmp_path / "p", {}, split="train-x")
    with pytest.raises(PoolError, match="rows_per_shard"):
        write_pool([make_problem(1)], tmp_path / "p", {}, rows_per_shard=0)
    with pytest.raises(PoolError, match="not JSON"):
        write_pool([make_problem(1)], tmp_path / "p", {"x": object()})
    assert list(tmp_path.iterdir()) == []


def test_read_errors_name_the_path(tmp_path, make_problem):
    missing = tmp_path / "missing"
    with pytest.raises(PoolError, match=re.escape(str(missing))):
        read_pool(missing)
    not_pool = tmp_path / "not_pool"
    not_pool.mkdir()
    (not_pool / "notes.txt").write_text("hi")
    with pytest.raises(PoolError, match=re.escape(str(not_pool))):
        read_pool(not_pool)
    with pytest.raises(PoolError, match="manifest"):
        read_manifest(not_pool)
    (not_pool / "data").mkdir()
    with pytest.raises(PoolError, match="no Parquet shards"):
        read_pool(not_pool)

    # a shard with the wrong columns
    bad = not_pool / "data" / "train-00000-of-00001.parquet"
    pq.write_table(pa.table({"id": ["x"], "question": ["q"]}), bad)
    with pytest.raises(
        PoolError, match=r"wrong columns.*missing.*unexpected \['question'\]"
    ) as err:
        read_pool(not_pool)
    assert str(bad) in str(err.value)

    # a truncated shard
    out = write_pool([make_problem(i) for i in range(3)], tmp_path / "pool", {})
    (shard,) = shard_paths(out)
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(PoolError, match="cannot read Parquet"):
        read_pool(out)


def test_incomplete_shard_set(tmp_path, problems):
    out = write_pool(problems, tmp_path / "pool", MANIFEST, rows_per_shard=10)
    (out / "data" / "train-00001-of-00003.parquet").unlink()
    with pytest.raises(PoolError, match="missing shards: train-00001-of-00003.parquet"):
        read_pool(out)


def test_card_header(tmp_path, problems):
    out = write_pool(problems, tmp_path / "pool", MANIFEST)
    text = (out / "README.md").read_text()
    assert text == render_card(problems, read_manifest(out))
    header = card_header(text)
    assert header["license"] == "cc-by-4.0"
    assert header["size_categories"] == ["n<1K"]
    assert header["task_categories"] == ["question-answering", "text-generation"]
    assert {"reasoning", "verifiable", "smt", "synthetic", "veriforge", "logic"} <= set(
        header["tags"]
    )
    assert "weird-cat" in header["tags"]
    (config,) = header["configs"]
    assert config["config_name"] == "default"
    assert config["data_files"] == [{"split": "train", "path": "data/train-*"}]
    info = header["dataset_info"]
    assert [f["name"] for f in info["features"]] == list(COLUMNS)
    (split,) = info["splits"]
    assert split["name"] == "train" and split["num_examples"] == len(problems)
    assert split["num_bytes"] == read_manifest(out)["shards"][0]["num_bytes"] > 0
    # without a manifest the card computes the same size from the rows
    assert card_header(render_card(problems, {}))["dataset_info"]["splits"] == [split]
    assert "# toy pool" in text
    assert "veriforge verify" in text and "load_dataset(" in text
    assert "not_unique" in text and MANIFEST["specs"][0]["hash"] in text


def test_card_examples_are_fenced_safely(problems):
    weird = problems[-1]
    text = render_card([weird, *problems[:-1]], {})
    # the prompt contains ``` so it gets a longer fence; table cells escape the pipe
    assert "````text\n" + weird.prompt + "\n````" in text
    assert "weird \\| cat" in text


def test_card_histogram_sums_to_rows(problems):
    text = render_card(problems, {})
    lines = re.findall(r"^\[(\d\.\d), (\d\.\d)[)\]]\s+(\d+) ?#*$", text, re.MULTILINE)
    assert len(lines) == 10
    assert sum(int(n) for _, _, n in lines) == len(problems)
    assert difficulty_histogram([0.0, 0.05, 0.1, 0.95, 1.0]) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]


def test_card_tolerates_sparse_manifest(make_problem):
    text = render_card([make_problem(0)], {"specs": ["junk", {"name": "s"}], "generator": 3})
    header = card_header(text)
    assert header["license"] == "cc-by-4.0"
    assert "# veriforge pool" in text
    assert render_card([], {}).startswith("---\n")


def test_size_categories():
    assert size_category(0) == "n<1K"
    assert size_category(999) == "n<1K"
    assert size_category(1000) == "1K<n<10K"
    assert size_category(250_000) == "100K<n<1M"
    assert size_category(10**13) == "n>1T"
