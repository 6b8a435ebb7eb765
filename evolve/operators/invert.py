"""`invert`: give the original answer, ask for one of the inputs.

The program is turned into a sympy equation `f(x_k, others) = answer` through its syntax
tree (never `sympify` on text) and solved for x_k symbolically. The child is kept only if,
with the problem's numbers, the equation has exactly one real solution and it has the
input's type (whole and positive when the input was). The child's program is the solved
expression `x_k = g(answer, others)`, itself checked to give the input's value.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction

import sympy

from evolve.numbers import find_numbers, format_number, replace_spans
from evolve.operators.base import (
    Context,
    Rejected,
    free_letter,
    fresh_name,
    has_program,
    unpack,
    word_child,
)
from evolve.program import Mentions, Program, ProgramError
from synth.problem import Problem


def to_sympy(text: str, env: Mapping[str, sympy.Expr]) -> sympy.Expr:
    """A program step as a sympy expression (only + - * / ** and unary minus exist here)."""

    def walk(node: ast.expr) -> sympy.Expr:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, (int, float))
            and not isinstance(node.value, bool)
        ):
            return sympy.Rational(str(node.value))
        if isinstance(node, ast.Name):
            return env[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant):
                return a ** int(node.right.value)
        raise Rejected("step outside + - * / **", ast.unparse(node))

    return walk(ast.parse(text, mode="eval").body)


def from_sympy(expr: sympy.Expr) -> str:
    """A sympy rational-arithmetic expression as expression-language text."""
    if expr.is_Rational:
        r = sympy.Rational(expr)
        return f"({r.p} / {r.q})" if r.q != 1 else (f"({r.p})" if r.p < 0 else str(r.p))
    if expr.is_Symbol:
        return str(expr)
    if expr.is_Add:
        return "(" + " + ".join(from_sympy(a) for a in expr.args) + ")"
    if expr.is_Mul:
        return "(" + " * ".join(from_sympy(a) for a in expr.args) + ")"
    if expr.is_Pow:
        base, exp = expr.args
        if exp.is_Integer and 0 <= int(exp) <= 8:
            return f"({from_sympy(base)} ** {int(exp)})"
        if exp.is_Integer and -8 <= int(exp) < 0:
            return f"(1 / ({from_sympy(base)} ** {-int(exp)}))"
    raise Rejected("solution is not rational arithmetic", str(expr)[:80])


def _check_unique(program: Program, target: str, answer: Fraction, original: Fraction) -> None:
    """Exactly one real x_k, with the other inputs as given, makes the program give `answer`.

    The equation is a rational function of x_k: its numerator's distinct real roots where
    the denominator does not vanish are the solutions (exact, over the rationals).
    """
    x = sympy.Symbol(target)
    env: dict[str, sympy.Expr] = {
        n: (x if n == target else sympy.Rational(str(v))) for n, v in program.inputs.items()
    }
    for name, text in program.steps:
        env[name] = to_sympy(text, env)
    equation = sympy.together(env[program.output] - sympy.Rational(str(answer)))
    if not equation.has(x):
        raise Rejected("answer does not depend on the input")
    numerator, denominator = sympy.fraction(equation)
    poly = sympy.Poly(sympy.expand(numerator), x)
    if poly.is_zero:
        raise Rejected("not unique", "every value of the input gives the answer")
    roots = {r for r in poly.real_roots() if sympy.simplify(denominator.subs(x, r)) != 0}
    if len(roots) != 1:
        raise Rejected("not unique", f"{len(roots)} real solutions")
    (value,) = roots
    if not value.is_Rational or Fraction(int(value.p), int(value.q)) != original:
        raise Rejected("wrong type", f"solution {value}")


_INVERSE = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def invert_path(tree: ast.expr, target: str, goal: str) -> str | None:
    """x_k = g(goal, ...) by undoing, from the outside in, each operation on the path to
    the single occurrence of x_k; None when x_k occurs more than once (or under `**`)."""
    uses = sum(isinstance(n, ast.Name) and n.id == target for n in ast.walk(tree))
    if uses != 1:
        return None
    result = goal
    node = tree
    while not (isinstance(node, ast.Name) and node.id == target):
        if isinstance(node, ast.UnaryOp):
            result = f"(-({result}))" if isinstance(node.op, ast.USub) else result
            node = node.operand
            continue
        if not isinstance(node, ast.BinOp) or type(node.op) not in _INVERSE:
            return None
        left_has = any(isinstance(n, ast.Name) and n.id == target for n in ast.walk(node.left))
        other = "(" + ast.unparse(node.right if left_has else node.left) + ")"
        op = _INVERSE[type(node.op)]
        if op == "+":
            result = f"({result} - {other})"
        elif op == "*":
            result = f"({result} / {other})"
        elif op == "-":
            result = f"({result} + {other})" if left_has else f"({other} - {result})"
        else:
            result = f"({result} * {other})" if left_has else f"({other} / {result})"
        node = node.left if left_has else node.right
    return result


def _solved_form(
    program: Program, target: str, goal: str, answer: Fraction, original: Fraction
) -> str:
    """x_k = g(goal) with the other inputs fixed (their numerals become context)."""
    x, t = sympy.Symbol(target), sympy.Symbol(goal)
    env: dict[str, sympy.Expr] = {
        n: (x if n == target else sympy.Rational(str(v))) for n, v in program.inputs.items()
    }
    for name, text in program.steps:
        env[name] = to_sympy(text, env)
    for branch in sympy.solve(sympy.Eq(env[program.output], t), x, rational=True):
        at = sympy.simplify(branch.subs(t, sympy.Rational(str(answer))))
        if at.is_Rational and sympy.Rational(at) == sympy.Rational(str(original)):
            return from_sympy(sympy.simplify(branch))
    raise Rejected("no closed form for the input")


class Invert:
    name = "invert"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        word = unpack(parents[0])
        program = word.program
        answer = program.result()
        if answer <= 0:
            # Numerals are read unsigned: "-10" in the text would read as 10.
            raise Rejected("answer is not positive")
        used = [n for n in program.used_inputs() if n not in program.fixed]
        if not used:
            raise Rejected("no input to ask for")
        target = rng.choice(used)
        goal = fresh_name(program, "t_given")
        original = program.inputs[target]
        _check_unique(program, target, answer, original)
        expression = invert_path(program.inlined(), target, goal)
        if expression is None:
            expression = _solved_form(program, target, goal, answer, original)
        letter = free_letter(word.text)
        found = find_numbers(word.text)
        edits, roles = [], []
        for m, (role, name) in zip(found, word.mentions.roles):
            if role == "input" and name == target:
                edits.append((m.start, m.end, letter))
            else:
                roles.append((role, name))
        body = replace_spans(word.text, edits)
        try:
            given = format_number(answer)
        except ValueError:
            raise Rejected("answer has no decimal form") from None
        text = f"{body}\nThe answer to this question is {given}. What is the value of {letter}?"
        roles.append(("input", goal))
        inputs = {n: v for n, v in program.inputs.items() if n != target}
        inputs[goal] = answer
        try:
            child = Program(inputs, (("s_inv", expression),), "s_inv", program.fixed)
            if child.result() != original:
                raise Rejected("solved form disagrees", expression)
        except ProgramError as error:
            raise Rejected("solved form invalid", str(error)) from None
        keep = {n for n in child.inputs if child.depends_on(n)} | set(child.fixed)
        roles = [(r, n) if r != "input" or n in keep else ("context", "") for r, n in roles]
        child = Program(
            {k: v for k, v in inputs.items() if k in keep}, child.steps, "s_inv", child.fixed
        )
        meta = {"inverted": 1 + int(parents[0].meta.get("inverted", 0))}
        return word_child(
            self.name,
            parents,
            {"asked": target, "solution": expression},
            text,
            child,
            Mentions(tuple(roles)),
            ctx,
            meta,
        )
