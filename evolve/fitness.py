"""Fitness: measured difficulty, structure and novelty.

- Measured difficulty: the failure rate of one or more models on the problem, each
  completion graded by `synth.grading.grade` (the same grader training rewards use).
- Structure: how much reasoning the verified form demands: program depth and size,
  distractors, decoys, chaining and inversion for word problems; clue count and solver
  conflicts for SMT-backed rows. Squashed into [0, 1).
- Novelty: one minus the highest word-trigram Jaccard similarity to any other problem in
  the population and to the source benchmark sample (near-copies score near zero).

Without a model the difficulty term is absent and the weights of the others are used alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evolve.models import Answerer, SamplingParams
from evolve.program import Program, ProgramError
from synth.grading import grade
from synth.problem import Problem


@dataclass(frozen=True)
class Weights:
    difficulty: float = 0.6
    structure: float = 0.25
    novelty: float = 0.15


def structure(problem: Problem) -> tuple[float, dict[str, float]]:
    """A [0, 1) score of structural difficulty and the features behind it."""
    meta, feats = problem.meta, problem.features
    parts: dict[str, float] = {}
    if problem.meta.get("mutable") and "program" in meta:
        try:
            program = Program.from_json(meta["program"])
            parts["program_depth"] = float(program.depth())
            parts["program_size"] = float(program.size())
        except ProgramError:
            parts["program_depth"] = parts["program_size"] = 0.0
        for key in ("distractors", "decoys", "chained", "inverted", "extended"):
            parts[key] = float(meta.get(key, 0))
        raw = (
            parts["program_depth"] / 4
            + parts["program_size"] / 8
            + 0.4 * parts["distractors"]
            + 0.4 * parts["decoys"]
            + 0.6 * parts["chained"]
            + 0.5 * parts["inverted"]
            + 0.2 * parts["extended"]
        )
    elif problem.certificate:
        parts["clues"] = float(feats.get("clues", 0))
        parts["solver_conflicts"] = float(feats.get("conflicts", 0))
        parts["search_space_log10"] = float(feats.get("search_space_log10", 0))
        raw = (
            parts["clues"] / 10
            + math.log10(1 + parts["solver_conflicts"]) / 2
            + parts["search_space_log10"] / 10
        )
    else:
        raw = len(problem.prompt) / 2000
    return round(1 - math.exp(-raw), 6), parts


_WORD = re.compile(r"[a-z0-9]+")


def shingles(text: str) -> frozenset[str]:
    tokens = _WORD.findall(text.lower())
    if len(tokens) < 3:
        return frozenset(tokens)
    return frozenset(" ".join(tokens[i : i + 3]) for i in range(len(tokens) - 2))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def novelty(
    problems: Sequence[Problem], reference: Iterable[frozenset[str]] = ()
) -> dict[str, float]:
    """Per problem id: 1 - max similarity to the other problems and to `reference`."""
    sets = {p.id: shingles(p.prompt) for p in problems}
    ref = list(reference)
    out = {}
    for p in problems:
        mine = sets[p.id]
        best = max((jaccard(mine, s) for q, s in sets.items() if q != p.id), default=0.0)
        best = max([best] + [jaccard(mine, s) for s in ref])
        out[p.id] = round(1 - best, 6)
    return out


def failure_rates(
    problems: Sequence[Problem],
    answerers: Sequence[Answerer],
    params: SamplingParams,
    batch: int = 16,
) -> dict[str, dict[str, float]]:
    """Per problem id and model name: the share of completions the grader marks wrong."""
    out: dict[str, dict[str, float]] = {p.id: {} for p in problems}
    for answerer in answerers:
        for start in range(0, len(problems), batch):
            chunk = problems[start : start + batch]
            completions = answerer.complete([p.prompt for p in chunk], params)
            if len(completions) != len(chunk):
                raise RuntimeError(
                    f"model {answerer.name} returned {len(completions)} answers for {len(chunk)} prompts"
                )
            for problem, answers in zip(chunk, completions):
                if not answers:
                    raise RuntimeError(f"model {answerer.name} returned no completion")
                wrong = sum(1 for a in answers if not grade(problem, a).correct)
                out[problem.id][answerer.name] = wrong / len(answers)
    return out


def combine(structural: float, novel: float, failure: float | None, weights: Weights) -> float:
    """The fitness: weighted sum, renormalised over the terms that are present."""
    terms = [(weights.structure, structural), (weights.novelty, novel)]
    if failure is not None:
        terms.append((weights.difficulty, failure))
    total = sum(w for w, _ in terms) or 1.0
    return round(sum(w * v for w, v in terms) / total, 6)
