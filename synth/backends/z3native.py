"""z3 through its native Python API: the fast default backend.

Generation uses a plain `z3.Solver` (incremental, assumption literals), so the default
path costs nothing extra. Strategies only set solver parameters (or, for `qsat`, build the
solver from z3's quantifier-satisfaction tactic).
"""

from __future__ import annotations

import z3

from synth.backends.base import Backend, Strategy

Z3_STRATEGIES = {
    s.name: s
    for s in (
        Strategy(
            "ground",
            "z3",
            native=False,
            doc="expand finite quantifiers; z3's default configuration (fastest, complete)",
        ),
        Strategy(
            "mbqi",
            "z3",
            native=True,
            doc="model-based quantifier instantiation (complete for many arithmetic "
            "fragments; z3's default for quantified formulas)",
            options={"smt.mbqi": True, "smt.ematching": True},
        ),
        Strategy(
            "ematching",
            "z3",
            native=True,
            doc="E-matching only (MBQI off), with triggers from the spec where given; "
            "incomplete: 'sat' on a quantified formula usually comes back unknown",
            options={"smt.mbqi": False, "smt.ematching": True, "smt.auto_config": False},
        ),
        Strategy(
            "qsat",
            "z3",
            native=True,
            doc="quantifier satisfaction (qsat tactic) for pure linear arithmetic; other "
            "formulas come back unknown and are rejected",
        ),
    )
}


class Z3Backend(Backend):
    """z3 natively."""

    name = "z3"

    def strategies(self) -> dict[str, Strategy]:
        return Z3_STRATEGIES

    def version(self) -> str:
        return z3.get_version_string()

    def solver(self, ctx: z3.Context, strategy: Strategy, limit: int) -> z3.Solver:
        if strategy.name == "qsat":
            solver = z3.Then("simplify", "qsat", ctx=ctx).solver()
        else:
            solver = z3.Solver(ctx=ctx)
        solver.set("rlimit", limit)
        for key, value in strategy.options.items():
            solver.set(key, value)
        return solver

    def prover(self, script: str, strategy: Strategy, limit: int) -> Z3Prover:
        return Z3Prover(self, script, strategy, limit)


class Z3Prover:
    """Certificate claims on z3: the base script is parsed once per claim (fresh solver),
    so one claim's assertions never leak into the next."""

    def __init__(self, backend: Z3Backend, script: str, strategy: Strategy, limit: int) -> None:
        self.backend = backend
        self.script = script
        self.strategy = strategy
        self.limit = limit
        self.ctx = z3.Context()
        self.log: list[str] = []

    def solver(self, extra: str = "") -> z3.Solver:
        s = self.backend.solver(self.ctx, self.strategy, self.limit)
        s.from_string(self.script + extra)
        return s

    def check(self, claim: str) -> z3.CheckSatResult:
        result = self.solver(f"(assert {claim})").check()
        self.log.append(f"{claim}: {result}")
        return result

    def count(self, project: list[str], limit: int) -> int | None:
        from synth.certificate import constants

        s = self.solver()
        consts = {k.decl().name(): k for k in constants(list(s.assertions()))}
        missing = [n for n in project if n not in consts]
        if missing:
            raise ValueError(f"projection names undeclared constants: {missing[:3]}")
        variables = [consts[n] for n in project]
        found = 0
        while found <= limit:
            result = s.check()
            if result == z3.unknown:
                return None
            if result == z3.unsat:
                break
            found += 1
            model = s.model()
            s.add(z3.Or([v != model.eval(v, model_completion=True) for v in variables]))
        self.log.append(f"count: {found}")
        return found
