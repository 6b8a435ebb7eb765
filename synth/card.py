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

__all__ = [
    "DEFAULT_CONFIG",
    "card_header",
    "config_prefix",
    "config_sections",
    "difficulty_histogram",
    "difficulty_png",
    "hub_card_header",
    "render_card",
    "render_config_section",
    "render_hub_card",
    "render_model_card",
    "size_category",
    "split_card",
]

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

# The per-pool sections, shared by the local card and each config section of a Hub card;
# `h2`/`h3` are the heading markers ("##"/"###" at top level, one deeper inside a config).
_SECTIONS = """\
{{ h2 }} Contents

| source | category | problems |
|---|---|---:|
{% for source, category, n in pairs %}
| {{ source | cell }} | {{ category | cell }} | {{ n }} |
{% endfor %}

{{ h3 }} Answer types

| answer type | problems |
|---|---:|
{% for name, n in answer_types %}
| {{ name | cell }} | {{ n }} |
{% endfor %}

{{ h3 }} Difficulty

Difficulty is a float in [0, 1] (0 easiest){% if difficulty_mean is not none %}; \
mean {{ "%.3f" | format(difficulty_mean) }}, median {{ "%.3f" | format(difficulty_median) }}{% endif %}.
{% if image %}

![{{ image_alt | cell }}]({{ image }})
{% endif %}

```text
{% for label, n, bar in histogram %}
{{ label }} {{ "%7d" | format(n) }} {{ bar }}
{% endfor %}
```

{{ h2 }} How it was made

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

Shards (sha256 of each file, also in `{{ manifest_path }}`):

| file | rows | sha256 |
|---|---:|---|
{% for s in shards %}
| `{{ shard_prefix }}{{ s.file | cell }}` | {{ s.rows | cell }} | `{{ s.sha256 | cell }}` |
{% endfor %}
{% endif %}

The full run manifest is in `{{ manifest_path }}`.
{% if examples %}

{{ h2 }} Examples
{% for ex in examples %}

{{ h3 }} `{{ ex.id | cell }}` ({{ ex.source | cell }} / {{ ex.category | cell }}, \
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
"""

_COLUMNS = """\
## Columns

JSON columns are stored as canonical JSON strings (sorted keys) so the schema never changes.

| column | type | meaning |
|---|---|---|
{% for name, dtype, doc in columns %}
| `{{ name }}` | {{ dtype }} | {{ doc | cell }} |
{% endfor %}
"""

_LICENCE = """\
## Licence

Released under `{{ license | cell }}`. Rows derived from existing benchmarks (see the
`source` and `lineage` columns) also remain subject to the terms of those benchmarks.
"""

_TEMPLATE = (
    """\
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

"""
    + _SECTIONS
    + "\n"
    + _COLUMNS
    + """
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

"""
    + _LICENCE
)

# One config of a Hub repo, between markers so that publishing another config of the same
# repo regenerates only its own section and keeps this one verbatim.
_CONFIG_SECTION = (
    """\
<!-- veriforge:config {{ config }} -->
## Config `{{ config }}`

{{ total }} problems from {{ sources | length }} source{{ "" if sources | length == 1 else "s" }} \
in {{ categories | length }} categor{{ "y" if categories | length == 1 else "ies" }}\
{% if prefix %}, stored under `{{ prefix }}`{% endif %}. Load it with \
`{{ load_call }}`; re-verify it with \
`veriforge pull {{ pull_args }} -o {{ pool_dir }} && veriforge verify {{ pool_dir }}`.

"""
    + _SECTIONS
    + """\
<!-- /veriforge:config {{ config }} -->
"""
)

_HUB_TEMPLATE = (
    """\
---
{{ header }}---

# {{ title }}

{{ description }}

| | |
|---|---|
| problems | {{ total }} |
| configs | {{ configs | length }} |
{% if keep %}

{{ keep }}
{% endif %}

## Configs

| config | problems | splits | load with |
|---|---:|---|---|
{% for c in configs %}
| `{{ c.name | cell }}`{% if c.default %} (default){% endif %} | {{ c.total }} | {{ c.splits | cell }} | `{{ c.load_call | cell }}` |
{% endfor %}

## How to load it

```python
import json
from datasets import load_dataset

{% for c in configs %}
ds = {{ c.load_call }}
{% endfor %}
row = ds[0]
grader = json.loads(row["grader"])
```
{% if named %}

Pass `name=` to choose a config{% if default_name %}; without it you get \
`{{ default_name }}`{% endif %}.
{% endif %}

## How to re-verify it

Every row carries the SMT-LIB2 certificate of its problem. With veriforge installed:

```bash
{% for c in configs %}
veriforge pull {{ c.pull_args }} -o {{ c.pool_dir }} && veriforge verify {{ c.pool_dir }}
{% endfor %}
```

`veriforge verify` re-proves every answer correct and unique from its certificate alone,
independently of how the row was made.

"""
    + _COLUMNS
    + """
{% for section in sections %}
{{ section }}

{% endfor %}
"""
    + _LICENCE
)


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
_CONFIG_SECTION_OBJ = _ENV.from_string(_CONFIG_SECTION)
_HUB_TEMPLATE_OBJ = _ENV.from_string(_HUB_TEMPLATE)


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


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _section_context(problems: Sequence[Problem], manifest: dict) -> dict[str, Any]:
    """What the per-pool sections (contents, difficulty, provenance, examples) show."""
    difficulties = sorted(p.difficulty for p in problems)
    spec_rows, rejections, total_seconds = _spec_rows(manifest)
    generator = manifest.get("generator")
    return {
        "h2": "##",
        "h3": "###",
        "total": len(problems),
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
        "difficulty_median": _median(difficulties),
        "image": None,
        "image_alt": "Difficulty histogram",
        "seed": manifest.get("seed"),
        "generator": sorted(generator.items()) if isinstance(generator, dict) else [],
        "specs": spec_rows,
        "rejections": rejections,
        "total_seconds": total_seconds,
        "shards": [s for s in manifest.get("shards", []) or [] if isinstance(s, dict)],
        "shard_prefix": "",
        "manifest_path": "manifest.json",
        "examples": _examples(problems),
    }


def _columns(header: dict[str, Any]) -> list[tuple[str, Any, str]]:
    return [(n, f["dtype"], COLUMN_DOCS.get(n, "")) for n, f in _feature_list(header)]


def _default_description(total: int) -> str:
    return (
        f"{total} verified reasoning problems made by veriforge. Every row has a "
        "machine-checked answer: either generated from a formal specification and proved "
        "unique with an SMT solver, or derived from an existing benchmark by a transformation "
        "that provably keeps the answer right. Where a formal problem exists, the row carries "
        "it as an SMT-LIB2 certificate so anyone can re-check the answer with any solver."
    )


def _dump_yaml(header: dict[str, Any]) -> str:
    return yaml.safe_dump(
        header, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000
    )


def render_card(problems: Sequence[Problem], manifest: dict) -> str:
    """The README.md of a pool: Hub YAML header plus a body describing the actual rows.

    Tolerates a sparse manifest (only what is present is shown); deterministic for the same
    rows and manifest, so rewriting a pool rewrites the same card.
    """
    problems = list(problems)
    manifest = manifest if isinstance(manifest, dict) else {}
    header = card_header(problems, manifest)
    splits = _splits(problems, manifest)
    load_path = manifest.get("repo_id") or "path/to/pool"
    name = manifest.get("name") or "veriforge pool"
    context = _section_context(problems, manifest)
    context.update(
        {
            "header": _dump_yaml(header),
            "title": _cell(name),
            "description": manifest.get("description") or _default_description(len(problems)),
            "total": sum(splits.values()),
            "splits": list(splits.items()),
            "columns": _columns(header),
            "load_path": load_path,
            "verify_path": "path/to/pool",
            "first_split": next(iter(splits), "train"),
            "license": header["license"],
        }
    )
    return _TEMPLATE_OBJ.render(**context)


# --------------------------------------------------------------------------------------------
# the difficulty histogram image


def difficulty_png(values: Iterable[float], *, title: str = "difficulty") -> bytes:
    """A PNG bar chart of the difficulty histogram (10 bins over [0, 1]).

    Drawn with matplotlib when it is installed (with its default style, whatever the user's
    matplotlibrc says, and no version stamp in the file, so the same rows give the same
    bytes); otherwise a plain bar chart is encoded by hand, without labels.
    """
    counts = difficulty_histogram(values)
    try:
        import matplotlib.style
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return _plain_png(counts)
    import io

    with matplotlib.style.context("default"):
        figure = Figure(figsize=(6.4, 3.2), dpi=100)
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        width = 1 / len(counts)
        axes.bar(
            [(i + 0.5) * width for i in range(len(counts))],
            counts,
            width=width * 0.9,
            color="#4c72b0",
            edgecolor="#2a4a7f",
        )
        axes.set_xlim(0, 1)
        axes.set_xticks([i * width for i in range(len(counts) + 1)])
        axes.set_xlabel("difficulty")
        axes.set_ylabel("problems")
        axes.set_title(f"{title}: {sum(counts)} problems")
        axes.yaxis.get_major_locator().set_params(integer=True)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _plain_png(counts: list[int], width: int = 400, height: int = 200) -> bytes:
    """A minimal PNG (8-bit greyscale) with one bar per bin; no dependencies."""
    import struct
    import zlib

    peak = max(counts, default=0) or 1
    bin_width = width // len(counts)
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter type "none"
        for x in range(width):
            index = min(x // bin_width, len(counts) - 1)
            bar = round((height - 10) * counts[index] / peak)
            inside = x % bin_width not in (0, bin_width - 1) and height - y <= bar
            row.append(0x4C if inside else (0x00 if y == height - 1 else 0xFF))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------
# the card of a Hub repo: one or more configs


DEFAULT_CONFIG = "default"
_CONFIG_MARKERS = re.compile(
    r"<!-- veriforge:config (?P<name>[A-Za-z0-9_-]+) -->\n.*?"
    r"<!-- /veriforge:config (?P=name) -->\n",
    re.DOTALL,
)


_KEEP = re.compile(r"<!-- veriforge:keep -->\n.*?<!-- /veriforge:keep -->\n", re.DOTALL)


def split_card(text: str | None) -> tuple[dict[str, Any], str]:
    """(YAML header as a dict, body) of a README; an unreadable header counts as empty."""
    if not text or not text.startswith("---\n"):
        return {}, text or ""
    end = text.find("\n---\n", 3)
    if end < 0:
        return {}, text
    try:
        header = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        header = None
    return (header if isinstance(header, dict) else {}), text[end + 5 :]


def config_sections(body: str) -> dict[str, str]:
    """The veriforge config sections of a card body, by config name."""
    return {m["name"]: m.group(0) for m in _CONFIG_MARKERS.finditer(body)}


def config_prefix(config: str) -> str:
    """Where a config's files live in the repo: the root for `default`, `CONFIG/` otherwise."""
    return "" if config == DEFAULT_CONFIG else f"{config}/"


def _load_call(repo_id: str, config: str, split: str, revision: str | None) -> str:
    args = [f'"{repo_id}"']
    if config != DEFAULT_CONFIG:
        args.append(f'name="{config}"')
    args.append(f'split="{split}"')
    if revision:
        args.append(f'revision="{revision}"')
    return f"load_dataset({', '.join(args)})"


def _pull_args(repo_id: str, config: str, revision: str | None) -> str:
    args = [repo_id]
    if config != DEFAULT_CONFIG:
        args.append(f"--config {config}")
    if revision:
        args.append(f"--revision {revision}")
    return " ".join(args)


def _pool_dir(repo_id: str, config: str) -> str:
    name = repo_id.split("/")[-1]
    return name if config == DEFAULT_CONFIG else f"{name}-{config}"


def _union(first: Any, second: Any) -> list[Any]:
    """`first` then the items of `second` not in it (both may be a scalar or a list)."""
    result: list[Any] = []
    for value in (first, second):
        items = value if isinstance(value, list) else [] if value is None else [value]
        for item in items:
            if item not in result:
                result.append(item)
    return result


def _canonical(first: list[Any], more: Any) -> list[Any]:
    """`first` in its order, then every other value sorted: the same list whichever config
    was published last."""
    rest = [v for v in _union(None, more) if v not in first]
    return list(first) + sorted(rest, key=str)


def _config_order(name: str) -> tuple[int, str]:
    return (0 if name == DEFAULT_CONFIG else 1, name)


def _info_list(info: Any) -> list[dict[str, Any]]:
    items = info if isinstance(info, list) else [info] if isinstance(info, dict) else []
    return [i for i in items if isinstance(i, dict)]


def _config_total(info: dict[str, Any]) -> int:
    total = 0
    for split in info.get("splits") or []:
        if isinstance(split, dict) and isinstance(split.get("num_examples"), int):
            total += split["num_examples"]
    return total


def hub_card_header(
    problems: Sequence[Problem],
    manifest: dict,
    *,
    repo_id: str,
    config: str = DEFAULT_CONFIG,
    existing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The YAML header of a repo's card after publishing `config`, merged with `existing`.

    This config's entries in `configs` and `dataset_info` are (re)written with paths under
    its prefix; every other config already in the repo is kept as it is. Tags and task
    categories are the union; keys veriforge does not know are kept. Without a config named
    `default`, the first config is marked `default: true` so that
    `load_dataset(repo_id)` works without `name=`.
    """
    existing = dict(existing or {})
    ours = card_header(problems, manifest)
    prefix = config_prefix(config)
    entry = {
        "config_name": config,
        "data_files": [
            {"split": f["split"], "path": f"{prefix}{f['path']}"}
            for f in ours["configs"][0]["data_files"]
        ],
    }
    info = dict(ours["dataset_info"], config_name=config)

    previous = [c for c in existing.get("configs") or [] if isinstance(c, dict)]
    if any(c.get("config_name") == config and c.get("default") for c in previous):
        entry = {"config_name": config, "default": True, "data_files": entry["data_files"]}
    configs = [
        dict(c)
        for c in previous
        if isinstance(c, dict)
        and isinstance(c.get("config_name"), str)
        and c["config_name"] != config
    ]
    configs.append(entry)
    configs.sort(key=lambda c: _config_order(c["config_name"]))
    names = [c["config_name"] for c in configs]
    if DEFAULT_CONFIG in names:
        for c in configs:
            c.pop("default", None)
    elif not any(c.get("default") for c in configs):
        configs[0] = {"config_name": configs[0]["config_name"], "default": True, **configs[0]}

    infos = [i for i in _info_list(existing.get("dataset_info")) if i.get("config_name") != config]
    infos = [i for i in infos if i.get("config_name", DEFAULT_CONFIG) in names]
    infos.append(info)
    infos.sort(key=lambda i: _config_order(str(i.get("config_name", DEFAULT_CONFIG))))
    total = sum(_config_total(i) for i in infos)

    header: dict[str, Any] = {
        "license": manifest.get("license") or existing.get("license") or ours["license"],
        "language": sorted(_union(ours["language"], existing.get("language")), key=str),
        "task_categories": _canonical(ours["task_categories"], existing.get("task_categories")),
        "tags": _canonical(list(BASE_TAGS), _union(ours["tags"], existing.get("tags"))),
        "size_categories": [size_category(total)],
        "pretty_name": str(existing.get("pretty_name") or repo_id.split("/")[-1]),
    }
    for key, value in existing.items():
        if key not in header and key not in ("configs", "dataset_info"):
            header[key] = value
    header["configs"] = configs
    header["dataset_info"] = infos[0] if len(infos) == 1 else infos
    return header


def render_config_section(
    problems: Sequence[Problem],
    manifest: dict,
    *,
    repo_id: str,
    config: str = DEFAULT_CONFIG,
    image: str | None = None,
    revision: str | None = None,
) -> str:
    """The card section of one config (between veriforge markers), built from its rows."""
    problems = list(problems)
    manifest = manifest if isinstance(manifest, dict) else {}
    splits = _splits(problems, manifest)
    prefix = config_prefix(config)
    context = _section_context(problems, manifest)
    context.update(
        {
            "h2": "###",
            "h3": "####",
            "config": config,
            "prefix": prefix,
            "image": image,
            "image_alt": f"Difficulty histogram of {config}",
            "shard_prefix": prefix,
            "manifest_path": f"{prefix}manifest.json",
            "load_call": _load_call(repo_id, config, next(iter(splits), "train"), revision),
            "pull_args": _pull_args(repo_id, config, revision),
            "pool_dir": _pool_dir(repo_id, config),
        }
    )
    return _CONFIG_SECTION_OBJ.render(**context)


def render_hub_card(
    problems: Sequence[Problem],
    manifest: dict,
    *,
    repo_id: str,
    config: str = DEFAULT_CONFIG,
    image: str | None = None,
    existing: str | None = None,
    revision: str | None = None,
) -> str:
    """The README.md of a Hub repo after publishing `config` from these rows.

    `existing` is the repo's current README (or None): its YAML is merged (see
    `hub_card_header`) and the sections of the other configs are kept verbatim, so the card
    lists every config in the repo. Everything else is regenerated, except text the owner put
    between `<!-- veriforge:keep -->` and `<!-- /veriforge:keep -->` lines, which is kept
    after the summary. Deterministic: publishing the same rows onto the same card gives the
    same bytes, which is what makes re-publishing a no-op.
    """
    problems = list(problems)
    manifest = manifest if isinstance(manifest, dict) else {}
    old_header, old_body = split_card(existing)
    header = hub_card_header(
        problems, manifest, repo_id=repo_id, config=config, existing=old_header
    )
    kept = config_sections(old_body)
    kept[config] = render_config_section(
        problems, manifest, repo_id=repo_id, config=config, image=image, revision=revision
    )
    infos = {
        str(i.get("config_name", DEFAULT_CONFIG)): i for i in _info_list(header["dataset_info"])
    }
    configs = []
    for entry in header["configs"]:
        name = entry["config_name"]
        info = infos.get(name, {})
        split_names = [str(s.get("name")) for s in info.get("splits") or [] if isinstance(s, dict)]
        if not split_names:
            files = entry.get("data_files")
            split_names = [
                str(f.get("split")) for f in files or [] if isinstance(f, dict) and f.get("split")
            ] or ["train"]
        configs.append(
            {
                "name": name,
                "default": bool(entry.get("default")),
                "total": _config_total(info),
                "splits": ", ".join(split_names),
                "load_call": _load_call(repo_id, name, split_names[0], revision),
                "pull_args": _pull_args(repo_id, name, revision),
                "pool_dir": _pool_dir(repo_id, name),
            }
        )
    default_name = next((c["name"] for c in configs if c["default"]), None)
    if default_name is None and any(c["name"] == DEFAULT_CONFIG for c in configs):
        default_name = DEFAULT_CONFIG
    sections = [kept[c["name"]].rstrip("\n") for c in configs if c["name"] in kept]
    keep = "\n".join(m.group(0) for m in _KEEP.finditer(old_body)).rstrip("\n")
    total = sum(c["total"] for c in configs)
    context = {
        "header": _dump_yaml(header),
        "title": _cell(header["pretty_name"]),
        "description": manifest.get("description") or _default_description(total),
        "total": total,
        "configs": configs,
        "named": any(c["name"] != DEFAULT_CONFIG for c in configs),
        "default_name": default_name,
        "columns": _columns(card_header(problems, manifest)),
        "sections": sections,
        "keep": keep,
        "license": header["license"],
    }
    return _HUB_TEMPLATE_OBJ.render(**context)


def _feature_list(header: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(f["name"], f) for f in header["dataset_info"]["features"]]


# --------------------------------------------------------------------------------------------
# the model card of a published checkpoint

MODEL_TAGS = ("veriforge", "reasoning", "rlvr", "grpo", "verifiable-rewards")
_PASS_AT = re.compile(r"^pass@(\d+)$")
_EVAL_KEYS = ("dataset", "config", "split", "category", "difficulty", "n")

_MODEL_TEMPLATE = """\
---
{{ header }}---

# {{ title }}

A language model trained with veriforge on verified reasoning problems: every training
prompt has a machine-checked answer, so the reward is exact{% if base_model %}. Fine-tuned from
[`{{ base_model | cell }}`]({{ endpoint }}/{{ base_model }}){% endif %}.

The weights come from the run's `{{ checkpoint | cell }}` checkpoint.

## How to use it

```python
from transformers import AutoModelForCausalLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{{ repo_id }}")
model = AutoModelForCausalLM.from_pretrained("{{ repo_id }}")
```

## Training data
{% if pools %}

| pool | config | revision |
|---|---|---|
{% for p in pools %}
| {% if p.repo_id %}[{{ p.repo_id | cell }}]({{ endpoint }}/datasets/{{ p.repo_id }}){% else %}`{{ p.path | cell }}` (local){% endif %} \
| {{ p.config | cell }} | {{ p.revision | cell }} |
{% endfor %}
{% else %}

The run did not record its pools (`pools.json`).
{% endif %}

## Evaluation
{% if eval_rows %}

{% for name in eval_columns %}| {{ name }} {% endfor %}|
{% for name in eval_columns %}|{{ "---:" if name.startswith("pass@") or name == "n" else "---" }}{% endfor %}|
{% for row in eval_rows %}
{% for value in row %}| {{ value | cell }} {% endfor %}|
{% endfor %}
{% else %}

No evaluation results were recorded (`eval.json`).
{% endif %}

## Training
{% if metrics_steps %}

{{ metrics_steps }} logged steps{% if last_step is not none %}, last step {{ last_step }}{% endif %}; \
the full log is in `metrics.jsonl`. Final values:

| metric | value |
|---|---:|
{% for name, value in final_metrics %}
| {{ name | cell }} | {{ value | cell }} |
{% endfor %}
{% endif %}
{% if training %}

Training configuration (`training_config.yaml`; secret-looking values redacted):

```yaml
{{ training }}```
{% else %}

The run did not record its training configuration (`config.yaml`).
{% endif %}

## Files

| file | size |
|---|---:|
{% for name, size in files %}
| `{{ name | cell }}` | {{ size }} |
{% endfor %}
"""

_MODEL_TEMPLATE_OBJ = _ENV.from_string(_MODEL_TEMPLATE)


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _eval_table(evaluation: Any) -> tuple[list[str], list[list[str]]]:
    if isinstance(evaluation, dict):
        results = evaluation.get("results")
        if results is None:
            results = [evaluation]
    else:
        results = evaluation
    rows = [r for r in results or [] if isinstance(r, dict)]
    keys = [k for k in _EVAL_KEYS if any(k in r for r in rows)]
    passes = sorted(
        {k for r in rows for k in r if isinstance(k, str) and _PASS_AT.match(k)},
        key=lambda k: int(_PASS_AT.match(k)[1]),  # type: ignore[index]
    )
    columns = keys + passes
    if not passes:
        return [], []
    return columns, [[_number(r.get(c, "")) for c in columns] for r in rows]


def render_model_card(
    *,
    repo_id: str,
    endpoint: str,
    checkpoint: str,
    base_model: str | None,
    license: str | None,
    training: dict[str, Any],
    metrics: list[dict[str, Any]],
    evaluation: Any,
    pools: list[dict[str, Any]],
    files: list[tuple[str, int]],
) -> str:
    """The README.md of a model repo: Hub YAML (library, licence, datasets, base model, tags)
    and a body with the pools used (linked), pass@k results and the training config."""
    datasets = sorted({str(p["repo_id"]) for p in pools if p.get("repo_id")})
    header: dict[str, Any] = {
        "library_name": "transformers",
        "license": license or "other",
        "pipeline_tag": "text-generation",
        "tags": list(MODEL_TAGS),
    }
    if base_model:
        header["base_model"] = base_model
    if datasets:
        header["datasets"] = datasets
    final: dict[str, Any] = {}
    for record in metrics:
        for key, value in record.items():
            if key != "step" and isinstance(value, (int, float)) and not isinstance(value, bool):
                final[key] = value
    steps = [r["step"] for r in metrics if isinstance(r.get("step"), int)]
    columns, rows = _eval_table(evaluation)
    return _MODEL_TEMPLATE_OBJ.render(
        header=_dump_yaml(header),
        title=_cell(repo_id.split("/")[-1]),
        repo_id=repo_id,
        endpoint=endpoint.rstrip("/"),
        base_model=base_model,
        checkpoint=checkpoint,
        pools=[
            {
                "repo_id": p.get("repo_id"),
                "path": p.get("path"),
                "config": p.get("config", ""),
                "revision": p.get("revision", ""),
            }
            for p in pools
        ],
        eval_columns=columns,
        eval_rows=rows,
        metrics_steps=len(metrics),
        last_step=max(steps) if steps else None,
        final_metrics=[(k, _number(v)) for k, v in sorted(final.items())],
        training=yaml.safe_dump(training, sort_keys=False, allow_unicode=True, width=100)
        if training
        else "",
        files=files,
    )
