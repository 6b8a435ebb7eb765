"""Parse and whitelist spec expressions.

Why a whitelist: spec files are untrusted input. Only the node types and function names
listed here are accepted; attribute access, dunders, imports, lambdas, f-strings, starred
arguments and calls to anything outside `FUNCTIONS` are rejected with the position.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache

# Functions usable anywhere (concrete evaluation and solver compilation).
SOLVER_FUNCTIONS = frozenset(
    {
        "sum",
        "count",
        "distinct",
        "all",
        "any",
        "abs",
        "min",
        "max",
        "implies",
        "ite",
        "iff",
        "xor",
        "forall",
        "exists",
    }
)
# Quantifier domains: `forall(body for t in integers)` ranges over every integer, so the
# solver keeps a real quantifier (no finite expansion exists).
DOMAINS = frozenset({"integers"})
# Functions over concrete values only (parameters, picks, rendering helpers).
CONCRETE_FUNCTIONS = frozenset(
    {
        "range",
        "len",
        "sorted",
        "list",
        "reversed",
        "zip",
        "enumerate",
        "str",
        "int",
        "rational",
        "index",
        "words",
        "randint",
        "choice",
        "sample",
        "shuffle",
        "gcd",
        "ordinal",
        "join",
        "set",
        "product",
        "round",
        "digits",
        "number_word",
    }
)
FUNCTIONS = SOLVER_FUNCTIONS | CONCRETE_FUNCTIONS

MAX_LENGTH = 2000
MAX_DEPTH = 60

_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Subscript,
    ast.Tuple,
    ast.List,
    ast.Slice,
    ast.ListComp,
    ast.GeneratorExp,
    ast.comprehension,
    ast.Store,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.And,
    ast.Or,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
)

_FRIENDLY = {
    ast.Attribute: "attribute access (a.b)",
    ast.Lambda: "lambda",
    ast.JoinedStr: "f-strings",
    ast.Starred: "starred arguments",
    ast.Dict: "dict literals",
    ast.DictComp: "dict comprehensions",
    ast.Set: "set literals",
    ast.SetComp: "set comprehensions",
    ast.NamedExpr: "the walrus operator",
    ast.Await: "await",
    ast.Yield: "yield",
}


class ExprError(ValueError):
    """A rejected or failing expression; `col` is the 1-based column inside the text."""

    def __init__(self, message: str, text: str = "", col: int | None = None) -> None:
        self.message = message
        self.text = text
        self.col = col
        where = f" (column {col})" if col is not None else ""
        super().__init__(f"{message}{where}")


class EmptyPickError(ExprError):
    """`choice`/`sample` had nothing to pick from (a clue candidate to skip, not a bug)."""


@dataclass(frozen=True)
class Expr:
    """A checked expression: the source text, its whitelisted syntax tree and free names."""

    text: str
    tree: ast.expr
    free: frozenset[str] = frozenset()

    def names(self) -> frozenset[str]:
        """Free names the expression reads (comprehension targets and functions excluded)."""
        return self.free


def _col(node: ast.AST) -> int | None:
    offset = getattr(node, "col_offset", None)
    return None if offset is None else offset + 1


def _check(node: ast.AST, text: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ExprError(f"expression nests deeper than {MAX_DEPTH} levels", text, _col(node))
    if not isinstance(node, _ALLOWED_NODES):
        what = _FRIENDLY.get(type(node), type(node).__name__)
        raise ExprError(f"{what} is not allowed in expressions", text, _col(node))
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExprError(
            f"name {node.id!r} is not allowed (names may not start with '_')", text, _col(node)
        )
    if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float, str, bool)):
        raise ExprError(f"constant {node.value!r} is not allowed", text, _col(node))
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        raise ExprError("strings containing '__' are not allowed", text, _col(node))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise ExprError(
                "only calls of built-in functions by name are allowed", text, _col(node)
            )
        if node.func.id not in FUNCTIONS:
            raise ExprError(
                f"unknown function {node.func.id!r}; allowed: {', '.join(sorted(FUNCTIONS))}",
                text,
                _col(node),
            )
        if node.keywords:
            raise ExprError("keyword arguments are not allowed", text, _col(node))
    if isinstance(node, ast.comprehension):
        if node.is_async:
            raise ExprError("async comprehensions are not allowed", text, _col(node.target))
        targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
        for target in targets:
            if not isinstance(target, ast.Name):
                raise ExprError("comprehension targets must be names", text, _col(target))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        exponent = node.right
        if not (
            isinstance(exponent, ast.Constant)
            and isinstance(exponent.value, int)
            and 0 <= exponent.value <= 8
        ):
            raise ExprError("'**' needs a literal exponent between 0 and 8", text, _col(node))
    for child in ast.iter_child_nodes(node):
        _check(child, text, depth + 1)


def _free_names(tree: ast.AST) -> frozenset[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension):
            targets = node.target.elts if isinstance(node.target, ast.Tuple) else [node.target]
            bound.update(t.id for t in targets if isinstance(t, ast.Name))
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}
    return frozenset(read - bound - DOMAINS)


@lru_cache(maxsize=8192)
def parse(text: str | float | bool) -> Expr:
    """Parse `text` into a checked `Expr`; raise `ExprError` naming the column on rejection."""
    if isinstance(text, bool):
        text = "True" if text else "False"
    if isinstance(text, (int, float)):
        text = repr(text)
    if not isinstance(text, str):
        raise ExprError(f"expected an expression string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters", text)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExprError(f"syntax error: {error.msg}", text, error.offset) from None
    _check(tree, text)
    return Expr(text=text, tree=tree.body, free=_free_names(tree.body))
