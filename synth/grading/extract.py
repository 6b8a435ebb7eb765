"""Find the final answer(s) a model stated in free-form output.

Sources, most explicit first: `\\boxed{...}` (and `\\fbox`), `<answer>...</answer>` tags,
"final answer is ..." / "Answer: ..." lines, then — only where the answer type allows
it — the last number, or else a short one-line response taken whole. The first source
present wins and all of its statements are returned, so the grader can reject a response
that states different final answers.

Everything here is linear in the response length and bounded in work per statement:
hostile output (megabytes, deeply nested braces) costs milliseconds, not minutes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_STATEMENTS = 8  # final statements considered (the last ones)
MAX_ANSWER = 4000  # characters of one statement
SHORT_RESPONSE = 300  # a response this short with no marker is taken as the answer itself

_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TAG_OPEN = "<answer>"
_TAG_CLOSE = "</answer>"
_LINE = re.compile(
    rf"(?:final\s+answer|the\s+answer|answer)\s*(?:is|=|:)\s*:?\s*([^\n]{{1,{MAX_ANSWER}}})",
    re.IGNORECASE,
)
_MATH_FIRST = re.compile(r"^\s*(?:\$\$?|\\\()([^$]+?)(?:\$\$?|\\\))")
_MORE = re.compile(r"[$\d]|\\\(|\b(?:or|and)\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"[-\u2212]?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+\b)?(?:\s*/\s*\d+)?"
    r"\s*(?:%|\\%)?"
    r"|[-\u2212]?\\[dt]?frac\{-?\d+\}\{\d+\}"
)


@dataclass(frozen=True)
class Statements:
    """The final-answer statements found and where they came from."""

    values: tuple[str, ...]
    source: str  # boxed, tag, line, number, whole, none


def _braced(text: str, start: int) -> str | None:
    """Content of the brace group opening at text[start - 1], or None if unclosed (within
    MAX_ANSWER characters)."""
    depth = 1
    end = min(len(text), start + MAX_ANSWER)
    i = start
    while i < end:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i]
        i += 1
    return None


def _unbox(text: str) -> str:
    """\\boxed{\\boxed{x}} -> x."""
    for _ in range(10):
        match = _BOX.match(text.strip())
        if not match:
            break
        inner = _braced(text.strip(), match.end())
        if inner is None or len(inner) + match.end() + 1 != len(text.strip()):
            break
        text = inner
    return text.strip()


def boxed(text: str) -> list[str]:
    # the last boxes, found from the end: a response of 200,000 boxes costs no more
    starts: list[int] = []
    last = {name: text.rfind(name) for name in ("\\boxed", "\\fbox")}
    for _ in range(8 * MAX_STATEMENTS):  # bounded: "\\boxed" without a brace
        if len(starts) >= MAX_STATEMENTS:
            break
        name, at = max(last.items(), key=lambda item: item[1])
        if at < 0:
            break
        match = _BOX.match(text, at)
        if match:
            starts.append(match.end())
        last[name] = text.rfind(name, 0, at)
    found = []
    for start in starts[::-1]:
        inner = _braced(text, start)
        if inner is not None:
            found.append(_unbox(inner))
    return found


def tagged(text: str) -> list[str]:
    found: list[str] = []
    end = len(text)
    for _ in range(8 * MAX_STATEMENTS):  # bounded: a closing tag without an opening one
        if len(found) >= MAX_STATEMENTS:
            break
        close = text.rfind(_TAG_CLOSE, 0, end)
        if close < 0:
            break
        open_ = text.rfind(_TAG_OPEN, max(0, close - MAX_ANSWER), close)
        if open_ >= 0:
            found.append(text[open_ + len(_TAG_OPEN) : close].strip())
        end = close
    return found[::-1]


def _clean_line(value: str) -> str:
    value = value.strip().rstrip(".").strip()  # "is $7$." -> "$7$"
    for wrapper in ("**", "__", "$$", "$", "`", "\\(", "\\)", "\\[", "\\]"):
        value = (
            value.replace(wrapper, " ")
            if wrapper in ("\\(", "\\)", "\\[", "\\]")
            else (value.strip(wrapper[0]) if len(wrapper) == 1 else value.replace(wrapper, ""))
        )
    return value.strip().rstrip(".").strip()


def lines(text: str) -> list[str]:
    tail = text[-200_000:]
    matches = [m.group(1) for m in _LINE.finditer(tail)]
    found = []
    for value in matches[-MAX_STATEMENTS:]:
        for _ in range(4):  # "Final Answer: The final answer is $7$." -> "$7$."
            nested = _LINE.search(value)
            if nested is None:
                break
            value = nested.group(1)
        math = _MATH_FIRST.match(value)  # "$7$. I hope it is correct." -> "7"
        if math and not _MORE.search(value[math.end() :]):  # but not "$2$ or $3$"
            value = math.group(1)
        inner = boxed(value)
        found.append(inner[-1] if inner else _clean_line(value))
    return [v for v in found if v]


def last_number(text: str) -> list[str]:
    """The last number in the final 20,000 characters (a final answer comes last)."""
    for window in (2_000, 20_000):
        matches = list(_NUMBER.finditer(text[-window:]))
        if matches:
            return [matches[-1].group(0).strip()]
        if window >= len(text):
            break
    return []


def statements(response: str, numeric: bool) -> Statements:
    """The final answer statements of `response`; `numeric` enables the last-number rule."""
    if not response or not response.strip():
        return Statements((), "none")
    for source, finder in (("boxed", boxed), ("tag", tagged), ("line", lines)):
        found = finder(response)
        if found:
            return Statements(tuple(found), source)
    if numeric:
        found = last_number(response)
        return Statements(tuple(found), "number" if found else "none")
    stripped = response.strip()
    if len(stripped) <= SHORT_RESPONSE and "\n" not in stripped:
        return Statements((stripped,), "whole")
    return Statements((), "none")
