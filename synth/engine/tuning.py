"""Tune a spec's solver choice: run sample instances under every applicable (backend,
strategy) pair and pick the fastest complete one.

Each instance runs in a forked child with a wall-clock limit (a solver call cannot be
interrupted otherwise). An outcome is *solved* when it is definitive (a row, or a
rejection for a reason other than an unknown verdict), *unknown* when the solver gave up
(rejected, never accepted), a *timeout* when the limit ran out. A pair is *complete* when
it solved every sample; the best complete pair has the lowest median time (then p95).
Definitive outcomes must agree across pairs (same row id, or same rejection reason);
disagreements are reported, never silently resolved.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from synth.backends import applicable
from synth.backends.portfolio import race
from synth.engine.instance import CompiledSpec, Outcome, generate_instance
from synth.engine.solving import Choice, choice_for, choices, quantifies_over_integers


@dataclass
class PairStats:
    """How one (backend, strategy) pair did on the samples."""

    label: str
    solved: int = 0
    unknown: int = 0
    timeouts: int = 0
    times: list[float] = field(default_factory=list)  # seconds, solved instances only
    verdicts: dict[int, str] = field(default_factory=dict)  # index -> row id / rejection

    @property
    def complete(self) -> bool:
        return self.unknown == 0 and self.timeouts == 0 and self.solved > 0

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("inf")

    @property
    def p95(self) -> float:
        if not self.times:
            return float("inf")
        ordered = sorted(self.times)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


@dataclass
class TuneReport:
    pairs: list[PairStats]
    default: str
    best: str | None
    disagreements: list[str]

    def stats(self, label: str) -> PairStats | None:
        return next((p for p in self.pairs if p.label == label), None)

    @property
    def ratio(self) -> float | None:
        """Median time of the best choice over the default's (below 1 = faster)."""
        best, default = self.stats(self.best or ""), self.stats(self.default)
        if best is None or default is None or not default.times:
            return None
        return best.median / default.median if default.median else None


def _verdict(outcome: Outcome) -> str:
    if outcome.row is not None:
        return f"row {outcome.row['id']}"
    return f"rejected: {outcome.reason}"


def _timed(
    compiled: CompiledSpec, level: str, seed: int, index: int, choice: Choice
) -> tuple[Outcome, float]:
    """The outcome and the time it took, measured in the child (no fork or pickling)."""
    started = time.perf_counter()
    outcome = generate_instance(compiled, level, seed, index, choice)
    return outcome, time.perf_counter() - started


def tune(
    compiled: CompiledSpec,
    level: str,
    *,
    samples: int = 8,
    seed: int = 0,
    timeout: float = 20.0,
    only: list[str] | None = None,
    on_step: Callable[[str, int], None] | None = None,
) -> TuneReport:
    """Run `samples` instances (indices 0..samples-1) under every applicable pair."""
    spec = compiled.spec
    unbounded = quantifies_over_integers(spec)
    pairs: list[Choice] = [
        choice_for(spec, b.name, s.name, unbounded) for b, s in applicable(unbounded)
    ]
    if only:
        pairs = [c for c in pairs if c.label in only]
    default = choices(
        spec.model_copy(
            update={"solver": spec.solver.model_copy(update={"backend": "z3", "strategy": "auto"})}
        )
    )[0].label
    report = TuneReport([], default, None, [])
    for choice in pairs:
        stats = PairStats(choice.label)
        for index in range(samples):
            result = race(
                [(choice.label, lambda c=choice, i=index: _timed(compiled, level, seed, i, c))],
                timeout,
                lambda _: True,
            )
            outcome, elapsed = result.result if result.winner is not None else (None, 0.0)
            if not isinstance(outcome, Outcome):
                stats.timeouts += 1
            elif outcome.reason in ("solver unknown", "solver error"):
                stats.unknown += 1
            else:
                stats.solved += 1
                stats.times.append(elapsed)
                stats.verdicts[index] = _verdict(outcome)
            if on_step:
                on_step(choice.label, index)
        report.pairs.append(stats)
    for index in range(samples):
        seen = {p.label: p.verdicts[index] for p in report.pairs if index in p.verdicts}
        if len(set(seen.values())) > 1:
            report.disagreements.append(
                f"instance {index}: " + "; ".join(f"{k}: {v}" for k, v in seen.items())
            )
    complete = [p for p in report.pairs if p.complete]
    if complete:
        report.best = min(complete, key=lambda p: (p.median, p.p95)).label
    return report
