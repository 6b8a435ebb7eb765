"""The spec expression language: a whitelisted subset of Python expression syntax.

Expressions are parsed with `ast` and checked node by node (`parse`); nothing is ever
`eval`ed. Two interpreters walk the checked tree: `evaluate` computes concrete values
(parameters, clue picks, the planted solution) and `compile` builds solver terms.
"""

from synth.expr.parse import Expr, ExprError, parse

__all__ = ["Expr", "ExprError", "parse"]
