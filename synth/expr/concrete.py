"""Concrete values and the functions that only work on them.

Used for parameters, clue picks (`let`), planted solutions and answer rendering. The
random functions take the instance's seeded RNG, so instance *i* is a pure function of
(spec, seed, i).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from synth import words as wordlists

MAX_RANGE = 100_000

NUMBER_WORDS = (  # zero..twenty, spelled out; also read back by evolve's numeral finder
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)


def normalise(value: Any) -> Any:
    """Fractions with denominator 1 become ints, so `6/3` renders and hashes as `2`."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th'."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def number_word(n: int) -> str:
    """Small numbers as words ('three'); larger ones as digits."""
    n = int(n)
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def _range(*args: int) -> list[int]:
    if not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
        raise ValueError("range takes one to three integers")
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ValueError(f"range of {len(result)} elements is larger than {MAX_RANGE}")
    return list(result)


def _rational(a: Any, b: Any = 1) -> Fraction:
    return Fraction(a) / Fraction(b)


def _index(seq: Sequence[Any], item: Any) -> int:
    return list(seq).index(item)


def _digits(n: int) -> list[int]:
    return [int(d) for d in str(abs(int(n)))]


def _join(items: Sequence[Any], sep: str = ", ") -> str:
    return str(sep).join(str(i) for i in items)


def _product(items: Sequence[Any]) -> Any:
    return normalise(math.prod(items))


class NoCandidates(ValueError):
    """A pick from an empty list: the candidate being built has no valid choice here."""


def random_functions(rng: random.Random) -> dict[str, Callable[..., Any]]:
    """The RNG-backed functions, bound to one instance's generator."""

    def randint(lo: int, hi: int) -> int:
        if hi < lo:
            raise ValueError(f"randint({lo}, {hi}): empty range")
        return rng.randint(int(lo), int(hi))

    def choice(seq: Sequence[Any]) -> Any:
        seq = list(seq)
        if not seq:
            raise NoCandidates("choice from an empty list")
        return seq[rng.randrange(len(seq))]

    def sample(seq: Sequence[Any], k: int) -> list[Any]:
        seq = list(seq)
        if not 0 <= k <= len(seq):
            raise NoCandidates(f"sample of {k} from {len(seq)} items")
        return rng.sample(seq, int(k))

    def shuffle(seq: Sequence[Any]) -> list[Any]:
        items = list(seq)
        rng.shuffle(items)
        return items

    return {"randint": randint, "choice": choice, "sample": sample, "shuffle": shuffle}


BASE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "range": _range,
    "len": len,
    "sorted": sorted,
    "list": list,
    "reversed": lambda s: list(reversed(list(s))),
    "zip": lambda *s: list(zip(*s)),
    "enumerate": lambda s, start=0: list(enumerate(s, start)),
    "str": str,
    "int": int,
    "rational": _rational,
    "index": _index,
    "words": wordlists.words,
    "gcd": math.gcd,
    "ordinal": ordinal,
    "number_word": number_word,
    "join": _join,
    "set": lambda s: sorted(set(s), key=repr),
    "product": _product,
    "round": round,
    "digits": _digits,
}
