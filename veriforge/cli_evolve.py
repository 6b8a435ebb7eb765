"""`veriforge` commands for the evolve layer, registered on the main app. Wiring only."""

from __future__ import annotations

from veriforge.cli import app  # noqa: F401 - commands below register on it
