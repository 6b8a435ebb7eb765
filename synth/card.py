"""The dataset card (`README.md`) of a pool, built from the real rows and the run manifest.

The YAML header is what the Hugging Face Hub reads (licence, tags, size, the `configs` block
that tells `datasets.load_dataset` where the shards are, and `dataset_info` with the features
and split sizes, which `datasets` checks on load). It is produced with `yaml.safe_dump`, never
by string templating, so untrusted names cannot break it. The body is rendered in Jinja2's
sandbox from values computed here; the template only lays them out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from .problem import Problem, features

__all__ = ["card_header", "difficulty_histogram", "render_card", "size_category"]

BASE_TAGS = ("reasoning", "verifiable", "smt", "synthetic", "veriforge")
HISTOGRAM_BINS = 10
BAR_WIDTH = 40

_SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
)

COLUMN_DOCS = {
    "id": "stable content hash of the row",
    "source": "spec or benchmark the row came from",
    "category": "topic",
    "prompt": "the problem exactly as a model sees it",
    "answer": "canonical answer",
    "answer_type": "integer, rational, real, expression, choice, multi_choice, assignment, "
    "boolean or text",
    "grader": "JSON: everything needed to grade a response offline",
    "certificate": "SMT-LIB2 text of the formal problem, where one exists",
    "difficulty": "float in [0, 1]",
    "features": "JSON: difficulty features (clues, solver conflicts, search space, pass rates)",
    "meta": "JSON: spec hash and version, parameters, seed, generator versions",
    "lineage": "JSON: parents and the operator that produced the row",
}

_TEMPLATE = """\
---
{{ header }}---

# {{ title }}

{{ description }}

| | |
|---|---|
| problems | {{ total }} |
{% for name, n in splits %}
| split `{{ name | cell }}` | {{ n }} |
{% endfor %}
| sources | {{ sources | length }} |
| categories | {{ categories | length }} |

## Contents

| source | category | problems |
|---|---|---:|
{% for source, category, n in pairs %}
| {{ source | cell }} | {{ category | cell }} | {{ n }} |
{% endfor %}

### Answer types

| answer type | problems |
|---|---:|
{% for name, n in answer_types %}
| {{ name | cell }} | {{ n }} |
{% endfor %}

### Difficulty

Difficulty is a float in [0, 1] (0 easiest){% if difficulty_mean is not none %}; \
mean {{ "%.3f" | format(difficulty_mean) }}, median {{ "%.3f" | format(difficulty_median) }}{% endif %}.

```text
{% for label, n, bar in histogram %}
{{ label }} {{ "%7d" | format(n) }} {{ bar }}
{% endfor %}
```

## Columns

JSON columns are stored as canonical JSON strings (sorted keys) so the schema never changes.

| column | type | meaning |
|---|---|---|
{% for name, dtype, doc in columns %}
| `{{ name }}` | {{ dtype }} | {{ doc | cell }} |
{% endfor %}

## How it was made

Every answer was proved before the row was kept: an SMT solver `unknown`, a timeout or a
second solution rejects an instance. Generated instance *i* of a spec with seed *s* is a pure
function of (spec, *s*, *i*), so rerunning the specs below reproduces these rows byte for byte.
{% if seed is not none %}

- Seed: `{{ seed | cell }}`
{% endif %}
{% if generator %}

Generator versions:

{% for name, version in generator %}
- {{ name | cell }}: `{{ version | cell }}`
{% endfor %}
{% endif %}
{% if specs %}

| spec | level | file | hash | version | seed | requested | accepted | rejected | seconds |
|---|---|---|---|---|---:|---:|---:|---:|---:|
{% for s in specs %}
| {{ s.name | cell }} | {{ s.level | cell }} | {{ s.file | cell }} | {{ s.hash | cell }} | {{ s.version | cell }} \
| {{ s.seed | cell }} | {{ s.requested | cell }} | {{ s.accepted | cell }} \
| {{ s.rejected_total | cell }} | {{ s.seconds | cell }} |
{% endfor %}
{% if rejections %}

Rejection reasons:

| spec | level | reason | instances |
|---|---|---|---:|
{% for spec, level, reason, n in rejections %}
| {{ spec | cell }} | {{ level | cell }} | {{ reason | cell }} | {{ n | cell }} |
{% endfor %}
{% endif %}
{% if total_seconds is not none %}

Total generation time: {{ "%.2f" | format(total_seconds) }} s.
{% endif %}
{% endif %}
{% if shards %}

Shards (sha256 of each file, also in `manifest.json`):

| file | rows | sha256 |
|---|---:|---|
{% for s in shards %}
| `{{ s.file | cell }}` | {{ s.rows | cell }} | `{{ s.sha256 | cell }}` |
{% endfor %}
{% endif %}

The full run manifest is in `manifest.json`.
{% if examples %}

## Examples
{% for ex in examples %}

### `{{ ex.id | cell }}` ({{ ex.source | cell }} / {{ ex.category | cell }}, \
{{ ex.answer_type }}, difficulty {{ "%.2f" | format(ex.difficulty) }})

Prompt:

{{ ex.prompt_fence }}text
{{ ex.prompt }}
{{ ex.prompt_fence }}

Answer:

{{ ex.answer_fence }}text
{{ ex.answer }}
{{ ex.answer_fence }}
{% endfor %}
{% endif %}

## How to load it

```python
import json
from datasets import load_dataset

ds = load_dataset("{{ load_path }}", split="{{ first_split }}")
row = ds[0]
grader = json.loads(row["grader"])
```

With veriforge installed, `synth.pool.read_pool("{{ load_path }}")` returns `Problem` records
with the JSON columns decoded.

## How to re-verify it

```bash
veriforge verify {{ verify_path }}
```

re-checks every row against its certificate and grader, independently of how it was made.

## Licence

Released under `{{ license | cell }}`. Rows derived from existing benchmarks (see the
`source` and `lineage` columns) also remain subject to the terms of those benchmarks.
"""


def _cell(value: Any) -> str:
    """A value safe inside a Markdown table cell (untrusted text: no pipes, HTML or newlines)."""
    if value is None:
        return ""
    text = str(value)
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"\s+", " ", text).strip()


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


_ENV = SandboxedEnvironment(
    autoescape=False,  # Markdown, not HTML; untrusted values go through `cell` or fences
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["cell"] = _cell
_TEMPLATE_OBJ = _ENV.from_string(_TEMPLATE)


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket for `n` rows."""
    for limit, label in _SIZE_CATEGORIES:
        if n < limit:
            return label
    return "n>1T"


def difficulty_histogram(values: Iterable[float], bins: int = HISTOGRAM_BINS) -> list[int]:
    """Counts in `bins` equal bins over [0, 1]; the last bin is closed (holds 1.0)."""
    counts = [0] * bins
    for value in values:
        index = min(int(float(value) * bins), bins - 1)
        counts[max(index, 0)] += 1
    return counts


def _histogram_lines(counts: list[int]) -> list[tuple[str, int, str]]:
    bins = len(counts)
    peak = max(counts, default=0)
    lines = []
    for i, n in enumerate(counts):
        low, high = i / bins, (i + 1) / bins
        label = f"[{low:.1f}, {high:.1f}{']' if i == bins - 1 else ')'}"
        width = 0 if peak == 0 or n == 0 else max(1, round(BAR_WIDTH * n / peak))
        lines.append((label, n, "#" * width))
    return lines


def _tag(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def _sorted_counts(counter: Counter) -> list[tuple[Any, int]]:
    return sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))


def _splits(problems: Sequence[Problem], manifest: dict) -> dict[str, int]:
    counts = manifest.get("counts")
    if isinstance(counts, dict) and isinstance(counts.get("splits"), dict) and counts["splits"]:
        return {str(k): int(v) for k, v in counts["splits"].items()}
    return {"train": len(problems)}


def _split_bytes(problems: Sequence[Problem], manifest: dict, splits: dict[str, int]) -> dict:
    """Arrow bytes per split (`num_bytes`, which `datasets` requires next to `num_examples`).

    Taken from the shards recorded by `write_pool`; computed from the rows otherwise.
    """
    shards = manifest.get("shards")
    result: dict[str, int] = {}
    if isinstance(shards, list):
        for shard in shards:
            if isinstance(shard, dict) and isinstance(shard.get("num_bytes"), int):
                name = str(shard.get("split", "train"))
                result[name] = result.get(name, 0) + shard["num_bytes"]
    if set(result) == set(splits):
        return result
    import pyarrow as pa

    table = pa.Table.from_pylist([p.to_row() for p in problems], schema=features().arrow_schema)
    return {name: table.nbytes if len(splits) == 1 else 0 for name in splits}


def card_header(problems: Sequence[Problem], manifest: dict) -> dict[str, Any]:
    """The YAML header as a dict (what the Hub and `datasets` read)."""
    splits = _splits(problems, manifest)
    num_bytes = _split_bytes(problems, manifest, splits)
    total = sum(splits.values())
    categories = sorted({p.category for p in problems})
    tags = list(BASE_TAGS)
    for category in categories:
        tag = _tag(category)
        if tag and tag not in tags:
            tags.append(tag)
    language = manifest.get("language", ["en"])
    header: dict[str, Any] = {
        "license": str(manifest.get("license", "cc-by-4.0")),
        "language": [language] if isinstance(language, str) else list(language),
        "task_categories": ["question-answering", "text-generation"],
        "tags": tags,
        "size_categories": [size_category(total)],
    }
    if manifest.get("name"):
        header["pretty_name"] = str(manifest["name"])
    header["configs"] = [
        {
            "config_name": "default",
            "data_files": [{"split": name, "path": f"data/{name}-*"} for name in splits],
        }
    ]
    header["dataset_info"] = {
        "config_name": "default",
        "features": [
            {"name": name, "dtype": feature.dtype} for name, feature in features().items()
        ],
        "splits": [
            {"name": name, "num_bytes": num_bytes[name], "num_examples": n}
            for name, n in splits.items()
        ],
    }
    return header


def _spec_rows(manifest: dict) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]], Any]:
    specs = manifest.get("specs")
    if not isinstance(specs, list):
        return [], [], None
    rows, rejections, seconds = [], [], []
    for spec in specs:
        if not isinstance(spec, dict):
            continue
        rejected = spec.get("rejected")
        reasons = rejected if isinstance(rejected, dict) else {}
        if isinstance(rejected, dict):
            rejected_total = sum(v for v in rejected.values() if isinstance(v, (int, float)))
        else:
            rejected_total = rejected
        spec_seconds = spec.get("seconds")
        if isinstance(spec_seconds, (int, float)):
            seconds.append(float(spec_seconds))
            spec_seconds = f"{spec_seconds:.2f}"
        rows.append(
            {
                "name": spec.get("name"),
                "level": spec.get("level", ""),
                "file": spec.get("file"),
                "hash": spec.get("hash"),
                "version": spec.get("version"),
                "seed": spec.get("seed"),
                "requested": spec.get("requested"),
                "accepted": spec.get("accepted"),
                "rejected_total": rejected_total,
                "seconds": spec_seconds,
            }
        )
        for reason, n in sorted(reasons.items(), key=lambda kv: (-_num(kv[1]), str(kv[0]))):
            rejections.append((spec.get("name"), spec.get("level", ""), reason, n))
    total = sum(seconds) if seconds else None
    return rows, rejections, total


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0


def _examples(problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """Two rows: the first, and the first of a different category if there is one."""
    if not problems:
        return []
    chosen = [problems[0]]
    rest = [p for p in problems[1:] if p.category != problems[0].category] or list(problems[1:2])
    chosen.extend(rest[:1])
    return [
        {
            "id": p.id,
            "source": p.source,
            "category": p.category,
            "answer_type": p.answer_type,
            "difficulty": p.difficulty,
            "prompt": p.prompt.rstrip("\n"),
            "prompt_fence": _fence(p.prompt),
            "answer": p.answer.rstrip("\n"),
            "answer_fence": _fence(p.answer),
        }
        for p in chosen
    ]


def render_card(problems: Sequence[Problem], manifest: dict) -> str:
    """The README.md of a pool: Hub YAML header plus a body describing the actual rows.

    Tolerates a sparse manifest (only what is present is shown); deterministic for the same
    rows and manifest, so rewriting a pool rewrites the same card.
    """
    problems = list(problems)
    manifest = manifest if isinstance(manifest, dict) else {}
    header = card_header(problems, manifest)
    splits = _splits(problems, manifest)
    difficulties = sorted(p.difficulty for p in problems)
    median = None
    if difficulties:
        mid = len(difficulties) // 2
        median = (
            difficulties[mid]
            if len(difficulties) % 2
            else (difficulties[mid - 1] + difficulties[mid]) / 2
        )
    spec_rows, rejections, total_seconds = _spec_rows(manifest)
    generator = manifest.get("generator")
    shards = [s for s in manifest.get("shards", []) or [] if isinstance(s, dict)]
    load_path = manifest.get("repo_id") or "path/to/pool"
    name = manifest.get("name") or "veriforge pool"
    context = {
        "header": yaml.safe_dump(
            header, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
        ),
        "title": _cell(name),
        "description": manifest.get("description")
        or (
            f"{len(problems)} verified reasoning problems made by veriforge. Every row has a "
            "machine-checked answer: either generated from a formal specification and proved "
            "unique with an SMT solver, or derived from an existing benchmark by a transformation "
            "that provably keeps the answer right. Where a formal problem exists, the row carries "
            "it as an SMT-LIB2 certificate so anyone can re-check the answer with any solver."
        ),
        "total": sum(splits.values()),
        "splits": list(splits.items()),
        "sources": sorted({p.source for p in problems}),
        "categories": sorted({p.category for p in problems}),
        "pairs": [
            (source, category, n)
            for (source, category), n in sorted(
                Counter((p.source, p.category) for p in problems).items()
            )
        ],
        "answer_types": _sorted_counts(Counter(p.answer_type for p in problems)),
        "histogram": _histogram_lines(difficulty_histogram(difficulties)),
        "difficulty_mean": sum(difficulties) / len(difficulties) if difficulties else None,
        "difficulty_median": median,
        "columns": [(n, f["dtype"], COLUMN_DOCS.get(n, "")) for n, f in _feature_list(header)],
        "seed": manifest.get("seed"),
        "generator": sorted(generator.items()) if isinstance(generator, dict) else [],
        "specs": spec_rows,
        "rejections": rejections,
        "total_seconds": total_seconds,
        "shards": shards,
        "examples": _examples(problems),
        "load_path": load_path,
        "verify_path": "path/to/pool",
        "first_split": next(iter(splits), "train"),
        "license": header["license"],
    }
    return _TEMPLATE_OBJ.render(**context)


def _feature_list(header: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f["name"], f) for f in header["dataset_info"]["features"]]
