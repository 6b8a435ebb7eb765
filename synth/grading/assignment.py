"""Assignment answers: read a stated solution in the row's format and check it.

A stated solution equal to the gold one is correct. Otherwise it is checked against the
row's formal constraints (its SMT-LIB2 certificate), so that *any* valid solution scores
where a problem has several; failing that, partial credit is the share of variables that
match the gold solution.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict

import z3

from synth.certificate import CHECKS_MARKER, constants
from synth.grading.compare import normalise_text

_GRID_TOKEN = re.compile(r"-?\d+|[^\W\d_]+")
_LIST_SPLIT = re.compile(r" ?(?:,|;|->|→|>|\|) ?")  # on text whose whitespace is collapsed
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}(?:\{[^{}]*\})?")
_COMMAND = re.compile(r"\\[A-Za-z]+")
_PAIR_SEPARATOR = re.compile(r"=|:|->|→|\bis\b")


def _index_of(label: str) -> str:
    inner = label[label.find("[") + 1 : label.rfind("]")] if "[" in label else label
    return inner


def read(text: str, variables: list[str], fmt: str) -> dict[str, str] | None:
    """label -> normalised value, or None when the text is not a full assignment."""
    text = re.sub(r"\\text\{([^{}]*)\}", r"\1", text)
    text = text.replace("\\\\", "\n").replace("\\n", "\n")
    text = _ENVIRONMENT.sub(" ", text)  # \begin{pmatrix} ... \end{pmatrix}
    if fmt == "grid":
        tokens = _GRID_TOKEN.findall(_COMMAND.sub(" ", text))  # \hline, \quad: not cells
        if len(tokens) != len(variables):
            return None
        return {v: normalise_text(t) for v, t in zip(variables, tokens)}
    if fmt == "list":
        # newlines separate values; other whitespace runs collapse to one space first, so
        # no pattern here can backtrack over a long run of blanks
        flat = " ".join(",".join(text.splitlines()).split())
        parts = [p for p in _LIST_SPLIT.split(flat.strip("[]().")) if p.strip()]
        if len(parts) != len(variables):
            return None
        return {v: normalise_text(p) for v, p in zip(variables, parts)}
    if fmt == "set":
        body = normalise_text(text)
        if body in ("none", "nobody", "no one", ""):
            chosen: set[str] = set()
        else:
            chosen = {normalise_text(p) for p in re.split(r",|;|&|\band\b", text) if p.strip()}
        names = {normalise_text(_index_of(v)): v for v in variables}
        if not chosen <= set(names):
            return None
        return {v: "true" if normalise_text(_index_of(v)) in chosen else "false" for v in variables}
    return _read_mapping(text, variables)


def _read_mapping(text: str, variables: list[str]) -> dict[str, str] | None:
    pairs: dict[str, str] = {}
    try:
        loaded = json.loads(text)
        if isinstance(loaded, dict):
            pairs = {str(k): str(v) for k, v in loaded.items()}
    except ValueError:
        for piece in re.split(r",|;|\n", text):
            piece = " ".join(piece.split())
            separator = _PAIR_SEPARATOR.search(piece)
            if separator is None:
                continue
            key, value = piece[: separator.start()].strip(), piece[separator.end() :].strip()
            if key and value:
                pairs[key] = value
    keys = {}
    for v in variables:
        keys[normalise_text(v)] = v
        keys.setdefault(normalise_text(_index_of(v)), v)
    out: dict[str, str] = {}
    for key, value in pairs.items():
        label = keys.get(normalise_text(key))
        if label is None:
            return None
        out[label] = normalise_text(value)
    return out if len(out) == len(variables) else None


# -- validity against the certificate ---------------------------------------------------


class _Checker:
    """The certificate's problem, parsed once, with its declared constants by name."""

    def __init__(self, certificate: str) -> None:
        self.ctx = z3.Context()
        self.solver = z3.Solver(ctx=self.ctx)
        self.solver.set("rlimit", 20_000_000)
        self.solver.from_string(certificate.split(CHECKS_MARKER, 1)[0])
        self.consts: dict[str, z3.ExprRef] = {}
        for decl in self._declarations(certificate):
            self.consts[decl] = None  # type: ignore[assignment]
        self._collect()
        self.by_name = {normalise_text(n): n for n in self.consts}
        self.one_hot = {n.split("=", 1)[0] for n in self.consts if "=" in n}

    @staticmethod
    def _declarations(certificate: str) -> list[str]:
        return [
            m.group(1) or m.group(2)
            for m in re.finditer(r"\(declare-const (?:\|([^|]*)\||(\S+)) ", certificate)
        ]

    def _collect(self) -> None:
        for const in constants(list(self.solver.assertions())):
            self.consts[const.decl().name()] = const

    def valid(self, assignment: dict[str, str]) -> bool:
        literals = []
        for label, value in assignment.items():
            if label in self.one_hot:
                name = self.by_name.get(normalise_text(f"{label}={value}"))
                if name is None:
                    return False  # a value outside the variable's domain
                if self.consts.get(name) is not None:
                    literals.append(self.consts[name])
                continue
            term = self.consts.get(label)
            if term is None:
                continue  # a variable no constraint mentions
            if z3.is_bool(term):
                literals.append(term if value == "true" else z3.Not(term))
            else:
                try:
                    number = int(value) if z3.is_int(term) else value
                except ValueError:
                    return False
                literals.append(term == number)
        return self.solver.check(*literals) == z3.sat


_CHECKERS: OrderedDict[int, _Checker] = OrderedDict()


def valid_by_certificate(certificate: str, assignment: dict[str, str]) -> bool:
    """Does the assignment satisfy the row's formal constraints? (parsed certificates are
    kept for the 32 most recent rows)"""
    key = hash(certificate)
    checker = _CHECKERS.get(key)
    if checker is None:
        checker = _Checker(certificate)
        _CHECKERS[key] = checker
        if len(_CHECKERS) > 32:
            _CHECKERS.popitem(last=False)
    else:
        _CHECKERS.move_to_end(key)
    try:
        return checker.valid(assignment)
    except z3.Z3Exception:
        return False
