"""Re-prove every row of a pool from its certificate alone (not from the spec).

With several backends (`veriforge verify --backend all`), every backend re-proves every
row and the row passes only if all of them do; a row on which they disagree (one proves
it, another refutes it or returns unknown) is reported with each backend's verdict.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from synth import certificate
from synth.backends import independent, reset_all

# Rows per worker between resets of pysmt's global formula environment.
RESET_EVERY = 64


@dataclass
class RowVerdict:
    """One row's verdict; `backends` maps each backend to "ok" or its failure reason."""

    id: str
    source: str
    ok: bool
    reason: str
    backends: dict[str, str] = field(default_factory=dict)

    @property
    def disagreement(self) -> bool:
        """Some backend proved the row and another did not."""
        values = list(self.backends.values())
        return "ok" in values and any(v != "ok" for v in values)


def resolve_backends(name: str) -> list[str]:
    """`all` -> one backend per installed solver; otherwise the one name."""
    return independent() if name == "all" else [name]


_DONE = [0]


def _verify_row(task: tuple[dict[str, Any], tuple[str, ...], str]) -> RowVerdict:
    row, backends, strategy = task
    _DONE[0] += 1
    if _DONE[0] % RESET_EVERY == 0:
        reset_all()  # no prover is alive between rows
    if not row.get("certificate"):
        return RowVerdict(row["id"], row["source"], False, "row has no certificate")
    results: dict[str, str] = {}
    for backend in backends:
        verdict = certificate.verify(
            row["certificate"], row["answer"], backend=backend, strategy=strategy
        )
        results[backend] = "ok" if verdict.ok else verdict.reason
    failed = {b: r for b, r in results.items() if r != "ok"}
    if not failed:
        return RowVerdict(row["id"], row["source"], True, "", results)
    if len(backends) == 1:
        reason = next(iter(failed.values()))
    else:
        reason = "backends disagree: " + "; ".join(
            f"{b}: {'proved' if r == 'ok' else r}" for b, r in results.items()
        )
        if len(failed) == len(results):
            reason = "no backend proves the row: " + "; ".join(
                f"{b}: {r}" for b, r in failed.items()
            )
    return RowVerdict(row["id"], row["source"], False, reason, results)


def verify_rows(
    rows: Iterable[dict[str, Any]],
    *,
    workers: int = 1,
    on_result: Callable[[RowVerdict], None] | None = None,
    backends: list[str] | None = None,
    strategy: str = "auto",
) -> list[RowVerdict]:
    """Verdicts in row order; `workers` > 1 spreads rows over processes. `backends`
    (default: z3) all re-prove every row; names are checked by the caller
    (`synth.backends.get_backend`)."""
    chosen = tuple(backends or ["z3"])
    slim = (
        (
            {
                "id": r["id"],
                "source": r["source"],
                "answer": r["answer"],
                "certificate": r["certificate"],
            },
            chosen,
            strategy,
        )
        for r in rows
    )
    verdicts = []
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for verdict in pool.imap(_verify_row, slim, chunksize=4):
                verdicts.append(verdict)
                if on_result:
                    on_result(verdict)
    else:
        for task in slim:
            verdict = _verify_row(task)
            verdicts.append(verdict)
            if on_result:
                on_result(verdict)
    return verdicts
