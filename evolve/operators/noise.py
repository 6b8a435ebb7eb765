"""`distract` (an irrelevant clause with its own number, GSM-NoOp style) and `decoy` (a fuzzy
shortcut that tempts a wrong one-step answer and constrains nothing).

Both leave the program untouched, so the answer is provably unchanged: the new numeral is
recorded with the role `distractor` or `decoy`, and the program never reads it. The clauses
are about another person, a guess or another time, so that they cannot change the true
answer of the story either.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from fractions import Fraction

from evolve.numbers import WORDS, find_numbers
from evolve.operators.base import Context, Rejected, has_program, insert_clause, unpack, word_child
from synth.problem import Problem
from synth.words import words

_STOP = {
    "more",
    "less",
    "times",
    "of",
    "and",
    "the",
    "a",
    "an",
    "per",
    "each",
    "to",
    "in",
    "for",
    "at",
    "on",
    "percent",
    "years",
    "year",
    "days",
    "day",
    "hours",
    "hour",
    "minutes",
    "minute",
    "weeks",
    "week",
    "months",
    "month",
    "as",
    "than",
    "is",
    "are",
    "was",
    "were",
    "that",
    "this",
    "it",
    "he",
    "she",
    "they",
    "his",
    "her",
    "their",
    "with",
    "by",
    "from",
    "x",
    "dollars",
    "cents",
    "feet",
    "miles",
    "pounds",
    "inches",
    "meters",
    "or",
}
_GENERIC = ["books", "marbles", "stickers", "apples", "coins", "pencils", "stamps", "cards"]

DISTRACTORS = (
    "{other}, a friend who lives in another town, has {n} {noun} of their own.",
    "Last year, a shop across the street sold {n} {noun}, but that shop plays no part here.",
    "{other} once read that a farm nearby keeps {n} {noun}.",
    "A newspaper reported that {n} {noun} were counted in a different city last month.",
    "{other}'s cousin, who is not involved, owns {n} {noun}.",
)
DECOYS_NUMERIC = (
    "{other} guesses that the answer is roughly {n}, but {other} did not do the math.",
    "At a quick glance it looks like about {n}, though that first guess was never checked.",
    'Someone in the group blurts out "about {n}", without working anything out.',
)
DECOYS_FUZZY = (
    "{other} remembers it being about twice as many some time ago, but is not sure.",
    "It feels like roughly half of what {other} expected, though nobody measured that.",
    "{other} says it is about the same as last time, which nobody can confirm.",
)


def _nouns(text: str) -> list[str]:
    """Plural-looking nouns right after numerals of the text ("16 eggs" -> "eggs")."""
    found = []
    for m in find_numbers(text):
        after = re.match(r"\s+([a-z]{3,})\b", text[m.end :])
        if (
            after
            and after.group(1) not in _STOP
            and after.group(1) not in WORDS
            and after.group(1).endswith("s")
        ):
            found.append(after.group(1))
    return sorted(set(found))


def _other(text: str, rng: random.Random) -> str:
    names = [n for n in words("names") if n not in text]
    return rng.choice(names)


def _fresh_number(text: str, rng: random.Random, lo: int, hi: int, avoid: set[Fraction]) -> int:
    taken = {m.value for m in find_numbers(text)} | avoid
    pool = [n for n in range(lo, hi) if Fraction(n) not in taken]
    if not pool:
        raise Rejected("no fresh number")
    return rng.choice(pool)


class Distract:
    name = "distract"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        word = unpack(parents[0])
        steps = set(word.program.run().values())
        n = _fresh_number(word.text, rng, 3, 100, steps)
        noun = rng.choice(_nouns(word.text) or _GENERIC)
        template = rng.choice(DISTRACTORS)
        sentence = template.format(other=_other(word.text, rng), n=n, noun=noun)
        if len(find_numbers(sentence)) != 1:
            raise Rejected("clause carries extra numbers")
        text, mentions = insert_clause(word, sentence, "distractor")
        meta = {
            "distractors": int(parents[0].meta.get("distractors", 0)) + 1,
            "decoys": int(parents[0].meta.get("decoys", 0)),
        }
        params = {"clause": sentence, "number": n}
        return word_child(self.name, parents, params, text, word.program, mentions, ctx, meta)


def _tempting(
    word_program_inputs: list[Fraction], answer: Fraction, rng: random.Random
) -> int | None:
    """A wrong one-step result from two inputs (the shortcut a careless reader takes)."""
    values = [v for v in word_program_inputs if v.denominator == 1 and v > 0]
    candidates = set()
    for i, a in enumerate(values):
        for b in values[i + 1 :]:
            for v in (a + b, a * b, abs(a - b)):
                if v != answer and 1 < v < 100_000 and v.denominator == 1:
                    candidates.add(int(v))
    return rng.choice(sorted(candidates)) if candidates else None


class Decoy:
    name = "decoy"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        word = unpack(parents[0])
        other = _other(word.text, rng)
        answer = word.program.result()
        taken = {m.value for m in find_numbers(word.text)}
        guess = _tempting(list(word.program.inputs.values()), answer, rng)
        if guess is not None and Fraction(guess) not in taken and rng.random() < 0.7:
            sentence = rng.choice(DECOYS_NUMERIC).format(other=other, n=guess)
            kind = "numeric"
        else:
            sentence = rng.choice(DECOYS_FUZZY).format(other=other)
            kind = "fuzzy"
        if len(find_numbers(sentence)) != (1 if kind == "numeric" else 0):
            raise Rejected("clause carries extra numbers")
        text, mentions = insert_clause(word, sentence, "decoy")
        meta = {
            "distractors": int(parents[0].meta.get("distractors", 0)),
            "decoys": int(parents[0].meta.get("decoys", 0)) + 1,
        }
        params = {"clause": sentence, "kind": kind, "guess": guess if kind == "numeric" else None}
        return word_child(self.name, parents, params, text, word.program, mentions, ctx, meta)
