"""Per answer type: read a stated answer into a comparable value, and compare two values.

Each reader returns None for text it cannot read as that type; the grader then reports
the answer as unreadable rather than guessing.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from synth.grading.mathexpr import MathError, equivalent, parse_math
from synth.grading.numeric import TEXT_MACRO, clean, parse_number

NUMERIC_TYPES = ("integer", "rational", "real")
_TRUE = {"yes", "true", "correct", "y", "t"}
_FALSE = {"no", "false", "incorrect", "n", "f"}
_LETTER = re.compile(
    r"^(?:\\text\{)?\(?\s*(?:option|choice|answer)?\s*\(?([A-Ha-h])\s*[).:]?\s*\}?$",
    re.IGNORECASE,
)
# "(B) London", "B) London", "B. London", "B: London": a letter followed by its text
_LETTER_TEXT = re.compile(r"^\(?\s*([A-Ha-h])\s*[).:]\s*(\S.*)$", re.DOTALL)
_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\s)\s*")
_SPLIT_LIST = re.compile(r"\s*(?:,|;|&|\band\b)\s*")


def normalise_text(text: str) -> str:
    """Case-, accent-, punctuation- and article-insensitive form of a short answer."""
    text = unicodedata.normalize("NFKC", text)
    text = TEXT_MACRO.sub(r"\1", text)
    text = re.sub(r"[*_`$\\{}]", " ", text).casefold()
    text = re.sub(r"[^\w\s-]", " ", text)
    words = [w for w in text.split() if w not in ("the", "a", "an")]
    return " ".join(words)


@dataclass(frozen=True)
class Comparator:
    read: Callable[[str], Any]
    same: Callable[[Any, Any], bool]


def _number_reader(grader: dict[str, Any]) -> Callable[[str], Any]:
    percent = bool(grader.get("percent", True))

    def read(text: str) -> Fraction | None:
        value = parse_number(text, percent=percent)
        if value is None and grader.get("kind") == "real":
            try:
                expr = parse_math(clean(text))
            except (MathError, ValueError, TypeError, ZeroDivisionError):
                return None
            if expr.is_number and expr.is_real:
                return Fraction(str(expr.evalf(30)))
        return value

    return read


def _real_same(grader: dict[str, Any]) -> Callable[[Any, Any], bool]:
    # as Fractions: comparing a Fraction with a float converts it, and 10^400 overflows
    absolute = Fraction(float(grader.get("abs_tol", 1e-9)))
    relative = Fraction(float(grader.get("tolerance", grader.get("rel_tol", 1e-6))))

    def same(a: Fraction, b: Fraction) -> bool:
        return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))

    return same


def _read_expression(text: str) -> Any:
    try:
        return parse_math(clean(text, units=False) if len(text) < 2000 else text)
    except (MathError, ValueError, TypeError, ZeroDivisionError, RecursionError):
        return None


def _choice_reader(grader: dict[str, Any]) -> Callable[[str], str | None]:
    options: dict[str, str] = grader.get("options") or {}
    by_text = {normalise_text(t): letter for letter, t in options.items()}

    def read(text: str) -> str | None:
        # collapse blank runs first: no pattern below can then backtrack over them
        text = " ".join(text.split())
        # "**B**", "\\textbf{B}", "$B$", "`B`": the letter inside its markup
        text = TEXT_MACRO.sub(r"\1", text).replace("**", "").strip().strip("*_`$").strip()
        match = _LETTER.match(text)
        if match:
            letter = match.group(1).upper()
            return letter if not options or letter in options else None
        found = by_text.get(normalise_text(text))
        if found is None and options:
            match = _LETTER_TEXT.match(text)
            if match and by_text.get(normalise_text(match.group(2))) == match.group(1).upper():
                return match.group(1).upper()  # the letter and its own text agree
        return found

    return read


def _multi_reader(grader: dict[str, Any]) -> Callable[[str], frozenset[str] | None]:
    single = _choice_reader(grader)
    options: dict[str, str] = grader.get("options") or {}

    def read(text: str) -> frozenset[str] | None:
        text = " ".join(text.split())  # see _choice_reader
        text = re.sub(r"\\text\{([^{}]*)\}", r"\1", text).strip().strip("{}[]()")
        # not normalise_text: it drops articles, and the option "A" is not "none"
        if re.sub(r"[^\w\s]", " ", text).casefold().split() in ([], ["none"], ["no", "options"]):
            return frozenset()
        alone = single(text)  # one option, whose text may hold a separator ("Salt and pepper")
        if alone is not None:
            return frozenset({alone})
        # split on separators first, so that option texts may hold spaces ("New York, Rome")
        for splitter in (_SPLIT_LIST, _SPLIT):
            letters: set[str] | None = set()
            for part in splitter.split(text):
                if not part:
                    continue
                letter = single(part)
                if letter is not None:
                    letters.add(letter)
                elif re.fullmatch(r"[A-H]{2,8}", part) and set(part) <= set(options or part):
                    letters.update(part)  # "ACD": letters run together
                else:
                    letters = None
                    break
            if letters is not None:
                return frozenset(letters)
        return None

    return read


def _read_boolean(text: str) -> bool | None:
    word = normalise_text(text)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def _text_reader(grader: dict[str, Any]) -> Callable[[str], str | None]:
    options = grader.get("options")
    known = {normalise_text(str(o)) for o in options} if isinstance(options, list) else None

    def read(text: str) -> str | None:
        value = normalise_text(text)
        if not value:
            return None
        if known is not None and value not in known:
            # "Alice is the answer" -> Alice, when exactly one candidate name is mentioned
            hits = [k for k in known if re.search(rf"\b{re.escape(k)}\b", value)]
            return hits[0] if len(hits) == 1 else value
        return value

    return read


def comparator(answer_type: str, grader: dict[str, Any]) -> Comparator:
    """The reader and equality for `answer_type` under a row's grader settings."""
    if answer_type in ("integer", "rational"):
        return Comparator(_number_reader(grader), lambda a, b: a == b)
    if answer_type == "real":
        return Comparator(_number_reader({**grader, "kind": "real"}), _real_same(grader))
    if answer_type == "expression":
        return Comparator(_read_expression, equivalent)
    if answer_type == "choice":
        return Comparator(_choice_reader(grader), lambda a, b: a == b)
    if answer_type == "multi_choice":
        return Comparator(_multi_reader(grader), lambda a, b: a == b)
    if answer_type == "boolean":
        return Comparator(_read_boolean, lambda a, b: a == b)
    if answer_type == "text":
        return Comparator(_text_reader(grader), lambda a, b: a == b)
    raise ValueError(f"no comparator for answer type {answer_type!r}")


def load_grader(value: Any) -> dict[str, Any]:
    """A row's grader column (JSON text, dict or empty) as a dict."""
    if isinstance(value, dict):
        return value
    if not value:
        return {}
    try:
        loaded = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}
