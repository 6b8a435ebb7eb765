"""Generate one instance of a spec: a pure function of (spec, level, seed, index).

Per instance: a fresh z3 context and one incremental solver. Clues are guarded by
assumption literals, so adding a clue, checking uniqueness and dropping redundant clues
never rebuilds the solver. Uniqueness is checked only on the answer ("projected"): the
solver looks for a solution whose *answer* differs from the planted/found one.

Determinism: every choice comes from the seeded RNG and from sat/unsat verdicts, which
are facts about the formula; models the solver happens to return are used only where the
answer has then been proved unique, so they cannot change the output.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

import z3

from synth import certificate
from synth.expr import ExprError, parse
from synth.expr.parse import EmptyPickError
from synth.expr import fastz3
from synth.expr.fastz3 import mk_and, mk_bool, mk_implies, mk_not
from synth.expr.interp import compile_bool, compile_condition, compile_expr, evaluate
from synth.expr import symbolic as sym
from synth.engine.unknowns import Leaf, UnknownFamily, declare
from synth.problem import Problem, canonical_json, content_id
from synth.render import RenderError, render
from synth import words as wordlists
from synth.spec.model import ClueFamily, Param, Spec

GENERATOR_VERSION = "1"
LETTERS = "ABCDEFGH"


class Reject(Exception):
    """This instance is not emitted; `reason` is a short, countable label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


@dataclass(frozen=True)
class CompiledSpec:
    spec: Spec
    hash: str
    file: str


def compile_spec(spec: Spec, spec_hash: str, file: str = "<spec>") -> CompiledSpec:
    return CompiledSpec(spec, spec_hash, file)


@dataclass
class Outcome:
    """What happened to instance `index`: a row, or a rejection reason."""

    index: int
    row: dict[str, Any] | None = None
    reason: str | None = None
    detail: str = ""


def instance_seed(spec_hash: str, level: str, seed: int, index: int) -> int:
    material = f"{spec_hash}|{level}|{seed}|{index}".encode()
    return int.from_bytes(hashlib.sha256(material).digest()[:8], "big")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (int, str, bool, float)) or value is None:
        return value
    return str(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@dataclass
class _Clue:
    holds: z3.BoolRef
    text: str
    family: str
    lets: dict[str, Any]
    guard: z3.BoolRef | None = None


@dataclass
class _State:
    spec: Spec
    level: str
    rng: random.Random
    ctx: z3.Context
    solver: z3.Solver
    params: dict[str, Any]
    families: dict[str, UnknownFamily]
    assertions: list[z3.BoolRef] = field(default_factory=list)
    fact_texts: list[str] = field(default_factory=list)
    clues: list[_Clue] = field(default_factory=list)
    plant: dict[str, dict[tuple, Any]] | None = None
    checks: int = 0

    # -- environments ---------------------------------------------------------------------
    def symbolic_env(self, extra: Mapping[str, Any] = ()) -> dict[str, Any]:
        env = dict(self.params)
        env.update({n: f.symbolic() for n, f in self.families.items()})
        env.update(extra)
        return env

    def concrete_env(self, solution: Mapping[str, Mapping[tuple, Any]] | None,
                     extra: Mapping[str, Any] = ()) -> dict[str, Any]:
        env = dict(self.params)
        if solution is not None:
            env.update({n: f.concrete(solution[n]) for n, f in self.families.items()})
        env.update(extra)
        return env

    # -- solver -----------------------------------------------------------------------------
    def check(self, assumptions: list[z3.BoolRef], what: str) -> z3.CheckSatResult:
        self.checks += 1
        result = fastz3.check(self.solver, assumptions)
        if result == z3.unknown:
            raise Reject("solver unknown", f"{what}: {self.solver.reason_unknown()}")
        return result

    def guards(self) -> list[z3.BoolRef]:
        return [c.guard for c in self.clues if c.guard is not None]

    def leaves(self, names: list[str]) -> list[Leaf]:
        return [leaf for n in names for leaf in self.families[n].leaves.values()]


def _sample_param(definition: Any, env: dict[str, Any], rng: random.Random) -> Any:
    """One parameter's value: a Param form, an expression string or a literal."""
    if isinstance(definition, str):
        return evaluate(definition, env, rng)
    if not isinstance(definition, Param):
        return definition
    if definition.value is not None:
        return definition.value
    if definition.int_range is not None:
        lo, hi = (evaluate(v, env, rng) for v in definition.int_range)
        if not isinstance(lo, int) or not isinstance(hi, int) or hi < lo:
            raise ValueError(f"int range [{lo}, {hi}] is not a non-empty integer range")
        return rng.randint(lo, hi)
    if definition.choice is not None:
        options = definition.choice
        options = evaluate(options, env, rng) if isinstance(options, str) else options
        if not isinstance(options, list) or not options:
            raise ValueError("choice needs a non-empty list")
        return options[rng.randrange(len(options))]
    if definition.sample is not None:
        source = definition.sample
        pool = wordlists.words(source) if source in wordlists.available() else evaluate(
            source, env, rng)
        k = evaluate(definition.k if definition.k is not None else 1, env, rng)
        if not isinstance(k, int) or not 0 <= k <= len(pool):
            raise ValueError(f"cannot sample {k} items from {len(pool)}")
        return rng.sample(list(pool), k)
    return evaluate(definition.expr, env, rng)  # type: ignore[arg-type]


def level_parameters(spec: Spec, level: str) -> dict[str, Any]:
    """The parameter definitions in force at a level (level entries override defaults)."""
    definitions = dict(spec.parameters)
    for name, override in spec.levels.get(level, {}).items():
        definitions[name] = override if isinstance(override, Param) else Param(value=override)
    return definitions


def _params(spec: Spec, level: str, rng: random.Random) -> dict[str, Any]:
    env: dict[str, Any] = {"level": level}
    for name, definition in level_parameters(spec, level).items():
        try:
            env[name] = _sample_param(definition, env, rng)
        except ExprError as error:
            raise ExprError(f"parameter {name}: {error.message}", error.text) from None
        except (ValueError, TypeError, KeyError) as error:
            raise ExprError(f"parameter {name}: {error}") from None
    return env


def _pick_text(texts: Any, rng: random.Random) -> str:
    if isinstance(texts, str):
        return texts
    return texts[rng.randrange(len(texts))]


def _let(lets: Mapping[str, Any], env: dict[str, Any], rng: random.Random,
         when: Any = None) -> dict[str, Any] | None:
    """Evaluate picks in order; `when` is tested as soon as the names it reads are bound,
    so a later pick never runs on a candidate the guard already ruled out (returns None)."""
    values: dict[str, Any] = {}
    pending = parse(when) if when is not None else None
    for name, expr in list(lets.items()) + [("", None)]:
        if pending is not None and not (pending.names() & (set(lets) - set(values))):
            if not evaluate(pending, {**env, **values}):
                return None
            pending = None
        if expr is None:
            break
        values[name] = evaluate(expr, {**env, **values}, rng)
    return values


# -- planting ------------------------------------------------------------------------------

def _plant(st: _State) -> None:
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
                raise Reject("cannot plant", f"{leaf.label} has no finite domain; give it a "
                                             f"plant expression")
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


def _assignment_formula(st: _State, names: list[str],
                        solution: Mapping[str, Mapping[tuple, Any]]) -> z3.BoolRef:
    parts = [leaf.equals(solution[n][key]) for n in names
             for key, leaf in st.families[n].leaves.items()]
    return mk_and(parts, st.ctx)


def _solve(st: _State, what: str) -> dict[str, dict[tuple, Any]]:
    if st.check(st.guards(), what) == z3.unsat:
        raise Reject("no solution", "the sampled constraints and clues have no solution")
    model = st.solver.model()
    return {n: {k: leaf.decode(model) for k, leaf in f.leaves.items()}
            for n, f in st.families.items()}


# -- clues ---------------------------------------------------------------------------------

def _draw(st: _State, families: list[ClueFamily], seen: set[int],
          solution: Mapping[str, Mapping[tuple, Any]] | None
          ) -> tuple[z3.BoolRef, str, str, dict[str, Any]] | None:
    """One candidate clue true of `solution` (when given), or None if this draw failed."""
    total = sum(f.weight for f in families)
    pick = st.rng.random() * total
    for family in families:
        pick -= family.weight
        if pick < 0:
            break
    try:
        lets = _let(family.let, st.concrete_env(solution, {"clue_index": len(st.clues)}),
                    st.rng, family.when)
    except EmptyPickError:
        return None  # e.g. "someone to the right of x" when x is rightmost
    if lets is None:
        return None
    env_concrete = st.concrete_env(solution, lets)
    if solution is not None and evaluate(family.holds, env_concrete) is not True:
        return None
    holds = compile_condition(family.holds, st.symbolic_env(lets), st.ctx)
    if isinstance(holds, bool) or holds.get_id() in seen:
        return None
    text = render(_pick_text(family.text, st.rng), {**st.params, **lets})
    seen.add(holds.get_id())
    return holds, text, family.name, lets


def _add_clue(st: _State, holds: z3.BoolRef, text: str, family: str,
              lets: dict[str, Any]) -> None:
    guard = mk_bool(f"clue!{len(st.clues)}", st.ctx)
    st.solver.add(mk_implies(guard, holds, st.ctx))
    st.clues.append(_Clue(holds, text, family, lets, guard))


def _add_counted_clues(st: _State, count: int,
                       solution: Mapping[str, Mapping[tuple, Any]] | None) -> None:
    seen: set[int] = set()
    attempts = 0
    while len(st.clues) < count:
        attempts += 1
        if attempts > 50 * count + 100:
            raise Reject("too few clues", f"only {len(st.clues)} of {count} clues could be drawn")
        drawn = _draw(st, st.spec.clues.families, seen, solution)
        if drawn:
            _add_clue(st, *drawn)


def _clue_until_unique(st: _State, differ: z3.BoolRef) -> None:
    """Plant-then-clue: add true clues until no solution differs on the answer."""
    spec = st.spec
    seen: set[int] = set()
    start = int(evaluate(spec.clues.start, st.params))
    attempts = 0
    unique = start <= 0 and st.check([differ], "uniqueness") == z3.unsat
    while not unique:
        if len(st.clues) >= spec.clues.max:
            raise Reject("not unique", f"answer still ambiguous after {spec.clues.max} clues")
        attempts += 1
        if attempts > 50 * spec.clues.max:
            raise Reject("clue families exhausted", "no further informative clue was found")
        drawn = _draw(st, spec.clues.families, seen, st.plant)
        if not drawn:
            continue
        if len(st.clues) >= start:
            # past `start`, keep only clues that rule out some solution with another answer
            if st.check(st.guards() + [differ, mk_not(drawn[0], st.ctx)], "informative") \
                    == z3.unsat:
                continue
        _add_clue(st, *drawn)
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


# -- queries ---------------------------------------------------------------------------------

@dataclass
class _Answer:
    text: str
    answer_type: str
    kind: str  # certificate kind
    definitions: dict[str, z3.ExprRef]
    data: dict[str, Any] = field(default_factory=dict)
    grader: dict[str, Any] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, Fraction):
        return "rational"
    return "text"


def _format_assignment(st: _State, names: list[str], solution: Mapping[str, Mapping[tuple, Any]],
                       fmt: str) -> str:
    if fmt == "grid":
        (name,) = names
        fam = st.families[name]
        rows: dict[Any, list[str]] = {}
        for key in fam.leaves:
            rows.setdefault(key[0], []).append(_text(solution[name][key]))
        return "\n".join(" ".join(r) for r in rows.values())
    if fmt == "list":
        return ", ".join(_text(solution[n][k]) for n in names for k in st.families[n].leaves)
    if fmt == "set":
        chosen = [str(k[0]) if len(k) == 1 else str(k) for n in names
                  for k in st.families[n].leaves if solution[n][k] is True]
        return ", ".join(chosen) if chosen else "none"
    return canonical_json({leaf_label: _jsonable(solution[n][k]) for n in names
                           for k, leaf_label in ((k, l.label) for k, l in
                                                 st.families[n].leaves.items())})


def _answer_unique(st: _State, query_let: dict[str, Any],
                   solution: Mapping[str, Mapping[tuple, Any]]) -> tuple[_Answer, z3.BoolRef]:
    """Answer of a value/yesno/which/assignment query under `solution`, and its formula."""
    q = st.spec.query
    env_c = st.concrete_env(solution, query_let)
    env_s = st.symbolic_env(query_let)
    if q.kind in ("value", "yesno"):
        value = evaluate(q.ask, env_c)
        term = compile_expr(q.ask, env_s, st.ctx)
        holds = sym.compare("==", term, value, st.ctx) if q.kind == "value" else (
            sym.to_bool(term, st.ctx) if value else sym.negate(term, st.ctx))
        holds = z3.BoolVal(holds, st.ctx) if isinstance(holds, bool) else holds
        if q.render is not None:
            text = _text(evaluate(q.render, {**env_c, "value": value}))
            answer_type = "text"
        else:
            text, answer_type = _text(value), ("boolean" if q.kind == "yesno" else
                                              _value_type(value))
        grader = {"kind": answer_type}
        if answer_type == "boolean":
            grader["true"], grader["false"] = "yes", "no"
        return _Answer(text, answer_type, "unique", {"answer_holds": holds}, grader=grader), holds
    if q.kind == "which":
        candidates = evaluate(q.among, env_c)
        truths = [c for c in candidates if evaluate(q.holds, {**env_c, "x": c}) is True]
        if len(truths) != 1:
            raise Reject("which: not exactly one candidate",
                         f"{len(truths)} candidates satisfy the question")
        parts = []
        for c in candidates:
            h = compile_bool(q.holds, {**env_s, "x": c}, st.ctx)
            parts.append(h if c == truths[0] else mk_not(h, st.ctx))
        holds = mk_and(parts, st.ctx)
        grader = {"kind": "text", "options": [_text(c) for c in candidates]}
        return _Answer(_text(truths[0]), "text", "unique", {"answer_holds": holds},
                       grader=grader), holds
    # assignment
    holds = _assignment_formula(st, q.over, solution)
    text = _format_assignment(st, q.over, solution, q.format)
    variables = [leaf.label for leaf in st.leaves(q.over)]
    grader = {"kind": "assignment", "format": q.format, "variables": variables}
    return _Answer(text, "assignment", "unique", {"answer_holds": holds}, grader=grader), holds


def _count(st: _State) -> _Answer:
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
    return _Answer(str(found), "integer", "count", {}, data=data, grader={"kind": "integer"})


def _optimum(st: _State, query_let: dict[str, Any]) -> _Answer:
    q = st.spec.query
    env_s = st.symbolic_env(query_let)
    expr = q.maximize if q.maximize is not None else q.minimize
    objective = sym.to_term(compile_expr(expr, env_s, st.ctx), st.ctx)
    opt = z3.Optimize(ctx=st.ctx)
    opt.set("rlimit", st.spec.solver.rlimit)
    for a in st.solver.assertions():
        opt.add(a)
    for g in st.guards():
        opt.add(g)
    handle = opt.maximize(objective) if q.maximize is not None else opt.minimize(objective)
    st.checks += 1
    result = opt.check()
    if result == z3.unknown:
        raise Reject("solver unknown", f"optimising: {opt.reason_unknown()}")
    if result == z3.unsat:
        raise Reject("no solution", "nothing to optimise")
    best = opt.model().eval(objective, model_completion=True)
    if not (z3.is_int_value(best) or z3.is_rational_value(best)):
        raise Reject("unbounded objective", str(handle.value()))
    model = opt.model()
    solution = {n: {k: leaf.decode(model) for k, leaf in f.leaves.items()}
                for n, f in st.families.items()}
    # no strictly better solution (Optimize's answer is re-proved by the plain solver)
    better = objective > best if q.maximize is not None else objective < best
    if st.check(st.guards() + [better], "optimality") != z3.unsat:
        raise Reject("optimum not proved")
    at_best = objective == best
    if q.answer == "assignment":
        holds = _assignment_formula(st, q.over, solution)
        text = _format_assignment(st, q.over, solution, q.format)
        answer_type = "assignment"
        grader = {"kind": "assignment", "format": q.format,
                  "variables": [leaf.label for leaf in st.leaves(q.over)]}
        if st.check(st.guards() + [at_best, z3.Not(holds)], "unique optimum") != z3.unsat:
            raise Reject("optimum not unique", "several assignments reach the optimum")
    else:
        holds = at_best
        value = best.as_long() if z3.is_int_value(best) else Fraction(
            best.numerator_as_long(), best.denominator_as_long())
        value = int(value) if isinstance(value, Fraction) and value.denominator == 1 else value
        text, answer_type = str(value), _value_type(value)
        grader = {"kind": answer_type}
    data = {"sense": "max" if q.maximize is not None else "min"}
    return _Answer(text, answer_type, "optimum",
                   {"answer_holds": holds, "objective": objective, "optimum": best},
                   data=data, grader=grader)


def _choice(st: _State, query_let: dict[str, Any]) -> _Answer:
    q = st.spec.query
    options = q.options
    assert options is not None
    base = st.guards()
    # an option that merely restates a clue would be a give-away: treat clues as seen
    seen: set[int] = {c.holds.get_id() for c in st.clues}
    correct: list[tuple[z3.BoolRef, str]] = []
    wrong: list[tuple[z3.BoolRef, str]] = []
    attempts = 0
    while True:
        attempts += 1
        if attempts > 60 * options.count:
            raise Reject("options exhausted", f"{len(correct)} correct, {len(wrong)} wrong")
        drawn = _draw(st, options.families, seen, None)
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
    return _Answer(answer, answer_type, "choice", definitions, data=data, grader=grader,
                   options=listed)


# -- the instance --------------------------------------------------------------------------

DEFAULT_TEMPLATE = """{{ intro }}
{% if facts %}

{% for f in facts %}{{ f }}
{% endfor %}
{% endif %}
{% if clues %}

{% for c in clues %}{{ loop.index }}. {{ c }}
{% endfor %}
{% endif %}

{{ question }}
{% if options %}

{% for letter, text in options %}({{ letter }}) {{ text }}
{% endfor %}
{% endif %}

{{ instructions }}"""

DEFAULT_INSTRUCTIONS = {
    "choice": "Answer with the letter of the correct option, as \\boxed{X}.",
    "multi_choice": "List the letters of every correct option, comma-separated, as "
                    "\\boxed{A,C}.",
    "boolean": "Answer yes or no, as \\boxed{yes} or \\boxed{no}.",
    "assignment": "Give the complete solution in the final line, inside \\boxed{...}.",
}


def _difficulty(st: _State, params: dict[str, Any], stats: dict[str, int]) -> tuple[float, dict]:
    """Knob positions along their `harder` direction, blended with solver effort."""
    knobs = []
    for name, definition in st.spec.parameters.items():
        if not isinstance(definition, Param) or definition.harder == "none":
            continue
        values: list[Any] = []
        for level in st.spec.levels or {st.level: {}}:
            d = level_parameters(st.spec, level).get(name)
            if isinstance(d, Param) and d.int_range is not None:
                values += [evaluate(v, params) for v in d.int_range]
            elif isinstance(d, Param) and isinstance(d.value, int):
                values.append(d.value)
        value = params.get(name)
        if isinstance(value, int) and values and max(values) > min(values):
            pos = (value - min(values)) / (max(values) - min(values))
            knobs.append(pos if definition.harder == "up" else 1 - pos)
    knob = sum(knobs) / len(knobs) if knobs else 0.5
    effort = min(1.0, math.log10(1 + stats.get("conflicts", 0) + stats.get("decisions", 0)) / 5)
    clue_share = min(1.0, len(st.clues) / max(1, st.spec.clues.max))
    difficulty = round(0.6 * knob + 0.25 * effort + 0.15 * clue_share, 4)
    return min(1.0, max(0.0, difficulty)), {"knob_position": round(knob, 4),
                                            "solver_effort": round(effort, 4)}


def generate_instance(compiled: CompiledSpec, level: str, seed: int, index: int) -> Outcome:
    """Instance `index` of the spec at `level` with `seed`: a row or a rejection."""
    try:
        return _generate(compiled, level, seed, index)
    except Reject as rejection:
        return Outcome(index, reason=rejection.reason, detail=rejection.detail)
    except (ExprError, RenderError, ValueError, TypeError, KeyError, IndexError,
            ZeroDivisionError) as error:
        return Outcome(index, reason="spec error", detail=f"{type(error).__name__}: {error}")
    except z3.Z3Exception as error:
        return Outcome(index, reason="solver error", detail=str(error))


def _generate(compiled: CompiledSpec, level: str, seed: int, index: int) -> Outcome:
    spec = compiled.spec
    rng = random.Random(instance_seed(compiled.hash, level, seed, index))
    params = _params(spec, level, rng)
    ctx = z3.Context()
    solver = z3.Solver(ctx=ctx)
    solver.set("rlimit", spec.solver.rlimit)
    st = _State(spec, level, rng, ctx, solver, params, {})
    for name, unknown in spec.unknowns.items():
        st.families[name] = declare(name, unknown, params, ctx, st.assertions)
    env_s = st.symbolic_env()
    for constraint in spec.constraints:
        st.assertions.append(compile_bool(constraint, env_s, ctx))
    for fact in spec.facts:
        lets = _let(fact.let, st.concrete_env(None), rng)
        if fact.holds is not None:
            st.assertions.append(compile_bool(fact.holds, st.symbolic_env(lets), ctx))
        st.fact_texts.append(render(_pick_text(fact.text, rng), {**params, **lets}))
    for a in st.assertions:
        if z3.is_false(a):
            raise Reject("no solution", "a constraint is false for these parameters")
        solver.add(a)

    q = spec.query
    needs_unique = q.kind in ("value", "yesno", "which", "assignment")
    if spec.strategy == "plant":
        _plant(st)
    query_let = _let(q.let, st.concrete_env(st.plant), rng)
    answer: _Answer
    if spec.strategy == "plant" and needs_unique and spec.clues.count is None:
        assert st.plant is not None
        answer, holds = _answer_unique(st, query_let, st.plant)
        differ = z3.Not(holds)
        if spec.unique_over:
            differ = z3.Or(differ, z3.Not(_assignment_formula(st, spec.unique_over, st.plant)))
        d = z3.Bool("differ!", ctx)
        solver.add(z3.Implies(d, differ))
        if spec.clues.families:
            _clue_until_unique(st, d)
        elif st.check([d], "uniqueness") != z3.unsat:
            raise Reject("not unique", "the answer is not determined")
    else:
        if spec.clues.count is not None:
            count = int(evaluate(spec.clues.count, st.concrete_env(None, query_let), rng))
            _add_counted_clues(st, count, st.plant)
        if needs_unique:
            solution = _solve(st, "solving")
            answer, holds = _answer_unique(st, query_let, solution)
            differ = z3.Not(holds)
            if spec.unique_over:
                differ = z3.Or(differ, z3.Not(_assignment_formula(st, spec.unique_over,
                                                                  solution)))
            if st.check(st.guards() + [differ], "uniqueness") != z3.unsat:
                raise Reject("not unique", "another solution gives a different answer")
        elif q.kind == "count":
            answer = _count(st)
        elif q.kind == "optimum":
            answer = _optimum(st, query_let)
        else:
            if st.check(st.guards(), "consistency") == z3.unsat:
                raise Reject("no solution", "the sampled constraints have no solution")
            answer = _choice(st, query_let)

    values = {**params, **query_let}
    question = render(_pick_text(q.text, rng), values)
    answer_type = answer.answer_type
    instructions = spec.instructions or DEFAULT_INSTRUCTIONS.get(
        answer_type, "Give your final answer as \\boxed{...}.")
    context = {**values, "intro": render(_pick_text(spec.intro, rng), values) if spec.intro
               else "", "facts": st.fact_texts, "clues": [c.text for c in st.clues],
               "clue_data": [{"family": c.family, **c.lets} for c in st.clues],
               "question": question, "options": answer.options,
               "instructions": render(instructions, values)}
    prompt = render(spec.template or DEFAULT_TEMPLATE, context)
    prompt = "\n".join(line.rstrip() for line in prompt.splitlines())
    while "\n\n\n" in prompt:
        prompt = prompt.replace("\n\n\n", "\n\n")

    declared = [d for f in st.families.values() for leaf in f.leaves.values()
                for d in leaf.declarations()]
    cert = certificate.build(declared, st.assertions + [c.holds for c in st.clues],
                             answer.kind, answer.text, answer.definitions, answer.data)
    raw_stats = st.solver.statistics()
    stats = {k: int(raw_stats.get_key_value(k)) for k in ("conflicts", "decisions",
                                                          "propagations")
             if k in raw_stats.keys()}
    finite = [leaf.domain_size() for f in st.families.values() for leaf in f.leaves.values()]
    space = sum(math.log10(s) for s in finite if math.isfinite(s) and s > 1)
    difficulty, parts = _difficulty(st, params, stats)
    feats = {"clues": len(st.clues), "facts": len(st.fact_texts), "solver_checks": st.checks,
             "unknowns": sum(len(f.leaves) for f in st.families.values()),
             "search_space_log10": round(space, 3), **stats, **parts}
    meta = {"spec": spec.name, "spec_hash": compiled.hash, "spec_version": spec.version,
            "level": level, "seed": seed, "index": index, "strategy": spec.strategy,
            "query": q.kind, "parameters": _jsonable(params),
            "generator": {"veriforge": GENERATOR_VERSION, "z3": z3.get_version_string()},
            "rlimit": spec.solver.rlimit}
    problem = Problem(
        id=content_id(spec.name, compiled.hash, level, seed, index, prompt, answer.text),
        source=spec.name, category=spec.category, prompt=prompt, answer=answer.text,
        answer_type=answer_type, grader=answer.grader, certificate=cert,
        difficulty=difficulty, features=feats, meta=meta,
        lineage={"operator": "generate", "parents": []})
    return Outcome(index, row=problem.to_row())
