"""veriforge: the command line and a small public facade (wiring only)."""

__version__ = "0.1.0"
