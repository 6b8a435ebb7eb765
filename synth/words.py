"""Built-in word lists for spec parameters (`words('names')`, `{sample: colours, k: 3}`).

Lists live as plain text in `synth/data/words/<name>.txt`, one entry per line, so users
can read them and a spec's output depends only on shipped data.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


def available() -> list[str]:
    """Names of the bundled word lists."""
    folder = resources.files("synth") / "data" / "words"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".txt"))


@cache
def _load(name: str) -> tuple[str, ...]:
    if name not in available():
        raise ValueError(f"unknown word list {name!r}; available: {', '.join(available())}")
    text = (resources.files("synth") / "data" / "words" / f"{name}.txt").read_text("utf-8")
    entries = tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )
    return entries


def words(name: str) -> list[str]:
    """A fresh copy of the word list `name` (in file order)."""
    return list(_load(str(name)))
