"""The command line as a user drives it: pools on disk, exit codes, messages, determinism,
kill-and-resume."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from veriforge.cli import app

ROOT = Path(__file__).resolve().parents[1]
GRID = str(ROOT / "specs" / "logic_grid.yaml")
KNIGHTS = str(ROOT / "specs" / "knights_knaves.yaml")
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def shard_digests(pool: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((pool / "data").glob("*.parquet"))
    }


def test_generate_verify_info_show(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    result = run("generate", GRID, KNIGHTS, "-n", "4", "-o", pool, "--difficulty", "easy")
    assert result.exit_code == 0, result.output
    assert (pool / "README.md").exists() and (pool / "manifest.json").exists()
    assert shard_digests(pool)
    assert not (tmp_path / "pool.partial").exists()
    result = run("verify", pool)
    assert result.exit_code == 0, result.output
    assert "verified 8 rows" in result.output
    assert "logic_grid" in run("info", pool).output
    shown = run("show", pool, "-n", "1", "--source", "knights_knaves").output
    assert "knights" in shown and "answer" in shown


def test_pool_loads_with_datasets(tmp_path: Path) -> None:
    import datasets

    pool = tmp_path / "pool"
    assert run("generate", KNIGHTS, "-n", "3", "-o", pool).exit_code == 0
    ds = datasets.load_dataset(str(pool), split="train")
    assert len(ds) == 3
    assert set(ds.column_names) >= {"id", "prompt", "answer", "certificate", "difficulty"}


def test_same_bytes_for_one_and_two_workers(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    assert run("generate", GRID, "-n", "6", "-o", one, "--seed", "3").exit_code == 0
    assert (
        run("generate", GRID, "-n", "6", "-o", two, "--seed", "3", "--workers", "2").exit_code == 0
    )
    assert shard_digests(one) == shard_digests(two)
    other = tmp_path / "other"
    assert run("generate", GRID, "-n", "6", "-o", other, "--seed", "4").exit_code == 0
    assert shard_digests(one) != shard_digests(other)


def test_kill_and_resume_gives_the_same_pool(tmp_path: Path) -> None:
    reference = tmp_path / "ref"
    assert run("generate", GRID, "-n", "60", "-o", reference).exit_code == 0
    pool = tmp_path / "pool"
    cmd = [sys.executable, "-m", "veriforge", "generate", GRID, "-n", "60", "-o", str(pool)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    log = None
    deadline = time.time() + 60
    while time.time() < deadline:
        logs = list((tmp_path / "pool.partial").glob("*.jsonl"))
        if logs and logs[0].read_text().count("\n") >= 8:
            log = logs[0]
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert log is not None, "generation never started logging"
    assert not pool.exists()
    # a torn last line (killed mid-write) must be tolerated
    with open(log, "a") as handle:
        handle.write('{"index": 99, "row": {"id"')
    refused = run("generate", GRID, "-n", "60", "-o", pool)
    assert refused.exit_code == 2
    assert "--resume" in refused.output
    resumed = run("generate", GRID, "-n", "60", "-o", pool, "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert shard_digests(pool) == shard_digests(reference)
    assert not (tmp_path / "pool.partial").exists()


def _bad_spec(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return str(path)


GOOD = (ROOT / "specs" / "knights_knaves.yaml").read_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("spec: 1\nname: [unclosed\n", "malformed YAML"),
        (
            GOOD.replace("name: knights_knaves", "name: knights_knaves\nfavourite: 3"),
            "unknown field 'favourite'",
        ),
        (
            GOOD.replace('holds: "knight[s] == knight[o]"', 'holds: "knight[s].__class__"'),
            "clues.families[1].holds: attribute access",
        ),
        (
            GOOD.replace('holds: "knight[s] == knight[o]"', 'holds: "open(s)"'),
            "unknown function 'open'",
        ),
        (GOOD.replace("kind: assignment", "kind: riddle"), "query.kind"),
    ],
    ids=["yaml", "unknown-field", "attribute", "call", "bad-kind"],
)
def test_bad_specs_exit_2_naming_file_and_field(tmp_path: Path, text: str, expected: str) -> None:
    spec = _bad_spec(tmp_path, text)
    for command in (["generate", spec, "-n", "2", "-o", tmp_path / "pool"], ["validate", spec]):
        result = run(*command)
        assert result.exit_code == 2
        assert "bad.yaml" in result.output and expected in result.output
    assert not (tmp_path / "pool").exists() and not (tmp_path / "pool.partial").exists()


NEVER_UNIQUE = """\
spec: 1
name: never
category: test
strategy: sample
unknowns:
  x: {type: int, range: [0, 5]}
constraints: ["x > 1"]
query: {kind: value, ask: "x", text: "What is x?"}
"""

UNSAT = NEVER_UNIQUE.replace('constraints: ["x > 1"]', 'constraints: ["x > 1", "x < 1"]')


@pytest.mark.parametrize("text,reason", [(NEVER_UNIQUE, "not unique"), (UNSAT, "no solution")])
def test_spec_that_never_yields_a_verified_instance(tmp_path: Path, text: str, reason: str) -> None:
    spec = _bad_spec(tmp_path, text)
    result = run("generate", spec, "-n", "3", "-o", tmp_path / "pool")
    assert result.exit_code == 2
    assert "never yields a verified instance" in result.output and reason in result.output
    assert not (tmp_path / "pool").exists() and not (tmp_path / "pool.partial").exists()
    result = run("validate", spec, "--trials", "5")
    assert result.exit_code == 2 and reason in result.output


def test_missing_spec_and_existing_output(tmp_path: Path) -> None:
    result = run("generate", tmp_path / "nope.yaml", "-o", tmp_path / "pool")
    assert result.exit_code == 2 and "nope.yaml" in result.output
    (tmp_path / "pool").mkdir()
    result = run("generate", KNIGHTS, "-n", "1", "-o", tmp_path / "pool")
    assert result.exit_code == 2 and "--overwrite" in result.output


def test_verify_reports_a_tampered_row(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    pool = tmp_path / "pool"
    assert run("generate", KNIGHTS, "-n", "3", "-o", pool).exit_code == 0
    shard = next((pool / "data").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[1]["answer"] = "Mallory"
    pq.write_table(table.from_pylist(rows, schema=table.schema), shard)
    result = run("verify", pool)
    assert result.exit_code == 1
    assert rows[1]["id"] in result.output and "1 of 3 rows failed" in result.output


def test_verify_and_info_on_a_non_pool(tmp_path: Path) -> None:
    for command in ("verify", "info", "show"):
        result = run(command, tmp_path)
        assert result.exit_code == 2, command


def test_validate_reports_acceptance(tmp_path: Path) -> None:
    result = run("validate", KNIGHTS, "--trials", "6", "--difficulty", "easy")
    assert result.exit_code == 0, result.output
    assert "knights_knaves" in result.output and "/6" in result.output


def test_schema_is_json(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert run("schema", "-o", out).exit_code == 0
    import json

    assert "properties" in json.loads(out.read_text())
