"""Recover a word problem's executable program from its worked solution.

GSM8K rationales carry calculator annotations (`<<48/2=24>>`); SVAMP carries an equation
(`( 290.0 / 2.0 )`). Each literal in those expressions is linked, in this order, to: the
result of an earlier step (GSM8K), a numeral of the problem text with that value (an
input), a percentage numeral of the text (`150%` read as `1.5` becomes `x/100`), or else it
stays a constant of the program (units such as 60 minutes, or "half" read as 2). All
numerals of the text with one value become one input, so rewriting that input rewrites
every mention of it and the text stays consistent with the program.

The recovered program is accepted only if executing it reproduces the gold answer exactly.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from fractions import Fraction

from evolve.numbers import Mention, find_numbers
from evolve.program import Mentions, Program, ProgramError

_ANNOTATION = re.compile(r"<<([^<>]*)>>")
# Annotated results are often rounded to cents; a later step citing 3.33 means the 10/3 above.
_ROUNDING = Fraction(1, 100)


class RecoveryError(ValueError):
    """No program could be recovered; the message says why (counted in the coverage report)."""


@dataclass(frozen=True)
class Recovered:
    program: Program
    mentions: Mentions


def _literal_tree(text: str, percent: bool = True) -> ast.expr:
    cleaned = text.replace("x", "*").replace("×", "*").replace("^", "**").replace("$", "")
    cleaned = cleaned.replace("−", "-").replace("÷", "/")
    cleaned = re.sub(r"(?<=\d),(?=\d{3})", "", cleaned)
    if percent:
        cleaned = re.sub(r"(\d+(?:\.\d+)?)%", r"(\1/100)", cleaned)
    else:
        cleaned = cleaned.replace("%", "")
    try:
        tree = ast.parse(cleaned.strip(), mode="eval").body
    except SyntaxError as error:
        raise RecoveryError(f"annotation {text!r} does not parse: {error.msg}") from None
    for node in ast.walk(tree):
        ok = isinstance(
            node,
            (
                ast.BinOp,
                ast.UnaryOp,
                ast.Add,
                ast.Sub,
                ast.Mult,
                ast.Div,
                ast.Pow,
                ast.USub,
                ast.UAdd,
                ast.Constant,
            ),
        )
        if not ok or (isinstance(node, ast.Constant) and not isinstance(node.value, (int, float))):
            raise RecoveryError(f"annotation {text!r} is not plain arithmetic")
    return tree


class _Linker:
    """Turns annotation literals into program names, creating inputs on first use."""

    def __init__(self, text: str) -> None:
        self.mentions = find_numbers(text)
        self.by_value: dict[Fraction, list[int]] = {}
        for i, m in enumerate(self.mentions):
            if not m.ordinal:
                self.by_value.setdefault(m.value, []).append(i)
        self.inputs: dict[str, Fraction] = {}
        self.input_of_value: dict[Fraction, str] = {}
        self.results: list[tuple[str, Fraction]] = []

    def input_for(self, value: Fraction) -> str:
        name = self.input_of_value.get(value)
        if name is None:
            name = f"x{len(self.inputs) + 1}"
            self.inputs[name] = value
            self.input_of_value[value] = name
        return name

    def literal(self, raw: Fraction, allow_rounded: bool) -> str:
        for name, value in reversed(self.results):
            if value == raw or (
                allow_rounded and raw.denominator != 1 and abs(value - raw) < _ROUNDING
            ):
                return name
        if raw in self.by_value:
            return self.input_for(raw)
        percent = raw * 100
        if any(self.mentions[i].percent for i in self.by_value.get(percent, [])):
            return f"({self.input_for(percent)} / 100)"
        return _constant(raw)

    def rename(self, tree: ast.expr) -> str:
        """The expression text with every literal replaced by its linked name or constant."""
        linker = self

        class Rewrite(ast.NodeTransformer):
            def visit_Constant(self, node: ast.Constant) -> ast.AST:
                raw = Fraction(str(node.value))
                return ast.parse(linker.literal(raw, True), mode="eval").body

        return ast.unparse(Rewrite().visit(tree))

    def mention_roles(self) -> Mentions:
        roles = []
        for m in self.mentions:
            name = None if m.ordinal else self.input_of_value.get(m.value)
            roles.append(("input", name) if name else ("context", ""))
        return Mentions(tuple(roles))


def _constant(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"({value.numerator} / {value.denominator})"


def _exact(tree: ast.expr) -> Fraction:
    if isinstance(tree, ast.Constant):
        return Fraction(str(tree.value))
    if isinstance(tree, ast.UnaryOp):
        v = _exact(tree.operand)
        return -v if isinstance(tree.op, ast.USub) else v
    assert isinstance(tree, ast.BinOp)
    a, b = _exact(tree.left), _exact(tree.right)
    if isinstance(tree.op, ast.Add):
        return a + b
    if isinstance(tree.op, ast.Sub):
        return a - b
    if isinstance(tree.op, ast.Mult):
        return a * b
    if isinstance(tree.op, ast.Div):
        if b == 0:
            raise RecoveryError("division by zero in an annotation")
        return a / b
    if b.denominator != 1 or not 0 <= b <= 8:
        raise RecoveryError("an annotation raises to a power other than 0..8")
    return a ** int(b)


def _finish(linker: _Linker, steps: list[tuple[str, str]], gold: Fraction) -> Recovered:
    if not steps:
        raise RecoveryError("no calculation steps")
    output = None
    for name, value in reversed(linker.results):
        if value == gold:
            output = name
            break
    if output is None and linker.results:
        # Dollars asked in cents, fractions asked as a percentage: one fixed conversion.
        for name, value in reversed(linker.results):
            if value * 100 == gold:
                steps = steps + [(f"s{len(steps) + 1}", f"{name} * 100")]
                linker.results.append((steps[-1][0], gold))
                output = steps[-1][0]
                break
    if output is None:
        raise RecoveryError(
            f"no step reproduces the gold answer {gold} (last step gives {linker.results[-1][1]})"
        )
    # Keep only the steps the output needs (rationales sometimes compute side results).
    cut = [s for s in steps[: [n for n, _ in steps].index(output) + 1]]
    try:
        program = Program(dict(linker.inputs), tuple(cut), output)
        needed = {n for n in program.inputs if program.depends_on(n)}
        program = Program(
            {k: v for k, v in linker.inputs.items() if k in needed},
            tuple(s for s in cut if program.depends_on(s[0])),
            output,
        )
        if program.result() != gold:
            raise RecoveryError(f"the program gives {program.result()}, the gold answer is {gold}")
    except ProgramError as error:
        raise RecoveryError(str(error)) from None
    if not program.inputs:
        raise RecoveryError("the program reads no number of the text")
    linker.input_of_value = {v: k for k, v in program.inputs.items()}
    return Recovered(program, linker.mention_roles())


_NUM = r"\(*\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)%?\)*"
# Up to three unit words after a number ("25 total cars - 20 cars = 5"); not a lone x.
_UNITS = r"(?:\s+(?!x\b)[A-Za-z][A-Za-z']*){0,3}"
_OP = r"\s*[-+*/x×−÷–]\s*"
# An unannotated calculation written out in the rationale: "99 + 5 = $104".
_PLAIN = re.compile(
    rf"(?<![\w.,/])((?:{_NUM}{_UNITS}{_OP})+{_NUM}){_UNITS}\s*=\s*\$?(\d[\d,]*(?:\.\d+)?)(?![\d/]|\s*<<)"
)
# Spelled-out operators between numbers ("83 plus 91 equals 174"), same-length rewrites so
# positions stay put.
_VERBAL = [
    (re.compile(rf"(?<=[\d%])\s+{word}\s+(?=[$.\d])"), symbol)
    for word, symbol in (
        ("divided by", "/"),
        ("multiplied by", "*"),
        ("times", "*"),
        ("plus", "+"),
        ("minus", "-"),
        ("equals", "="),
        ("is equal to", "="),
    )
]
_BARE = re.compile(r"\s*\$?\d[\d,]*(?:\.\d+)?\s*")
_UNIT_WORDS = re.compile(r"(?<=[\d%])(?:\s+(?!x\b)[A-Za-z][A-Za-z']*)+")


def _calculations(rationale: str) -> list[tuple[str, Fraction | None, bool]]:
    """(expression, stated result or None, is annotation) in rationale order."""
    found: list[tuple[int, str, Fraction | None, bool]] = []
    for m in _ANNOTATION.finditer(rationale):
        lhs, sep, _ = m.group(1).rpartition("=")
        if not sep or not lhs.strip():
            raise RecoveryError(
                f"annotation <<{m.group(1)}>> has no '=' with an expression before it"
            )
        if not _BARE.fullmatch(lhs):
            found.append((m.start(), lhs, None, True))

    # Blank out annotations and the result printed after them ("= <<9*2=18>>18"), so the
    # visible copy of an annotated calculation is not read a second time. A bare-number
    # annotation ("2*3=<<6=6>>6") only repeats a result: keep the visible calculation.
    def blank(m: re.Match) -> str:
        inner = m.group(0)[2 : m.group(0).index(">>")]
        if _BARE.fullmatch(inner.rpartition("=")[0]):
            return " " * (m.group(0).index(">>") + 2) + m.group(0)[m.group(0).index(">>") + 2 :]
        return " " * len(m.group(0))

    masked = re.sub(r"<<[^<>]*>>\$?[\d,]*(?:\.\d+)?", blank, rationale)
    for pattern, symbol in _VERBAL:
        masked = pattern.sub(lambda m, sym=symbol: sym.center(len(m.group(0))), masked)
    for m in _PLAIN.finditer(masked):
        stated = Fraction(m.group(2).replace(",", ""))
        found.append((m.start(), _UNIT_WORDS.sub("", m.group(1)).replace("–", "-"), stated, False))
    return [(e, r, a) for _, e, r, a in sorted(found, key=lambda f: f[0])]


def recover_gsm8k(question: str, rationale: str, gold: Fraction) -> Recovered:
    """The program behind a GSM8K rationale: its `<<expr=result>>` annotations, plus plain
    calculations written out without one ("99 + 5 = $104") whose arithmetic checks out."""
    linker = _Linker(question)
    steps: list[tuple[str, str]] = []
    for expression, stated, annotated in _calculations(rationale):
        try:
            tree = _literal_tree(expression, percent=annotated)
            value = _exact(tree)
        except RecoveryError:
            if annotated:
                raise
            continue
        if stated is not None and abs(value - stated) >= _ROUNDING:
            continue  # "5 - 1 - 1/2 = 3 1/2": not a calculation this reader understands
        name = f"s{len(steps) + 1}"
        steps.append((name, linker.rename(tree)))
        linker.results.append((name, value))
    return _finish(linker, steps, gold)


def recover_equation(question: str, equation: str, gold: Fraction) -> Recovered:
    """The program behind a SVAMP-style equation over the numbers of the text."""
    linker = _Linker(question)
    tree = _literal_tree(equation)
    value = _exact(tree)
    steps = [("s1", linker.rename(tree))]
    linker.results.append(("s1", value))
    return _finish(linker, steps, gold)


def relink(text: str, program: Program) -> Mentions:
    """Mention roles of `text` for `program`: numerals equal to an input's value are inputs."""
    by_value = {v: k for k, v in program.inputs.items() if k not in program.fixed}
    roles = []
    for m in find_numbers(text):
        name = None if m.ordinal else by_value.get(m.value)
        roles.append(("input", name) if name else ("context", ""))
    return Mentions(tuple(roles))


def mention_values(mentions: list[Mention]) -> list[Fraction]:
    return [m.value for m in mentions]
