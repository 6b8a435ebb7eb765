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
from typing import Any

import mpmath
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
        name = tok.removeprefix("\\")
        if name in FUNCTIONS:
            self.take()
            exponent = None
            if self.peek() in ("^", "**"):  # \sin^2 x
                self.take()
                exponent = self.group("{", "}") if self.peek() == "{" else self.atom()
            arg = self.atom() if self.peek() in ("(", "{") else self.power()
            value = _checked(FUNCTIONS[name](arg))
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


# -- bounded numeric evaluation ------------------------------------------------------
# sympy's evalf will happily work on exp(exp(exp(18))) or 18^(18^(18^18)) for minutes; and
# a float conversion turns 10^400 into inf, which then "equals" anything. So values are
# computed here, bottom-up, in a private mpmath context, refusing any intermediate value
# whose magnitude is out of bounds, before the work could explode.

_MP = mpmath.MPContext()
_MP.prec = 256
MAX_LOG = 50_000.0  # natural log of the largest magnitude evaluated (about 10^21700)
MAX_TRIG_ARGUMENT = 1e50


class _Unevaluable(ArithmeticError):
    """This expression has no (bounded, finite) value here."""


def _bounded(value: Any) -> Any:
    if not _MP.isfinite(value):
        raise _Unevaluable("not finite")
    if value and _MP.mag(value) > MAX_LOG * 1.4427:  # log2(e)
        raise _Unevaluable("too large")
    return value


def _evaluate(expr: sympy.Expr, point: dict[sympy.Symbol, Any]) -> Any:
    """expr's value at `point` (an mpmath number), or _Unevaluable."""
    if expr.is_Rational:
        return _MP.mpf(expr.p) / expr.q
    if expr.is_Float:
        return _MP.mpf(expr)
    if expr.is_Symbol:
        if expr not in point:
            raise _Unevaluable(f"no value for {expr}")
        return point[expr]
    if expr is sympy.pi:
        return +_MP.pi
    if expr is sympy.E:
        return +_MP.e
    if expr is sympy.I:
        return _MP.mpc(0, 1)
    if expr.is_Add:
        total = _MP.zero
        for term in expr.args:
            total = _bounded(total + _evaluate(term, point))
        return total
    if expr.is_Mul:
        product = _MP.one
        for factor in expr.args:
            product = _bounded(product * _evaluate(factor, point))
        return product
    if expr.is_Pow:
        base, exponent = _evaluate(expr.base, point), _evaluate(expr.exp, point)
        if not base:
            if _MP.re(exponent) > 0:
                return _MP.zero
            raise _Unevaluable("0 to a non-positive power")
        size = exponent * _MP.log(base)
        if _MP.re(size) > MAX_LOG or abs(_MP.im(size)) > MAX_TRIG_ARGUMENT:
            raise _Unevaluable("power too large")
        if _MP.re(size) < -MAX_LOG:
            return _MP.zero
        return _bounded(_MP.power(base, exponent))
    function = _MP_FUNCTIONS.get(type(expr).__name__)
    if function is None or len(expr.args) != 1:
        raise _Unevaluable(f"cannot evaluate {type(expr).__name__}")
    arg = _evaluate(expr.args[0], point)
    if type(expr) is sympy.exp:
        if _MP.re(arg) > MAX_LOG or abs(_MP.im(arg)) > MAX_TRIG_ARGUMENT:
            raise _Unevaluable("exp too large")
        if _MP.re(arg) < -MAX_LOG:
            return _MP.zero
    elif type(expr) is sympy.log:
        if not arg:
            raise _Unevaluable("log 0")
    elif abs(arg) > MAX_TRIG_ARGUMENT:
        raise _Unevaluable("argument too large")
    return _bounded(function(arg))


_MP_FUNCTIONS = {
    "sin": _MP.sin,
    "cos": _MP.cos,
    "tan": _MP.tan,
    "log": _MP.log,
    "exp": _MP.exp,
    "asin": _MP.asin,
    "acos": _MP.acos,
    "atan": _MP.atan,
}


def _magnitude(x: sympy.Expr) -> float:
    """log10 |x| of a numeric expression (inf when it cannot be bounded)."""
    try:
        value = abs(_evaluate(x, {}))
    except (_Unevaluable, ZeroDivisionError, ValueError, TypeError):
        return math.inf
    return float(_MP.log10(value)) if value > 0 else 0.0


def _checked(value: sympy.Expr) -> sympy.Expr:
    """A numeric subexpression, refused when its value would be too large to work with
    (exp(exp(100)), 10^{10^{10}})."""
    if value.is_number and _magnitude(value) > MAX_RESULT_DIGITS:
        raise MathError("number too large")
    return value


def _safe_pow(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    """base ** exponent, refused when a numeric result would have too many digits."""
    if exponent.is_number:
        if _magnitude(exponent) > 4:  # |exponent| > 10_000
            raise MathError("exponent too large")
        if base.is_number and _magnitude(base) * float(abs(_evaluate(exponent, {}))) > (
            MAX_RESULT_DIGITS
        ):
            raise MathError("power too large")
    return _checked(sympy.Pow(base, exponent))


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
    """a == b as functions: exact for rational numbers, else equal at random points (points
    where either side has no bounded finite value are skipped; if all are, not equal)."""
    if a.is_Rational and b.is_Rational:
        return bool(a == b)
    symbols = sorted(a.free_symbols | b.free_symbols, key=lambda s: s.name)
    rng = random.Random(12345)
    agreed = 0
    for _ in range(12):
        point = {s: _MP.mpf(rng.randint(-900, 900)) / rng.randint(50, 300) for s in symbols}
        try:
            va = _evaluate(a, point)
            vb = _evaluate(b, point)
        except (_Unevaluable, ZeroDivisionError, ValueError, TypeError, OverflowError):
            continue
        if abs(va - vb) > tolerance * max(1, abs(va), abs(vb)):
            return False
        agreed += 1
        if agreed >= 5 or not symbols:
            return True
    return agreed > 0
