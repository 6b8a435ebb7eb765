"""Grade a model's response against a problem: the one entry point for evaluation,
evolution fitness and training rewards."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from synth.certificate import parse_header
from synth.grading import assignment as assignments
from synth.grading.compare import NUMERIC_TYPES, Comparator, comparator, load_grader
from synth.grading.extract import SHORT_RESPONSE, Statements, statements
from synth.problem import ANSWER_TYPES, Problem

MAX_RESPONSE = 2_000_000  # characters considered (the tail is kept: answers come last)


@dataclass(frozen=True)
class Grade:
    """correct: the stated final answer is right; score in [0, 1] (partial credit only for
    assignments); extracted: the statement that was graded; reason: why, in words."""

    correct: bool
    score: float
    extracted: str | None
    reason: str


@dataclass(frozen=True)
class _Target:
    answer_type: str
    answer: str
    grader: dict[str, Any]
    certificate: str
    compare: Comparator | None
    gold: Any


def _fields(problem: Problem | Mapping[str, Any]) -> tuple[str, str, Any, str]:
    if isinstance(problem, Problem):
        return problem.answer_type, problem.answer, problem.grader, problem.certificate
    try:
        return (
            problem["answer_type"],
            str(problem["answer"]),
            problem.get("grader"),
            problem.get("certificate") or "",
        )
    except KeyError as error:
        raise ValueError(f"a problem needs {error.args[0]!r}") from None


@lru_cache(maxsize=20_000)
def _target_cached(answer_type: str, answer: str, grader_json: str, certificate: str) -> _Target:
    return _build_target(answer_type, answer, load_grader(grader_json), certificate)


def _build_target(
    answer_type: str, answer: str, grader: dict[str, Any], certificate: str
) -> _Target:
    if answer_type not in ANSWER_TYPES:
        raise ValueError(f"unknown answer type {answer_type!r}")
    if answer_type == "assignment":
        variables = list(grader.get("variables") or [])
        gold = assignments.read(answer, variables, grader.get("format", "mapping"))
        if gold is None:
            raise ValueError(f"gold assignment {answer[:60]!r} does not fit its grader")
        return _Target(answer_type, answer, grader, certificate, None, gold)
    compare = comparator(answer_type, grader)
    gold = compare.read(answer)
    if gold is None:
        raise ValueError(f"gold answer {answer[:60]!r} is not a valid {answer_type}")
    return _Target(answer_type, answer, grader, certificate, compare, gold)


def _target(problem: Problem | Mapping[str, Any]) -> _Target:
    answer_type, answer, grader, certificate = _fields(problem)
    if isinstance(grader, dict):
        return _build_target(answer_type, answer, grader, certificate)
    return _target_cached(answer_type, answer, grader or "", certificate)


def grade(
    problem: Problem | Mapping[str, Any], response: str | None, partial_credit: bool = True
) -> Grade:
    """Grade one response. `problem` is a Problem or a pool row (an empty grader means the
    answer type's defaults). Never raises on hostile responses; raises ValueError only
    for a malformed problem."""
    target = _target(problem)
    if not isinstance(response, str):
        response = "" if response is None else str(response)
    response = response[-MAX_RESPONSE:]
    found = statements(response, numeric=target.answer_type in NUMERIC_TYPES)
    if found.source in ("number", "none") and target.compare is not None:
        # A short one-line response that reads whole ("\\sqrt{2}", "\\pi", "1e6") is the
        # answer itself; only otherwise is its last number taken ("3 + 4 = 7" -> 7).
        whole = response.strip()
        if (
            0 < len(whole) <= SHORT_RESPONSE
            and "\n" not in whole
            and target.compare.read(whole) is not None
        ):
            found = Statements((whole,), "whole")
    if not found.values:
        return Grade(False, 0.0, None, "no final answer found")
    if target.answer_type == "assignment":
        return _grade_assignment(target, found.values, partial_credit)
    compare = target.compare
    assert compare is not None
    values = [compare.read(v) for v in found.values]
    last = found.values[-1]
    if any(v is None for v in values):
        bad = found.values[values.index(None)]
        if len(values) == 1:
            return Grade(False, 0.0, last, f"cannot read {bad[:80]!r} as {target.answer_type}")
        return Grade(False, 0.0, last, "conflicting final answers (one is unreadable)")
    if any(not compare.same(values[0], v) for v in values[1:]):
        return Grade(False, 0.0, last, f"conflicting final answers ({len(values)} stated)")
    if compare.same(values[-1], target.gold):
        return Grade(True, 1.0, last, f"correct ({found.source})")
    return Grade(False, 0.0, last, f"wrong: expected {target.answer[:80]}")


def _grade_assignment(target: _Target, stated: Sequence[str], partial: bool) -> Grade:
    variables = list(target.grader.get("variables") or target.gold)
    fmt = target.grader.get("format", "mapping")
    read = [assignments.read(s, variables, fmt) for s in stated]
    last = stated[-1]
    if any(r is None for r in read):
        return Grade(
            False,
            0.0,
            last,
            f"cannot read a complete {fmt} assignment of {len(variables)} variables",
        )
    if any(r != read[0] for r in read[1:]):
        return Grade(False, 0.0, last, f"conflicting final answers ({len(read)} stated)")
    answer = read[-1]
    assert answer is not None
    if answer == target.gold:
        return Grade(True, 1.0, last, "correct")
    # Where the certificate proves the gold assignment unique, any other one is invalid;
    # otherwise another solution may be just as valid: ask the constraints.
    if (
        target.certificate
        and not _proved_unique(target.certificate)
        and assignments.valid_by_certificate(target.certificate, answer)
    ):
        return Grade(True, 1.0, last, "correct (a different valid solution)")
    matching = sum(answer[v] == target.gold[v] for v in variables)
    score = matching / len(variables) if partial and variables else 0.0
    return Grade(False, score, last, f"wrong: {matching} of {len(variables)} values match")


@lru_cache(maxsize=4096)
def _proved_unique(certificate: str) -> bool:
    try:
        return parse_header(certificate).get("kind") == "unique"
    except (ValueError, KeyError):
        return False


def grade_batch(
    problems: Sequence[Problem | Mapping[str, Any]],
    responses: Sequence[str],
    partial_credit: bool = True,
) -> list[Grade]:
    """Grade responses[i] against problems[i]."""
    if len(problems) != len(responses):
        raise ValueError(f"{len(problems)} problems but {len(responses)} responses")
    return [grade(p, r, partial_credit) for p, r in zip(problems, responses)]
