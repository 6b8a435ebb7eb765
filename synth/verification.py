"""Re-prove every row of a pool from its certificate alone (not from the spec)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from synth import certificate


@dataclass
class RowVerdict:
    id: str
    source: str
    ok: bool
    reason: str


def _verify_row(row: dict[str, Any]) -> RowVerdict:
    if not row.get("certificate"):
        return RowVerdict(row["id"], row["source"], False, "row has no certificate")
    verdict = certificate.verify(row["certificate"], row["answer"])
    return RowVerdict(row["id"], row["source"], verdict.ok, verdict.reason)


def verify_rows(
    rows: Iterable[dict[str, Any]],
    *,
    workers: int = 1,
    on_result: Callable[[RowVerdict], None] | None = None,
) -> list[RowVerdict]:
    """Verdicts in row order; `workers` > 1 spreads rows over processes."""
    slim = (
        {
            "id": r["id"],
            "source": r["source"],
            "answer": r["answer"],
            "certificate": r["certificate"],
        }
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
        for row in slim:
            verdict = _verify_row(row)
            verdicts.append(verdict)
            if on_result:
                on_result(verdict)
    return verdicts
