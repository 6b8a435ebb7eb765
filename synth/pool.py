"""The pool on disk, in the Hugging Face Hub layout.

```
POOL/README.md                              dataset card (YAML header + body)
POOL/manifest.json                          run manifest (pretty-printed, sorted keys)
POOL/data/<split>-<idx:05d>-of-<n:05d>.parquet
```

The same directory can be uploaded to the Hub as is, and `datasets.load_dataset(POOL)`
reads it locally. Shards are byte-identical for the same rows on every run and machine
(given the pinned pyarrow): the writer options below are all explicit and nothing in a shard
depends on the time, the host or the process. A pool is written into a temporary sibling
directory and renamed into place, so a failed write never leaves a half-written pool.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .card import render_card
from .problem import COLUMNS, Problem, features

__all__ = [
    "PARQUET_OPTIONS",
    "ROW_GROUP_SIZE",
    "PoolError",
    "PoolExistsError",
    "iter_rows",
    "read_manifest",
    "read_pool",
    "shard_name",
    "shard_paths",
    "write_pool",
]

DATA_DIR = "data"
MANIFEST = "manifest.json"
README = "README.md"

# Rows per Parquet row group. Fixed so that the bytes do not depend on batch sizes upstream;
# small enough that the Hub's dataset viewer can page through a shard.
ROW_GROUP_SIZE = 1000

# Every writer option that affects the bytes, spelled out (pyarrow defaults could change).
PARQUET_OPTIONS: dict[str, Any] = {
    "version": "2.6",
    "compression": "zstd",
    "compression_level": 3,
    "use_dictionary": True,
    "write_statistics": True,
    "data_page_size": 1 << 20,
    "data_page_version": "1.0",
    "use_byte_stream_split": False,
    "write_page_index": False,
    "write_page_checksum": False,
    "store_schema": True,
    "use_content_defined_chunking": False,
}

_SPLIT_RE = re.compile(r"^[A-Za-z0-9_]+$")
_SHARD_RE = re.compile(r"^(?P<split>[A-Za-z0-9_]+)-(?P<index>\d{5})-of-(?P<count>\d{5})\.parquet$")


class PoolError(Exception):
    """A pool cannot be read or written; the message names the path and what is wrong."""


class PoolExistsError(PoolError):
    """The output pool already exists and overwriting was not requested."""


# --------------------------------------------------------------------------------------------
# writing


def shard_name(split: str, index: int, count: int) -> str:
    """`train-00000-of-00001.parquet`: the Hub's shard naming, which `data/<split>-*` matches."""
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def _schema() -> pa.Schema:
    # `Features.arrow_schema` carries the `huggingface` metadata that `datasets` itself writes,
    # so `load_dataset` recovers the exact features (not just the Arrow types).
    return features().arrow_schema


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _write_shard(rows: list[dict[str, Any]], path: Path, schema: pa.Schema) -> int:
    """One shard, deterministic bytes: explicit schema, options and row-group size.

    Returns the Arrow size of the rows (what `datasets` calls a split's `num_bytes`).
    """
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, row_group_size=ROW_GROUP_SIZE, **PARQUET_OPTIONS)
    _fsync_file(path)
    return table.nbytes


def _counts(problems: Sequence[Problem], split: str) -> dict[str, Any]:
    def tally(values: Iterator[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return {
        "total": len(problems),
        "sources": tally(p.source for p in problems),
        "categories": tally(p.category for p in problems),
        "answer_types": tally(p.answer_type for p in problems),
        "splits": {split: len(problems)},
    }


def _looks_like_pool(path: Path) -> bool:
    return (path / MANIFEST).is_file() or (path / DATA_DIR).is_dir() or not any(path.iterdir())


def write_pool(
    problems: Sequence[Problem],
    out: Path,
    manifest: dict,
    *,
    split: str = "train",
    rows_per_shard: int = 50_000,
    overwrite: bool = False,
) -> Path:
    """Write `problems` as a pool at `out` (shards, manifest with counts and shard hashes, card).

    Everything is written into `.<name>.tmp-<pid>` next to `out` and renamed into place, so
    readers never see a half-written pool and a failure leaves nothing behind. With
    `overwrite`, an existing pool is moved aside, replaced, then deleted (and restored if the
    replacement cannot be moved in). Returns `out`.
    """
    out = Path(out)
    if not _SPLIT_RE.match(split):
        raise PoolError(f"{out}: split name {split!r} must match [A-Za-z0-9_]+")
    if not isinstance(rows_per_shard, int) or rows_per_shard < 1:
        raise PoolError(f"{out}: rows_per_shard must be a positive integer, got {rows_per_shard!r}")
    problems = list(problems)
    seen: dict[str, int] = {}
    for index, problem in enumerate(problems):
        if not isinstance(problem, Problem):
            raise TypeError(f"problems[{index}] is a {type(problem).__name__}, not a Problem")
        if problem.id in seen:
            raise PoolError(
                f"{out}: duplicate problem id {problem.id!r} at rows {seen[problem.id]} and {index}"
            )
        seen[problem.id] = index
    if not isinstance(manifest, dict):
        raise TypeError(f"manifest must be a dict, not {type(manifest).__name__}")
    try:
        json.dumps(manifest, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise PoolError(f"{out}: manifest is not JSON-serialisable: {err}") from err

    if os.path.lexists(out):
        if not overwrite:
            raise PoolExistsError(
                f"{out}: a pool already exists there; choose another path or pass overwrite=True"
            )
        _check_replaceable(out)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
    if os.path.lexists(tmp):  # left over by a crashed run of a process with the same pid
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        full_manifest = _write_contents(problems, tmp, manifest, split, rows_per_shard)
        _write_text(tmp / README, render_card(problems, full_manifest))
        _write_text(
            tmp / MANIFEST,
            json.dumps(full_manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        )
        _fsync_dir(tmp / DATA_DIR)
        _fsync_dir(tmp)
        _commit(tmp, out, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(out.parent)
    return out


def _write_contents(
    problems: list[Problem], tmp: Path, manifest: dict, split: str, rows_per_shard: int
) -> dict[str, Any]:
    schema = _schema()
    data = tmp / DATA_DIR
    data.mkdir()
    count = max(1, -(-len(problems) // rows_per_shard))
    shards = []
    for index in range(count):
        chunk = problems[index * rows_per_shard : (index + 1) * rows_per_shard]
        name = shard_name(split, index, count)
        path = data / name
        num_bytes = _write_shard([p.to_row() for p in chunk], path, schema)
        shards.append(
            {
                "file": f"{DATA_DIR}/{name}",
                "split": split,
                "rows": len(chunk),
                "num_bytes": num_bytes,
                "sha256": _sha256(path),
            }
        )
    full = copy.deepcopy(manifest)
    full["counts"] = _counts(problems, split)
    full["shards"] = shards
    return full


def _check_replaceable(out: Path) -> None:
    """Refuse to delete anything that is not a pool (a typo must not cost a directory)."""
    if out.is_symlink() or not out.is_dir():
        raise PoolError(f"{out}: exists and is not a directory; refusing to replace it")
    if not _looks_like_pool(out):
        raise PoolError(
            f"{out}: exists and is not a pool (no {MANIFEST} or {DATA_DIR}/); "
            "refusing to replace it"
        )


def _commit(tmp: Path, out: Path, overwrite: bool) -> None:
    if not os.path.lexists(out):
        try:
            os.rename(tmp, out)
            return
        except OSError as err:
            if not os.path.lexists(out):
                raise PoolError(f"{out}: cannot move the new pool into place: {err}") from err
            # someone created `out` since we checked: fall through to the overwrite rules
    if not overwrite:
        raise PoolExistsError(
            f"{out}: a pool already exists there; choose another path or pass overwrite=True"
        )
    _check_replaceable(out)
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    if os.path.lexists(old):
        shutil.rmtree(old)
    os.rename(out, old)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# reading


def _pool_dir(path: Path | str) -> Path:
    path = Path(path)
    if not path.exists():
        raise PoolError(f"{path}: no such pool directory")
    if not path.is_dir():
        raise PoolError(f"{path}: not a pool: it is not a directory")
    return path


def shard_paths(path: Path | str, split: str | None = None) -> list[Path]:
    """The shards of a pool (one split or all), in split-name then index order.

    Checks the naming and that every split's shards are complete (`0..n-1` of `n`), so a
    partial copy is an error instead of silently fewer rows.
    """
    pool = _pool_dir(path)
    data = pool / DATA_DIR
    if not data.is_dir():
        raise PoolError(f"{pool}: not a pool: no {DATA_DIR}/ directory")
    by_split: dict[str, dict[int, tuple[int, Path]]] = {}
    for entry in sorted(data.iterdir()):
        if entry.suffix != ".parquet":
            continue
        match = _SHARD_RE.match(entry.name)
        if not match:
            raise PoolError(
                f"{entry}: shard name is not <split>-<index:05d>-of-<count:05d>.parquet"
            )
        index, count = int(match["index"]), int(match["count"])
        by_split.setdefault(match["split"], {})[index] = (count, entry)
    if not by_split:
        raise PoolError(f"{pool}: not a pool: no Parquet shards under {DATA_DIR}/")
    if split is not None and split not in by_split:
        raise PoolError(
            f"{pool}: no shards for split {split!r} (splits: {', '.join(sorted(by_split))})"
        )
    result = []
    for name in sorted(by_split) if split is None else [split]:
        shards = by_split[name]
        counts = {count for count, _ in shards.values()}
        if len(counts) != 1:
            raise PoolError(f"{pool}: split {name!r} mixes shard counts {sorted(counts)}")
        (count,) = counts
        missing = sorted(set(range(count)) - set(shards))
        extra = sorted(set(shards) - set(range(count)))
        if missing or extra:
            names = [shard_name(name, i, count) for i in missing + extra]
            what = "missing" if missing else "out-of-range"
            raise PoolError(f"{pool}: split {name!r} has {what} shards: {', '.join(names)}")
        result.extend(shards[i][1] for i in range(count))
    return result


def _check_schema(shard: Path, schema: pa.Schema) -> None:
    names = list(schema.names)
    missing = [c for c in COLUMNS if c not in names]
    unexpected = [c for c in names if c not in COLUMNS]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unexpected:
            parts.append(f"unexpected {unexpected}")
        raise PoolError(f"{shard}: wrong columns: {'; '.join(parts)}")
    for column in COLUMNS:
        kind = schema.field(column).type
        if column == "difficulty":
            ok = pa.types.is_floating(kind)
        else:
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if not ok:
            raise PoolError(
                f"{shard}: column {column!r} has type {kind}, expected "
                f"{'a float' if column == 'difficulty' else 'string'}"
            )


def _iter_shard(shard: Path) -> Iterator[dict[str, Any]]:
    try:
        handle = pq.ParquetFile(shard)
    except (pa.ArrowException, OSError) as err:
        raise PoolError(f"{shard}: cannot read Parquet: {err}") from err
    with handle:
        _check_schema(shard, handle.schema_arrow)
        batches = handle.iter_batches(batch_size=ROW_GROUP_SIZE, columns=list(COLUMNS))
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as err:
                raise PoolError(f"{shard}: cannot read Parquet: {err}") from err
            yield from batch.to_pylist()


def iter_rows(path: Path | str, split: str | None = None) -> Iterator[dict[str, Any]]:
    """Raw rows (JSON columns still strings), streamed shard by shard: cheap on big pools."""
    for shard in shard_paths(path, split):
        yield from _iter_shard(shard)


def read_pool(path: Path | str, split: str | None = None) -> list[Problem]:
    """All problems of a pool (or of one split), decoded into `Problem`s."""
    problems = []
    for shard in shard_paths(path, split):
        for index, row in enumerate(_iter_shard(shard)):
            try:
                problems.append(Problem.from_row(row))
            except (ValueError, TypeError, KeyError) as err:
                raise PoolError(f"{shard}: row {index} is not a valid Problem: {err}") from err
    return problems


def read_manifest(path: Path | str) -> dict:
    """The run manifest of a pool (`manifest.json`)."""
    file = _pool_dir(path) / MANIFEST
    if not file.is_file():
        raise PoolError(f"{Path(path)}: not a pool: no {MANIFEST}")
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PoolError(f"{file}: cannot read manifest: {err}") from err
    if not isinstance(value, dict):
        raise PoolError(f"{file}: manifest is a {type(value).__name__}, expected a JSON object")
    return value
