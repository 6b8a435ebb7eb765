"""Load spec YAML with positions, validate it, and check every expression up front.

Errors name the file, the field (dotted path) and the line:column of the offending value,
so a user can jump straight to it.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from synth.expr import ExprError, parse
from synth.spec.errors import SpecError
from synth.spec.model import ClueFamily, Param, Spec

Marks = dict[tuple, tuple[int, int]]


def _construct(node: yaml.Node, path: tuple, marks: Marks, file: str) -> Any:
    quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
    marks[path] = (node.start_mark.line + 1, node.start_mark.column + 1 + int(quoted))
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, path + ("<key>",), {}, file)
            if not isinstance(key, (str, int)):
                raise SpecError(
                    file,
                    _dotted(path),
                    "mapping keys must be strings",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            key = str(key)
            if key in result:
                raise SpecError(
                    file,
                    _dotted(path + (key,)),
                    "duplicate key",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
            result[key] = _construct(value_node, path + (key,), marks, file)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, path + (i,), marks, file) for i, v in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (("." if out else "") + str(part))
    return out


def _mark(marks: Marks, path: tuple) -> tuple[int | None, int | None]:
    while path:
        if path in marks:
            return marks[path]
        path = path[:-1]
    return (None, None)


def spec_hash(text: str) -> str:
    """Hash of the spec's bytes: instances are a pure function of (this, seed, index)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def load_spec_text(text: str, file: str = "<spec>") -> tuple[Spec, str]:
    """Parse and validate spec text; return the model and its hash, or raise SpecError."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise SpecError(
            file,
            "",
            f"malformed YAML: {problem}",
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
        ) from None
    if node is None or not isinstance(node, yaml.MappingNode):
        raise SpecError(file, "", "a spec must be a YAML mapping with keys spec, name, ...")
    marks: Marks = {}
    raw = _construct(node, (), marks, file)
    try:
        spec = Spec.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        loc = tuple(
            p
            for p in first["loc"]
            if p not in ("function-after",)
            and not str(p).startswith(("function-", "union[", "list[", "str", "int"))
        )
        loc = tuple("int" if p == "int_range" else p for p in loc)
        line, col = _mark(marks, loc)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        if first["type"] == "missing":
            message = f"required field {loc[-1]!r} is missing"
        # union alternatives (a Param form vs an expression) report the same field again
        others = [e for e in error.errors()[1:] if tuple(e["loc"][:2]) != tuple(first["loc"][:2])]
        more = len(others)
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise SpecError(file, _dotted(loc), message, line, col) from None
    _check_expressions(spec, raw, marks, file)
    return spec, spec_hash(text)


def load_spec(path: str | Path) -> tuple[Spec, str]:
    """Load a spec file; see `load_spec_text`."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(str(path), "", f"cannot read file: {error}") from None
    return load_spec_text(text, str(path))


def _check_expressions(spec: Spec, raw: dict, marks: Marks, file: str) -> None:
    """Parse every expression-valued field and check the names it reads, so unsafe syntax
    and typos fail before any work, with the field and position."""

    def fail(path: tuple, message: str, value: Any, col_in_expr: int | None) -> SpecError:
        line, col = _mark(marks, path)
        if col is not None and col_in_expr is not None and line is not None:
            col = col + col_in_expr - 1
        return SpecError(file, _dotted(path), f"{message} in {str(value)!r}", line, col)

    def check(value: Any, path: tuple, known: set[str]) -> None:
        if isinstance(value, bool) or value is None:
            return
        try:
            expr = parse(value)
        except ExprError as error:
            raise fail(path, error.message, value, error.col) from None
        unknown = sorted(expr.names() - known)
        if unknown:
            col = next(
                (
                    n.col_offset + 1
                    for n in ast.walk(expr.tree)
                    if isinstance(n, ast.Name) and n.id == unknown[0]
                ),
                None,
            )
            raise fail(
                path,
                f"unknown name {unknown[0]!r} (known here: {', '.join(sorted(known))})",
                value,
                col,
            )

    params = {"level"} | set(spec.parameters)
    for overrides in spec.levels.values():
        params |= set(overrides)
    unknowns = set(spec.unknowns)
    solved = params | unknowns  # names a constraint, clue or query may read

    def check_lets(lets: dict[str, Any], path: tuple, known: set[str]) -> set[str]:
        bound: set[str] = set()
        for key, v in lets.items():
            check(v, path + (key,), known | bound)
            bound.add(key)
        return bound

    def check_param(param: Any, path: tuple, known: set[str]) -> None:
        if isinstance(param, Param):
            for key, attr in (("int", "int_range"), ("k", "k"), ("expr", "expr")):
                value = getattr(param, attr)
                if isinstance(value, list):
                    for i, v in enumerate(value):
                        check(v, path + (key, i), known)
                elif value is not None:
                    check(value, path + (key,), known)
            if isinstance(param.choice, str):
                check(param.choice, path + ("choice",), known)
        elif isinstance(param, str):
            check(param, path, known)

    for name, param in spec.parameters.items():
        check_param(param, ("parameters", name), params - {name})
    for level, overrides in spec.levels.items():
        for name, param in overrides.items():
            check_param(param, ("levels", level, name), params - {name})
    for name, unknown in spec.unknowns.items():
        for i, v in enumerate(unknown.range or []):
            check(v, ("unknowns", name, "range", i), params)
        if unknown.values is not None:
            check(unknown.values, ("unknowns", name, "values"), params)
        for key, v in unknown.index.items():
            check(v, ("unknowns", name, "index", key), params)
    for i, c in enumerate(spec.constraints):
        check(c, ("constraints", i), solved)
    for i, fact in enumerate(spec.facts):
        lets = check_lets(fact.let, ("facts", i, "let"), params)
        if fact.holds is not None:
            check(fact.holds, ("facts", i, "holds"), solved | lets)
    for name, v in spec.plant.items():
        index = set(spec.unknowns[name].index) if name in spec.unknowns else set()
        check(v, ("plant", name), params | index)

    def check_family(family: ClueFamily, path: tuple) -> None:
        known = solved | {"clue_index"}
        known |= check_lets(family.let, path + ("let",), known)
        if family.when is not None:
            check(family.when, path + ("when",), known)
        check(family.holds, path + ("holds",), known)

    for i, family in enumerate(spec.clues.families):
        check_family(family, ("clues", "families", i))
    for var, patterns in spec.solver.triggers.items():
        for i, v in enumerate(patterns):  # names are bound inside the quantifier: syntax only
            try:
                parse(v)
            except ExprError as error:
                raise fail(("solver", "triggers", var, i), error.message, v, error.col) from None
    q = spec.query
    query_lets = check_lets(q.let, ("query", "let"), solved)
    if spec.clues.count is not None:
        check(spec.clues.count, ("clues", "count"), params | query_lets)
    check(spec.clues.start, ("clues", "start"), params)
    extra = {"holds": {"x"}, "render": {"value"}}
    for key in ("ask", "among", "holds", "maximize", "minimize", "render"):
        if getattr(q, key) is not None:
            check(getattr(q, key), ("query", key), solved | query_lets | extra.get(key, set()))
    if q.options is not None:
        for i, family in enumerate(q.options.families):
            check_family(family, ("query", "options", "families", i))
