"""Solver backends and quantifier-instantiation strategies.

- `z3`: z3's native Python API, the fast default (`z3native`);
- `cvc5` through its own Python API and SMT-LIB2 parser (`cvc5native`);
- `pysmt-<solver>` for every solver pysmt drives (`portable`);
- strategies per backend, resolved by name (`registry`);
- a portfolio that races (backend, strategy) pairs on an instance (`portfolio`).

See docs/solvers.md.
"""

from synth.backends.base import Backend, BackendError, Strategy
from synth.backends.registry import (
    GENERATION_BACKENDS,
    applicable,
    choose,
    get_backend,
    get_strategy,
    independent,
    installed,
    register,
    reset_all,
    unregister,
)

__all__ = [
    "GENERATION_BACKENDS",
    "Backend",
    "BackendError",
    "Strategy",
    "applicable",
    "choose",
    "get_backend",
    "get_strategy",
    "independent",
    "installed",
    "register",
    "reset_all",
    "unregister",
]
