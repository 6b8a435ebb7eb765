"""Portable backends through pysmt: `pysmt-<solver>` for every solver pysmt drives that is
installed (cvc5 with its quantifier strategies; others for re-proving certificates).

pysmt 0.9.6 drives cvc5's pip package directly (`pysmt-install --check` lists it); pysmt
gives the formula environment, its SMT-LIB2 parser (which reads z3's terms and the
certificates) and one interface over many solvers. The default `cvc5` backend does not go
through here (see cvc5native.py for the measurement why). Two things are done by hand:

- the cvc5 solver is created with logic `ALL` (pysmt has no such logic object, and its
  named logics leave out quantified non-linear arithmetic that cvc5 handles);
- terms move from z3 to pysmt as SMT-LIB2 text (`term.sexpr()`, made portable), parsed by
  one pysmt parser per session whose symbol table persists across commands.

pysmt interns every formula in a global environment and memoises types there, so a long
run grows without bound unless the environment is reset: `reset()` does that between
batches (the runner and `verify` call it; no session may be alive at that point).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import z3

from synth.backends.base import Backend, BackendError, Strategy
from synth.certificate import portable as portable_sexpr
from synth.certificate import symbol

CVC5_STRATEGIES = {
    s.name: s
    for s in (
        Strategy("ground", "cvc5", native=False, doc="expand finite quantifiers; cvc5 defaults"),
        Strategy(
            "cegqi",
            "cvc5",
            native=True,
            doc="counterexample-guided instantiation (complete for linear arithmetic)",
            options={"cegqi": "true"},
        ),
        Strategy(
            "mbqi",
            "cvc5",
            native=True,
            doc="model-based instantiation with a subsolver",
            options={"mbqi": "true"},
        ),
        Strategy(
            "mbqi-enum",
            "cvc5",
            native=True,
            doc="MBQI whose candidate terms come from enumeration",
            options={"mbqi": "true", "mbqi-enum": "true"},
        ),
        Strategy(
            "enum-inst",
            "cvc5",
            native=True,
            doc="enumerative instantiation over ground terms (after E-matching fails)",
            options={"enum-inst": "true"},
        ),
        Strategy(
            "fmf-bound",
            "cvc5",
            native=True,
            doc="finite model finding over bounded quantifiers (ranges)",
            options={"fmf-bound": "true"},
        ),
        Strategy(
            "full-saturate-quant",
            "cvc5",
            native=True,
            doc="E-matching, then instantiate with every relevant ground term",
            options={"full-saturate-quant": "true"},
        ),
        Strategy(
            "sygus-inst",
            "cvc5",
            native=True,
            doc="instantiation terms from syntax-guided synthesis (non-incremental: "
            "the solver is rebuilt for every check)",
            options={"sygus-inst": "true"},
            incremental=False,
        ),
    )
}

_RESULT = {True: z3.sat, False: z3.unsat}


def _pysmt_all_logic() -> Any:
    from pysmt.logics import Logic, Theory

    theory = Theory(
        arrays=True,
        bit_vectors=True,
        integer_arithmetic=True,
        real_arithmetic=True,
        integer_difference=True,
        real_difference=True,
        linear=False,
        uninterpreted=True,
    )
    return Logic("ALL", "every theory the solver has", quantifier_free=False, theory=theory)


def free_constants(terms: Iterable[z3.ExprRef]) -> dict[str, z3.ExprRef]:
    """Uninterpreted constants by name, looking inside quantifier bodies too."""
    seen: dict[str, z3.ExprRef] = {}
    stack, visited = list(terms), set()
    while stack:
        e = stack.pop()
        key = e.get_id()
        if key in visited:
            continue
        visited.add(key)
        if z3.is_quantifier(e):
            stack.append(e.body())
            stack.extend(e.pattern(i) for i in range(e.num_patterns()))
        elif z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[e.decl().name()] = e
        elif z3.is_app(e):
            stack.extend(e.children())
    return seen


def _strip_logic(script: str) -> str:
    return "\n".join(
        line for line in script.splitlines() if not line.lstrip().startswith("(set-logic")
    )


class _Parser:
    """A pysmt SMT-LIB2 parser whose declarations persist across commands."""

    def __init__(self, env: Any) -> None:
        from pysmt.smtlib.parser import SmtLibParser

        self.env = env
        self.parser = SmtLibParser(environment=env)
        self.parser._reset()  # the symbol table; get_script() would clear it every call

    def commands(self, text: str) -> list[Any]:
        return list(self.parser.get_command_generator(io.StringIO(text)))

    def assertions(self, text: str) -> list[Any]:
        return [c.args[0] for c in self.commands(text) if c.name == "assert"]


class PysmtBackend(Backend):
    """A solver driven through pysmt (cvc5 with its strategies; others `ground` only)."""

    def __init__(self, solver_name: str) -> None:
        self.name = f"pysmt-{solver_name}"
        self.solver_name = solver_name

    def strategies(self) -> dict[str, Strategy]:
        if self.solver_name == "cvc5":
            return {
                n: Strategy(n, self.name, s.native, s.doc, s.options, s.incremental)
                for n, s in CVC5_STRATEGIES.items()
            }
        return {
            "ground": Strategy(
                "ground", self.name, native=False, doc=f"{self.name} defaults (quantifier-free)"
            )
        }

    def version(self) -> str:
        if self.solver_name == "cvc5":
            import cvc5

            return f"cvc5 {cvc5.__version__}"
        return f"{self.solver_name} (pysmt)"

    def env(self) -> Any:
        from pysmt.shortcuts import get_env

        return get_env()

    def make(self, strategy: Strategy, limit: int, formulas: list[Any] | None = None) -> Any:
        """A pysmt solver for `strategy` (its options, incremental or not, the limit)."""
        env = self.env()
        if self.solver_name == "cvc5":
            from pysmt.solvers.cvcfive import CVC5Solver

            # pysmt turns on cvc5's ITE simplification passes; on one-hot puzzle encodings
            # (many ite-sums) they cost minutes where cvc5's defaults take seconds (sudoku
            # uniqueness: 211 s and unknown vs 7 s unsat), so restore cvc5's defaults.
            options = {
                "ite-simp": "false",
                "simp-ite-compress": "false",
                **strategy.options,
                "rlimit-per": str(limit),
            }
            return CVC5Solver(
                env,
                _pysmt_all_logic(),
                incremental=strategy.incremental,
                generate_models=True,
                solver_options=options,
            )
        from pysmt.oracles import get_logic

        logic = get_logic(env.formula_manager.And(list(formulas))) if formulas else None
        return env.factory.Solver(name=self.solver_name, logic=logic, generate_models=True)

    def solver(self, ctx: z3.Context, strategy: Strategy, limit: int) -> PortableSolver:
        if self.solver_name != "cvc5":
            raise BackendError(
                f"{self.name} can re-prove certificates but not generate; "
                "generation backends: z3, cvc5, pysmt-cvc5"
            )
        return PortableSolver(self, ctx, strategy, limit)

    def prover(self, script: str, strategy: Strategy, limit: int) -> PortableProver:
        return PortableProver(self, script, strategy, limit)

    def reset(self) -> None:
        from pysmt.shortcuts import reset_env

        reset_env()


def _check(solver: Any, assumptions: list[Any]) -> tuple[z3.CheckSatResult, str]:
    from pysmt.exceptions import PysmtException, SolverReturnedUnknownResultError

    try:
        return _RESULT[bool(solver.solve(assumptions or None))], ""
    except SolverReturnedUnknownResultError:
        return z3.unknown, "solver returned unknown (incomplete or out of resources)"
    except (PysmtException, RuntimeError) as error:  # cvc5: RuntimeError on bad input
        return z3.unknown, f"solver error: {error}"


class PortableSolver:
    """The engine's solver interface over a pysmt solver (one per generated instance)."""

    def __init__(
        self, backend: PysmtBackend, ctx: z3.Context, strategy: Strategy, limit: int
    ) -> None:
        self.backend = backend
        self.ctx = ctx
        self.strategy = strategy
        self.limit = limit
        self.parser = _Parser(backend.env())
        self.declared: set[str] = set()
        self.translated: dict[int, tuple[z3.ExprRef, Any]] = {}
        self.frames: list[list[Any]] = [[]]  # asserted formulas per push level
        self.incremental = strategy.incremental
        self.current = backend.make(strategy, limit) if self.incremental else None
        self.checked: Any = None  # the solver that answered the last check
        self.unknown_reason = ""

    # -- translation ------------------------------------------------------------------
    def translate(self, term: z3.ExprRef) -> Any:
        """z3 term -> pysmt formula, through SMT-LIB2 text (cached per term)."""
        key = term.get_id()
        hit = self.translated.get(key)
        if hit is not None and hit[0].eq(term):
            return hit[1]
        decls = []
        for name, const in free_constants([term]).items():
            if name not in self.declared:
                self.declared.add(name)
                decls.append(f"(declare-const {symbol(name)} {const.sort().sexpr()})")
        text = "".join(decls) + f"(assert {portable_sexpr(term.sexpr())})"
        (formula,) = self.parser.assertions(text)
        self.translated[key] = (term, formula)
        return formula

    # -- the z3.Solver subset the engine uses -----------------------------------------
    def add(self, *formulas: z3.BoolRef) -> None:
        for f in formulas:
            pf = self.translate(f)
            self.frames[-1].append(pf)
            if self.current is not None:
                self.current.add_assertion(pf)

    def push(self) -> None:
        self.frames.append([])
        if self.current is not None:
            self.current.push()

    def pop(self) -> None:
        self.frames.pop()
        if self.current is not None:
            self.current.pop()

    def check(self, *assumptions: z3.BoolRef) -> z3.CheckSatResult:
        flat = [a for group in assumptions for a in (group if isinstance(group, list) else [group])]
        translated = [self.translate(a) for a in flat]
        if self.current is not None:
            solver = self.current
        else:
            solver = self.backend.make(self.strategy, self.limit)
            for frame in self.frames:
                for f in frame:
                    solver.add_assertion(f)
        result, self.unknown_reason = _check(solver, translated)
        self.checked = solver if result == z3.sat else None
        return result

    def reason_unknown(self) -> str:
        return self.unknown_reason

    def model(self) -> PortableModel:
        if self.checked is None:
            raise z3.Z3Exception("model is not available")
        return PortableModel(self)

    def statistics(self) -> dict[str, int]:
        return {}


class ValuesModel:
    """z3-style `eval` over constant values read back from another solver, so the engine
    reads every backend's models the same way. Subclasses fill `ctx` and `values`."""

    ctx: z3.Context
    values: dict[str, Any]

    def _value(self, const: z3.ExprRef) -> z3.ExprRef:
        kind = const.sort().kind()
        # a constant in no assertion can take any value
        value = self.values.get(const.decl().name(), False if kind == z3.Z3_BOOL_SORT else 0)
        if kind == z3.Z3_BOOL_SORT:
            return z3.BoolVal(bool(value), self.ctx)
        if kind == z3.Z3_INT_SORT:
            return z3.IntVal(int(value), self.ctx)
        frac = Fraction(value)
        return z3.RealVal(f"{frac.numerator}/{frac.denominator}", self.ctx)

    def eval(self, term: z3.ExprRef, model_completion: bool = True) -> z3.ExprRef:
        if z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            return self._value(term)
        pairs = [(c, self._value(c)) for c in free_constants([term]).values()]
        return z3.simplify(z3.substitute(term, *pairs) if pairs else term)


class PortableModel(ValuesModel):
    """A model read back from the pysmt solver as z3 values (`eval` like z3's). Values are
    read when the model is taken: a later check invalidates the solver's model."""

    def __init__(self, session: PortableSolver) -> None:
        self.ctx = session.ctx
        mgr = session.parser.env.formula_manager
        self.values: dict[str, Any] = {}
        for name in session.declared:
            got = session.checked.get_value(mgr.get_symbol(name))
            self.values[name] = got.constant_value()


class PortableProver:
    """Certificate claims on a pysmt solver: the certificate is parsed once; every claim is
    checked on a fresh solver (so non-incremental strategies work the same way)."""

    def __init__(self, backend: PysmtBackend, script: str, strategy: Strategy, limit: int) -> None:
        self.backend = backend
        self.strategy = strategy
        self.limit = limit
        self.parser = _Parser(backend.env())
        self.base = self.parser.assertions(_strip_logic(script))
        self.log: list[str] = []

    def _solver(self, extra: list[Any]) -> Any:
        solver = self.backend.make(self.strategy, self.limit, self.base + extra)
        for f in self.base:
            solver.add_assertion(f)
        return solver

    def check(self, claim: str) -> z3.CheckSatResult:
        (formula,) = self.parser.assertions(f"(assert {claim})")
        solver = self._solver([formula])
        solver.add_assertion(formula)
        result, reason = _check(solver, [])
        self.log.append(f"{claim}: {result}" + (f" ({reason})" if reason else ""))
        return result

    def count(self, project: list[str], limit: int) -> int | None:
        from pysmt.exceptions import UndefinedSymbolError

        mgr = self.parser.env.formula_manager
        try:
            symbols = [mgr.get_symbol(n) for n in project]
        except UndefinedSymbolError:
            raise ValueError(f"projection names undeclared constants: {project[:3]}") from None
        solver = self._solver([])
        found = 0
        while found <= limit:
            result, _ = _check(solver, [])
            if result == z3.unknown:
                return None
            if result == z3.unsat:
                break
            found += 1
            block = mgr.Or([mgr.Not(mgr.EqualsOrIff(s, solver.get_value(s))) for s in symbols])
            solver.add_assertion(block)
        self.log.append(f"count: {found}")
        return found
