"""Sampling: parameters, picks (`let`) and phrasings, all from the instance's seeded RNG."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from synth import words as wordlists
from synth.expr import ExprError, parse
from synth.expr.interp import evaluate
from synth.spec.model import Param, Spec


def sample_param(definition: Any, env: dict[str, Any], rng: random.Random) -> Any:
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
        pool = (
            wordlists.words(source)
            if source in wordlists.available()
            else evaluate(source, env, rng)
        )
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


def sample_parameters(spec: Spec, level: str, rng: random.Random) -> dict[str, Any]:
    """All parameters in order (each may use the earlier ones); `level` is predefined."""
    env: dict[str, Any] = {"level": level}
    for name, definition in level_parameters(spec, level).items():
        try:
            env[name] = sample_param(definition, env, rng)
        except ExprError as error:
            raise ExprError(f"parameter {name}: {error.message}", error.text) from None
        except (ValueError, TypeError, KeyError) as error:
            raise ExprError(f"parameter {name}: {error}") from None
    return env


def pick_text(texts: Any, rng: random.Random) -> str:
    """One phrasing of several (a single string is used as is)."""
    if isinstance(texts, str):
        return texts
    return texts[rng.randrange(len(texts))]


def evaluate_lets(
    lets: Mapping[str, Any], env: dict[str, Any], rng: random.Random, when: Any = None
) -> dict[str, Any] | None:
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
