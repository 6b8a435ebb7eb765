"""The evolutionary loop: tournament selection, elitism, a diversity floor; resumable.

Generation g is a pure function of (population after g-1, config, seed): every random
choice comes from an RNG seeded by (seed, g, slot), model calls are greedy or seeded, and
ties are broken by row id. After each generation the whole state is written to
`<work>/state.json` (temporary file, then rename), so a run killed at any point and rerun
with `resume=True` recomputes only the unfinished generation and ends with the same
population, byte for byte, with no duplicates.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from evolve.fitness import Weights, combine, failure_rates, novelty, shingles, structure
from evolve.models import Answerer, SamplingParams
from evolve.operators import OPERATORS, Context, Rejected, make_operators
from evolve.verify import VerificationError, verify_child
from synth.problem import Problem

STATE = "state.json"
Progress = Callable[[str, int, int], None]


class EvolveConfig(BaseModel):
    """User-facing settings of one evolution run."""

    model_config = ConfigDict(extra="forbid")

    operators: list[str] = Field(
        default_factory=lambda: ["renumber", "distract", "decoy", "chain", "invert", "extend"]
    )
    generations: int = Field(5, ge=1, le=10_000)
    population: int = Field(32, ge=2, le=100_000)
    seed: int = 0
    tournament: int = Field(3, ge=1)
    elite: int = Field(2, ge=0)
    diversity_floor: float = Field(
        0.5, ge=0.0, le=1.0, description="min share of distinct source roots"
    )
    samples: int = Field(1, ge=1, description="completions per problem for measured difficulty")
    temperature: float = Field(0.0, ge=0.0)
    max_new_tokens: int = Field(256, ge=1)
    weights: dict[str, float] = Field(
        default_factory=lambda: {"difficulty": 0.6, "structure": 0.25, "novelty": 0.15}
    )

    @field_validator("operators")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in OPERATORS]
        if unknown:
            raise ValueError(
                f"unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}"
            )
        if not names:
            raise ValueError("at least one operator is needed")
        return list(dict.fromkeys(names))


class EvolveError(RuntimeError):
    """The run cannot proceed (nothing to evolve, a state from another run, ...)."""


@dataclass
class Individual:
    problem: Problem
    structural: float
    parts: dict[str, float]
    failure: float | None  # mean over models; None without a model
    fitness: float = 0.0
    novelty: float = 0.0


@dataclass
class RunState:
    generation: int
    population: list[Individual]
    history: list[dict[str, Any]] = field(default_factory=list)
    op_stats: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    failures: dict[str, dict[str, float]] = field(default_factory=dict)
    source_ids: list[str] = field(default_factory=list)


def _seed(*parts: Any) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def source_fingerprint(problems: Sequence[Problem]) -> str:
    digest = hashlib.sha256()
    for p in problems:
        digest.update(p.id.encode())
    return digest.hexdigest()[:16]


class Evolution:
    """One run: source problems, config, models; `run()` returns the final state."""

    def __init__(
        self,
        source: Sequence[Problem],
        config: EvolveConfig,
        *,
        answerers: Sequence[Answerer] = (),
        ctx: Context | None = None,
        work: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.source = list(source)
        self.config = config
        self.answerers = list(answerers)
        self.ctx = ctx or Context()
        self.ctx.answerer = self.ctx.answerer or (self.answerers[0] if self.answerers else None)
        self.work = work
        self.progress = progress or (lambda stage, done, total: None)
        self.operators = make_operators(config.operators)
        w = config.weights
        self.weights = Weights(
            w.get("difficulty", 0.6), w.get("structure", 0.25), w.get("novelty", 0.15)
        )
        self.params = SamplingParams(
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            n=config.samples,
            seed=config.seed,
        )
        self.fingerprint = source_fingerprint(self.source)
        self.reference: list[frozenset[str]] = []

    # -- fitness ---------------------------------------------------------------------------

    def _measure(self, problems: list[Problem], state: RunState) -> None:
        todo = [p for p in problems if p.id not in state.failures]
        if self.answerers and todo:
            self.progress("model", 0, len(todo))
            done = 0
            for start in range(0, len(todo), 16):
                chunk = todo[start : start + 16]
                state.failures.update(failure_rates(chunk, self.answerers, self.params))
                done += len(chunk)
                self.progress("model", done, len(todo))

    def _individual(self, problem: Problem, state: RunState) -> Individual:
        score, parts = structure(problem)
        rates = state.failures.get(problem.id)
        failure = sum(rates.values()) / len(rates) if rates else None
        return Individual(problem, score, parts, failure)

    def _score(self, people: list[Individual]) -> None:
        nov = novelty([i.problem for i in people], self.reference)
        for ind in people:
            ind.novelty = nov[ind.problem.id]
            ind.fitness = combine(ind.structural, ind.novelty, ind.failure, self.weights)

    # -- selection -------------------------------------------------------------------------

    def _tournament(self, pool: list[Individual], rng: random.Random) -> Individual:
        picks = [
            pool[rng.randrange(len(pool))] for _ in range(min(self.config.tournament, len(pool)))
        ]
        return max(picks, key=lambda i: (i.fitness, i.problem.id))

    def _next_population(
        self, candidates: list[Individual], rng: random.Random
    ) -> list[Individual]:
        size = self.config.population
        ranked = sorted(candidates, key=lambda i: (-i.fitness, i.problem.id))
        chosen: list[Individual] = ranked[: min(self.config.elite, size)]
        taken = {i.problem.id for i in chosen}
        roots_available = {_root(i.problem) for i in candidates}
        floor = min(len(roots_available), int(self.config.diversity_floor * size + 0.999))
        while len(chosen) < size and len(taken) < len(candidates):
            roots = {_root(i.problem) for i in chosen}
            rest = [i for i in ranked if i.problem.id not in taken]
            if floor - len(roots) >= size - len(chosen):
                rest = [i for i in rest if _root(i.problem) not in roots] or rest
            pick = self._tournament(rest, rng)
            chosen.append(pick)
            taken.add(pick.problem.id)
        return sorted(chosen, key=lambda i: (-i.fitness, i.problem.id))

    # -- one generation --------------------------------------------------------------------

    def _children(self, state: RunState, g: int) -> list[Problem]:
        population = state.population
        self.ctx.generation = g
        usable = [
            (op, [i for i in population if op.applicable(i.problem, self.ctx)])
            for op in self.operators
        ]
        usable = [(op, pool) for op, pool in usable if pool]
        if not usable:
            raise EvolveError("no operator applies to any problem of the population")
        children: list[Problem] = []
        new_ids: set[str] = set()
        for slot in range(self.config.population):
            op, pool = usable[(slot + g) % len(usable)]
            rng = random.Random(_seed(self.config.seed, g, slot))
            stats = state.op_stats.setdefault(op.name, {"tried": 0, "accepted": 0, "rejected": {}})
            stats["tried"] += 1
            parent = self._tournament(pool, rng)
            parents = [parent.problem]
            if op.arity == 2:
                others = [
                    i
                    for i in population
                    if i.problem.id != parent.problem.id and i.problem.answer_type == "integer"
                ]
                if not others:
                    _reject(stats, "no second parent")
                    continue
                parents = [self._tournament(others, rng).problem, parent.problem]
            try:
                child = op.apply(parents, rng, self.ctx)
                verify_child(child)
            except Rejected as rejection:
                _reject(stats, rejection.reason)
                continue
            except VerificationError as error:
                _reject(stats, f"failed verification: {str(error)[:60]}")
                continue
            if child.id in state.seen or child.id in new_ids:
                _reject(stats, "duplicate")
                continue
            stats["accepted"] += 1
            new_ids.add(child.id)
            children.append(child)
            self.progress("children", slot + 1, self.config.population)
        return children

    def initial(self) -> RunState:
        usable = [p for p in self.source if p.meta.get("mutable") or p.certificate]
        if not usable:
            raise EvolveError(
                "no source problem can be evolved: none has a recovered program or a certificate"
            )
        rng = random.Random(_seed(self.config.seed, "initial"))
        pick = sorted(rng.sample(range(len(usable)), min(self.config.population, len(usable))))
        problems = [usable[i] for i in pick]
        state = RunState(0, [], seen={p.id for p in problems}, source_ids=[p.id for p in problems])
        self.reference = [shingles(p.prompt) for p in problems]
        self._measure(problems, state)
        state.population = [self._individual(p, state) for p in problems]
        self._score(state.population)
        state.population.sort(key=lambda i: (-i.fitness, i.problem.id))
        state.history.append(self._summary(0, state, 0))
        return state

    def step(self, state: RunState) -> RunState:
        g = state.generation + 1
        # Parents are chosen on fitness within the population alone, so a resumed run (which
        # rebuilds the population from disk) chooses exactly as an uninterrupted one.
        self._score(state.population)
        state.population.sort(key=lambda i: (-i.fitness, i.problem.id))
        children = self._children(state, g)
        self._measure(children, state)
        state.seen.update(c.id for c in children)
        candidates = state.population + [self._individual(c, state) for c in children]
        self._score(candidates)
        rng = random.Random(_seed(self.config.seed, g, "select"))
        state.population = self._next_population(candidates, rng)
        state.generation = g
        state.history.append(self._summary(g, state, len(children)))
        return state

    def _summary(self, g: int, state: RunState, accepted: int) -> dict[str, Any]:
        fits = sorted(i.fitness for i in state.population)
        failures = [i.failure for i in state.population if i.failure is not None]
        return {
            "generation": g,
            "children": accepted,
            "best": fits[-1],
            "mean": round(sum(fits) / len(fits), 6),
            "median": fits[len(fits) // 2],
            "structure": round(sum(i.structural for i in state.population) / len(fits), 6),
            "novelty": round(sum(i.novelty for i in state.population) / len(fits), 6),
            "failure_rate": round(sum(failures) / len(failures), 6) if failures else None,
            "evolved": sum(
                1 for i in state.population if i.problem.lineage.get("operator") != "source"
            ),
            "roots": len({_root(i.problem) for i in state.population}),
        }

    # -- the whole run, with checkpoints ---------------------------------------------------

    def run(self, resume: bool = False) -> RunState:
        state = self._load() if resume else None
        if state is None:
            state = self.initial()
            self._save(state)
        else:
            self.reference = [
                shingles(p.prompt) for p in self.source if p.id in set(state.source_ids)
            ]
        while state.generation < self.config.generations:
            self.progress("generation", state.generation, self.config.generations)
            state = self.step(state)
            self._save(state)
        self.progress("generation", state.generation, self.config.generations)
        self._score(state.population)  # final scores: within the final population
        state.population.sort(key=lambda i: (-i.fitness, i.problem.id))
        return state

    def _identity(self) -> dict[str, Any]:
        config = self.config.model_dump()
        config.pop("generations")  # a resumed run may ask for more generations
        return {
            "config": config,
            "source": self.fingerprint,
            "models": [a.name for a in self.answerers],
        }

    def _save(self, state: RunState) -> None:
        if self.work is None:
            return
        self.work.mkdir(parents=True, exist_ok=True)
        data = {
            "identity": self._identity(),
            "generation": state.generation,
            "population": [i.problem.to_row() for i in state.population],
            "history": state.history,
            "op_stats": state.op_stats,
            "seen": sorted(state.seen),
            "failures": state.failures,
            "source_ids": state.source_ids,
        }
        tmp = self.work / (STATE + ".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.work / STATE)

    def _load(self) -> RunState | None:
        if self.work is None or not (self.work / STATE).exists():
            return None
        data = json.loads((self.work / STATE).read_text(encoding="utf-8"))
        if data.get("identity") != self._identity():
            raise EvolveError(
                f"{self.work / STATE}: the saved run used other settings, source or models; "
                "rerun without --resume to start over"
            )
        state = RunState(
            generation=int(data["generation"]),
            population=[],
            history=data["history"],
            op_stats=data["op_stats"],
            seen=set(data["seen"]),
            failures=data["failures"],
            source_ids=data["source_ids"],
        )
        self.reference = []
        problems = [Problem.from_row(r) for r in data["population"]]
        state.population = [self._individual(p, state) for p in problems]
        self.reference = [shingles(p.prompt) for p in self.source if p.id in set(state.source_ids)]
        self._score(state.population)
        state.population.sort(key=lambda i: (-i.fitness, i.problem.id))
        return state


def _root(problem: Problem) -> str:
    roots = problem.lineage.get("roots") or [problem.id]
    return roots[0]


def _reject(stats: dict[str, Any], reason: str) -> None:
    stats["rejected"][reason] = stats["rejected"].get(reason, 0) + 1


def acceptance(op_stats: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per operator: tried, accepted, rate and the most common rejection reasons."""
    out = {}
    for name, s in sorted(op_stats.items()):
        tried = s["tried"]
        out[name] = {
            "tried": tried,
            "accepted": s["accepted"],
            "rate": round(s["accepted"] / tried, 4) if tried else None,
            "rejected": dict(Counter(s["rejected"]).most_common(5)),
        }
    return out
