"""`renumber` (new input values, answer recomputed) and `extend` (one more step after the
question). Both keep the program and the text in lock-step: the text's input numerals are
rewritten from the program's new values, never the other way round."""

from __future__ import annotations

import random
from collections.abc import Sequence
from fractions import Fraction

from evolve.numbers import find_numbers, format_number, replace_spans
from evolve.operators.base import (
    Context,
    Rejected,
    Word,
    free_letter,
    fresh_name,
    has_program,
    unpack,
    word_child,
)
from evolve.program import Mentions, Program, ProgramError
from synth.problem import Problem

ATTEMPTS = 40


def _granularity(value: Fraction) -> Fraction:
    """The step the value was written in: 80000 -> 10000, 35 -> 5, 1.25 -> 0.05, 7 -> 1."""
    if value.denominator != 1:
        step = Fraction(1, value.denominator)
        return step * 5 if (value / (step * 5)).denominator == 1 else step
    n, step = int(value), 1
    while n and n % (step * 10) == 0 and step * 10 < abs(n):
        step *= 10
    if step == 1 and n % 5 == 0 and n >= 20:
        step = 5
    return Fraction(step)


def perturb(
    value: Fraction, rng: random.Random, percent: bool = False, spread: int = 2
) -> Fraction:
    """A plausible new value: same sign, same granularity, within a factor of `spread`."""
    if value <= 0:
        return value
    step = _granularity(value)
    if percent:
        hi = min(100, int(value * spread)) if value <= 100 else int(value * spread)
        lo = max(1, int(value / spread))
    elif value.denominator == 1 and value <= 12:
        lo, hi = 2, max(6 * spread, int(value) * spread)
    else:
        lo, hi = value / spread, value * spread
    choices = int((Fraction(hi) - Fraction(lo)) / step)
    if choices < 1:
        return value
    base = (Fraction(lo) / step).__ceil__() * step
    return base + step * rng.randint(0, choices)


def plausible(program: Program, old: dict[str, Fraction], new: dict[str, Fraction]) -> str | None:
    """None if every step keeps the original's sign and integrality, else the reason."""
    for name, _ in program.steps:
        a, b = old[name], new[name]
        if a > 0 and b <= 0 or a >= 0 and b < 0:
            return "a step turns negative"
        if a.denominator == 1 and b.denominator != 1:
            return "a step is no longer a whole number"
        if abs(b) > 1000 * max(abs(a), 1):
            return "an implausible magnitude"
    return None


def rewrite_inputs(word: Word, values: dict[str, Fraction]) -> str:
    """The text with every input numeral showing its new value, in its original style."""
    edits = []
    for mention, (role, name) in zip(find_numbers(word.text), word.mentions.roles):
        if role == "input" and name in values:
            edits.append((mention.start, mention.end, format_number(values[name], mention)))
    return replace_spans(word.text, edits)


class Renumber:
    name = "renumber"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        word = unpack(parents[0])
        program = word.program
        mentions = find_numbers(word.text)
        percent = {
            n for m, (r, n) in zip(mentions, word.mentions.roles) if r == "input" and m.percent
        }
        others = {m.value for m, (r, _) in zip(mentions, word.mentions.roles) if r != "input"}
        names = [n for n in program.inputs if n not in program.fixed]
        if not names:
            raise Rejected("no inputs", "nothing in the text feeds the program")
        old = program.run()
        last = "no candidate"
        for attempt in range(ATTEMPTS):
            # Widen the range for the second half of the attempts (crowded small numbers).
            spread = 2 if attempt < ATTEMPTS // 2 else 3
            values = {n: perturb(program.inputs[n], rng, n in percent, spread) for n in names}
            if all(values[n] == program.inputs[n] for n in names):
                last = "values unchanged"
                continue
            if len(set(values.values())) < len(values) or set(values.values()) & others:
                last = "new values collide with other numbers"
                continue
            try:
                new = program.run(values)
            except ProgramError:
                last = "a step divides by zero"
                continue
            reason = plausible(program, old, new)
            if reason:
                last = reason
                continue
            child_program = Program(
                {**program.inputs, **values}, program.steps, program.output, program.fixed
            )
            try:
                text = rewrite_inputs(word, values)
            except ValueError:
                last = "a value has no decimal form"
                continue
            params = {"values": {n: str(v) for n, v in values.items()}}
            return word_child(self.name, parents, params, text, child_program, word.mentions, ctx)
        raise Rejected(last)


_EXTEND = (
    ("plus", "+", lambda a, n: True),
    ("minus", "-", lambda a, n: a - n > 0),
    ("times", "*", lambda a, n: n <= 9),
    ("divided by", "/", lambda a, n: (a / n).denominator == 1 and a / n > 1),
)


class Extend:
    name = "extend"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        word = unpack(parents[0])
        answer = word.program.result()
        taken = {m.value for m in find_numbers(word.text)}
        ops = list(_EXTEND)
        rng.shuffle(ops)
        for phrase, symbol, ok in ops:
            pool = [
                n
                for n in range(2, 10 if symbol in "*/" else 50)
                if Fraction(n) not in taken and ok(answer, n)
            ]
            if not pool:
                continue
            n = rng.choice(pool)
            letter = free_letter(word.text)
            sentence = (
                f"Let {letter} be the answer to the question above. What is {letter} {phrase} {n}?"
            )
            text = f"{word.text}\n{sentence}"
            name = fresh_name(word.program, "e_operand")
            step = fresh_name(word.program, "e_step")
            program = Program(
                {**word.program.inputs, name: Fraction(n)},
                word.program.steps + ((step, f"{word.program.output} {symbol} {name}"),),
                step,
                word.program.fixed,
            )
            mentions = Mentions(word.mentions.roles + (("input", name),))
            return word_child(
                self.name,
                parents,
                {"op": symbol, "operand": n},
                text,
                program,
                mentions,
                ctx,
                {"extended": 1 + int(parents[0].meta.get("extended", 0))},
            )
        raise Rejected("no valid further step")
