"""Operators for SMT-backed pools: `tighten`, `drop-clue` and `reask`.

Each child is re-proved by the solver before it is returned:

- `tighten` re-runs the generation engine (`synth.engine.instance.generate_instance`) on the
  row's own spec, level, seed and index with one `harder` knob pushed a step further (more
  people, houses, variables). The engine proves the new answer unique, as for any row.
- `drop-clue` removes one clue from the text and its assertion from the certificate, and
  keeps the child only if `synth.certificate.verify` still proves the same answer unique.
- `reask` asks for another unknown of the same instance: a solver model gives its value,
  and a second check proves no other solution gives a different one.

Clues are the last `features["clues"]` assertions of the certificate, in the order of the
numbered clue lines of the prompt (as the engine writes them).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import z3

from evolve.operators.base import Context, Rejected, make_child
from synth import certificate
from synth.problem import Problem

# -- certificate surgery -------------------------------------------------------------------


def split_forms(script: str) -> list[str]:
    """Top-level S-expressions of an SMT-LIB2 script (comments dropped, |symbols| respected)."""
    forms, depth, start, i, n = [], 0, None, 0, len(script)
    while i < n:
        ch = script[i]
        if ch == ";" and depth == 0:
            i = script.find("\n", i)
            i = n if i < 0 else i
            continue
        if ch == "|":
            i = script.index("|", i + 1)
        elif ch == '"':
            i = script.index('"', i + 1)
        elif ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and start is not None:
                forms.append(script[start : i + 1])
                start = None
        i += 1
    return forms


@dataclass
class Certificate:
    header: dict[str, Any]
    forms: list[str]

    @classmethod
    def parse(cls, text: str) -> Certificate:
        try:
            header = certificate.parse_header(text)
        except (ValueError, KeyError) as error:
            raise Rejected("bad certificate", str(error)) from None
        base = text.split(certificate.CHECKS_MARKER, 1)[0]
        return cls(header, split_forms(base))

    def asserts(self) -> list[int]:
        return [i for i, f in enumerate(self.forms) if f.startswith("(assert")]

    def text(self, answer: str, kind: str | None = None) -> str:
        kind = kind or self.header["kind"]
        lines = [
            f"; veriforge-certificate: {certificate.FORMAT_VERSION}",
            f"; kind: {kind}",
            f"; answer: {json.dumps(answer, ensure_ascii=False)}",
            f"; data: {json.dumps(self.header['data'], sort_keys=True, ensure_ascii=False)}",
            *self.forms,
            certificate.CHECKS_MARKER,
        ]
        if kind == "unique":
            lines += [
                "(push 1) (assert answer_holds) (check-sat) (pop 1) ; expect sat",
                "(push 1) (assert (not answer_holds)) (check-sat) (pop 1) ; expect unsat",
            ]
        return "\n".join(lines) + "\n"


def clue_block(prompt: str, count: int) -> tuple[list[str], int]:
    """The prompt's paragraphs and the index of the one holding exactly `count` clue lines."""
    paragraphs = prompt.split("\n\n")
    hits = [
        i
        for i, p in enumerate(paragraphs)
        if len([l for l in p.splitlines() if l.strip()]) == count
    ]
    numbered = [i for i in hits if re.match(r"\s*(\d+\.|-)\s", paragraphs[i])]
    hits = numbered or hits
    if len(hits) != 1:
        raise Rejected("clue lines not identifiable", f"{len(hits)} paragraphs with {count} lines")
    return paragraphs, hits[0]


def _renumber_lines(lines: list[str]) -> list[str]:
    if all(re.match(r"\d+\.\s", l) for l in lines):
        return [re.sub(r"^\d+\.", f"{i}.", l) for i, l in enumerate(lines, 1)]
    return lines


def _proved(problem_cert: str, answer: str) -> certificate.Verdict:
    return certificate.verify(problem_cert, answer)


class DropClue:
    name = "drop-clue"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return bool(problem.certificate) and int(problem.features.get("clues", 0)) >= 2

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        row = parents[0]
        count = int(row.features.get("clues", 0))
        cert = Certificate.parse(row.certificate)
        asserts = cert.asserts()
        if count < 2 or len(asserts) < count:
            raise Rejected("too few clues")
        paragraphs, at = clue_block(row.prompt, count)
        lines = [l for l in paragraphs[at].splitlines() if l.strip()]
        order = list(range(count))
        rng.shuffle(order)
        for k in order[:6]:
            drop_form = asserts[len(asserts) - count + k]
            forms = [f for i, f in enumerate(cert.forms) if i != drop_form]
            child_cert = Certificate(cert.header, forms).text(row.answer)
            verdict = _proved(child_cert, row.answer)
            if not verdict.ok:
                continue
            kept = _renumber_lines([l for i, l in enumerate(lines) if i != k])
            prompt = "\n\n".join(paragraphs[:at] + ["\n".join(kept)] + paragraphs[at + 1 :])
            features = {**row.features, "clues": count - 1}
            meta = {**row.meta, "dropped_clues": 1 + int(row.meta.get("dropped_clues", 0))}
            return make_child(
                self.name,
                parents,
                {"dropped": lines[k]},
                prompt,
                row.answer,
                row.answer_type,
                row.grader,
                meta,
                ctx,
                certificate=child_cert,
                features=features,
            )
        raise Rejected("every clue is needed", "dropping any tried clue breaks uniqueness")


# -- reask -----------------------------------------------------------------------------------

_ONE_HOT = re.compile(r"^(?P<base>.+)=(?P<value>[^=]+)$")


def _label(name: str) -> str:
    """`age[Sam]` -> 'the age of Sam'; `v[x]` -> 'the v of x'; `cell[1][2]` -> 'the cell at (1, 2)'."""
    m = re.fullmatch(r"(?P<fam>[^\[]+)(?P<keys>(\[[^\]]+\])+)", name)
    if not m:
        return name
    keys = re.findall(r"\[([^\]]+)\]", m.group("keys"))
    fam = m.group("fam").replace("_", " ")
    return f"the {fam} of {keys[0]}" if len(keys) == 1 else f"the {fam} at ({', '.join(keys)})"


def _unquote(symbol: str) -> str:
    return symbol[1:-1] if symbol.startswith("|") else symbol


class Reask:
    name = "reask"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return bool(problem.certificate) and problem.answer_type in ("integer", "text", "rational")

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        row = parents[0]
        cert = Certificate.parse(row.certificate)
        if cert.header.get("kind") != "unique":
            raise Rejected("not a unique-answer row")
        declared = []
        for form in cert.forms:
            m = re.match(r"\(declare-const (\|[^|]+\||\S+) (\w+)\)", form)
            if m:
                declared.append((_unquote(m.group(1)), m.group(2)))
        holds = next((f for f in cert.forms if f.startswith("(define-fun answer_holds")), "")
        groups: dict[str, list[tuple[str, str]]] = {}
        plain = []
        for name, sort in declared:
            hot = _ONE_HOT.match(name)
            if sort == "Bool" and hot:
                groups.setdefault(hot.group("base"), []).append((name, hot.group("value")))
            elif sort in ("Int", "Real"):
                plain.append((name, sort))
        candidates = [
            ("plain", n, s) for n, s in plain if f"|{n}|" not in holds and f" {n})" not in holds
        ]
        candidates += [
            ("hot", b, "")
            for b, members in groups.items()
            if not any(f"|{n}|" in holds for n, _ in members)
        ]
        if not candidates:
            raise Rejected("no other unknown to ask about")
        rng.shuffle(candidates)
        base = "\n".join(f for f in cert.forms if not f.startswith("(define-fun answer_holds"))
        ctx_z3 = z3.Context()
        for kind, name, sort in candidates[:4]:
            solver = z3.Solver(ctx=ctx_z3)
            solver.set("rlimit", 50_000_000)
            solver.from_string(base)
            if solver.check() != z3.sat:
                raise Rejected("instance has no solution")
            model = solver.model()
            consts = {d.name(): d for d in model.decls()}
            if kind == "plain":
                if name not in consts:
                    continue
                value = model[consts[name]]
                text_value = value.as_string() if z3.is_int_value(value) else None
                if z3.is_rational_value(value):
                    frac = value.as_fraction()
                    text_value = (
                        str(frac.numerator)
                        if frac.denominator == 1
                        else f"{frac.numerator}/{frac.denominator}"
                    )
                if text_value is None:
                    continue
                smt_value = _smt_number(text_value, sort)
                definition = (
                    f"(define-fun answer_holds () Bool (= {certificate.symbol(name)} {smt_value}))"
                )
                label, answer = _label(name), text_value
            else:
                true = [
                    (n, v) for n, v in groups[name] if n in consts and z3.is_true(model[consts[n]])
                ]
                if len(true) != 1:
                    continue
                member, answer = true[0]
                definition = f"(define-fun answer_holds () Bool {certificate.symbol(member)})"
                label = _label(name)
            forms = [f for f in cert.forms if not f.startswith("(define-fun answer_holds")] + [
                definition
            ]
            child_cert = Certificate(cert.header, forms).text(answer, "unique")
            verdict = _proved(child_cert, answer)
            if not verdict.ok:
                continue
            paragraphs = row.prompt.split("\n\n")
            if len(paragraphs) < 3:
                raise Rejected("question paragraph not identifiable")
            question = f"What is {label}?"
            prompt = "\n\n".join(
                paragraphs[:-2] + [question, "Give your final answer as \\boxed{...}."]
            )
            kind_out = (
                "integer"
                if re.fullmatch(r"-?\d+", answer)
                else ("rational" if "/" in answer else "text")
            )
            grader = {"kind": kind_out}
            meta = {**row.meta, "reasked": label}
            return make_child(
                self.name,
                parents,
                {"asked": name},
                prompt,
                answer,
                kind_out,
                grader,
                meta,
                ctx,
                certificate=child_cert,
            )
        raise Rejected("no other unknown is determined", "every tried unknown has several values")


def _smt_number(text: str, sort: str) -> str:
    if "/" in text:
        p, q = text.split("/")
        return f"(/ {_smt_number(p, 'Real')} {_smt_number(q, 'Real')})"
    n = int(text)
    body = f"(- {-n})" if n < 0 else str(n)
    return f"(to_real {body})" if sort == "Real" else body


# -- tighten ---------------------------------------------------------------------------------


BEYOND = 2


class SpecIndex:
    """Spec files by content hash, so a row's `meta.spec_hash` finds the spec that made it."""

    def __init__(self, folders: Sequence[str | Path]) -> None:
        from synth.spec import load_spec_text
        from synth.spec.errors import SpecError

        self.by_hash: dict[str, tuple[Any, str, str]] = {}
        for folder in folders:
            for path in sorted(Path(folder).glob("*.y*ml")):
                text = path.read_text(encoding="utf-8")
                try:
                    spec, spec_hash = load_spec_text(text, str(path))
                except SpecError:
                    continue
                self.by_hash[spec_hash] = (spec, spec_hash, str(path))

    def find(self, spec_hash: str) -> tuple[Any, str, str] | None:
        return self.by_hash.get(spec_hash)


class Tighten:
    name = "tighten"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return bool(problem.certificate) and "spec_hash" in problem.meta and ctx.specs is not None

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        from synth.engine.instance import compile_spec, generate_instance
        from synth.engine.sampling import level_parameters
        from synth.expr.interp import evaluate
        from synth.spec.model import Param

        row = parents[0]
        meta = row.meta
        base_hash = meta.get("base_spec_hash", meta.get("spec_hash"))
        found = ctx.specs.find(base_hash) if ctx.specs is not None else None
        if found is None:
            raise Rejected("spec not found", f"no spec file with hash {base_hash}; pass --specs")
        spec, _, file = found
        level = str(meta.get("level", "default"))
        params = dict(meta.get("parameters") or {})
        overrides = dict(meta.get("overrides") or {})
        knobs = []
        for name, definition in spec.parameters.items():
            if (
                not isinstance(definition, Param)
                or definition.harder == "none"
                or definition.int_range is None
            ):
                continue
            current = params.get(name)
            if not isinstance(current, int) or isinstance(current, bool):
                continue
            lo, hi = (evaluate(v, params) for v in definition.int_range)
            step = 1 if definition.harder == "up" else -1
            # Up to BEYOND steps past the spec's own range: the engine re-proves the result
            # (or rejects it), so going past the hardest level is safe, only maybe slower.
            if lo - BEYOND <= current + step <= hi + BEYOND and current + step >= 0:
                knobs.append((name, current + step))
        if not knobs:
            raise Rejected("already at the hardest setting")
        rng.shuffle(knobs)
        reasons = []
        for name, value in knobs[:2]:
            new_overrides = {**overrides, name: value}
            levels = {k: dict(v) for k, v in spec.levels.items()}
            levels.setdefault(level, {})
            levels[level].update(new_overrides)
            tightened = spec.model_copy(update={"levels": levels})
            assert level_parameters(tightened, level)[name].value == value
            material = json.dumps([base_hash, new_overrides], sort_keys=True)
            new_hash = hashlib.sha256(material.encode()).hexdigest()[:16]
            outcome = generate_instance(
                compile_spec(tightened, new_hash, file),
                level,
                int(meta.get("seed", 0)),
                int(meta.get("index", 0)),
            )
            if outcome.row is None:
                reasons.append(outcome.reason or "rejected")
                continue
            made = Problem.from_row(outcome.row)
            child_meta = {**made.meta, "base_spec_hash": base_hash, "overrides": new_overrides}
            return make_child(
                self.name,
                parents,
                {"knob": name, "value": value},
                made.prompt,
                made.answer,
                made.answer_type,
                made.grader,
                child_meta,
                ctx,
                certificate=made.certificate,
                features=made.features,
                category=made.category,
                difficulty=made.difficulty,
            )
        raise Rejected(reasons[0] if reasons else "engine rejected the tightened instance")
