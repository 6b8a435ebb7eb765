"""A safe parser for math answers (plain or LaTeX) into sympy, and an equivalence test.

Why not `sympify`/`parse_latex`: model output is untrusted. `sympify` evaluates Python,
and even a pure math parser will happily expand `9^9^9^9`. This parser accepts a small
grammar (numbers, single-letter variables, + - * / ^, implicit products, parentheses,
`\\frac`, `\\sqrt`, `\\pi`, `e`, a few functions), refuses numbers and powers that would
blow up, and builds sympy objects directly. Equivalence is tested exactly for numbers and
by evaluation at random points otherwise, so no simplifier can run away.
"""

from __future__ import annotations

import math
import random
import re
from functools import lru_cache

import sympy

MAX_TOKENS = 400
MAX_DEPTH = 40
MAX_DIGITS = 60
MAX_RESULT_DIGITS = 2000

FUNCTIONS = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "ln": sympy.log,
    "log": sympy.log,
    "exp": sympy.exp,
    "sqrt": sympy.sqrt,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
}
_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d+)?|\.\d+)|(\\[a-zA-Z]+)|([a-zA-Z]+)|(\*\*|[-+*/^(){}\[\],|!]))"
)
_SKIP = {"\\left", "\\right", "\\displaystyle", "\\,", "\\;", "\\!"}
_TIMES = {"\\cdot", "\\times", "\\ast"}


class MathError(ValueError):
    """Not a math expression this parser accepts (or one too large to touch)."""


def _tokens(text: str) -> list[str]:
    text = text.replace("\u2212", "-").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    text = re.sub(r"\\[,;! ]", " ", text)
    out: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise MathError(f"unexpected character {text[pos]!r}")
        pos = match.end()
        tok = next(g for g in match.groups() if g is not None)
        if tok in _SKIP:
            continue
        if tok[0].isalpha() and tok not in FUNCTIONS and tok != "pi":
            out.extend(tok)  # "xy" is x*y
        else:
            out.append(tok)
        if len(out) > MAX_TOKENS:
            raise MathError("expression too long")
    return out


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.toks = tokens
        self.i = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise MathError(f"expected {expected or 'more input'}, got {tok!r}")
        self.i += 1
        return tok

    def parse(self) -> sympy.Expr:
        expr = self.sum()
        if self.peek() is not None:
            raise MathError(f"unexpected {self.peek()!r}")
        return expr

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathError("expression nests too deeply")

    def sum(self) -> sympy.Expr:
        self.nest()
        expr = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            right = self.product()
            expr = expr + right if op == "+" else expr - right
        self.depth -= 1
        return expr

    def product(self) -> sympy.Expr:
        expr = self.unary()
        while True:
            tok = self.peek()
            if tok in ("*", "/") or tok in _TIMES or tok == "\\div":
                self.take()
                right = self.unary()
                if tok == "/" or tok == "\\div":
                    if right == 0:
                        raise MathError("division by zero")
                    expr = expr / right
                else:
                    expr = expr * right
            elif tok is not None and (
                tok[0].isalnum()
                or tok in ("(", "\\frac", "\\sqrt", "\\pi", "{")
                or tok[1:] in FUNCTIONS
            ):
                expr = expr * self.unary()  # implicit product: 2x, 3(x+1)
            else:
                return expr

    def unary(self) -> sympy.Expr:
        if self.peek() in ("-", "+"):
            op = self.take()
            value = self.unary()
            return -value if op == "-" else value
        return self.power()

    def power(self) -> sympy.Expr:
        base = self.atom()
        if self.peek() in ("^", "**"):
            self.take()
            exponent = self.unary() if self.peek() != "{" else self.group("{", "}")
            return _safe_pow(base, exponent)
        return base

    def group(self, open_: str, close: str) -> sympy.Expr:
        self.take(open_)
        expr = self.sum()
        self.take(close)
        return expr

    def atom(self) -> sympy.Expr:
        tok = self.peek()
        if tok is None:
            raise MathError("unexpected end")
        if tok in ("(", "{", "["):
            return self.group(tok, {"(": ")", "{": "}", "[": "]"}[tok])
        if tok == "\\frac":
            self.take()
            num = self.group("{", "}")
            den = self.group("{", "}")
            if den == 0:
                raise MathError("division by zero")
            return num / den
        if tok == "\\sqrt":
            self.take()
            index = self.group("[", "]") if self.peek() == "[" else sympy.Integer(2)
            return _safe_pow(self.atom(), 1 / index)
        if tok in ("\\pi", "pi"):
            self.take()
            return sympy.pi
        name = tok[1:] if tok.startswith("\\") else tok
        if name in FUNCTIONS:
            self.take()
            exponent = None
            if self.peek() in ("^", "**"):  # \sin^2 x
                self.take()
                exponent = self.group("{", "}") if self.peek() == "{" else self.atom()
            arg = self.atom() if self.peek() in ("(", "{") else self.power()
            value = FUNCTIONS[name](arg)
            return value if exponent is None else _safe_pow(value, exponent)
        if tok[0].isdigit() or tok[0] == ".":
            self.take()
            if len(tok) > MAX_DIGITS:
                raise MathError("number too long")
            return sympy.Rational(tok) if "." in tok else sympy.Integer(tok)
        if len(tok) == 1 and tok.isalpha():
            self.take()
            return sympy.E if tok == "e" else sympy.Symbol(tok)
        raise MathError(f"unsupported token {tok!r}")


def _magnitude(x: sympy.Expr) -> float:
    try:
        value = abs(complex(x.evalf(15)))
    except (TypeError, ValueError):
        return math.inf
    return math.log10(value) if value > 0 else 0.0


def _safe_pow(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """base ** exponent, refused when a numeric result would have too many digits."""
    if exponent.is_number:
        size = abs(complex(exponent.evalf(15))) if exponent.is_finite is not False else math.inf
        if size > 10_000:
            raise MathError("exponent too large")
        if base.is_number and _magnitude(base) * size > MAX_RESULT_DIGITS:
            raise MathError("power too large")
    return sympy.Pow(base, exponent)


@lru_cache(maxsize=4096)
def parse_math(text: str) -> sympy.Expr:
    """Parse a math answer; raise MathError for anything outside the grammar or too big."""
    text = text.strip().strip("$").strip()
    if len(text) > 2000:
        raise MathError("expression too long")
    tokens = _tokens(text)
    if not tokens:
        raise MathError("empty expression")
    return _Parser(tokens).parse()


def equivalent(a: sympy.Expr, b: sympy.Expr, tolerance: float = 1e-9) -> bool:
    """a == b as functions: exact for rational numbers, else equal at random points."""
    if a.is_Rational and b.is_Rational:
        return bool(a == b)
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(12345)
    agreed = 0
    for _ in range(12):
        point = {s: sympy.Rational(rng.randint(-900, 900), rng.randint(50, 300)) for s in symbols}
        try:
            va = complex(a.evalf(30, subs=point))
            vb = complex(b.evalf(30, subs=point))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            continue
        if any(math.isnan(v.real) or math.isnan(v.imag) for v in (va, vb)):
            continue
        if abs(va - vb) > tolerance * max(1.0, abs(va), abs(vb)):
            return False
        agreed += 1
        if agreed >= 5 or not symbols:
            return True
    return agreed > 0
