"""The `Problem` record: one row of a pool, and its typed `datasets` schema.

Columns never change meaning (see DESIGN.md). JSON-valued columns (`grader`, `features`,
`meta`, `lineage`) are stored as canonical JSON strings so that the Parquet schema is fixed
and every row serialises to the same bytes on every machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

ANSWER_TYPES = (
    "integer",
    "rational",
    "real",
    "expression",
    "choice",
    "multi_choice",
    "assignment",
    "boolean",
    "text",
)

COLUMNS = (
    "id",
    "source",
    "category",
    "prompt",
    "answer",
    "answer_type",
    "grader",
    "certificate",
    "difficulty",
    "features",
    "meta",
    "lineage",
)

JSON_COLUMNS = ("grader", "features", "meta", "lineage")


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the one byte form of a JSON column."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_id(*parts: Any) -> str:
    """A stable 16-hex-digit hash of the parts (used as the row id)."""
    digest = hashlib.sha256(canonical_json([str(p) for p in parts]).encode("utf-8"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Problem:
    """One verified problem. Construct with dicts for the JSON columns; `to_row` encodes them."""

    id: str
    source: str
    category: str
    prompt: str
    answer: str
    answer_type: str
    grader: dict[str, Any] = field(default_factory=dict)
    certificate: str = ""
    difficulty: float = 0.0
    features: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    lineage: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.answer_type not in ANSWER_TYPES:
            raise ValueError(
                f"answer_type {self.answer_type!r} is not one of {', '.join(ANSWER_TYPES)}"
            )
        if not 0.0 <= self.difficulty <= 1.0:
            raise ValueError(f"difficulty {self.difficulty} is outside [0, 1]")

    def to_row(self) -> dict[str, Any]:
        """The row as stored in a pool: JSON columns become canonical JSON strings."""
        row = dataclasses.asdict(self)
        for key in JSON_COLUMNS:
            row[key] = canonical_json(row[key])
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Problem:
        """Inverse of `to_row`; accepts rows read back from Parquet or `datasets`."""
        values = {key: row[key] for key in COLUMNS}
        for key in JSON_COLUMNS:
            raw = values[key]
            values[key] = json.loads(raw) if isinstance(raw, str) and raw else (raw or {})
        values["difficulty"] = float(values["difficulty"])
        return cls(**values)


def features() -> Any:
    """The `datasets.Features` of a pool (imported lazily: `datasets` is slow to import)."""
    from datasets import Features, Value

    types = {
        "difficulty": Value("float64"),
    }
    return Features({name: types.get(name, Value("string")) for name in COLUMNS})
