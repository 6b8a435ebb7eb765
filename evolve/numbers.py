"""Numerals in problem text: find them, read them exactly, write new ones in the same style.

Why this exists: every operator edits numbers in place, and every child is checked by
re-scanning its text. One scanner used everywhere means "the numbers in this text" has one
meaning, so the check "each numeral is an input, a distractor, a decoy or context" is exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from synth.expr.concrete import NUMBER_WORDS

# A numeral: digits with optional thousands commas and an optional decimal part. Not part of
# a longer word or number ("A4", "3.5.1" parts, "x2"). Ordinals ("2nd") are found but marked
# not linkable: rewriting them would change meaning, not quantity.
_NUMERAL = re.compile(
    r"(?<![\w.])(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?P<frac>\.\d+)?(?!\d)"
    r"(?P<ord>(?:st|nd|rd|th)\b)?"
)


@dataclass(frozen=True)
class Mention:
    """One numeral in a text: where it is, what it says and its exact value."""

    start: int
    end: int
    text: str
    value: Fraction
    ordinal: bool = False
    percent: bool = False
    word: bool = False

    @property
    def commas(self) -> bool:
        return "," in self.text

    @property
    def decimals(self) -> int:
        return len(self.text.split(".", 1)[1]) if "." in self.text else 0


WORDS = {word: value for value, word in enumerate(NUMBER_WORDS)}
WORDS.update(thirty=30, forty=40, fifty=50, sixty=60, seventy=70, eighty=80, ninety=90)
_WORD = re.compile(
    r"(?<![\w-])(" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")(?![\w-])", re.IGNORECASE
)


def find_numbers(text: str) -> list[Mention]:
    """All numerals and cardinal number words of `text`, left to right.

    Digits: thousands commas dropped, decimals exact. Words: "three" is 3 ("twenty-one" and
    other hyphenated forms are left alone, as are "half", "twice", "dozen": these are
    fixed multipliers, read as constants of the program).
    """
    found = []
    for match in _WORD.finditer(text):
        tail = text[match.end() : match.end() + 9].lower()
        found.append(
            Mention(
                match.start(),
                match.end(),
                match.group(1),
                Fraction(WORDS[match.group(1).lower()]),
                percent=tail.lstrip().startswith("percent"),
                word=True,
            )
        )
    for match in _NUMERAL.finditer(text):
        digits = match.group("int").replace(",", "") + (match.group("frac") or "")
        ordinal = match.group("ord") is not None
        end = match.end("frac") if match.group("frac") else match.end("int")
        tail = text[end : end + 9].lower()
        percent = tail.startswith("%") or tail.lstrip().startswith("percent")
        found.append(
            Mention(
                match.start(), end, text[match.start() : end], Fraction(digits), ordinal, percent
            )
        )
    found.sort(key=lambda m: m.start)
    return found


def format_number(value: Fraction | int, like: Mention | None = None) -> str:
    """`value` as a numeral in the style of `like` (thousands commas, decimal places)."""
    value = Fraction(value)
    if like is not None and like.word and value.denominator == 1 and 0 <= value <= 20:
        word = next(w for w, v in WORDS.items() if v == value)
        return word.capitalize() if like.text[:1].isupper() else word
    if value.denominator == 1:
        n = int(value)
        return f"{n:,}" if like is not None and like.commas else str(n)
    places = max(like.decimals if like is not None else 0, _places(value))
    if places is None:
        raise ValueError(f"{value} has no finite decimal form")
    text = f"{float(value):.{places}f}"
    if Fraction(text) != value:
        raise ValueError(f"{value} has no exact decimal form with {places} places")
    return text


def _places(value: Fraction) -> int:
    """Decimal places of a terminating fraction (raises for 1/3 and friends)."""
    d = value.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        raise ValueError(f"{value} has no finite decimal form")
    return max(twos, fives)


def replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Apply non-overlapping (start, end, replacement) edits to `text`."""
    out, last = [], 0
    for start, end, new in sorted(edits):
        if start < last:
            raise ValueError("overlapping edits")
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


def parse_number(text: str) -> Fraction | None:
    """A plain numeric answer ('18', '1,200', '-3.5', '7/2', '145.0') as a Fraction, else None."""
    cleaned = text.strip().replace(",", "").replace("$", "").strip()
    if re.fullmatch(r"-?\d+(\.\d+)?", cleaned) or re.fullmatch(r"-?\d+/\d+", cleaned):
        try:
            value = Fraction(cleaned)
        except (ValueError, ZeroDivisionError):
            return None
        return value
    return None


def answer_text(value: Fraction) -> str:
    """Canonical answer string: integers plainly, other rationals as exact decimals or p/q."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(int(value))
    try:
        return format_number(value)
    except ValueError:
        return f"{value.numerator}/{value.denominator}"


def answer_type(value: Fraction) -> str:
    """The `Problem.answer_type` of a numeric answer."""
    return "integer" if Fraction(value).denominator == 1 else "rational"
