"""Grading throughput: grades per second per answer type, on one core.

    .venv/bin/python benchmarks/bench_grade.py            # full run (a few minutes)
    .venv/bin/python benchmarks/bench_grade.py --quick    # smoke run (about a minute)

What is measured, all in this run, on this machine:

1. A real pool, generated once at the start through the veriforge runner (`make_jobs` +
   `run_jobs`, every level of each spec): integer answers from age_puzzle, linear_system
   and counting; text from logic_grid and scheduling; choice from ar_must_be_true;
   assignments from sudoku, futoshiki (grids), knights_knaves (set) and race_finish (list).
   Answer types the specs do not produce are synthetic rows: rational ("3/4"), real
   (grader {"kind": "real", "tolerance": 1e-6}), expression, boolean and multi_choice.
2. For each row, several realistic responses: a few hundred characters of reasoning and
   then the final answer in \\boxed{} (about 60% correct, in the ways models write them:
   "\\frac{3}{4}" for 3/4, "(x+1)^2" for x^2+2x+1, "\\text{B}", a grid with LaTeX row
   breaks; about 40% wrong: off-by-some numbers, another option, and for assignments mostly
   grids wrong in exactly one cell).
3. Per answer type, `synth.grading.grade(row, response)` in a single process with
   OMP_NUM_THREADS=1: one first pass over every (row, response) pair (cold caches: every
   gold answer is parsed then), then whole passes over the pairs until at least
   --min-seconds (default 1 s) have gone by. grades/s = calls / wall-clock seconds of those
   passes. Each measurement runs in a fresh process; --repeat (default 3) of them per type,
   interleaved across types, and the table shows the median.
4. Hostile responses (a 1 MB response, 100k nested braces, exponent bombs, 4,000-character
   statements built to make regular expressions backtrack): milliseconds per grade() call,
   each case in a fresh process, the slowest of up to 3 calls (the first one cold), under
   a time limit (--hostile-timeout).

Targets (informational; the exit code is 0 unless a measurement crashed): >= 5,000 grades/s
for numeric answers (integer, rational, real), >= 1,000/s for assignments. Results also go
to benchmarks/results/bench_grade.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from machine import IdleWait, machine_busy_seconds, own_children_cpu

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "bench_grade.json"
MARK = "@@BENCH-RESULT "

NUMERIC_TARGET = 5_000.0
ASSIGNMENT_TARGET = 1_000.0

# (spec file stem, answer type it produces)
POOL_SPECS = [
    ("age_puzzle", "integer"),
    ("linear_system", "integer"),
    ("counting", "integer"),
    ("logic_grid", "text"),
    ("scheduling", "text"),
    ("ar_must_be_true", "choice"),
    ("sudoku", "assignment"),
    ("futoshiki", "assignment"),
    ("knights_knaves", "assignment"),
    ("race_finish", "assignment"),
]
TYPE_ORDER = [
    "integer",
    "rational",
    "real",
    "expression",
    "boolean",
    "choice",
    "multi_choice",
    "text",
    "assignment",
]
# Extra rows that split a type by where its rows / responses come from.
SUBGROUPS = {
    "real": ["real/decimal", "real/closed-form"],
    "assignment": [
        "assignment/sudoku",
        "assignment/futoshiki",
        "assignment/knights_knaves",
        "assignment/race_finish",
    ],
}
RESPONSES_PER_ROW = 5


HOSTILE_LIMIT_MS = 100.0  # the bound for any hostile response


def target_of(group: str) -> float | None:
    kind = group.split("/")[0]
    if kind in ("integer", "rational", "real"):
        return NUMERIC_TARGET
    if kind == "assignment":
        return ASSIGNMENT_TARGET
    return None


# -- realistic responses -------------------------------------------------------------------

SENTENCES = [
    "Let me set up the problem carefully before computing anything.",
    "From the first condition we get {a} + {b} = {c}, so the remaining quantity is {d}.",
    "Checking the second clue: with {a} the total would exceed {c}, which is impossible.",
    "We can write this as $x + {a} = {c}$, hence $x = {d}$.",
    "Now consider the reversed order; that contradicts the earlier deduction.",
    "Substituting back, ${a} \\times {b} = {e}$, which is consistent with the constraints.",
    "So far every constraint is satisfied, and no other option remains.",
    "Let me double-check: {a} - {b} = {f}.",
    "Eliminating the impossible cases leaves exactly one possibility.",
    "By symmetry the other arrangement gives the same count, so we consider one of them.",
    "The third statement fixes position {a}, and the fourth rules out {b} and {d}.",
    "Wait, I should verify the edge case where nothing moves: it gives {f}, not {c}.",
]
ENDINGS = [
    "\n\nTherefore, the answer is $\\boxed{{{}}}$.",
    "\n\nSo the final answer is \\boxed{{{}}}.",
    "\n\n**Final Answer**\n\\[\n\\boxed{{{}}}\n\\]",
    " The answer is \\boxed{{{}}}",
]


def reasoning(rng: random.Random) -> str:
    goal = rng.randint(200, 700)
    parts: list[str] = []
    size = 0
    while size < goal:
        a, b = rng.randint(1, 60), rng.randint(1, 60)
        text = rng.choice(SENTENCES).format(
            a=a, b=b, c=a + b, d=rng.randint(1, 99), e=a * b, f=a - b
        )
        parts.append(text)
        size += len(text) + 1
    return " ".join(parts)


def respond(rng: random.Random, stated: str) -> str:
    return reasoning(rng) + rng.choice(ENDINGS).format(stated)


def _int_wrong(rng: random.Random, gold: int) -> str:
    choice = rng.random()
    if choice < 0.5:
        return str(gold + rng.choice([-2, -1, 1, 2]))
    if choice < 0.8:
        return str(gold + rng.randint(3, 30) * rng.choice([-1, 1]))
    return str(gold * 2 if gold else 1)


def integer_variants(rng: random.Random, row: dict, ok: bool) -> str:
    gold = int(row["answer"])
    if not ok:
        return _int_wrong(rng, gold)
    return rng.choice(
        [str(gold), str(gold), f"{gold:,}" if abs(gold) >= 1000 else str(gold), f"x = {gold}"]
        + ([f"{gold} \\text{{ years}}"] if "age" in row.get("source", "") else [])
    )


def text_variants(rng: random.Random, row: dict, ok: bool, others: list[str]) -> str:
    gold = row["answer"]
    if ok:
        return rng.choice([gold, gold, f"\\text{{{gold}}}", gold.lower(), f"\\text{{ {gold} }}"])
    grader = json.loads(row["grader"] or "{}")
    pool = [o for o in (grader.get("options") or others) if o != gold]
    return rng.choice(pool) if pool else gold + "s"


def choice_variants(rng: random.Random, row: dict, ok: bool) -> str:
    grader = json.loads(row["grader"] or "{}")
    options: dict[str, str] = grader.get("options") or {}
    gold = row["answer"]
    letter = gold if ok else rng.choice([x for x in options if x != gold] or ["Z"])
    forms = [letter, letter, f"({letter})", f"\\text{{{letter}}}", f"\\text{{({letter})}}"]
    if letter in options:
        forms.append(options[letter])
    return rng.choice(forms)


def grid_variants(rng: random.Random, row: dict, ok: bool) -> str:
    rows = [r.split() for r in row["answer"].strip().split("\n")]
    if not ok:
        rows = [list(r) for r in rows]
        size = len(rows)
        values = sorted({c for r in rows for c in r})
        i, j = rng.randrange(size), rng.randrange(len(rows[0]))
        if rng.random() < 0.75 or len(rows[0]) < 2:  # wrong in exactly one cell
            rows[i][j] = rng.choice([v for v in values if v != rows[i][j]] or ["0"])
        else:  # two cells of a row swapped
            k = (j + 1) % len(rows[i])
            rows[i][j], rows[i][k] = rows[i][k], rows[i][j]
    style = rng.random()
    if style < 0.4:
        return "\n".join(" ".join(r) for r in rows)
    if style < 0.8:
        return " \\\\ ".join(" & ".join(r) for r in rows)
    return ", ".join(c for r in rows for c in r)


def list_variants(rng: random.Random, row: dict, ok: bool) -> str:
    names = [n.strip() for n in row["answer"].split(",")]
    if not ok:
        i = rng.randrange(len(names) - 1)
        names[i], names[i + 1] = names[i + 1], names[i]
    sep = rng.choice([", ", ", ", " > ", "; "])
    return sep.join(names)


def set_variants(rng: random.Random, row: dict, ok: bool) -> str:
    grader = json.loads(row["grader"])
    everyone = [v[v.find("[") + 1 : v.rfind("]")] for v in grader["variables"]]
    chosen = [] if row["answer"].strip().lower() == "none" else row["answer"].split(", ")
    chosen = [c.strip() for c in chosen]
    if not ok:
        outside = [n for n in everyone if n not in chosen]
        if chosen and (not outside or rng.random() < 0.5):
            chosen.pop(rng.randrange(len(chosen)))
        else:
            chosen.append(rng.choice(outside))
    if not chosen:
        return "none"
    if len(chosen) > 1 and rng.random() < 0.3:
        return ", ".join(chosen[:-1]) + " and " + chosen[-1]
    text = ", ".join(chosen)
    return f"\\text{{{text}}}" if rng.random() < 0.2 else text


def _signed(coef: int, term: str, first: bool = False) -> str:
    """+3x / -3x / +x / -x (first term without a leading +)."""
    if coef == 0:
        return ""
    body = term if abs(coef) == 1 and term else f"{abs(coef)}{term}"
    sign = "-" if coef < 0 else ("" if first else "+")
    return sign + body


def synthetic_rows(rng: random.Random, count: int) -> dict[str, list[tuple[dict, list]]]:
    """Rows for the answer types the specs do not produce, each with its responses as
    (stated answer, expected correct, subgroup or None)."""
    out: dict[str, list[tuple[dict, list]]] = {}

    def row(answer: str, answer_type: str, grader: dict | None = None) -> dict:
        return {
            "answer": answer,
            "answer_type": answer_type,
            "grader": json.dumps(grader or {"kind": answer_type}),
            "certificate": "",
            "source": "synthetic",
        }

    def mix(k: int) -> list[bool]:
        picks = [i < round(0.6 * k) for i in range(k)]
        rng.shuffle(picks)
        return picks

    # rational
    items = []
    for _ in range(count):
        q = rng.randint(2, 16)
        p = rng.choice([x for x in range(-40, 41) if x and math.gcd(x, q) == 1])
        gold = f"{p}/{q}"
        terminating = all(f in (2, 5) for f in _factors(q))
        said = []
        for ok in mix(RESPONSES_PER_ROW):
            neg = "-" if p < 0 else ""
            if ok:
                forms = [
                    gold,
                    f"{neg}\\frac{{{abs(p)}}}{{{q}}}",
                    f"{neg}\\dfrac{{{abs(p)}}}{{{q}}}",
                ]
                if terminating:
                    forms.append(_decimal(p, q))
                said.append((rng.choice(forms), True, None))
            else:
                forms = [f"{q}/{p}" if abs(p) != 1 else f"{p * q}", f"\\frac{{{p + 1}}}{{{q}}}"]
                if not terminating:
                    forms.append(f"{p / q:.2f}")
                said.append((rng.choice(forms), False, None))
        items.append((row(gold, "rational"), said))
    out["rational"] = items

    # real: decimal golds, some of them closed forms that responses may state as such
    items = []
    grader = {"kind": "real", "tolerance": 1e-6}
    for i in range(count):
        closed = i % 4 == 0
        if closed:
            k = rng.choice([2, 3, 5, 6, 7, 10, 11, 13])
            form, value = rng.choice(
                [
                    (f"\\sqrt{{{k}}}", math.sqrt(k)),
                    (f"{k}\\pi", k * math.pi),
                    (f"\\frac{{\\pi}}{{{k}}}", math.pi / k),
                    (f"e^{{{k % 4 + 1}}}", math.exp(k % 4 + 1)),
                    (f"\\ln {k}", math.log(k)),
                ]
            )
        else:
            value = rng.uniform(0.05, 5000.0)
            form = None
        gold = f"{value:.12g}"
        said = []
        for ok in mix(RESPONSES_PER_ROW):
            if ok:
                if closed and rng.random() < 0.5:
                    said.append((form, True, "real/closed-form"))
                else:
                    fmt = rng.choice([".8g", ".9g", ".10g", ".12g"])
                    said.append((format(value, fmt), True, "real/decimal"))
            else:
                wrong = rng.choice([value * 1.001, value * 0.99, value + 1])
                fmt = rng.choice([".4g", ".8g"])
                said.append((format(wrong, fmt), False, "real/decimal"))
        items.append((row(gold, "real", grader), said))
    out["real"] = items

    # expression
    items = []
    for i in range(count):
        a, b = (
            rng.choice([x for x in range(-9, 10) if x]),
            rng.choice([x for x in range(-9, 10) if x]),
        )
        family = i % 4
        if family == 0:  # (x+a)(x+b)
            gold = "x^2" + _signed(a + b, "x") + _signed(a * b, "")
            right = [
                f"(x{a:+d})(x{b:+d})",
                f"(x{b:+d})(x{a:+d})",
                "x^{2} " + _signed(a + b, "x").replace("+", "+ ").replace("-", "- "),
                f"\\left(x{a:+d}\\right)\\left(x{b:+d}\\right)",
            ]
            right[2] = (right[2] + " " + _signed(a * b, "")).strip()
            c = a if a != b else a + 1  # (x+c)^2 must not be the gold polynomial
            wrong = [f"(x{a:+d})(x{-b:+d})", "x^2" + _signed(a + b, "x"), f"(x{c:+d})^2"]
        elif family == 1:  # a/x + b/y
            gold = f"\\frac{{{a}y{b:+d}x}}{{xy}}"
            right = [f"\\frac{{{a}}}{{x}}+\\frac{{{b}}}{{y}}", f"{a}/x {b:+d}/y"]
            wrong = [f"\\frac{{{a}{b:+d}}}{{x+y}}", f"\\frac{{{a}}}{{x}}"]
        elif family == 2:  # trigonometry
            k = abs(a)
            gold = f"{k}\\sin(2x)"
            right = [f"{2 * k}\\sin(x)\\cos(x)", f"{2 * k} \\sin x \\cos x"]
            wrong = [f"{2 * k}\\sin(x)", f"{k}\\sin(x)\\cos(x)"]
        else:  # a(x+b)^2 expanded
            gold = f"{a}x^2" + _signed(2 * a * b, "x") + _signed(a * b * b, "")
            right = [f"{a}(x{b:+d})^2", f"{a}(x{b:+d})(x{b:+d})"]
            wrong = [f"{a}(x{-b:+d})^2", f"{a + 1 if a == 1 else 1}(x{b:+d})^2"]
        said = [
            (rng.choice(right), True, None) if ok else (rng.choice(wrong), False, None)
            for ok in mix(RESPONSES_PER_ROW)
        ]
        items.append((row(gold, "expression"), said))
    out["expression"] = items

    # boolean
    items = []
    grader = {"kind": "boolean", "true": "yes", "false": "no"}
    for _ in range(count):
        gold = rng.choice(["yes", "no"])
        other = "no" if gold == "yes" else "yes"
        said = []
        for ok in mix(RESPONSES_PER_ROW):
            word = gold if ok else other
            said.append(
                (
                    rng.choice(
                        [word, word.capitalize(), f"\\text{{{word.capitalize()}}}", word.upper()]
                    ),
                    ok,
                    None,
                )
            )
        items.append((row(gold, "boolean", grader), said))
    out["boolean"] = items

    # multi_choice
    items = []
    statements = [
        "Alice sits next to Bob.",
        "The red house is the second one.",
        "Carol arrives before Dan.",
        "Exactly two people own a cat.",
        "The meeting is on Tuesday.",
        "Bob performs in slot 3.",
        "Erin is a knight.",
    ]
    for _ in range(count):
        letters = list("ABCDE")
        options = dict(zip(letters, rng.sample(statements, 5)))
        gold_set = sorted(rng.sample(letters, rng.randint(1, 3)))
        grader = {"kind": "multi_choice", "options": options}
        said = []
        for ok in mix(RESPONSES_PER_ROW):
            chosen = list(gold_set)
            if not ok:
                outside = [x for x in letters if x not in chosen]
                if len(chosen) > 1 and rng.random() < 0.5:
                    chosen.pop(rng.randrange(len(chosen)))
                else:
                    chosen.append(rng.choice(outside))
                chosen.sort()
            if ok and rng.random() < 0.3:
                rng.shuffle(chosen)
            form = rng.random()
            if form < 0.4:
                text = ",".join(chosen)
            elif form < 0.7:
                text = ", ".join(chosen)
            elif form < 0.85:
                text = (
                    " and ".join(chosen)
                    if len(chosen) < 3
                    else ", ".join(chosen[:-1]) + " and " + chosen[-1]
                )
            else:
                text = f"\\text{{{', '.join(chosen)}}}"
            said.append((text, ok, None))
        items.append((row(",".join(gold_set), "multi_choice", grader), said))
    out["multi_choice"] = items
    return out


def _factors(n: int) -> list[int]:
    out, f = [], 2
    while n > 1:
        while n % f == 0:
            out.append(f)
            n //= f
        f += 1
    return out


def _decimal(p: int, q: int) -> str:
    from fractions import Fraction

    value = Fraction(p, q)
    digits = 0
    while (value * 10**digits).denominator != 1:
        digits += 1
    return f"{float(value):.{digits}f}"


def build_cases(pool: dict[str, list[dict]], seed: int, synthetic_count: int) -> dict:
    """{"rows": [...], "groups": {group: [[row index, response, expected correct], ...]}}"""
    rng = random.Random(seed)
    rows: list[dict] = []
    groups: dict[str, list[list]] = {}

    def add(group: str, row_index: int, response: str, ok: bool) -> None:
        groups.setdefault(group, []).append([row_index, response, ok])

    def mix(k: int) -> list[bool]:
        picks = [i < round(0.6 * k) for i in range(k)]
        rng.shuffle(picks)
        return picks

    for spec, answer_type in POOL_SPECS:
        spec_rows = pool.get(spec, [])
        golds = sorted({r["answer"] for r in spec_rows})
        for r in spec_rows:
            assert r["answer_type"] == answer_type, (spec, r["answer_type"])
            index = len(rows)
            rows.append(r)
            fmt = json.loads(r["grader"] or "{}").get("format")
            for ok in mix(RESPONSES_PER_ROW):
                if answer_type == "integer":
                    stated = integer_variants(rng, r, ok)
                elif answer_type == "text":
                    stated = text_variants(rng, r, ok, golds)
                elif answer_type == "choice":
                    stated = choice_variants(rng, r, ok)
                elif fmt == "grid":
                    stated = grid_variants(rng, r, ok)
                elif fmt == "list":
                    stated = list_variants(rng, r, ok)
                elif fmt == "set":
                    stated = set_variants(rng, r, ok)
                else:
                    raise ValueError(f"{spec}: no response builder for {answer_type}/{fmt}")
                response = respond(rng, stated)
                add(answer_type, index, response, ok)
                if answer_type in SUBGROUPS:
                    add(f"{answer_type}/{spec}", index, response, ok)
    for answer_type, items in synthetic_rows(rng, synthetic_count).items():
        for r, said in items:
            index = len(rows)
            rows.append(r)
            for stated, ok, sub in said:
                response = respond(rng, stated)
                add(answer_type, index, response, ok)
                if sub:
                    add(sub, index, response, ok)
    # one order for every pass: rows interleaved, as a trainer's batches would be
    for cases in groups.values():
        rng.shuffle(cases)
    return {"rows": rows, "groups": groups}


# -- hostile inputs -------------------------------------------------------------------------

_MAPPING_ROW = {
    "answer": "a=1, b=2, c=3",
    "answer_type": "assignment",
    "grader": json.dumps({"kind": "assignment", "variables": ["a", "b", "c"]}),
    "certificate": "",
}
_SYNTH = {
    "integer": {"answer": "42", "answer_type": "integer", "grader": "", "certificate": ""},
    "real": {
        "answer": "3.14159265359",
        "answer_type": "real",
        "grader": json.dumps({"kind": "real", "tolerance": 1e-6}),
        "certificate": "",
    },
    "expression": {
        "answer": "x^2+2x+1",
        "answer_type": "expression",
        "grader": "",
        "certificate": "",
    },
    "multi_choice": {
        "answer": "A,C",
        "answer_type": "multi_choice",
        "grader": json.dumps(
            {"kind": "multi_choice", "options": {k: f"option {k}" for k in "ABCDE"}}
        ),
        "certificate": "",
    },
    "mapping": _MAPPING_ROW,
}
WARM_UP = [
    ({**_SYNTH["expression"], "answer": "y^2+4y+4"}, "so \\boxed{(y+2)(y+2)}"),
    ({**_SYNTH["expression"], "answer": "\\cos(2y)"}, "so \\boxed{1-2\\sin^2(y)}"),
    ({**_SYNTH["real"], "answer": "4.12310562562"}, "so \\boxed{\\sqrt{17}}"),
    ({**_SYNTH["real"], "answer": "2.83321334406"}, "so \\boxed{\\ln 17}"),
    ({**_SYNTH["real"], "answer": "53.4070751110"}, "so \\boxed{17\\pi}"),
]
_FILLER = "We check each case in turn and keep the consistent ones. " * 4


def _mb(text_end: str = "") -> str:
    body = (_FILLER * (1_000_000 // len(_FILLER) + 1))[: 1_000_000 - len(text_end)]
    return body + text_end


def _eight(statement: str) -> str:
    return "Let me think.\n" + " ".join(f"\\boxed{{{statement}}}" for _ in range(8))


# name -> (row: a _SYNTH key or "pool:<spec>", response builder, note, full runs only)
HOSTILE = {
    "1 MB reasoning, no final answer": ("integer", lambda: _mb(), "integer", False),
    "1 MB reasoning, then \\boxed{42}": ("integer", lambda: _mb("\\boxed{42}"), "integer", False),
    "1 MB reasoning, then a boxed 9x9 grid": (
        "pool:sudoku",
        None,  # built from the row's answer in the child
        "assignment",
        False,
    ),
    "1 MB of \\boxed{1} (111k statements)": (
        "integer",
        lambda: "\\boxed{1}" * (1_000_000 // 9),
        "integer",
        False,
    ),
    "1 MB of '</answer>' (tag scan)": ("integer", lambda: "</answer>" * 111_111, "integer", False),
    "1 MB of 'answer: ' (line scan)": ("integer", lambda: "answer: 1 " * 100_000, "integer", False),
    "100k nested braces in \\boxed{}": (
        "integer",
        lambda: "\\boxed{" + "{" * 100_000 + "42" + "}" * 100_001,
        "integer",
        False,
    ),
    "100k nested \\boxed{}": (
        "expression",
        lambda: "\\boxed{" * 100_000 + "x" + "}" * 100_000,
        "expression",
        False,
    ),
    "100k nested parentheses in \\boxed{}": (
        "expression",
        lambda: "\\boxed{" + "(" * 100_000 + "x" + ")" * 100_000 + "}",
        "expression",
        False,
    ),
    "199 nested parentheses (parser depth)": (
        "expression",
        lambda: "\\boxed{" + "(" * 199 + "x" + ")" * 199 + "}",
        "expression",
        False,
    ),
    "100k-digit number": ("integer", lambda: "\\boxed{" + "9" * 100_000 + "}", "integer", False),
    "1e999999999": ("integer", lambda: "\\boxed{1e999999999}", "integer", False),
    "exponent bomb 9^{9^{9^{9}}}": (
        "expression",
        lambda: "\\boxed{9^{9^{9^{9}}}}",
        "expression",
        False,
    ),
    "exponent bomb 10^{10^{10}} (real)": (
        "real",
        lambda: "\\boxed{10^{10^{10}}}",
        "real",
        False,
    ),
    "exponent bomb 2^2^2^2^2^2 (real)": ("real", lambda: "\\boxed{2^2^2^2^2^2}", "real", False),
    "largest allowed power (x+1)^{10000}": (
        "expression",
        lambda: "\\boxed{(x+1)^{10000}}",
        "expression",
        False,
    ),
    "\\sin(10^{1999})": ("expression", lambda: "\\boxed{\\sin(10^{1999})}", "expression", False),
    "8 x 4,000 chars '1.a.a.a...' (real)": (
        "real",
        lambda: _eight("1" + ".a" * 1995 + "!"),
        "real",
        False,
    ),
    "8 x 4,000 chars '( ' + spaces (multi_choice)": (
        "multi_choice",
        lambda: _eight("( " + " " * 3990 + "z"),
        "multi_choice",
        False,
    ),
    "8 x 4,000 chars 'a' + spaces + 'b' (race list)": (
        "pool:race_finish",
        lambda: _eight("a" + " " * 3990 + "b"),
        "assignment",
        False,
    ),
    "mapping assignment, 1 x 800-space piece": (
        "mapping",
        lambda: "\\boxed{a=1," + " " * 800 + "z}",
        "assignment",
        False,
    ),
    "mapping assignment, 1 x 1,600-space piece": (
        "mapping",
        lambda: "\\boxed{a=1," + " " * 1600 + "z}",
        "assignment",
        False,
    ),
    "mapping assignment, 8 x 3,990-space piece": (
        "mapping",
        lambda: _eight("a=1," + " " * 3990 + "z"),
        "assignment",
        True,
    ),
}


# -- children: one measurement each, in a fresh process ------------------------------------


def _child_generate(task: dict) -> dict:
    sys.path.insert(0, str(ROOT))
    from synth.engine.runner import make_jobs, run_jobs

    pool: dict[str, list[dict]] = {}
    info = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-grade-gen-") as tmp:
        for spec, _ in POOL_SPECS:
            path = ROOT / "specs" / f"{spec}.yaml"
            t0 = time.perf_counter()
            jobs = make_jobs(
                [(str(path), path.read_text(encoding="utf-8"))], task["n"], task["seed"], ["all"]
            )
            results = run_jobs(jobs, Path(tmp) / spec, workers=task["workers"])
            rows = [
                {k: row[k] for k in ("answer", "answer_type", "grader", "certificate", "source")}
                for result in results
                for row in result.rows
            ]
            pool[spec] = rows
            info[spec] = {
                "rows": len(rows),
                "levels": [j.level for j in jobs],
                "seconds": round(time.perf_counter() - t0, 2),
            }
    Path(task["out"]).write_text(json.dumps(pool), encoding="utf-8")
    return {"specs": info, "seconds": time.perf_counter() - started}


def _child_grade(task: dict) -> dict:
    sys.path.insert(0, str(ROOT))
    data = json.loads(Path(task["cases"]).read_text(encoding="utf-8"))
    rows = data["rows"]
    cases = [(rows[i], response, ok) for i, response, ok in data["groups"][task["group"]]]
    pairs = [(row, response) for row, response, _ in cases]
    del data

    from synth.grading import grade

    # wake sympy's lazily initialised parts (strings that no case uses), so that the first
    # pass measures cold caches rather than one-time start-up
    for warm_row, warm_response in WARM_UP:
        grade(warm_row, warm_response)

    # first pass: cold caches (every gold answer parsed here); also checks the labels
    mismatched = []
    correct = 0
    score = 0.0
    started = time.perf_counter()
    grades = [grade(row, response) for row, response in pairs]
    first_pass = time.perf_counter() - started
    for (row, response, ok), g in zip(cases, grades):
        correct += g.correct
        score += g.score
        if g.correct != ok and len(mismatched) < 5:
            mismatched.append(
                {
                    "answer": row["answer"][:80],
                    "stated": g.extracted[:80] if g.extracted else None,
                    "expected_correct": ok,
                    "reason": g.reason[:120],
                }
            )
    n_mismatched = sum(g.correct != ok for (_, _, ok), g in zip(cases, grades))
    del grades

    # timed: whole passes over the pairs until min_seconds have gone by
    calls = 0
    cpu0 = time.process_time()
    started = time.perf_counter()
    elapsed = 0.0
    while elapsed < task["min_seconds"]:
        for row, response in pairs:
            grade(row, response)
        calls += len(pairs)
        elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    return {
        "cases": len(pairs),
        "rows": len({id(row) for row, _ in pairs}),
        "mean_response_chars": statistics.fmean(len(r) for _, r in pairs),
        "expected_correct_share": sum(ok for _, _, ok in cases) / len(cases),
        "graded_correct_share": correct / len(cases),
        "mean_score": score / len(cases),
        "label_mismatches": n_mismatched,
        "mismatch_examples": mismatched,
        "first_pass_us": first_pass / len(pairs) * 1e6,
        "calls": calls,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rate": calls / elapsed,
        "cpu_rate": calls / cpu if cpu > 0 else None,
        "us_per_grade": elapsed / calls * 1e6,
    }


def _child_hostile(task: dict) -> dict:
    sys.path.insert(0, str(ROOT))
    row_key, build, _, _ = HOSTILE[task["case"]]
    if row_key.startswith("pool:"):
        pool = json.loads(Path(task["pool"]).read_text(encoding="utf-8"))
        row = pool[row_key[5:]][0]
    else:
        row = _SYNTH[row_key]
    if build is None:  # the 1 MB response ending in the row's (grid) answer
        response = _mb("\\boxed{" + row["answer"].replace("\n", " \\\\ ") + "}")
    else:
        response = build()

    from synth.grading import grade

    times = []
    outcome = None
    for _ in range(3):
        started = time.perf_counter()
        g = grade(row, response)
        times.append((time.perf_counter() - started) * 1e3)
        outcome = g
        if sum(times) > 5_000:
            break
    assert outcome is not None
    return {
        "response_chars": len(response),
        "answer_type": row["answer_type"],
        "ms": times,
        "first_ms": times[0],
        "max_ms": max(times),
        "correct": outcome.correct,
        "reason": outcome.reason[:100],
    }


CHILDREN = {"generate": _child_generate, "grade": _child_grade, "hostile": _child_hostile}


# -- measuring ------------------------------------------------------------------------------


_wait_idle = IdleWait(0)


def run_child(task: dict, timeout: float | None = None) -> dict:
    """One measurement in a fresh process (OMP_NUM_THREADS=1). Adds the CPU seconds it used
    and how many cores other processes kept busy meanwhile."""
    _wait_idle()
    env = dict(os.environ, OMP_NUM_THREADS="1")
    busy_before, cpu_before = machine_busy_seconds(), own_children_cpu()
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(task)],
            check=False,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    process_seconds = time.perf_counter() - started
    cpu = own_children_cpu() - cpu_before
    busy_after = machine_busy_seconds()
    other = (
        None
        if busy_before is None or busy_after is None
        else max(0.0, (busy_after - busy_before - cpu) / process_seconds)
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        return {"error": f"exit {proc.returncode}", "log": "\n".join(tail)}
    result = json.loads(lines[-1][len(MARK) :])
    result["process_seconds"] = process_seconds
    result["process_cpu_seconds"] = cpu
    result["other_cores"] = other
    return result


def _code_state() -> dict:
    """The commit measured, and whether synth/grading differs from it."""

    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
            )
        except OSError:
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    commit = git("rev-parse", "--short", "HEAD")
    changed = git("status", "--porcelain", "--", "synth/grading")
    return {"commit": commit, "grading_uncommitted": None if changed is None else bool(changed)}


# -- the report ------------------------------------------------------------------------------


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _fmt_ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small pool, short runs: a smoke run")
    parser.add_argument("--n", type=int, help="pool rows per spec and level (default 40)")
    parser.add_argument(
        "--synthetic", type=int, help="synthetic rows per answer type (default 200)"
    )
    parser.add_argument(
        "--min-seconds", type=float, help="timed seconds per measurement (default 1.0)"
    )
    parser.add_argument(
        "--repeat", type=int, help="fresh-process measurements per type, median shown (default 3)"
    )
    parser.add_argument(
        "--only", help="comma-separated types/groups to measure (e.g. integer,assignment)"
    )
    parser.add_argument("--no-hostile", action="store_true", help="skip the hostile inputs")
    parser.add_argument(
        "--hostile-timeout",
        type=float,
        help="seconds (process start-up included) before a hostile case is stopped (default 30)",
    )
    parser.add_argument("--workers", type=int, default=2, help="workers generating the pool")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each measurement, wait for other processes to go quiet "
        "(at most SECONDS in all; default 0: do not wait)",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"default {RESULTS}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        task = json.loads(args.child)
        print(MARK + json.dumps(CHILDREN[task["kind"]](task)), flush=True)
        return 0

    defaults = (
        {"n": 6, "synthetic": 40, "min_seconds": 0.3, "repeat": 1, "hostile_timeout": 10.0}
        if args.quick
        else {"n": 40, "synthetic": 200, "min_seconds": 1.0, "repeat": 3, "hostile_timeout": 30.0}
    )
    settings = {
        k: getattr(args, k) if getattr(args, k) is not None else v for k, v in defaults.items()
    }
    _wait_idle.left = args.wait_idle

    print(
        f"veriforge grading benchmark: {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, OMP_NUM_THREADS=1, one process per measurement, "
        f"seed {args.seed}{', --quick' if args.quick else ''}"
    )
    code = _code_state()
    if code["commit"]:
        print(
            f"code: commit {code['commit']}"
            + (" + uncommitted changes in synth/grading" if code["grading_uncommitted"] else "")
        )
    print(
        f"{settings['repeat']} fresh-process measurement(s) per type, each >= "
        f"{settings['min_seconds']:g} s of grade() calls; the median is shown\n"
    )
    started = time.perf_counter()
    crashed = False

    with tempfile.TemporaryDirectory(prefix="bench-grade-") as tmp:
        pool_path = Path(tmp) / "pool.json"
        cases_path = Path(tmp) / "cases.json"

        # 1. the pool
        gen = run_child(
            {
                "kind": "generate",
                "n": settings["n"],
                "seed": args.seed,
                "workers": args.workers,
                "out": str(pool_path),
            }
        )
        if "error" in gen or "timeout" in gen:
            print("pool generation FAILED:\n  " + gen.get("log", "").replace("\n", "\n  "))
            return 1
        print(
            f"pool: {sum(s['rows'] for s in gen['specs'].values())} rows from "
            f"{len(gen['specs'])} specs (all levels, {settings['n']} per level) in "
            f"{gen['seconds']:.1f}s: "
            + ", ".join(f"{k} {v['rows']}" for k, v in gen["specs"].items())
        )

        # 2. the responses
        pool = json.loads(pool_path.read_text(encoding="utf-8"))
        data = build_cases(pool, args.seed, settings["synthetic"])
        cases_path.write_text(json.dumps(data), encoding="utf-8")
        all_groups = [
            g for t in TYPE_ORDER for g in [t, *SUBGROUPS.get(t, [])] if g in data["groups"]
        ]
        if args.only:
            wanted = {w.strip() for w in args.only.split(",") if w.strip()}
            all_groups = [g for g in all_groups if g in wanted or g.split("/")[0] in wanted]
        print(
            f"responses: {sum(len(data['groups'][t]) for t in TYPE_ORDER if t in data['groups'])}"
            f" over {len(data['rows'])} rows ({RESPONSES_PER_ROW} per row, ~60% correct)\n"
        )
        del data, pool

        # 3. grading throughput, repeats interleaved across groups
        runs: dict[str, list[dict]] = {g: [] for g in all_groups}
        errors: dict[str, dict] = {}
        for rep in range(settings["repeat"]):
            for group in all_groups:
                if group in errors:
                    continue
                result = run_child(
                    {
                        "kind": "grade",
                        "group": group,
                        "cases": str(cases_path),
                        "min_seconds": settings["min_seconds"],
                    }
                )
                if "error" in result or "timeout" in result:
                    crashed = True
                    errors[group] = result
                    print(
                        f"  {group}: FAILED ({result.get('error', 'timeout')})\n    "
                        + result.get("log", "").replace("\n", "\n    "),
                        file=sys.stderr,
                    )
                    continue
                runs[group].append(result)
                other = result["other_cores"]
                print(
                    f"  measured {group:<28} run {rep + 1}/{settings['repeat']} "
                    f"{_fmt_rate(result['rate']):>9}/s  (other load "
                    f"{'?' if other is None else format(other, '.2f')} cores)",
                    flush=True,
                )

        results: dict[str, dict] = {}
        for group in all_groups:
            if group in errors:
                results[group] = errors[group]
                continue
            ordered = sorted(runs[group], key=lambda r: r["rate"])
            chosen = dict(ordered[len(ordered) // 2])
            chosen["rates"] = [r["rate"] for r in runs[group]]
            chosen["median_rate"] = statistics.median(chosen["rates"])
            chosen["first_pass_us_median"] = statistics.median(
                r["first_pass_us"] for r in runs[group]
            )
            goal = target_of(group)
            chosen["target"] = goal
            chosen["verdict"] = (
                None if goal is None else "PASS" if chosen["median_rate"] >= goal else "MISS"
            )
            results[group] = chosen

        # 4. hostile inputs
        hostile: dict[str, dict] = {}
        if not args.no_hostile:
            print()
            for name, (_, _, _, full_only) in HOSTILE.items():
                if full_only and args.quick:
                    continue
                result = run_child(
                    {"kind": "hostile", "case": name, "pool": str(pool_path)},
                    timeout=settings["hostile_timeout"],
                )
                if "error" in result:
                    crashed = True
                    print(
                        f"  hostile {name}: FAILED ({result['error']})\n    "
                        + result["log"].replace("\n", "\n    "),
                        file=sys.stderr,
                    )
                hostile[name] = result
                shown = (
                    f">{settings['hostile_timeout']:,.0f} s, stopped"
                    if "timeout" in result
                    else "FAILED"
                    if "error" in result
                    else f"{_fmt_ms(result['max_ms'])} ms"
                )
                print(f"  measured hostile {name:<48} {shown:>14}", flush=True)
    elapsed = time.perf_counter() - started

    # -- table ------------------------------------------------------------------------------
    print()
    header = (
        f"{'answer type':<27}{'cases':>6}{'chars':>6}{'grades/s':>10}{'us/grade':>10}"
        f"{'spread':>16}{'1st pass':>10}{'correct':>9}{'other':>7}  target"
    )
    print(header)
    print("-" * len(header))
    for group in all_groups:
        r = results[group]
        label = group if "/" not in group else "  " + group.split("/", 1)[1]
        if "error" in r or "timeout" in r:
            print(f"{label:<27}  FAILED ({r.get('error', 'timeout')})")
            continue
        spread = (
            f"{_fmt_rate(min(r['rates']))}-{_fmt_rate(max(r['rates']))}"
            if len(r["rates"]) > 1
            else ""
        )
        goal = r["target"]
        verdict = "" if goal is None else f"{r['verdict']} (>= {goal:,.0f}/s)"
        check = "" if not r["label_mismatches"] else f" ({r['label_mismatches']} unexpected)"
        other = "?" if r["other_cores"] is None else f"{r['other_cores']:.2f}"
        print(
            f"{label:<27}{r['cases']:>6}{r['mean_response_chars']:>6.0f}"
            f"{_fmt_rate(r['median_rate']):>10}{1e6 / r['median_rate']:>10.1f}"
            f"{spread:>16}{r['first_pass_us_median']:>10.1f}"
            f"{r['graded_correct_share'] * 100:>8.0f}%{other:>7}  {verdict}{check}"
        )
    print(
        "cases = (row, response) pairs graded in turn; chars = mean response length;\n"
        "grades/s = median over the fresh-process runs of calls / wall-clock seconds (one "
        "core); us/grade = 1e6 / grades/s;\nspread = slowest-fastest run; 1st pass = "
        "us/grade over the first pass in a fresh process (cold caches, gold answers parsed);\n"
        "correct = share of responses graded correct (~60% by construction; wrong assignment "
        "grids still get partial credit);\nother = CPU cores other processes kept busy "
        "during the median run"
    )
    busiest = max(
        (
            r["other_cores"]
            for g in all_groups
            for r in runs.get(g, [])
            if r.get("other_cores") is not None
        ),
        default=None,
    )
    if busiest is not None and busiest > 0.5:
        print(
            f"WARNING: other processes kept up to {busiest:.1f} of {os.cpu_count()} cores "
            "busy during some measurements; rates may be understated (see spread)."
        )
    mismatches = {g: results[g]["label_mismatches"] for g in all_groups if "rates" in results[g]}
    if any(mismatches.values()):
        print("\ngraded differently than the benchmark expected (first examples):")
        for g, count in mismatches.items():
            for ex in results[g]["mismatch_examples"][:2] if count else []:
                print(f"  {g}: {ex}")

    # ratios: the cost of each type relative to integers
    base = results.get("integer", {}).get("median_rate")
    ratios = {
        g: base / results[g]["median_rate"]
        for g in all_groups
        if base and results[g].get("median_rate")
    }
    if ratios:
        print("\ncost per grade relative to integer (same run)")
        for g, ratio in ratios.items():
            if g != "integer":
                print(f"  {g:<28}{ratio:>8.1f}x")

    if hostile:
        print("\nhostile responses (one fresh process each; slowest of up to 3 grade() calls)")
        print(f"  {'case':<50}{'type':<14}{'chars':>11}{'ms':>12}  outcome")
        for name, r in hostile.items():
            note = HOSTILE[name][2]
            if "timeout" in r:
                print(
                    f"  {name:<50}{note:<14}{'':>11}"
                    f"{'>' + format(r['timeout'] * 1e3, ',.0f'):>12}  stopped (time limit)"
                )
            elif "error" in r:
                print(f"  {name:<50}{note:<14}{'':>11}{'-':>12}  FAILED ({r['error']})")
            else:
                print(
                    f"  {name:<50}{note:<14}{r['response_chars']:>11,}"
                    f"{_fmt_ms(r['max_ms']):>12}  {r['reason'][:60]}"
                )
        worst = max(
            (
                (r.get("max_ms", (r.get("timeout") or 0) * 1e3), n)
                for n, r in hostile.items()
                if "error" not in r
            ),
            default=None,
        )
        if worst:
            stopped = "timeout" in hostile[worst[1]]
            print(
                f"  worst: {worst[1]} ({'more than ' if stopped else ''}{_fmt_ms(worst[0])} ms"
                f"{', stopped at the time limit' if stopped else ''})"
            )

    targets = [
        {
            "target": f"{g} grades/s, one core",
            "goal": results[g]["target"],
            "value": results[g]["median_rate"],
            "verdict": results[g]["verdict"],
        }
        for g in all_groups
        if results[g].get("target") is not None and "median_rate" in results[g]
    ]
    print("\ntargets (informational)")
    for t in targets:
        print(
            f"  {t['verdict']}  {t['target']:<44} >= {t['goal']:>7,.0f}/s  "
            f"measured {_fmt_rate(t['value'])}/s"
        )
    if hostile and worst:
        verdict = (
            "PASS" if worst[0] < HOSTILE_LIMIT_MS and "timeout" not in hostile[worst[1]] else "MISS"
        )
        print(
            f"  {verdict}  slowest hostile response graded            <  {HOSTILE_LIMIT_MS:>7,.0f} ms "
            f"measured {_fmt_ms(worst[0])} ms ({worst[1]})"
        )
    print(f"\ntotal benchmark time {elapsed:.1f}s")

    report = {
        "benchmark": "bench_grade",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "omp_num_threads": 1,
        },
        "code": code,
        "settings": {
            "quick": args.quick,
            **settings,
            "responses_per_row": RESPONSES_PER_ROW,
            "seed": args.seed,
        },
        "pool": gen,
        "results": results,
        "runs": runs,
        "ratios_vs_integer": ratios,
        "hostile": hostile,
        "targets": targets,
        "seconds": elapsed,
        "crashed": crashed,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    out = args.json.resolve()
    print(f"results written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
