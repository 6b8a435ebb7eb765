"""Rewrite one top-level section of a spec file, leaving every other byte as it was.

Used by `veriforge tune` to record the chosen solver: the `solver:` block is replaced (or
appended), comments and layout elsewhere in the file survive. The result is validated
before it is returned.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from synth.spec.loader import load_spec_text

_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*\s*:")


def solver_yaml(solver: dict[str, Any]) -> str:
    """The `solver:` block as YAML text."""
    return yaml.safe_dump({"solver": solver}, sort_keys=False, default_flow_style=False)


def with_solver(text: str, updates: dict[str, Any], file: str = "<spec>") -> str:
    """`text` with its solver section updated by `updates` (other solver keys kept)."""
    raw = yaml.safe_load(text) or {}
    solver = dict(raw.get("solver") or {})
    solver.update(updates)
    block = solver_yaml(solver)
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^solver\s*:", line)), None)
    if start is None:
        out = text + ("" if text.endswith("\n") or not text else "\n") + block
    else:
        end = start + 1
        while end < len(lines) and not _TOP_KEY.match(lines[end]):
            end += 1
        # keep trailing comments/blank lines that belong to what follows
        while end > start + 1 and lines[end - 1].strip().startswith("#"):
            end -= 1
        out = "".join(lines[:start]) + block + "".join(lines[end:])
    load_spec_text(out, file)  # never write a spec that does not load
    return out
