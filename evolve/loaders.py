"""Load a benchmark (GSM8K, SVAMP, MATH/AIME, any table with a column mapping, or a pool).

Every row becomes a `synth.problem.Problem`. Word problems get their recovered program in
`meta["program"]` and the roles of their numerals in `meta["mentions"]`; rows whose program
cannot be recovered stay in, marked `meta["mutable"] = False` with the reason, and are
counted. Rows that cannot be problems at all (missing fields, a non-numeric answer where a
number is needed) are skipped and counted by reason; a file that is not the named format
at all (its columns are missing) is a `SourceError` naming the file and the columns.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from evolve.numbers import answer_text, answer_type, parse_number
from evolve.recover import RecoveryError, recover_equation, recover_gsm8k
from synth.problem import Problem, content_id

FORMATS = ("auto", "gsm8k", "svamp", "math", "pool", "table")
REQUIRED = {
    "gsm8k": ("question", "answer"),
    "svamp": ("Body", "Question", "Equation", "Answer"),
    "math": ("problem", "answer"),
    "table": ("prompt", "answer"),
}
_BOXED = re.compile(r"\\boxed\s*\{")


class SourceError(ValueError):
    """A source that cannot be read as the requested format (file, field, what was expected)."""


@dataclass
class LoadResult:
    """The problems of a source plus what happened to the rest."""

    name: str
    format: str
    problems: list[Problem] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    skip_examples: dict[str, str] = field(default_factory=dict)
    no_program: Counter = field(default_factory=Counter)

    @property
    def mutable(self) -> int:
        return sum(1 for p in self.problems if p.meta.get("mutable"))

    def coverage(self) -> dict[str, Any]:
        """Program-recovery coverage among rows that are word problems with numbers."""
        words = [p for p in self.problems if "mutable" in p.meta]
        return {
            "rows": len(self.problems),
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": dict(sorted(self.skipped.items())),
            "word_problems": len(words),
            "programs": sum(1 for p in words if p.meta["mutable"]),
            "coverage": round(sum(1 for p in words if p.meta["mutable"]) / len(words), 4)
            if words
            else None,
            "no_program_by_reason": dict(self.no_program.most_common(12)),
        }

    def skip(self, reason: str, where: str) -> None:
        self.skipped[reason] += 1
        self.skip_examples.setdefault(reason, where)


# -- reading rows ------------------------------------------------------------------------


def read_rows(path: Path, split: str | None = None) -> list[dict[str, Any]]:
    """Rows of a .jsonl/.json/.parquet file or a `datasets` directory (local only)."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}: no such file or directory")
    if path.is_dir():
        return _dataset_rows(path, split)
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        rows = []
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    raise SourceError(f"{path}:{number}: not valid JSON ({error.msg})") from None
                if not isinstance(row, dict):
                    raise SourceError(f"{path}:{number}: expected a JSON object per line")
                rows.append(row)
        return rows
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise SourceError(f"{path}: not valid JSON ({error.msg})") from None
        if isinstance(data, dict) and isinstance(data.get("data"), list):
            data = data["data"]
        if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
            raise SourceError(f"{path}: expected a JSON list of objects")
        return data
    if suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.read_table(path).to_pylist()
        except (pa.ArrowException, OSError) as error:
            raise SourceError(f"{path}: not a readable Parquet file ({error})") from None
    raise SourceError(f"{path}: unknown file type {suffix!r}; expected .jsonl, .json or .parquet")


def _dataset_rows(path: Path, split: str | None) -> list[dict[str, Any]]:
    import datasets

    try:
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            data = datasets.load_from_disk(str(path))
        else:
            data = datasets.load_dataset(str(path))
    except (OSError, ValueError, TypeError) as error:  # what datasets raises for bad folders
        raise SourceError(f"{path}: not a readable dataset folder ({error})") from None
    if isinstance(data, datasets.DatasetDict):
        name = split or ("test" if "test" in data else next(iter(data)))
        if name not in data:
            raise SourceError(f"{path}: no split {name!r} (splits: {', '.join(data)})")
        data = data[name]
    return list(data)


def detect_format(rows: list[dict[str, Any]], where: str) -> str:
    if not rows:
        raise SourceError(f"{where}: the source has no rows")
    keys = set(rows[0])
    for fmt in ("svamp", "gsm8k", "math"):
        if set(REQUIRED[fmt]) <= keys:
            if fmt == "gsm8k" and "####" not in str(rows[0].get("answer", "")):
                continue
            return fmt
    if {"question", "answer"} <= keys:
        return "math"
    raise SourceError(
        f"{where}: cannot tell the format from the columns {sorted(keys)}; expected GSM8K "
        "(question, answer with '#### n'), SVAMP (Body, Question, Equation, Answer), "
        "MATH (problem, answer), or pass --format table with --map prompt=COL,answer=COL"
    )


def _check_columns(rows: list[dict[str, Any]], need: Iterable[str], where: str, fmt: str) -> None:
    keys = set().union(*(set(r) for r in rows[:50])) if rows else set()
    missing = [c for c in need if c not in keys]
    if missing:
        raise SourceError(
            f"{where}: {fmt} rows need the column(s) {', '.join(missing)}; "
            f"the file has {', '.join(sorted(keys)) or 'no columns'}"
        )


# -- rows to problems --------------------------------------------------------------------


def load_source(
    path: str | Path,
    fmt: str = "auto",
    mapping: Mapping[str, str] | None = None,
    name: str | None = None,
    split: str | None = None,
    limit: int | None = None,
) -> LoadResult:
    """Load `path` as `fmt` (`auto` detects from the columns; `pool` reads a veriforge pool)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "pool" or (fmt == "auto" and path.is_dir() and (path / "manifest.json").exists()):
        return _load_pool(path, limit)
    rows = read_rows(path, split)
    where = str(path)
    if mapping:
        rows = [_mapped(r, mapping) for r in rows]
        fmt = "table" if fmt == "auto" else fmt
    if fmt == "auto":
        fmt = detect_format(rows, where)
    if fmt == "math" and rows and "problem" not in rows[0] and "question" in rows[0]:
        rows = [{**r, "problem": r.get("question")} for r in rows]
    _check_columns(rows, REQUIRED[fmt], where, fmt)
    name = name or _source_name(path)
    result = LoadResult(name, fmt)
    convert = {"gsm8k": _gsm8k, "svamp": _svamp, "math": _math, "table": _table}[fmt]
    for index, row in enumerate(rows[:limit] if limit else rows):
        try:
            problem = convert(row, index, name, result)
        except _Skip as skip:
            result.skip(skip.reason, f"{where} row {index}: {skip.detail}")
            continue
        result.problems.append(problem)
    return result


def _source_name(path: Path) -> str:
    stem = path.stem if path.is_file() else path.name
    parent = path.parent.name
    return f"{parent}/{stem}" if stem in ("test", "train", "validation", "dev") and parent else stem


def _mapped(row: dict[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    out = dict(row)
    for target, column in mapping.items():
        if column in row:
            out[target] = row[column]
    return out


class _Skip(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _Skip(f"empty {key}", f"{key} is {value!r}")
    return value.strip()


def _number(value: Any, field_name: str) -> Fraction:
    if isinstance(value, bool):
        raise _Skip("non-numeric answer", f"{field_name} is {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise _Skip("non-numeric answer", f"{field_name} is {value!r}")
        return Fraction(str(value))
    number = parse_number(str(value)) if value is not None else None
    if number is None:
        raise _Skip("non-numeric answer", f"{field_name} is {str(value)[:60]!r}")
    return number


def _word_problem(
    name: str,
    index: int,
    prompt: str,
    gold: Fraction,
    meta: dict[str, Any],
    recover: Any,
    result: LoadResult,
) -> Problem:
    try:
        recovered = recover()
    except RecoveryError as error:
        reason = re.sub(r"[-\d./]+", "N", str(error))[:80]
        result.no_program[reason] += 1
        meta.update(mutable=False, program_error=str(error))
    else:
        meta.update(
            mutable=True,
            program=recovered.program.to_json(),
            mentions=recovered.mentions.to_json(),
        )
    answer = answer_text(gold)
    return Problem(
        id=content_id(name, index, prompt, answer),
        source=name,
        category="math word problem",
        prompt=prompt,
        answer=answer,
        answer_type=answer_type(gold),
        grader={"kind": answer_type(gold)},
        features={},
        meta={"benchmark": name, "row": index, **meta},
        lineage={"operator": "source", "parents": [], "generation": 0},
    )


def _gsm8k(row: Mapping[str, Any], index: int, name: str, result: LoadResult) -> Problem:
    question = _text(row, "question")
    answer = _text(row, "answer")
    rationale, sep, final = answer.rpartition("####")
    if not sep:
        raise _Skip("no '#### answer' line", "the answer field has no '####'")
    gold = _number(final.strip(), "answer after ####")
    meta = {"solution": rationale.strip()}
    return _word_problem(
        name,
        index,
        question,
        gold,
        meta,
        lambda: recover_gsm8k(question, rationale, gold),
        result,
    )


def _svamp(row: Mapping[str, Any], index: int, name: str, result: LoadResult) -> Problem:
    body, question = _text(row, "Body"), _text(row, "Question")
    prompt = (
        f"{body.rstrip('.')}. {question}"
        if not body.endswith((".", "!", "?"))
        else f"{body} {question}"
    )
    equation = _text(row, "Equation")
    gold = _number(row.get("Answer"), "Answer")
    meta = {"solution": f"{equation} = {answer_text(gold)}", "type": str(row.get("Type", ""))}
    return _word_problem(
        name,
        index,
        prompt,
        gold,
        meta,
        lambda: recover_equation(prompt, equation, gold),
        result,
    )


def boxed(text: str) -> str | None:
    """The content of the last `\\boxed{...}` (balanced braces), if any."""
    starts = [m.end() for m in _BOXED.finditer(text)]
    if not starts:
        return None
    depth, start = 1, starts[-1]
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start:i].strip()
    return None


def _math(row: Mapping[str, Any], index: int, name: str, result: LoadResult) -> Problem:
    prompt = _text(row, "problem")
    raw = row.get("answer")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raw = boxed(str(row.get("solution", ""))) or raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise _Skip("empty answer", "no answer and no \\boxed{} in the solution")
    if isinstance(raw, str) and boxed(raw) is not None:
        raw = boxed(raw)
    try:
        value = _number(raw, "answer")
    except _Skip:
        text = str(raw).strip()
        kind = "expression"
        answer, value = text, None
    else:
        answer, kind = answer_text(value), answer_type(value)
    meta: dict[str, Any] = {"benchmark": name, "row": index}
    if isinstance(row.get("solution"), str) and row["solution"].strip():
        meta["solution"] = row["solution"].strip()
    return Problem(
        id=content_id(name, index, prompt, answer),
        source=name,
        category="competition math",
        prompt=prompt,
        answer=answer,
        answer_type=kind,
        grader={"kind": kind},
        meta=meta,
        lineage={"operator": "source", "parents": [], "generation": 0},
    )


def _table(row: Mapping[str, Any], index: int, name: str, result: LoadResult) -> Problem:
    prompt = _text(row, "prompt")
    if "program" in row or "equation" in row:
        gold = _number(row.get("answer"), "answer")
        equation = _text(row, "equation" if "equation" in row else "program")
        meta = {"solution": str(row.get("solution", "")).strip()} if row.get("solution") else {}
        return _word_problem(
            name,
            index,
            prompt,
            gold,
            meta,
            lambda: recover_equation(prompt, equation, gold),
            result,
        )
    if "solution" in row and isinstance(row.get("solution"), str) and "<<" in row["solution"]:
        gold = _number(row.get("answer"), "answer")
        rationale = row["solution"]
        return _word_problem(
            name,
            index,
            prompt,
            gold,
            {"solution": rationale},
            lambda: recover_gsm8k(prompt, rationale, gold),
            result,
        )
    return _math({**row, "problem": prompt}, index, name, result)


def _load_pool(path: Path, limit: int | None) -> LoadResult:
    from synth.pool import PoolError, read_manifest, read_pool

    try:
        problems = read_pool(path)
        manifest = read_manifest(path)
    except PoolError as error:
        raise SourceError(str(error)) from None
    result = LoadResult(str(manifest.get("name") or path.name), "pool")
    result.problems = problems[:limit] if limit else problems
    return result
