"""SMT-LIB2 certificates: write them at generation time, re-prove rows from them alone.

A certificate is a plain SMT-LIB2 script any solver can run: declarations, the problem's
assertions (P), named definitions (`answer_holds`, `objective`, `option_A`, ...) and, after
a `; checks` marker, the checks with their expected verdicts as comments. A header of
comment lines says what kind of claim it is:

- `unique`:   P ∧ answer_holds is sat and P ∧ ¬answer_holds is unsat.
- `optimum`:  as `unique` for the optimal answer, plus no solution beats `optimum`.
- `count`:    P has exactly `answer` solutions projected on the listed variables.
- `choice`:   the options that must be (or could be) true under P are exactly the answer.

z3's pseudo-Boolean atoms are rewritten into standard integer arithmetic so cvc5 and other
solvers read the same file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import z3

FORMAT_VERSION = 1
CHECKS_MARKER = "; checks"
_PB_OPS = {"pbeq": "=", "pble": "<=", "pbge": ">=", "at-most": "<=", "at-least": ">="}


def _tokens(text: str) -> list[str]:
    """Split SMT-LIB2 text into parens, |quoted| symbols, "strings" and atoms."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r\n":
            i += 1
        elif ch in "()":
            out.append(ch)
            i += 1
        elif ch == "|":
            j = text.index("|", i + 1)
            out.append(text[i : j + 1])
            i = j + 1
        elif ch == '"':
            j = i + 1
            while True:
                j = text.index('"', j)
                if j + 1 < n and text[j + 1] == '"':
                    j += 2
                    continue
                break
            out.append(text[i : j + 1])
            i = j + 1
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n()|"':
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _tree(tokens: list[str]) -> Any:
    stack: list[list[Any]] = [[]]
    for tok in tokens:
        if tok == "(":
            stack.append([])
        elif tok == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    return stack[0][0]


def _int(k: int) -> str:
    return str(k) if k >= 0 else f"(- {-k})"


def _rewrite(node: Any) -> Any:
    if not isinstance(node, list):
        return node
    node = [_rewrite(child) for child in node]
    head = node[0] if node else None
    if isinstance(head, list) and len(head) >= 3 and head[0] == "_" and head[1] in _PB_OPS:
        op, params, args = head[1], [int(p) for p in head[2:]], node[1:]
        k = params[0]
        coeffs = params[1:] if op.startswith("pb") else [1] * len(args)
        terms = [["ite", a, _int(c), "0"] for a, c in zip(args, coeffs)]
        total = terms[0] if len(terms) == 1 else ["+", *terms]
        return [_PB_OPS[op], total, _int(k)]
    return node


def _print(node: Any) -> str:
    if not isinstance(node, list):
        return node
    return "(" + " ".join(_print(child) for child in node) + ")"


_ATOM = r"(?:\|[^|]*\||[^\s()|]+)"
_FLAT_PB = re.compile(
    r"\(\(_ (pbeq|pble|pbge|at-most|at-least)((?: -?\d+)+)\)((?:\s+" + _ATOM + r")+)\)"
)


def _flat_pb(match: re.Match) -> str:
    """Fast path: a PB atom whose arguments are plain symbols."""
    op, params = match.group(1), [int(p) for p in match.group(2).split()]
    args = re.findall(_ATOM, match.group(3))
    coeffs = params[1:] if op.startswith("pb") else [1] * len(args)
    terms = [f"(ite {a} {_int(c)} 0)" for a, c in zip(args, coeffs)]
    total = terms[0] if len(terms) == 1 else "(+ " + " ".join(terms) + ")"
    return f"({_PB_OPS[op]} {total} {_int(params[0])})"


def portable(sexpr: str) -> str:
    """Rewrite z3's pseudo-Boolean atoms (`(_ pbeq ...)`, `(_ at-most k)`) into standard
    integer arithmetic, so any SMT-LIB2 solver reads the certificate."""
    text = " ".join(sexpr.split())
    if "(_ pb" not in text and "(_ at-" not in text:
        return text
    text = _FLAT_PB.sub(_flat_pb, text)
    if "(_ pb" not in text and "(_ at-" not in text:
        return text
    return _print(_rewrite(_tree(_tokens(text))))


_SIMPLE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789~!@$%^&*_-+=<>.?/")


def symbol(name: str) -> str:
    """An SMT-LIB2 symbol for `name`, |quoted| unless it is a simple symbol."""
    if name and not name[0].isdigit() and all(ch in _SIMPLE for ch in name):
        return name
    if "|" in name or "\\" in name:
        raise ValueError(f"variable name {name!r} cannot be written in SMT-LIB2")
    return f"|{name}|"


def build(
    declared: list[tuple[str, str]],
    assertions: list[z3.BoolRef],
    kind: str,
    answer: str,
    definitions: dict[str, z3.ExprRef],
    data: dict[str, Any] | None = None,
) -> str:
    """The certificate text for one row; `declared` lists (name, sort) of every variable."""
    lines = [
        f"; veriforge-certificate: {FORMAT_VERSION}",
        f"; kind: {kind}",
        f"; answer: {json.dumps(answer, ensure_ascii=False)}",
        f"; data: {json.dumps(data or {}, sort_keys=True, ensure_ascii=False)}",
        "(set-logic ALL)",
    ]
    for name, sort in declared:
        lines.append(f"(declare-const {symbol(name)} {sort})")
    lines += [f"(assert {portable(a.sexpr())})" for a in assertions]
    for name, e in definitions.items():
        body = e.sexpr() if isinstance(e, z3.ExprRef) else str(e)
        lines.append(f"(define-fun {name} () {e.sort().sexpr()} {portable(body)})")
    lines.append(CHECKS_MARKER)
    for check, expect in _script_checks(kind, data or {}, list(definitions), answer):
        lines.append(f"(push 1) (assert {check}) (check-sat) (pop 1) ; expect {expect}")
    return "\n".join(lines) + "\n"


def _script_checks(
    kind: str, data: dict[str, Any], names: list[str], answer: str
) -> list[tuple[str, str]]:
    if kind == "unique":
        return [("answer_holds", "sat"), ("(not answer_holds)", "unsat")]
    if kind == "optimum":
        better = ">" if data.get("sense") == "max" else "<"
        return [
            ("(and answer_holds (= objective optimum))", "sat"),
            (f"({better} objective optimum)", "unsat"),
            ("(and (= objective optimum) (not answer_holds))", "unsat"),
        ]
    if kind == "choice":
        correct = set(answer.split(","))
        checks = []
        for letter in data.get("letters", []):
            name = f"option_{letter}"
            if data.get("semantics") == "must":
                checks.append((f"(not {name})", "unsat" if letter in correct else "sat"))
            else:
                checks.append((name, "sat" if letter in correct else "unsat"))
        return checks
    return [("true", "sat")]


# -- verification ------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    reason: str = ""
    checks: list[str] = field(default_factory=list)


def parse_header(text: str) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.startswith(";"):
            break
        key, _, value = line[1:].strip().partition(":")
        header[key.strip()] = value.strip()
    if header.get("veriforge-certificate") != str(FORMAT_VERSION):
        raise ValueError("not a veriforge certificate (missing or unknown header)")
    header["answer"] = json.loads(header["answer"])
    header["data"] = json.loads(header.get("data") or "{}")
    return header


class _Checker:
    """Claims against one certificate, decided by a backend's prover (z3 by default)."""

    def __init__(self, prover: Any) -> None:
        self.prover = prover
        self.log: list[str] = prover.log

    def check(self, claim: str) -> z3.CheckSatResult:
        return self.prover.check(claim)

    def count(self, project: list[str], limit: int) -> int | None:
        return self.prover.count(project, limit)

    def expect(self, claim: str, expected: z3.CheckSatResult) -> str | None:
        result = self.check(claim)
        if result == z3.unknown:
            return f"solver returned unknown for {claim} (not verified)"
        if result != expected:
            return f"expected {expected} for {claim}, solver says {result}"
        return None


# Default resource limits per check when re-proving (deterministic units of each solver).
VERIFY_LIMITS = {"z3": 50_000_000, "cvc5": 20_000_000}


def quantified(text: str) -> bool:
    """Does the certificate keep real quantifiers?"""
    return "(forall (" in text or "(exists (" in text


def verify(
    text: str,
    answer: str,
    rlimit: int | None = None,
    backend: str = "z3",
    strategy: str = "auto",
) -> Verdict:
    """Re-prove a row's answer (and its uniqueness) from the certificate text alone, with
    `backend` (z3 natively, or cvc5 and others through pysmt). `auto` picks the backend's
    native quantifier strategy when the certificate keeps quantifiers, else `ground`.
    Unknown names raise `synth.backends.BackendError`."""
    from synth.backends import choose
    from synth.backends.registry import QUANTIFIED_DEFAULT

    if strategy == "auto":  # the formulas are fixed already: auto only picks the options
        strategy = QUANTIFIED_DEFAULT.get(backend, "ground") if quantified(text) else "ground"
    b, s = choose(backend, strategy, False, generate=False)
    try:
        header = parse_header(text)
    except (ValueError, KeyError, json.JSONDecodeError) as error:
        return Verdict(False, f"bad certificate header: {error}")
    if header["answer"] != answer:
        return Verdict(False, f"certificate proves {header['answer']!r}, row says {answer!r}")
    base = text.split(CHECKS_MARKER, 1)[0]
    limit = rlimit or VERIFY_LIMITS.get(b.name, VERIFY_LIMITS["z3"])
    kind, data = header.get("kind"), header["data"]
    log: list[str] = []
    try:
        checker = _Checker(b.prover(base, s, limit))
        log = checker.log
        problem = _verify_kind(checker, kind, answer, data)
    except (z3.Z3Exception, ValueError, RuntimeError) as error:
        return Verdict(False, f"solver error ({b.name}): {error}", log)
    return Verdict(problem is None, problem or "", log)


def _verify_kind(c: _Checker, kind: str | None, answer: str, data: dict[str, Any]) -> str | None:
    if kind == "unique":
        return c.expect("answer_holds", z3.sat) or c.expect("(not answer_holds)", z3.unsat)
    if kind == "optimum":
        better = ">" if data.get("sense") == "max" else "<"
        return (
            c.expect("(and answer_holds (= objective optimum))", z3.sat)
            or c.expect(f"({better} objective optimum)", z3.unsat)
            or c.expect("(and (= objective optimum) (not answer_holds))", z3.unsat)
        )
    if kind == "choice":
        letters = data.get("letters", [])
        correct = []
        for letter in letters:
            if data.get("semantics") == "must":
                result = c.check(f"(not option_{letter})")
                hit = result == z3.unsat
            else:
                result = c.check(f"option_{letter}")
                hit = result == z3.sat
            if result == z3.unknown:
                return f"solver returned unknown for option {letter} (not verified)"
            if hit:
                correct.append(letter)
        if c.expect("true", z3.sat):
            return "the problem has no solution"
        claimed = answer.split(",")
        if sorted(claimed) != correct:
            return f"options that hold are {','.join(correct) or 'none'}, answer says {answer}"
        if data.get("select") == "one" and len(correct) != 1:
            return f"{len(correct)} options hold; a single-answer question needs exactly one"
        return None
    if kind == "count":
        return _verify_count(c, answer, data)
    return f"unknown certificate kind {kind!r}"


def constants(exprs: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """Uninterpreted constants occurring in `exprs`, by name."""
    seen: dict[str, z3.ExprRef] = {}
    stack, visited = list(exprs), set()
    while stack:
        e = stack.pop()
        if e.get_id() in visited:
            continue
        visited.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            seen[e.decl().name()] = e
        elif z3.is_app(e):
            stack.extend(e.children())
    return [seen[name] for name in sorted(seen)]


def _verify_count(c: _Checker, answer: str, data: dict[str, Any]) -> str | None:
    try:
        claimed = int(answer)
    except ValueError:
        return f"count answer {answer!r} is not an integer"
    try:
        found = c.count(list(data.get("project", [])), claimed)
    except ValueError as error:
        return str(error)
    if found is None:
        return "solver returned unknown while counting (not verified)"
    if found != claimed:
        return (
            f"counted {found if found <= claimed else 'more than ' + str(claimed)} "
            f"solutions, answer says {claimed}"
        )
    return None
