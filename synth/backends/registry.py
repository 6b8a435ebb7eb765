"""Which backends exist, which are installed, and how names resolve to (backend, strategy).

Bad names fail with `BackendError` naming what is installed, so the CLI can print one clear
line and exit 2.
"""

from __future__ import annotations

from functools import cache, lru_cache

from synth.backends.base import Backend, BackendError, Strategy
from synth.backends.portable import CVC5_STRATEGIES, PysmtBackend
from synth.backends.z3native import Z3_STRATEGIES, Z3Backend

# Backends that can generate (and re-prove certificates); other pysmt ones are verify-only.
GENERATION_BACKENDS = ("z3", "cvc5", "pysmt-cvc5")
# Solvers pysmt knows how to drive with arithmetic (installed or not).
PYSMT_SOLVERS = ("cvc5", "z3", "msat", "yices", "btor", "cvc4")
KNOWN = ("z3", "cvc5", *(f"pysmt-{n}" for n in PYSMT_SOLVERS))
STATIC_STRATEGIES: dict[str, dict[str, Strategy]] = {
    "z3": Z3_STRATEGIES,
    "cvc5": CVC5_STRATEGIES,
    "pysmt-cvc5": CVC5_STRATEGIES,
}
# The native strategy used where a spec quantifies over unbounded integers and says "auto".
QUANTIFIED_DEFAULT = {"z3": "mbqi", "cvc5": "cegqi", "pysmt-cvc5": "cegqi"}


@lru_cache(maxsize=1)
def _pysmt_installed() -> tuple[str, ...]:
    try:
        from pysmt.shortcuts import get_env
    except ImportError:
        return ()
    names = set(get_env().factory.all_solvers())
    return tuple(f"pysmt-{n}" for n in PYSMT_SOLVERS if n in names)


@lru_cache(maxsize=1)
def _cvc5_installed() -> bool:
    try:
        import cvc5  # noqa: F401
    except ImportError:
        return False
    return True


# Backends registered from Python (explicit and opt-in, like every plug-in): e.g. another
# solver's bindings, or a deliberately wrong backend in tests of disagreement reports.
_PLUGINS: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Make `backend` available by its name (for verification; `unregister` removes it)."""
    _PLUGINS[backend.name] = backend


def unregister(name: str) -> None:
    _PLUGINS.pop(name, None)


@cache
def _builtin(name: str) -> Backend:
    if name == "z3":
        return Z3Backend()
    if name == "cvc5":
        from synth.backends.cvc5native import Cvc5Backend

        return Cvc5Backend()
    return PysmtBackend(name.removeprefix("pysmt-"))


def _backend(name: str) -> Backend:
    return _PLUGINS[name] if name in _PLUGINS else _builtin(name)


def installed() -> list[str]:
    """Installed backend names: z3, cvc5, the pysmt routes, then plug-ins."""
    names = ["z3", *(["cvc5"] if _cvc5_installed() else []), *_pysmt_installed()]
    return names + [n for n in _PLUGINS if n not in names]


def independent() -> list[str]:
    """One backend per installed solver (what `--backend all` cross-checks with): z3 and
    cvc5 natively, other solvers through pysmt, plus plug-ins."""
    names = installed()
    native = {"pysmt-z3", "pysmt-cvc5"} if "cvc5" in names else {"pysmt-z3"}
    return [n for n in names if n not in native]


def get_backend(name: str, *, generate: bool = False) -> Backend:
    """The backend called `name`; a clear error for unknown or missing ones."""
    have = installed()
    if name not in (*KNOWN, *_PLUGINS):
        raise BackendError(f"unknown backend {name!r}; installed backends: {', '.join(have)}")
    if name not in have:
        hint = " (pip install 'veriforge[solvers]')" if "cvc5" in name else ""
        raise BackendError(
            f"backend {name!r} is not installed{hint}; installed backends: {', '.join(have)}"
        )
    if generate and name not in GENERATION_BACKENDS:
        usable = [n for n in have if n in GENERATION_BACKENDS]
        raise BackendError(
            f"backend {name!r} can re-prove certificates but not generate; "
            f"generation backends installed: {', '.join(usable)}"
        )
    return _backend(name)


def get_strategy(backend: Backend, name: str) -> Strategy:
    """A strategy of `backend` by name; a clear error listing the backend's strategies."""
    table = backend.strategies()
    if name not in table:
        raise BackendError(
            f"unknown strategy {name!r} for backend {backend.name!r}; "
            f"{backend.name} strategies: {', '.join(table)}"
        )
    return table[name]


def choose(
    backend: str, strategy: str, unbounded: bool, *, generate: bool = True
) -> tuple[Backend, Strategy]:
    """Resolve names (with `auto`) to a (backend, strategy) pair.

    `auto` is `ground` unless the formulas quantify over unbounded integers, where the
    backend's default native strategy is used (z3 mbqi, cvc5 cegqi). `ground` on such a
    formula is refused: it has no finite expansion.
    """
    b = get_backend(backend, generate=generate)
    if strategy == "auto":
        strategy = QUANTIFIED_DEFAULT.get(b.name, "ground") if unbounded else "ground"
    s = get_strategy(b, strategy)
    if unbounded and not s.native:
        raise BackendError(
            f"strategy {s.label} expands quantifiers, but this spec quantifies over "
            f"integers (no finite expansion); use one of: "
            f"{', '.join(n for n, x in b.strategies().items() if x.native) or 'none'}"
        )
    return b, s


def applicable(unbounded: bool) -> list[tuple[Backend, Strategy]]:
    """Every installed generation (backend, strategy) pair that can run a spec."""
    pairs = []
    for name in installed():
        if name not in GENERATION_BACKENDS:
            continue
        b = _backend(name)
        for s in b.strategies().values():
            if unbounded and not s.native:
                continue
            pairs.append((b, s))
    return pairs


def reset_all() -> None:
    """Reset global solver state between batches (pysmt's formula environment)."""
    import sys

    if "pysmt" in sys.modules:
        from pysmt.shortcuts import reset_env

        reset_env()
