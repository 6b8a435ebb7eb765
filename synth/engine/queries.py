"""Queries: compute the answer, the formula that proves it, and how it is graded."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import z3

from synth.engine.clues import Seen, assignment_formula, draw_clue
from synth.engine.state import Reject, Solution, State, answer_text, jsonable
from synth.expr import symbolic as sym
from synth.expr.fastz3 import mk_and, mk_not
from synth.expr.interp import compile_bool, compile_expr, evaluate
from synth.problem import canonical_json

LETTERS = "ABCDEFGH"


@dataclass
class Answer:
    """The answer text and type, the certificate kind and its named formulas."""

    text: str
    answer_type: str
    kind: str  # certificate kind
    definitions: dict[str, z3.ExprRef]
    data: dict[str, Any] = field(default_factory=dict)
    grader: dict[str, Any] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)


def value_type(value: Any) -> str:
    """The answer type of a concrete value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Fraction):
        return "rational"
    return "text"


def format_assignment(st: State, names: list[str], solution: Solution, fmt: str) -> str:
    """Canonical text of an assignment answer in the query's format."""
    if fmt == "grid":
        (name,) = names
        fam = st.families[name]
        rows: dict[Any, list[str]] = {}
        for key in fam.leaves:
            rows.setdefault(key[0], []).append(answer_text(solution[name][key]))
        return "\n".join(" ".join(r) for r in rows.values())
    if fmt == "list":
        return ", ".join(answer_text(solution[n][k]) for n in names for k in st.families[n].leaves)
    if fmt == "set":
        chosen = [
            str(k[0]) if len(k) == 1 else str(k)
            for n in names
            for k in st.families[n].leaves
            if solution[n][k] is True
        ]
        return ", ".join(chosen) if chosen else "none"
    return canonical_json(
        {
            leaf_label: jsonable(solution[n][k])
            for n in names
            for k, leaf_label in ((k, l.label) for k, l in st.families[n].leaves.items())
        }
    )


def answer_unique(
    st: State, query_let: dict[str, Any], solution: Solution
) -> tuple[Answer, z3.BoolRef]:
    """Answer of a value/yesno/which/assignment query under `solution`, and its formula."""
    q = st.spec.query
    env_c = st.concrete_env(solution, query_let)
    env_s = st.symbolic_env(query_let)
    if q.kind in ("value", "yesno"):
        value = evaluate(q.ask, env_c)
        term = compile_expr(q.ask, env_s, st.ctx)
        holds = (
            sym.compare("==", term, value, st.ctx)
            if q.kind == "value"
            else (sym.to_bool(term, st.ctx) if value else sym.negate(term, st.ctx))
        )
        holds = z3.BoolVal(holds, st.ctx) if isinstance(holds, bool) else holds
        if q.render is not None:
            text = answer_text(evaluate(q.render, {**env_c, "value": value}))
            answer_type = "text"
        else:
            text, answer_type = (
                answer_text(value),
                ("boolean" if q.kind == "yesno" else value_type(value)),
            )
        grader = {"kind": answer_type}
        if answer_type == "boolean":
            grader["true"], grader["false"] = "yes", "no"
        return Answer(text, answer_type, "unique", {"answer_holds": holds}, grader=grader), holds
    if q.kind == "which":
        candidates = evaluate(q.among, env_c)
        truths = [c for c in candidates if evaluate(q.holds, {**env_c, "x": c}) is True]
        if len(truths) != 1:
            raise Reject(
                "which: not exactly one candidate", f"{len(truths)} candidates satisfy the question"
            )
        parts = []
        for c in candidates:
            h = compile_bool(q.holds, {**env_s, "x": c}, st.ctx)
            parts.append(h if c == truths[0] else mk_not(h, st.ctx))
        holds = mk_and(parts, st.ctx)
        grader = {"kind": "text", "options": [answer_text(c) for c in candidates]}
        return Answer(
            answer_text(truths[0]), "text", "unique", {"answer_holds": holds}, grader=grader
        ), holds
    # assignment
    holds = assignment_formula(st, q.over, solution)
    text = format_assignment(st, q.over, solution, q.format)
    variables = [leaf.label for leaf in st.leaves(q.over)]
    grader = {"kind": "assignment", "format": q.format, "variables": variables}
    return Answer(text, "assignment", "unique", {"answer_holds": holds}, grader=grader), holds


def count_answer(st: State) -> Answer:
    """Count the solutions projected on `over` by enumeration with blocking clauses."""
    q = st.spec.query
    leaves = st.leaves(q.over)
    variables = [v for leaf in leaves for v in leaf.variables()]
    st.solver.push()
    for g in st.guards():
        st.solver.add(g)
    found = 0
    try:
        while True:
            if st.check([], "counting") == z3.unsat:
                break
            found += 1
            if found > q.max_count:
                raise Reject("too many solutions", f"more than {q.max_count}")
            model = st.solver.model()
            st.solver.add(z3.Or([v != model.eval(v, model_completion=True) for v in variables]))
    finally:
        st.solver.pop()
    if found == 0 and not q.allow_zero:
        raise Reject("no solution", "nothing to count")
    data = {"project": sorted(v.decl().name() for v in variables)}
    return Answer(str(found), "integer", "count", {}, data=data, grader={"kind": "integer"})


def optimum_answer(st: State, query_let: dict[str, Any]) -> Answer:
    """Optimise, then prove nothing is better and (for assignments) that the optimum is
    reached by one assignment only."""
    q = st.spec.query
    env_s = st.symbolic_env(query_let)
    expr = q.maximize if q.maximize is not None else q.minimize
    objective = sym.to_term(compile_expr(expr, env_s, st.ctx), st.ctx)
    if isinstance(st.solver, z3.Solver):
        best, model = _optimise_z3(st, objective, q.maximize is not None)
    else:
        best, model = _optimise_by_search(st, objective, q.maximize is not None)
    solution = {
        n: {k: leaf.decode(model) for k, leaf in f.leaves.items()} for n, f in st.families.items()
    }
    # no strictly better solution (Optimize's answer is re-proved by the plain solver)
    better = objective > best if q.maximize is not None else objective < best
    if st.check(st.guards() + [better], "optimality") != z3.unsat:
        raise Reject("optimum not proved")
    at_best = objective == best
    if q.answer == "assignment":
        holds = assignment_formula(st, q.over, solution)
        text = format_assignment(st, q.over, solution, q.format)
        answer_type = "assignment"
        grader = {
            "kind": "assignment",
            "format": q.format,
            "variables": [leaf.label for leaf in st.leaves(q.over)],
        }
        if st.check(st.guards() + [at_best, z3.Not(holds)], "unique optimum") != z3.unsat:
            raise Reject("optimum not unique", "several assignments reach the optimum")
    else:
        holds = at_best
        value = (
            best.as_long()
            if z3.is_int_value(best)
            else Fraction(best.numerator_as_long(), best.denominator_as_long())
        )
        value = int(value) if isinstance(value, Fraction) and value.denominator == 1 else value
        text, answer_type = str(value), value_type(value)
        grader = {"kind": answer_type}
    data = {"sense": "max" if q.maximize is not None else "min"}
    return Answer(
        text,
        answer_type,
        "optimum",
        {"answer_holds": holds, "objective": objective, "optimum": best},
        data=data,
        grader=grader,
    )


def _optimise_z3(
    st: State, objective: z3.ExprRef, maximize: bool
) -> tuple[z3.ExprRef, z3.ModelRef]:
    """z3's optimiser over the instance's assertions (its answer is re-proved after)."""
    opt = z3.Optimize(ctx=st.ctx)
    opt.set("rlimit", st.spec.solver.rlimit)
    for a in st.solver.assertions():
        opt.add(a)
    for g in st.guards():
        opt.add(g)
    handle = opt.maximize(objective) if maximize else opt.minimize(objective)
    st.checks += 1
    result = opt.check()
    if result == z3.unknown:
        raise Reject("solver unknown", f"optimising: {opt.reason_unknown()}")
    if result == z3.unsat:
        raise Reject("no solution", "nothing to optimise")
    best = opt.model().eval(objective, model_completion=True)
    if not (z3.is_int_value(best) or z3.is_rational_value(best)):
        raise Reject("unbounded objective", str(handle.value()))
    return best, opt.model()


SEARCH_STEPS = 10_000


def _optimise_by_search(st: State, objective: z3.ExprRef, maximize: bool) -> tuple[Any, Any]:
    """Backends without an optimiser: find a solution, then demand a strictly better one
    until none exists (each step is a sat/unsat fact, so the optimum is exact)."""
    if st.check(st.guards(), "optimising") == z3.unsat:
        raise Reject("no solution", "nothing to optimise")
    model = st.solver.model()
    best = model.eval(objective, model_completion=True)
    for _ in range(SEARCH_STEPS):
        better = objective > best if maximize else objective < best
        if st.check(st.guards() + [better], "optimising") == z3.unsat:
            return best, model
        model = st.solver.model()
        best = model.eval(objective, model_completion=True)
    raise Reject("unbounded objective", f"still improving after {SEARCH_STEPS} steps")


def choice_answer(st: State, query_let: dict[str, Any]) -> Answer:
    """Draw options and classify each by entailment (must) or satisfiability (could)
    until there is one correct option (or, for select-all, at least one) and enough others."""
    q = st.spec.query
    options = q.options
    assert options is not None
    base = st.guards()
    # an option that merely restates a clue would be a give-away: treat clues as seen
    seen = Seen([c.holds for c in st.clues])
    correct: list[tuple[z3.BoolRef, str]] = []
    wrong: list[tuple[z3.BoolRef, str]] = []
    attempts = 0
    while True:
        attempts += 1
        if attempts > 60 * options.count:
            raise Reject("options exhausted", f"{len(correct)} correct, {len(wrong)} wrong")
        drawn = draw_clue(st, options.families, seen, None)
        if drawn is None:
            continue
        holds, text, _, _ = drawn
        if options.semantics == "must":
            hit = st.check(base + [z3.Not(holds)], "classifying option") == z3.unsat
        else:
            hit = st.check(base + [holds], "classifying option") == z3.sat
        if options.select == "one":
            if hit and len(correct) < 1:
                correct.append((holds, text))
            elif not hit and len(wrong) < options.count - 1:
                wrong.append((holds, text))
            if len(correct) == 1 and len(wrong) == options.count - 1:
                break
        else:
            (correct if hit else wrong).append((holds, text))
            if len(correct) + len(wrong) == options.count:
                if correct:
                    break
                wrong.pop(0)
    chosen = [(h, t, True) for h, t in correct] + [(h, t, False) for h, t in wrong]
    st.rng.shuffle(chosen)
    letters = LETTERS[: len(chosen)]
    answer = ",".join(letter for letter, (_, _, ok) in zip(letters, chosen) if ok)
    definitions = {f"option_{letter}": h for letter, (h, _, _) in zip(letters, chosen)}
    listed = [(letter, t) for letter, (_, t, _) in zip(letters, chosen)]
    answer_type = "choice" if options.select == "one" else "multi_choice"
    data = {"letters": list(letters), "semantics": options.semantics, "select": options.select}
    grader = {"kind": answer_type, "options": {letter: t for letter, t in listed}}
    return Answer(
        answer, answer_type, "choice", definitions, data=data, grader=grader, options=listed
    )
