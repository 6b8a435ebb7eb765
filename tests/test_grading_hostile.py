"""Grading hostile output: megabytes of text, 100k nested braces, Python in the answer,
exponent bombs, pathological LaTeX, thousands of boxes, unterminated tags and NUL bytes.
Each is graded in under 0.1 s, without raising, without running anything, and without
allocating more than a bounded amount of memory."""

from __future__ import annotations

import builtins
import gc
import os
import subprocess
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from synth.grading import Grade, grade

LIMIT_S = 0.1
PEAK_BYTES = 50 * 2**20
MB = 1_000_000

ROWS: dict[str, dict[str, Any]] = {
    "integer": {"answer": "7", "answer_type": "integer"},
    "rational": {"answer": "1/2", "answer_type": "rational"},
    "real": {"answer": "2.5", "answer_type": "real", "grader": {"tolerance": 1e-3}},
    "expression": {"answer": "x^2+1", "answer_type": "expression"},
    "choice": {"answer": "B", "answer_type": "choice", "grader": {"options": {"A": "a", "B": "b"}}},
    "multi_choice": {"answer": "A,B", "answer_type": "multi_choice"},
    "boolean": {"answer": "yes", "answer_type": "boolean"},
    "text": {"answer": "Alice", "answer_type": "text", "grader": {"options": ["Alice", "Bob"]}},
    "grid": {
        "answer": "1 2\n2 1",
        "answer_type": "assignment",
        "grader": {"format": "grid", "variables": ["a", "b", "c", "d"]},
    },
    "set": {
        "answer": "Alice",
        "answer_type": "assignment",
        "grader": {"format": "set", "variables": ["k[Alice]", "k[Bob]"]},
    },
    "mapping": {
        "answer": "a=1, b=2",
        "answer_type": "assignment",
        "grader": {"format": "mapping", "variables": ["a", "b"]},
    },
}


def _sentinel_code(path: Path) -> dict[str, str]:
    p = str(path)
    return {
        "import-system": f"__import__('os').system('touch {p}')",
        "import-system-boxed": f"\\boxed{{__import__('os').system('touch {p}')}}",
        "exec": f"\\boxed{{exec(\"open('{p}', 'w').write('x')\")}}",
        "eval-open": f"<answer>eval(\"open('{p}','w')\")</answer>",
        "subprocess": f"Answer: __import__('subprocess').run(['touch', '{p}'])",
        "lambda": "\\boxed{(lambda: __import__('os').system('touch " + p + "'))()}",
        "dunder-walk": "\\boxed{().__class__.__base__.__subclasses__()}",
        "sympify-bait": f"\\boxed{{Symbol('x').__class__.__init__.__globals__['os'].system('touch {p}')}}",
        "latex-input": f"\\boxed{{\\input{{{p}}}}}",
        "latex-write": f"\\boxed{{\\immediate\\write18{{touch {p}}}}}",
    }


HOSTILE: dict[str, str] = {
    "1mb-letters": "a" * MB,
    "1mb-digits": "1" * MB,
    "1mb-then-boxed": "x" * MB + "\\boxed{7}",
    "1mb-words-then-answer": "lorem ipsum " * (MB // 12) + "\nAnswer: 7",
    "nested-boxed-100k": "\\boxed{" * 100_000,
    "nested-braces-100k": "\\boxed{" + "{" * 100_000 + "7" + "}" * 100_000 + "}",
    "open-braces-100k": "{" * 100_000,
    "close-braces-100k": "}" * 100_000,
    "nested-parens-100k": "\\boxed{" + "(" * 100_000 + "x" + ")" * 100_000 + "}",
    "nested-parens-1k": "\\boxed{" + "(" * 1000 + "x" + ")" * 1000 + "}",
    "power-tower-9": "\\boxed{9^9^9^9}",
    "power-tower-9-bare": "9^9^9^9",
    "power-tower-braced": "\\boxed{10^{10^{10}}}",
    "power-tower-python": "\\boxed{2**10**10}",
    "power-tower-python-bare": "2**10**10",
    "power-tower-2s": "\\boxed{2^{2^{2^{2^{2^{2}}}}}}",
    "power-tower-long": "\\boxed{" + "^".join(["9"] * 300) + "}",
    "power-tower-x": "\\boxed{x^{x^{x^{x^{x}}}}}",
    "exp-tower": "\\boxed{\\exp(\\exp(\\exp(\\exp(100))))}",
    "exp-tower-x": "\\boxed{\\exp(\\exp(\\exp(\\exp(x))))}",
    "e-tower-x": "\\boxed{e^{e^{e^{e^{x}}}}}",
    "sin-of-tower": "\\boxed{\\sin(\\exp(\\exp(\\exp(x))))}",
    "big-polynomial-power": "\\boxed{(x+1)^{9999}}",
    "big-exact-power": "\\boxed{1.5^{9999}}",
    "ten-to-400": "\\boxed{10^{400}}",
    "huge-exponent-literal": "\\boxed{1e999999}",
    "factorial": "\\boxed{100000!}",
    "100k-digits": "\\boxed{" + "9" * 100_000 + "}",
    "long-decimal": "1" * 10_000 + "." + "1" * 10_000,
    "long-ratio": "1" * 500 + "/" + "3" * 500,
    "frac-nest-5k": "\\boxed{" + "\\frac{1}{" * 5000 + "2" + "}" * 5000 + "}",
    "sqrt-nest-5k": "\\boxed{" + "\\sqrt{" * 5000 + "2" + "}" * 5000 + "}",
    "sin-nest-3k": "\\boxed{" + "\\sin(" * 3000 + "x" + ")" * 3000 + "}",
    "long-sum": "\\boxed{" + "+".join(["x"] * 1000) + "}",
    "tan-pole": "\\boxed{\\tan(\\pi/2)}",
    "zero-power": "\\boxed{0^{-1}}",
    "log-zero": "\\boxed{\\log(0)}",
    "divide-by-zero-symbolic": "\\boxed{x/(x-x)}",
    "frac-unclosed": "\\frac{" + "1" * 100_000,
    "many-boxed-same": "\\boxed{7}" * 200_000,
    "many-boxed-different": "".join(f"\\boxed{{{i}}}" for i in range(100_000)),
    "boxed-without-brace": "\\boxed" * 200_000 + "\\boxed{7}",
    "unterminated-boxed": "\\boxed{7" + " more" * 1000,
    "box-then-backslashes": "\\boxed{" + "\\" * MB,
    "unterminated-tags": "<answer>" * 100_000,
    "closing-tags": "</answer>" * 100_000,
    "one-open-many-closes": "<answer>7" + "</answer>" * 50_000,
    "answer-lines-100k": "Answer: 7\n" * 100_000,
    "long-answer-lines": ("answer: " + "x" * 3000 + "\n") * 300,
    "answer-is-spam": "the answer is " * 100_000,
    "nul-bytes": "\x00" * MB + "\\boxed{7\x00}",
    "nul-in-answer": "7\x00",
    "nul-in-tag": "<answer>\x00\x00</answer>",
    "percent-flood": "%" * MB,
    "backslash-flood": "\\" * MB,
    "thousands-flood": "1," * 300_000 + "000",
    "frac-flood": "\\frac{1}{2}" * 100_000,
    "numbers-flood": " ".join(["123"] * 300_000),
    "matrix-flood": "\\boxed{\\begin{pmatrix}" + "1 & " * 100_000 + "\\end{pmatrix}}",
    "surrogates-and-controls": "\ud800\udfff\x1b[2J\r\x7f" * 10_000,
    "latex-macro-definition": "\\def\\a{\\a\\a}\\boxed{\\a}",
    "deep-text-macros": "\\boxed{" + "\\text{" * 10_000 + "7" + "}" * 10_000 + "}",
    # blank runs inside final statements: patterns with `\s*` around alternatives used to
    # backtrack over them (cubic for `key = value` pieces, quadratic for lists and letters)
    "blank-run-lead": ("\\boxed{" + " " * 3990 + "x}\n") * 8,
    "blank-run-paren": ("\\boxed{( " + " " * 3990 + "}\n") * 8,
    "blank-run-middle": ("\\boxed{a" + " " * 3990 + "b}\n") * 8,
    "blank-run-pair": ("\\boxed{a" + " " * 3990 + "= 1}\n") * 8,
    "dotted-letters": ("\\boxed{1" + ".a" * 1995 + "}\n") * 8,
}


@pytest.fixture(scope="module", autouse=True)
def warm_up() -> None:
    for row in ROWS.values():
        grade(row, "\\boxed{7}")
        grade(row, "x")


def _timed(row: dict[str, Any], response: str) -> tuple[Grade, float]:
    """The grade and the best of three timings, after a warm-up call. The garbage collector
    is paused while timing: a full collection of the whole test session's heap is not the
    grader's cost; and a really slow input is slow every time, while a busy machine's
    hiccup is not."""
    grade(row, "warm-up")
    gc.disable()
    try:
        timings = []
        for _ in range(3):
            start = time.perf_counter()
            result = grade(row, response)
            timings.append(time.perf_counter() - start)
            if timings[-1] < LIMIT_S:
                break
    finally:
        gc.enable()
    return result, min(timings)


@pytest.mark.parametrize("kind", sorted(ROWS))
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_response_is_fast_and_safe(kind: str, name: str) -> None:
    result, elapsed = _timed(ROWS[kind], HOSTILE[name])
    assert isinstance(result, Grade)
    assert 0.0 <= result.score <= 1.0
    assert elapsed < LIMIT_S, f"{name} as {kind}: {elapsed:.3f}s"


@pytest.mark.parametrize("kind", ["integer", "expression", "real"])
@pytest.mark.parametrize(
    "bomb",
    ["9^9^9^9", "10^{10^{10}}", "2**10**10", "9^{9^{9^{9}}}", "\\exp(\\exp(\\exp(100)))"],
)
def test_exponent_bombs_are_not_correct_and_not_computed(kind: str, bomb: str) -> None:
    for response in (bomb, f"\\boxed{{{bomb}}}", f"Answer: {bomb}", f"<answer>{bomb}</answer>"):
        result, elapsed = _timed(ROWS[kind], response)
        assert not result.correct
        assert elapsed < LIMIT_S, f"{response!r} as {kind}: {elapsed:.3f}s"


def test_nothing_is_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sentinel = tmp_path / "pwned"
    calls: list[str] = []

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append(name)
            raise AssertionError(f"grading called {name}")

        return call

    monkeypatch.setattr(os, "system", refuse("os.system"))
    monkeypatch.setattr(os, "popen", refuse("os.popen"))
    monkeypatch.setattr(subprocess, "run", refuse("subprocess.run"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    real_eval, real_exec = builtins.eval, builtins.exec
    monkeypatch.setattr(builtins, "eval", refuse("eval"))
    monkeypatch.setattr(builtins, "exec", refuse("exec"))
    try:
        for text in _sentinel_code(sentinel).values():
            for kind, row in ROWS.items():
                result, elapsed = _timed(row, text)
                assert not result.correct, (kind, text)
                assert elapsed < LIMIT_S
    finally:
        monkeypatch.setattr(builtins, "eval", real_eval)
        monkeypatch.setattr(builtins, "exec", real_exec)
    assert calls == []
    assert not sentinel.exists()


@pytest.mark.parametrize("kind", ["integer", "real", "expression", "grid"])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_peak_memory_is_bounded(kind: str, name: str) -> None:
    row, response = ROWS[kind], HOSTILE[name]
    grade(row, "warm-up")
    tracemalloc.start()
    try:
        grade(row, response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{name} as {kind}: peak {peak / 2**20:.1f} MiB"


def test_a_real_answer_after_hostile_noise_still_counts() -> None:
    """Safety does not cost correctness: the final \\boxed{} after junk is still read."""
    for junk in ("x" * MB, "{" * 1000, "9^9^9^9 " * 1000, "<answer>" * 1000):
        assert grade(ROWS["integer"], junk + "\n\\boxed{7}").correct
    assert (
        grade(ROWS["expression"], "\\boxed{(x+1)^{9999}} no wait \\boxed{x^2+1}").correct is False
    )
