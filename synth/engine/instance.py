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
import json
import math
import random
from dataclasses import dataclass
from typing import Any

import z3

from synth import certificate
from synth.backends import BackendError
from synth.backends.portfolio import race
from synth.engine.clues import (
    add_counted_clues,
    assignment_formula,
    clue_until_unique,
    plant,
    solve,
)
from synth.engine.queries import Answer, answer_unique, choice_answer, count_answer, optimum_answer
from synth.engine.sampling import evaluate_lets, level_parameters, pick_text, sample_parameters
from synth.engine.solving import Choice, choices
from synth.engine.state import Reject, Solution, State, jsonable
from synth.engine.unknowns import declare
from synth.expr import ExprError
from synth.expr.fastz3 import mk_bool, mk_implies, mk_not, mk_or
from synth.expr.interp import compile_bool, evaluate
from synth.problem import Problem, canonical_json, content_id
from synth.render import RenderError, render
from synth.spec.model import Param, Spec

GENERATOR_VERSION = "1"


@dataclass(frozen=True)
class CompiledSpec:
    spec: Spec
    hash: str
    file: str
    solvers: tuple[Choice, ...] = ()  # one (backend, strategy), or the portfolio's pairs


def compile_spec(
    spec: Spec,
    spec_hash: str,
    file: str = "<spec>",
    backend: str | None = None,
    strategy: str | None = None,
) -> CompiledSpec:
    """Resolve the spec's solver choice once (BackendError for bad or missing names);
    `backend`/`strategy` override the spec's solver section."""
    return CompiledSpec(spec, spec_hash, file, tuple(choices(spec, backend, strategy)))


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
    "multi_choice": "List the letters of every correct option, comma-separated, as \\boxed{A,C}.",
    "boolean": "Answer yes or no, as \\boxed{yes} or \\boxed{no}.",
    "assignment": "Give the complete solution in the final line, inside \\boxed{...}.",
}


def difficulty_of(st: State, params: dict[str, Any], stats: dict[str, int]) -> tuple[float, dict]:
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
    return min(1.0, max(0.0, difficulty)), {
        "knob_position": round(knob, 4),
        "solver_effort": round(effort, 4),
    }


def generate_instance(
    compiled: CompiledSpec,
    level: str,
    seed: int,
    index: int,
    choice: Choice | None = None,
    solver_stats: bool = True,
) -> Outcome:
    """Instance `index` of the spec at `level` with `seed`: a row or a rejection. With a
    portfolio (several solver choices) the choices race and the first definitive wins.
    `solver_stats=False` leaves the solver's own effort counters out of the features and
    the difficulty (the portfolio does this, so the row does not depend on the winner)."""
    solvers = compiled.solvers or tuple(choices(compiled.spec))
    if choice is None and len(solvers) > 1:
        return _race(compiled, solvers, level, seed, index)
    try:
        return _generate(compiled, level, seed, index, choice or solvers[0], solver_stats)
    except Reject as rejection:
        return Outcome(index, reason=rejection.reason, detail=rejection.detail)
    except (
        ExprError,
        RenderError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        ZeroDivisionError,
    ) as error:
        return Outcome(index, reason="spec error", detail=f"{type(error).__name__}: {error}")
    except z3.Z3Exception as error:
        return Outcome(index, reason="solver error", detail=str(error))
    except BackendError as error:
        return Outcome(index, reason="solver error", detail=str(error))


def _race(
    compiled: CompiledSpec, solvers: tuple[Choice, ...], level: str, seed: int, index: int
) -> Outcome:
    """Portfolio: every choice generates the instance; the first definitive outcome (a row,
    or a rejection for any reason but an unknown verdict) wins. Rows agree in content, so
    only `meta.solver.winner` depends on who was first."""
    tasks = [
        (c.label, lambda c=c: generate_instance(compiled, level, seed, index, c, False))
        for c in solvers
    ]
    result = race(tasks, compiled.spec.solver.budget, _definitive)
    if result.winner is None:
        seen = "; ".join(  # in portfolio order, whatever order they finished in
            f"{c.label}: {_reason(result.results[c.label])}"
            for c in solvers
            if c.label in result.results
        )
        late = ", ".join(result.timed_out)
        detail = seen + (
            f"; over the {compiled.spec.solver.budget:g} s budget: {late}" if late else ""
        )
        return Outcome(index, reason="solver unknown", detail=f"portfolio: {detail}")
    outcome: Outcome = result.result
    if outcome.row is not None:
        meta = json.loads(outcome.row["meta"])
        meta["rlimit"] = compiled.spec.solver.rlimit  # not the winner's own limit
        meta["solver"] = {
            "portfolio": [c.label for c in solvers],
            "limits": {c.label: c.limit for c in solvers},
            "winner": result.winner,
        }
        outcome.row["meta"] = canonical_json(meta)
    return outcome


def _reason(value: object) -> str:
    return value.reason or "" if isinstance(value, Outcome) else str(value)


def _definitive(outcome: Outcome) -> bool:
    return isinstance(outcome, Outcome) and outcome.reason not in ("solver unknown", "solver error")


def _generate(
    compiled: CompiledSpec,
    level: str,
    seed: int,
    index: int,
    choice: Choice,
    solver_stats: bool = True,
) -> Outcome:
    rng = random.Random(instance_seed(compiled.hash, level, seed, index))
    st = _setup(compiled.spec, level, rng, choice)
    answer = _pose(st)
    prompt = _prompt(st, answer)
    problem = _problem(compiled, st, answer, prompt, seed, index, choice, solver_stats)
    return Outcome(index, row=problem.to_row())


def _setup(spec: Spec, level: str, rng: random.Random, choice: Choice) -> State:
    """Parameters, unknowns, hard constraints and facts, asserted in a fresh solver."""
    params = sample_parameters(spec, level, rng)
    ctx = z3.Context()
    solver = choice.solver(ctx)
    st = State(spec, level, rng, ctx, solver, params, {})
    for name, unknown in spec.unknowns.items():
        st.families[name] = declare(name, unknown, params, ctx, st.assertions)
    env = st.symbolic_env()
    quantifiers = choice.quantifiers
    for constraint in spec.constraints:
        st.assertions.append(compile_bool(constraint, env, ctx, quantifiers))
    for fact in spec.facts:
        lets = evaluate_lets(fact.let, st.concrete_env(None), rng)
        if fact.holds is not None:
            st.assertions.append(compile_bool(fact.holds, st.symbolic_env(lets), ctx, quantifiers))
        st.fact_texts.append(render(pick_text(fact.text, rng), {**params, **lets}))
    for a in st.assertions:
        if z3.is_false(a):
            raise Reject("no solution", "a constraint is false for these parameters")
        solver.add(a)
    if spec.strategy == "plant":
        plant(st)
    return st


UNIQUE_KINDS = ("value", "yesno", "which", "assignment")


def _pose(st: State) -> Answer:
    """Add clues and answer the query, proving the answer (and its uniqueness)."""
    spec, q = st.spec, st.spec.query
    st.query_let = evaluate_lets(q.let, st.concrete_env(st.plant), st.rng)
    unique = q.kind in UNIQUE_KINDS
    if spec.strategy == "plant" and unique and spec.clues.count is None:
        assert st.plant is not None
        answer, holds = answer_unique(st, st.query_let, st.plant)
        differ = mk_bool("differ!", st.ctx)
        st.solver.add(mk_implies(differ, _differs(st, holds, st.plant), st.ctx))
        if spec.clues.families:
            clue_until_unique(st, differ)
        elif st.check([differ], "uniqueness") != z3.unsat:
            raise Reject("not unique", "the answer is not determined")
        return answer
    if spec.clues.count is not None:
        count = int(evaluate(spec.clues.count, st.concrete_env(None, st.query_let), st.rng))
        add_counted_clues(st, count, st.plant)
    if unique:
        solution = solve(st, "solving")
        answer, holds = answer_unique(st, st.query_let, solution)
        if st.check(st.guards() + [_differs(st, holds, solution)], "uniqueness") != z3.unsat:
            raise Reject("not unique", "another solution gives a different answer")
        return answer
    if q.kind == "count":
        return count_answer(st)
    if q.kind == "optimum":
        return optimum_answer(st, st.query_let)
    if st.check(st.guards(), "consistency") == z3.unsat:
        raise Reject("no solution", "the sampled constraints have no solution")
    return choice_answer(st, st.query_let)


def _differs(st: State, holds: z3.BoolRef, solution: Solution) -> z3.BoolRef:
    """A solution that breaks the answer (or, with `unique_over`, those unknowns)."""
    differ = mk_not(holds, st.ctx)
    if st.spec.unique_over:
        other = mk_not(assignment_formula(st, st.spec.unique_over, solution), st.ctx)
        differ = mk_or([differ, other], st.ctx)
    return differ


def _prompt(st: State, answer: Answer) -> str:
    """Render the prompt (sandboxed Jinja2) and normalise its whitespace."""
    spec = st.spec
    values = {**st.params, **st.query_let}
    instructions = spec.instructions or DEFAULT_INSTRUCTIONS.get(
        answer.answer_type, "Give your final answer as \\boxed{...}."
    )
    context = {
        **values,
        "intro": render(pick_text(spec.intro, st.rng), values) if spec.intro else "",
        "facts": st.fact_texts,
        "clues": [c.text for c in st.clues],
        "clue_data": [{"family": c.family, **c.lets} for c in st.clues],
        "question": render(pick_text(spec.query.text, st.rng), values),
        "options": answer.options,
        "instructions": render(instructions, values),
    }
    prompt = render(spec.template or DEFAULT_TEMPLATE, context)
    prompt = "\n".join(line.rstrip() for line in prompt.splitlines())
    while "\n\n\n" in prompt:
        prompt = prompt.replace("\n\n\n", "\n\n")
    return prompt


def _problem(
    compiled: CompiledSpec,
    st: State,
    answer: Answer,
    prompt: str,
    seed: int,
    index: int,
    choice: Choice,
    solver_stats: bool = True,
) -> Problem:
    """The row: certificate, features, difficulty and provenance."""
    spec = compiled.spec
    leaves = [leaf for f in st.families.values() for leaf in f.leaves.values()]
    cert = certificate.build(
        [d for leaf in leaves for d in leaf.declarations()],
        st.assertions + [c.holds for c in st.clues],
        answer.kind,
        answer.text,
        answer.definitions,
        answer.data,
    )
    raw = st.solver.statistics()
    keys = raw.keys() if solver_stats else ()
    stats = {
        k: int(raw.get_key_value(k) if isinstance(raw, z3.Statistics) else raw[k])
        for k in ("conflicts", "decisions", "propagations")
        if k in keys
    }
    sizes = [leaf.domain_size() for leaf in leaves]
    space = sum(math.log10(s) for s in sizes if math.isfinite(s) and s > 1)
    difficulty, parts = difficulty_of(st, st.params, stats)
    features = {
        "clues": len(st.clues),
        "facts": len(st.fact_texts),
        **({"solver_checks": st.checks} if solver_stats else {}),
        "unknowns": len(leaves),
        "search_space_log10": round(space, 3),
        **stats,
        **parts,
    }
    meta = {
        "spec": spec.name,
        "spec_hash": compiled.hash,
        "spec_version": spec.version,
        "level": st.level,
        "seed": seed,
        "index": index,
        "strategy": spec.strategy,
        "query": spec.query.kind,
        "parameters": jsonable(st.params),
        "generator": {"veriforge": GENERATOR_VERSION, "z3": z3.get_version_string()},
        "rlimit": choice.limit,
        "solver": {"backend": choice.backend.name, "strategy": choice.strategy.name},
    }
    if spec.solution:  # a worked solution for supervised warm starts (`veriforge sft`)
        meta["solution"] = render(
            spec.solution, {**st.params, **st.query_let, "answer": answer.text}
        )
    return Problem(
        id=content_id(spec.name, compiled.hash, st.level, seed, index, prompt, answer.text),
        source=spec.name,
        category=spec.category,
        prompt=prompt,
        answer=answer.text,
        answer_type=answer.answer_type,
        grader=answer.grader,
        certificate=cert,
        difficulty=difficulty,
        features=features,
        meta=meta,
        lineage={"operator": "generate", "parents": []},
    )
