"""cvc5 through its own Python API, reading SMT-LIB2 text with cvc5's own parser.

Why not through pysmt (which does drive cvc5 1.4's pip package): measured on a 9x9 Sudoku
certificate, cvc5 proves uniqueness in about 7 s when it reads the SMT-LIB2 text itself,
and runs out of its resource limit after 200+ s on the *same* formula built term by term
through pysmt's converter (term creation order changes cvc5's heuristics). So `cvc5` is
this backend; `pysmt-cvc5` keeps the pysmt route for those who want it (docs/solvers.md).

One `TermManager` per session: terms die with the session, so memory stays flat.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import z3

from synth.backends.base import Backend, Strategy
from synth.backends.portable import CVC5_STRATEGIES, ValuesModel, free_constants
from synth.certificate import portable as portable_sexpr
from synth.certificate import symbol

STRATEGIES = {
    name: Strategy(s.name, "cvc5", s.native, s.doc, s.options, incremental=s.incremental)
    for name, s in CVC5_STRATEGIES.items()
}


def _result(r: Any) -> z3.CheckSatResult:
    if r.isSat():
        return z3.sat
    if r.isUnsat():
        return z3.unsat
    return z3.unknown


class _Session:
    """A cvc5 solver, its term manager and an SMT-LIB2 reader sharing one symbol table."""

    def __init__(self, strategy: Strategy, limit: int) -> None:
        import cvc5

        self.cvc5 = cvc5
        self.tm = cvc5.TermManager()
        self.solver = cvc5.Solver(self.tm)
        self.solver.setOption("produce-models", "true")
        self.solver.setOption("incremental", "true" if strategy.incremental else "false")
        for key, value in strategy.options.items():
            self.solver.setOption(key, str(value))
        self.solver.setOption("rlimit-per", str(limit))
        self.solver.setLogic("ALL")
        self.symbols = cvc5.SymbolManager(self.tm)
        self.parser = cvc5.InputParser(self.solver, self.symbols)

    def _input(self, text: str) -> None:
        self.parser.setIncrementalStringInput(self.cvc5.InputLanguage.SMT_LIB_2_6, "veriforge")
        self.parser.appendIncrementalStringInput(text)

    def run(self, text: str) -> None:
        """Execute SMT-LIB2 commands (declarations, definitions, assertions)."""
        self._input(text)
        while True:
            command = self.parser.nextCommand()
            if command.isNull():
                break
            command.invoke(self.solver, self.symbols)

    def term(self, text: str) -> Any:
        self._input(text)
        return self.parser.nextTerm()

    def check(self, assumptions: list[Any]) -> tuple[z3.CheckSatResult, str]:
        try:
            r = (
                self.solver.checkSatAssuming(*assumptions)
                if assumptions
                else self.solver.checkSat()
            )
        except RuntimeError as error:
            return z3.unknown, f"solver error: {error}"
        result = _result(r)
        return result, (f"{r.getUnknownExplanation()}" if result == z3.unknown else "")

    def value(self, term: Any) -> Any:
        """A model value as a Python bool, int or Fraction."""
        v = self.solver.getValue(term)
        if v.isBooleanValue():
            return v.getBooleanValue()
        if v.isIntegerValue():
            return int(v.getIntegerValue())
        return Fraction(v.getRealValue())


class Cvc5Backend(Backend):
    """cvc5 natively (its Python API and SMT-LIB2 parser)."""

    name = "cvc5"

    def strategies(self) -> dict[str, Strategy]:
        return STRATEGIES

    def version(self) -> str:
        import cvc5

        return f"cvc5 {cvc5.__version__}"

    def solver(self, ctx: z3.Context, strategy: Strategy, limit: int) -> Cvc5Solver:
        return Cvc5Solver(ctx, strategy, limit)

    def prover(self, script: str, strategy: Strategy, limit: int) -> Cvc5Prover:
        return Cvc5Prover(script, strategy, limit)


class Cvc5Solver:
    """The engine's solver interface on cvc5: z3 terms go over as SMT-LIB2 text."""

    def __init__(self, ctx: z3.Context, strategy: Strategy, limit: int) -> None:
        self.ctx = ctx
        self.strategy = strategy
        self.limit = limit
        self.frames: list[list[str]] = [[]]  # commands per push level (replayed if rebuilt)
        self.declared: dict[str, z3.ExprRef] = {}
        self.session = _Session(strategy, limit) if strategy.incremental else None
        self.checked: _Session | None = None
        self.unknown_reason = ""

    def _declare(self, terms: list[z3.ExprRef]) -> str:
        out = []
        for name, const in free_constants(terms).items():
            if name not in self.declared:
                self.declared[name] = const
                out.append(f"(declare-const {symbol(name)} {const.sort().sexpr()})")
        if out:  # declarations live at the bottom frame (they outlive pops)
            self.frames[0].extend(out)
        return "".join(out)

    def add(self, *formulas: z3.BoolRef) -> None:
        for f in formulas:
            decls = self._declare([f])
            command = f"(assert {portable_sexpr(f.sexpr())})"
            self.frames[-1].append(command)
            if self.session is not None:
                self.session.run(decls + command)

    def push(self) -> None:
        self.frames.append([])
        if self.session is not None:
            self.session.solver.push()

    def pop(self) -> None:
        self.frames.pop()
        if self.session is not None:
            self.session.solver.pop()

    def check(self, *assumptions: z3.BoolRef) -> z3.CheckSatResult:
        decls = self._declare(list(assumptions))
        session = self.session
        if session is None:  # non-incremental: a fresh solver per check
            session = _Session(self.strategy, self.limit)
            session.run("".join(c for frame in self.frames for c in frame))
        elif decls:
            session.run(decls)
        terms = [session.term(portable_sexpr(a.sexpr())) for a in assumptions]
        result, self.unknown_reason = session.check(terms)
        self.checked = session if result == z3.sat else None
        return result

    def reason_unknown(self) -> str:
        return self.unknown_reason

    def model(self) -> Cvc5Model:
        if self.checked is None:
            raise z3.Z3Exception("model is not available")
        return Cvc5Model(self, self.checked)

    def statistics(self) -> dict[str, int]:
        return {}


class Cvc5Model(ValuesModel):
    """A cvc5 model read back as z3 values (`eval` like z3's, with model completion).
    Values are read when the model is taken: a later check invalidates cvc5's model."""

    def __init__(self, solver: Cvc5Solver, session: _Session) -> None:
        self.ctx = solver.ctx
        self.values: dict[str, Any] = {
            name: session.value(session.term(symbol(name))) for name in solver.declared
        }


class Cvc5Prover:
    """Certificate claims on cvc5: a fresh session per claim reads the certificate."""

    def __init__(self, script: str, strategy: Strategy, limit: int) -> None:
        self.script = script
        self.strategy = strategy
        self.limit = limit
        self.log: list[str] = []

    def _session(self) -> _Session:
        session = _Session(self.strategy, self.limit)
        session.run(
            "\n".join(
                line for line in self.script.splitlines() if not line.startswith("(set-logic")
            )
        )
        return session

    def check(self, claim: str) -> z3.CheckSatResult:
        session = self._session()
        session.run(f"(assert {claim})")
        result, reason = session.check([])
        self.log.append(f"{claim}: {result}" + (f" ({reason})" if reason else ""))
        return result

    def count(self, project: list[str], limit: int) -> int | None:
        session = self._session()
        try:
            terms = [session.term(symbol(n)) for n in project]
        except RuntimeError:
            raise ValueError(f"projection names undeclared constants: {project[:3]}") from None
        tm, kind = session.tm, session.cvc5.Kind
        found = 0
        while found <= limit:
            result, _ = session.check([])
            if result == z3.unknown:
                return None
            if result == z3.unsat:
                break
            found += 1
            differs = [
                tm.mkTerm(kind.NOT, tm.mkTerm(kind.EQUAL, t, session.solver.getValue(t)))
                for t in terms
            ]
            session.solver.assertFormula(
                differs[0] if len(differs) == 1 else tm.mkTerm(kind.OR, *differs)
            )
        self.log.append(f"count: {found}")
        return found
