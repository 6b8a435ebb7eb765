"""The hidden solution and the clues: plant-then-clue and sample-then-solve.

Clues are asserted behind assumption literals (`guard -> clue`), so adding one, checking
uniqueness and dropping redundant ones all reuse one incremental solver.
"""

from __future__ import annotations

from typing import Any

import z3

from synth.engine.sampling import evaluate_lets, pick_text
from synth.engine.state import Clue, Reject, Solution, State
from synth.expr.fastz3 import mk_and, mk_bool, mk_implies, mk_not
from synth.expr.interp import compile_condition, evaluate
from synth.expr.parse import EmptyPickError
from synth.render import render
from synth.spec.model import ClueFamily


def plant(st: State) -> None:
    """Build the hidden solution: `plant:` expressions, then a seeded random walk (guided
    only by sat/unsat verdicts) for unknowns without one."""
    spec = st.spec
    plant: dict[str, dict[tuple, Any]] = {}
    assumptions: list[z3.BoolRef] = []
    for name, family in st.families.items():
        if name not in spec.plant:
            continue
        values = {}
        for key, leaf in family.leaves.items():
            env = dict(st.params)
            env.update(zip(family.index_names, key))
            value = evaluate(spec.plant[name], env, st.rng)
            try:
                assumptions.append(leaf.equals(value))
            except ValueError as error:
                raise Reject("planted value outside domain", str(error)) from None
            values[key] = value
        plant[name] = values
    if assumptions and st.check(assumptions, "planted solution") == z3.unsat:
        raise Reject("planted solution violates constraints")
    # Remaining finite unknowns: a random walk guided by sat/unsat verdicts only.
    for name, family in st.families.items():
        if name in plant:
            continue
        values = {}
        for key, leaf in family.leaves.items():
            if leaf.kind not in ("finite", "bool"):
                raise Reject(
                    "cannot plant", f"{leaf.label} has no finite domain; give it a plant expression"
                )
            options = [v for v, _ in leaf.lits] if leaf.kind == "finite" else [True, False]
            st.rng.shuffle(options)
            for value in options:
                lit = leaf.equals(value)
                if st.check(assumptions + [lit], f"planting {leaf.label}") == z3.sat:
                    assumptions.append(lit)
                    values[key] = value
                    break
            else:
                raise Reject("no solution", "the constraints have no solution to plant")
        plant[name] = values
    st.plant = plant


def assignment_formula(st: State, names: list[str], solution: Solution) -> z3.BoolRef:
    """The formula "these unknowns take exactly these values"."""
    parts = [
        leaf.equals(solution[n][key]) for n in names for key, leaf in st.families[n].leaves.items()
    ]
    return mk_and(parts, st.ctx)


def solve(st: State, what: str) -> dict[str, dict[tuple, Any]]:
    """Some solution of the current problem (used only where uniqueness is then proved)."""
    if st.check(st.guards(), what) == z3.unsat:
        raise Reject("no solution", "the sampled constraints and clues have no solution")
    model = st.solver.model()
    return {
        n: {k: leaf.decode(model) for k, leaf in f.leaves.items()} for n, f in st.families.items()
    }


class Seen:
    """Candidates drawn so far, by picks and by formula. Formulas are kept alive here: z3
    reuses the id of a freed term, so remembering bare ids would mistake a new formula for
    an old one."""

    def __init__(self, formulas: list[z3.BoolRef] = ()) -> None:  # type: ignore[assignment]
        self.picks: set[tuple[str, str]] = set()
        self.formulas: dict[int, z3.BoolRef] = {f.get_id(): f for f in formulas}

    def add(self, picked: tuple[str, str], formula: z3.BoolRef) -> None:
        self.picks.add(picked)
        self.formulas[formula.get_id()] = formula


def draw_clue(
    st: State, families: list[ClueFamily], seen: Seen, solution: Solution | None
) -> tuple[z3.BoolRef, str, str, dict[str, Any]] | None:
    """One candidate clue true of `solution` (when given), or None if this draw failed:
    a failed pick or guard, false of the solution, constant, or a repeat. `seen` holds the
    picks and formulas drawn before."""
    total = sum(f.weight for f in families)
    pick = st.rng.random() * total
    for family in families:
        pick -= family.weight
        if pick < 0:
            break
    try:
        lets = evaluate_lets(
            family.let,
            st.concrete_env(solution, {"clue_index": len(st.clues)}),
            st.rng,
            family.when,
        )
    except EmptyPickError:
        return None  # e.g. "someone to the right of x" when x is rightmost
    if lets is None:
        return None
    picked = (family.name, repr(sorted(lets.items())))
    if picked in seen.picks:
        return None
    if solution is not None and evaluate(family.holds, st.concrete_env(solution, lets)) is not True:
        return None
    holds = compile_condition(family.holds, st.symbolic_env(lets), st.ctx)
    if isinstance(holds, bool) or holds.get_id() in seen.formulas:
        return None
    text = render(pick_text(family.text, st.rng), {**st.params, **lets})
    seen.add(picked, holds)
    return holds, text, family.name, lets


def add_clue(st: State, holds: z3.BoolRef, text: str, family: str, lets: dict[str, Any]) -> None:
    """Assert a clue behind a fresh guard literal (active while the guard is assumed)."""
    guard = mk_bool(f"clue!{len(st.clues)}", st.ctx)
    st.solver.add(mk_implies(guard, holds, st.ctx))
    st.clues.append(Clue(holds, text, family, lets, guard))


def add_counted_clues(st: State, count: int, solution: Solution | None) -> None:
    """Add exactly `count` clues (true of `solution` when one is given)."""
    seen = Seen()
    attempts = 0
    while len(st.clues) < count:
        attempts += 1
        if attempts > 50 * count + 100:
            raise Reject("too few clues", f"only {len(st.clues)} of {count} clues could be drawn")
        drawn = draw_clue(st, st.spec.clues.families, seen, solution)
        if drawn:
            add_clue(st, *drawn)


def clue_until_unique(st: State, differ: z3.BoolRef) -> None:
    """Plant-then-clue: add true clues until no solution differs on the answer."""
    spec = st.spec
    seen = Seen()
    start = int(evaluate(spec.clues.start, st.params))
    attempts = 0
    unique = start <= 0 and st.check([differ], "uniqueness") == z3.unsat
    while not unique:
        if len(st.clues) >= spec.clues.max:
            raise Reject("not unique", f"answer still ambiguous after {spec.clues.max} clues")
        attempts += 1
        if attempts > 50 * spec.clues.max:
            raise Reject("clue families exhausted", "no further informative clue was found")
        drawn = draw_clue(st, spec.clues.families, seen, st.plant)
        if not drawn:
            continue
        # past `start`, keep only clues that rule out some solution with another answer
        if (
            len(st.clues) >= start
            and st.check(st.guards() + [differ, mk_not(drawn[0], st.ctx)], "informative")
            == z3.unsat
        ):
            continue
        add_clue(st, *drawn)
        if len(st.clues) < start:
            continue
        unique = st.check(st.guards() + [differ], "uniqueness") == z3.unsat
    if spec.clues.minimize:
        order = list(range(len(st.clues)))
        st.rng.shuffle(order)
        for i in order:
            clue = st.clues[i]
            trial = [c.guard for c in st.clues if c.guard is not None and c is not clue]
            if st.check(trial + [differ], "minimising clues") == z3.unsat:
                clue.guard = None
        st.clues = [c for c in st.clues if c.guard is not None]
