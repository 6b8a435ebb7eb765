"""The evolutionary loop: determinism, resume after an interrupt, no duplicates, the pool
and the report on disk, the diversity floor, and the CLI's exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evolve.loaders import load_source
from evolve.pipeline import evolve_source, work_dir
from evolve.search import Evolution, EvolveConfig, EvolveError
from evolve.verify import verify_child
from synth.pool import read_manifest, read_pool
from veriforge.cli import app

ROOT = Path(__file__).resolve().parents[1]
GSM8K = ROOT / "data" / "gsm8k" / "test.jsonl"
runner = CliRunner()


@pytest.fixture(scope="module")
def source():
    return load_source(GSM8K, limit=120)


def config(**kw):
    base = {"generations": 3, "population": 10, "seed": 7}
    base.update(kw)
    return EvolveConfig(**base)


def shard_hashes(pool: Path) -> list[str]:
    return [s["sha256"] for s in read_manifest(pool)["shards"]]


def test_same_seed_same_pool_and_every_row_verified(tmp_path, source):
    a = evolve_source(GSM8K, tmp_path / "a", config(), loaded=source)
    b = evolve_source(GSM8K, tmp_path / "b", config(), loaded=source)
    assert shard_hashes(tmp_path / "a") == shard_hashes(tmp_path / "b")
    assert a.report["generations"] == b.report["generations"]
    rows = read_pool(tmp_path / "a")
    assert len(rows) == len({r.id for r in rows}) == len(a.evolved) > 0
    for row in rows:
        verify_child(row)
        assert row.lineage["operator"] != "source" and row.lineage["parents"]
        assert "evolve_fitness" in row.features
    c = evolve_source(GSM8K, tmp_path / "c", config(seed=8), loaded=source)
    assert {r.id for r in c.evolved} != {r.id for r in a.evolved}
    assert not work_dir(tmp_path / "a").exists()


@pytest.mark.parametrize("stop_at", [("generation", 2), ("children", 4)])
def test_interrupt_and_resume_gives_the_same_pool(tmp_path, source, stop_at):
    reference = evolve_source(GSM8K, tmp_path / "ref", config(), loaded=source)
    seen = {"generation": 0}

    def interrupt(stage, done, total):
        if stage == "generation":
            seen["generation"] = done
        if stage == stop_at[0] and done == stop_at[1] and seen["generation"] >= 1:
            raise KeyboardInterrupt

    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        evolve_source(GSM8K, out, config(), loaded=source, progress=interrupt)
    assert (work_dir(out) / "state.json").exists() and not out.exists()
    with pytest.raises(EvolveError, match="pass --resume"):
        evolve_source(GSM8K, out, config(), loaded=source)
    with pytest.raises(EvolveError, match="other settings"):
        evolve_source(GSM8K, out, config(population=12), loaded=source, resume=True)
    resumed = evolve_source(GSM8K, out, config(), loaded=source, resume=True)
    assert shard_hashes(out) == shard_hashes(tmp_path / "ref")
    assert resumed.report["generations"] == reference.report["generations"]
    assert resumed.report["operators"] == reference.report["operators"]


def test_report_files_and_structural_only_statement(tmp_path, source):
    result = evolve_source(GSM8K, tmp_path / "pool", config(), loaded=source)
    folder = tmp_path / "pool-report"
    report = json.loads((folder / "report.json").read_text())
    assert report["fitness"].startswith("structural only: no model was given")
    assert [g["generation"] for g in report["generations"]] == [0, 1, 2, 3]
    assert set(report["operators"]) == {
        "renumber",
        "distract",
        "decoy",
        "chain",
        "invert",
        "extend",
    }
    for stats in report["operators"].values():
        assert stats["tried"] >= stats["accepted"] >= 0
        assert stats["rate"] == round(stats["accepted"] / stats["tried"], 4)
    assert report["source_coverage"]["rows"] == 120
    assert "accuracy" not in report
    for png in ("fitness.png", "operators.png"):
        assert (folder / "plots" / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Operators" in (folder / "report.md").read_text()
    manifest = read_manifest(tmp_path / "pool")
    assert manifest["evolve"]["source_format"] == "gsm8k" and manifest["evolve"]["models"] == []
    assert result.report["evolved"] == len(read_pool(tmp_path / "pool"))


def test_fitness_rises_and_children_get_harder(source):
    run = Evolution(source.problems, config(generations=4, population=12))
    state = run.run()
    history = state.history
    assert history[-1]["structure"] > history[0]["structure"]
    assert history[-1]["evolved"] > 0


def test_diversity_floor_keeps_distinct_roots(source):
    strict = Evolution(source.problems, config(diversity_floor=1.0, population=10)).run()
    assert strict.history[-1]["roots"] == 10
    loose = Evolution(source.problems, config(diversity_floor=0.0, population=10, elite=10)).run()
    assert loose.history[-1]["roots"] <= strict.history[-1]["roots"]


def test_nothing_to_evolve_is_a_clear_error(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"problem": "2+2?", "answer": "4"}) + "\n", encoding="utf-8")
    with pytest.raises(EvolveError, match="no source problem can be evolved"):
        evolve_source(path, tmp_path / "out", config())


def test_cli_evolve_and_exit_codes(tmp_path):
    src = tmp_path / "small.jsonl"
    lines = GSM8K.read_text(encoding="utf-8").splitlines()[:40]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "pool"
    args = [
        "evolve",
        str(src),
        "-o",
        str(out),
        "--generations",
        "2",
        "--population",
        "6",
        "--operators",
        "renumber,distract,extend",
        "--seed",
        "1",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "structural only" in result.output and out.is_dir()
    assert runner.invoke(app, args).exit_code == 2  # exists
    bad = runner.invoke(
        app, ["evolve", str(src), "-o", str(tmp_path / "x"), "--operators", "shuffle"]
    )
    assert bad.exit_code == 2 and "unknown operator" in bad.output
    assert (
        runner.invoke(
            app, ["evolve", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "y")]
        ).exit_code
        == 2
    )
    need = runner.invoke(
        app, ["evolve", str(src), "-o", str(tmp_path / "z"), "--operators", "rephrase"]
    )
    assert need.exit_code == 2 and "needs a model" in need.output
    both = runner.invoke(
        app,
        ["evolve", str(src), "-o", str(tmp_path / "w"), "--model", "m", "--endpoint", "http://x"],
    )
    assert both.exit_code == 2
    cols = tmp_path / "cols.jsonl"
    cols.write_text(json.dumps({"q": "x"}) + "\n", encoding="utf-8")
    missing = runner.invoke(
        app, ["evolve", str(cols), "-o", str(tmp_path / "v"), "--format", "gsm8k"]
    )
    assert missing.exit_code == 2 and "question, answer" in missing.output


def test_cli_kill_and_resume_gives_the_same_pool(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    src = tmp_path / "small.jsonl"
    src.write_text(
        "\n".join(GSM8K.read_text(encoding="utf-8").splitlines()[:80]) + "\n", encoding="utf-8"
    )
    common = ["--generations", "12", "--population", "12", "--seed", "5"]
    reference = tmp_path / "ref"
    assert runner.invoke(app, ["evolve", str(src), "-o", str(reference), *common]).exit_code == 0
    pool = tmp_path / "pool"
    cmd = [sys.executable, "-m", "veriforge", "evolve", str(src), "-o", str(pool), *common]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    state = work_dir(pool) / "state.json"
    deadline, reached = time.time() + 90, False
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and json.loads(state.read_text())["generation"] >= 2:
            reached = True
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert reached, "the run never checkpointed generation 2 before finishing"
    assert not pool.exists()
    refused = runner.invoke(app, ["evolve", str(src), "-o", str(pool), *common])
    assert refused.exit_code == 2 and "--resume" in refused.output
    resumed = runner.invoke(app, ["evolve", str(src), "-o", str(pool), *common, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert shard_hashes(pool) == shard_hashes(reference)
    assert not work_dir(pool).exists()
