"""Read numbers the way people and models write them, without evaluating anything.

Accepted: integers with or without thousands separators, decimals, signs (including the
unicode minus), fractions `a/b`, `\\frac{a}{b}` / `\\dfrac` / `\\tfrac`, percentages (only where
the grader allows them), scientific notation with a small exponent, and surrounding noise:
`$`, `\\$`, `\\(...\\)`, `\\text{...}` units, trailing unit words, `x = ...`. Anything else is
not a number: `9^9^9^9` is text here, not a computation.
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_DIGITS = 400
MAX_UNIT_TEXT = 200  # "12 square metres": longer text is no number with a unit
MAX_EXPONENT = 400

TEXT_MACRO = re.compile(
    r"\\(?:text|textbf|textit|textrm|textsf|texttt|mathrm|mathbf|mathit|mathsf|mathtt|mbox"
    r"|operatorname|boldsymbol|bm)\s*\{([^{}]*)\}"
)
_NOISE = re.compile(r"\\[,;:! ]|\\left|\\right|\\displaystyle|~|\\\$|\$|\\\(|\\\)|\\\[|\\\]")
_FRAC = re.compile(r"^([-+]?)\\[dt]?frac\s*\{\s*([-+]?[\d.]+)\s*\}\s*\{\s*([-+]?[\d.]+)\s*\}$")
_FRAC_SHORT = re.compile(r"^([-+]?)\\[dt]?frac(\d)(\d)$")
_ASSIGN = re.compile(r"^[A-Za-z]\w{0,12}(?:\([^()=]{0,40}\))?\s*(?:=|:=)\s*")
_UNIT = re.compile(r"(?<=[\d%.])\s*[A-Za-z][A-Za-z\s.²³/]*$")
_DECIMAL = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_SPACED_THOUSANDS = re.compile(r"(?<=\d)\s(?=\d{3}(?!\d))")
_RATIO = re.compile(r"^([-+]?\d+)\s*/\s*([-+]?\d+)$")


def clean(text: str, units: bool = True) -> str:
    """Strip LaTeX wrappers, currency, units and `x =` from a candidate answer. `units`:
    drop trailing unit words ("12 cm"); off for expressions, where `2x` is not 2."""
    text = " ".join(text.split())  # one space per blank run: nothing below can backtrack on it
    text = text.replace("\u2212", "-").replace("\u2013", "-")
    text = TEXT_MACRO.sub(r" \1 ", text)
    text = _NOISE.sub(" ", text)
    text = text.replace("{,}", ",").strip()
    text = _ASSIGN.sub("", text)
    if units and len(text) <= MAX_UNIT_TEXT:
        text = _UNIT.sub("", text).strip()
    text = text.rstrip(".").strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("(") and text.endswith(")") and "(" not in text[1:-1]:
        text = text[1:-1].strip()  # \left(7\right) -> (7) -> 7
    if re.fullmatch(r"[-+\d\s,./%]+", text):
        text = _SPACED_THOUSANDS.sub("", text)  # "1 234 567" (and 1\,234)
        if not re.search(r"\d\s+\d", text):  # but "7 8" is two numbers, not 78
            text = text.replace(" ", "")
    return text


def _decimal(text: str) -> Fraction | None:
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not _DECIMAL.match(text):
        return None
    mantissa = text.lower().split("e")[0]
    if len(mantissa) > MAX_DIGITS:
        return None
    if "e" in text.lower() and abs(int(text.lower().split("e")[1])) > MAX_EXPONENT:
        return None
    return Fraction(text)


def parse_number(text: str, percent: bool = False) -> Fraction | None:
    """The exact value of `text`, or None. `percent`: "50%" reads as 1/2."""
    if len(text) > 4 * MAX_DIGITS:
        return None
    text = clean(text)
    is_percent = text.endswith(("%", "\\%"))
    if is_percent:
        if not percent:
            return None
        text = text.removesuffix("\\%").removesuffix("%").strip()
    value = _decimal(text)
    if value is None:
        match = _FRAC.match(text) or _FRAC_SHORT.match(text)
        if match:
            num, den = _decimal(match.group(2)), _decimal(match.group(3))
            if num is None or not den:
                return None
            value = num / den * (-1 if match.group(1) == "-" else 1)
        else:
            ratio = _RATIO.match(text)
            if not ratio or len(text) > 2 * MAX_DIGITS or int(ratio.group(2)) == 0:
                return None
            value = Fraction(int(ratio.group(1)), int(ratio.group(2)))
    return value / 100 if is_percent else value


def parse_gold(text: str) -> Fraction | None:
    """A row's canonical numeric answer ("12", "-3/4", "0.25")."""
    return parse_number(text, percent=True)
