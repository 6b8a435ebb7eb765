"""Grading, case by case: one table of hand-written (answer type, gold answer, grader,
response, expected verdict) rows covering every answer type, the equivalent forms a
demanding user expects accepted, the near misses that must be rejected, conflicting final
answers, LaTeX/markdown noise, units, separators, signs and empty output."""

from __future__ import annotations

import json
from typing import Any

import pytest

from synth.grading import grade
from synth.problem import Problem

TOL = {"tolerance": 1e-3}
CITIES = {"options": {"A": "Paris", "B": "London", "C": "Berlin", "D": "Rome"}}
MULTI = {"options": {"A": "New York", "B": "Rome", "C": "Salt and pepper", "D": "Oslo"}}
NAMES = {"options": ["Alice", "Bob", "Carol"]}
GRID = {"format": "grid", "variables": [f"cell[{i}][{j}]" for i in range(2) for j in range(2)]}
LIST = {"format": "list", "variables": ["pos[1]", "pos[2]", "pos[3]"]}
SET = {"format": "set", "variables": ["knight[Alice]", "knight[Bob]", "knight[Carol]"]}
MAP = {"format": "mapping", "variables": ["Alice", "Bob", "Carol"]}
MAP_IDX = {"format": "mapping", "variables": ["house[Alice]", "house[Bob]"]}
SQUARE = "1 2\n2 1"
TRIPLE = "Alice=1, Bob=2, Carol=3"


def c(case_id: str, answer_type: str, gold: str, grader: dict[str, Any], response: str,
      expected: bool) -> Any:  # fmt: skip
    return pytest.param(answer_type, gold, grader, response, expected, id=case_id)


I, Q, R, E = "integer", "rational", "real", "expression"
CH, MC, B, T, A = "choice", "multi_choice", "boolean", "text", "assignment"

CASES = [
    # -- integer: plain, markers, wrappers -------------------------------------------------
    c("int-plain", I, "12", {}, "12", True),
    c("int-boxed", I, "12", {}, "\\boxed{12}", True),
    c("int-boxed-space-before-brace", I, "7", {}, "\\boxed {7}", True),
    c("int-fbox", I, "7", {}, "\\fbox{7}", True),
    c("int-nested-boxed", I, "7", {}, "\\boxed{\\boxed{7}}", True),
    c("int-boxed-in-fbox", I, "7", {}, "\\fbox{\\boxed{7}}", True),
    c("int-answer-tag", I, "7", {}, "<answer>7</answer>", True),
    c("int-answer-tag-spaces", I, "7", {}, "<answer> 7 </answer>", True),
    c("int-bold-answer-line", I, "7", {}, "**Answer:** 7", True),
    c("int-answer-line-caps", I, "7", {}, "ANSWER: 7", True),
    c("int-final-answer-prose", I, "7", {}, "Adding them up.\nThe final answer is 7.", True),
    c("int-final-answer-colon", I, "7", {}, "The final answer is: 7", True),
    c("int-final-answer-dollars", I, "7", {}, "The final answer is $7$.", True),
    c("int-final-answer-paren-math", I, "7", {}, "The final answer is \\(7\\).", True),
    c(
        "int-minerva-format",
        I,
        "7",
        {},
        "So x = 7.\nFinal Answer: The final answer is $7$. I hope it is correct.",
        True,
    ),
    c("int-answer-line-boxed", I, "12", {}, "Answer: \\boxed{12}", True),
    c("int-boxed-trailing-period", I, "7", {}, "so the result is \\boxed{7}.", True),
    c("int-boxed-in-dollars", I, "7", {}, "$\\boxed{7}$", True),
    c("int-boxed-in-paren-math", I, "7", {}, "\\(\\boxed{7}\\)", True),
    c("int-boxed-in-display-math", I, "7", {}, "\\[\\boxed{7}\\]", True),
    c("int-displaystyle", I, "7", {}, "\\boxed{\\displaystyle 7}", True),
    c("int-left-right", I, "7", {}, "\\boxed{\\left(7\\right)}", True),
    c("int-parenthesised-negative", I, "-5", {}, "\\boxed{(-5)}", True),
    c("int-mathbf", I, "7", {}, "\\boxed{\\mathbf{7}}", True),
    c("int-textbf", I, "7", {}, "\\boxed{\\textbf{7}}", True),
    c("int-markdown-bold", I, "7", {}, "**7**", True),
    c("int-x-equals", I, "7", {}, "\\boxed{x = 7}", True),
    c("int-f-of-x-equals", I, "7", {}, "f(2) = 7", True),
    c("int-trailing-zeros", I, "7", {}, "\\boxed{7.000}", True),
    c("int-unreduced-fraction", I, "7", {}, "\\boxed{\\frac{14}{2}}", True),
    c("int-explicit-plus", I, "7", {}, "+7", True),
    c("int-scientific", I, "1000000", {}, "1e6", True),
    c("int-last-number-fallback", I, "7", {}, "I think 3 + 4 = 7", True),
    # -- integer: units, currency, separators, signs ----------------------------------------
    c("int-unit-word", I, "12", {}, "12 apples", True),
    c("int-unit-in-prose", I, "12", {}, "The answer is 12 apples.", True),
    c("int-text-unit", I, "12", {}, "\\boxed{12\\text{ cm}}", True),
    c("int-mathrm-unit", I, "12", {}, "\\boxed{12\\,\\mathrm{cm}}", True),
    c("int-unit-after-box", I, "7", {}, "\\boxed{7}\\,\\text{apples}", True),
    c("int-dollar-sign", I, "12", {}, "$12", True),
    c("int-escaped-dollar", I, "12", {}, "\\boxed{\\$12}", True),
    c("int-dollars-and-cents", I, "12", {}, "$12.00", True),
    c("int-thousands-comma", I, "1234", {}, "1,234", True),
    c("int-thousands-latex", I, "1234", {}, "\\boxed{1{,}234}", True),
    c("int-thousands-thin-space", I, "1234", {}, "\\boxed{1\\,234}", True),
    c("int-thousands-in-prose", I, "1234", {}, "The total is 1,234.", True),
    c("int-millions", I, "1000000", {}, "1,000,000", True),
    c("int-negative", I, "-5", {}, "\\boxed{-5}", True),
    c("int-unicode-minus", I, "-5", {}, "\u22125", True),
    c("int-unicode-minus-boxed", I, "-5", {}, "\\boxed{\u22125}", True),
    c("int-unicode-minus-prose", I, "-5", {}, "The temperature is \u22125 degrees.", True),
    c("int-negative-in-dollars", I, "-12", {}, "$-12$", True),
    # -- integer: near misses, conflicts, nothing -------------------------------------------
    c("int-off-by-one", I, "12", {}, "\\boxed{13}", False),
    c("int-off-by-one-below", I, "12", {}, "The final answer is 11.", False),
    c("int-sign-dropped", I, "-5", {}, "5", False),
    c("int-sign-added", I, "5", {}, "\\boxed{-5}", False),
    c("int-not-integral", I, "7", {}, "\\boxed{7.5}", False),
    c("int-transposed-digits", I, "1234", {}, "\\boxed{1243}", False),
    c("int-two-numbers-not-one", I, "78", {}, "\\boxed{7 8}", False),
    c("int-word-number", I, "7", {}, "\\boxed{seven}", False),
    c("int-empty-box", I, "7", {}, "\\boxed{}", False),
    c("int-two-different-boxes", I, "7", {}, "\\boxed{7} or maybe \\boxed{8}", False),
    c("int-two-different-tags", I, "7", {}, "<answer>7</answer> <answer>8</answer>", False),
    c("int-two-different-answer-lines", I, "7", {}, "Answer: 7\nAnswer: 8", False),
    c("int-repeated-boxes-agree", I, "7", {}, "\\boxed{7}, i.e. \\boxed{7}", True),
    c("int-repeated-boxes-equal-forms", I, "7", {}, "\\boxed{7} = \\boxed{7.0}", True),
    c("int-repeated-tags-agree", I, "7", {}, "<answer>7</answer> <answer>7</answer>", True),
    c("int-repeated-lines-agree", I, "7", {}, "Answer: 7\nChecking again... Answer: 7", True),
    c("int-hedged-last-number", I, "7", {}, "It's 7 or maybe 8", False),
    c("int-empty", I, "7", {}, "", False),
    c("int-whitespace-only", I, "7", {}, "   \n\t ", False),
    c("int-no-number", I, "7", {}, "I do not know.", False),
    # -- rational -----------------------------------------------------------------------
    c("rat-decimal", Q, "1/2", {}, "0.5", True),
    c("rat-decimal-no-leading-zero", Q, "1/2", {}, "\\boxed{.5}", True),
    c("rat-decimal-trailing-zero", Q, "1/2", {}, "\\boxed{0.50}", True),
    c("rat-slash", Q, "1/2", {}, "\\boxed{1/2}", True),
    c("rat-slash-spaces", Q, "1/2", {}, "\\boxed{1 / 2}", True),
    c("rat-frac", Q, "1/2", {}, "\\boxed{\\frac{1}{2}}", True),
    c("rat-dfrac", Q, "1/2", {}, "\\boxed{\\dfrac{1}{2}}", True),
    c("rat-tfrac-short", Q, "1/2", {}, "\\boxed{\\tfrac12}", True),
    c("rat-frac-unboxed", Q, "1/2", {}, "\\frac{1}{2}", True),
    c("rat-unreduced", Q, "1/2", {}, "\\boxed{\\frac{2}{4}}", True),
    c("rat-percent", Q, "1/2", {}, "50%", True),
    c("rat-latex-percent", Q, "1/2", {}, "\\boxed{50\\%}", True),
    c("rat-percent-disallowed", Q, "1/2", {"percent": False}, "50%", False),
    c("rat-scientific", Q, "1/2", {}, "5e-1", True),
    c("rat-frac-left-right", Q, "1/2", {}, "\\boxed{\\left(\\frac{1}{2}\\right)}", True),
    c("rat-gold-decimal-answer-fraction", Q, "0.25", {}, "\\boxed{1/4}", True),
    c("rat-negative-decimal", Q, "-3/4", {}, "\\boxed{-0.75}", True),
    c("rat-minus-before-frac", Q, "-3/4", {}, "\\boxed{-\\frac{3}{4}}", True),
    c("rat-minus-in-numerator", Q, "-3/4", {}, "\\boxed{\\frac{-3}{4}}", True),
    c("rat-minus-in-denominator", Q, "-3/4", {}, "\\frac{3}{-4}", True),
    c("rat-unicode-minus-frac", Q, "-3/4", {}, "\\boxed{\u2212\\frac{3}{4}}", True),
    c("rat-unit", Q, "3/4", {}, "3/4 cup", True),
    c("rat-text-wrapped", Q, "1/2", {}, "\\boxed{\\text{0.5}}", True),
    c("rat-near-miss", Q, "1/2", {}, "\\boxed{0.49}", False),
    c("rat-near-miss-above", Q, "1/2", {}, "0.51", False),
    c("rat-truncated-third", Q, "1/3", {}, "\\boxed{0.333}", False),
    c("rat-long-truncated-third", Q, "1/3", {}, "\\boxed{0.3333333333}", False),
    c("rat-inverted", Q, "1/2", {}, "\\boxed{2}", False),
    c("rat-sign", Q, "1/2", {}, "\\boxed{-\\frac{1}{2}}", False),
    c("rat-division-by-zero", Q, "1/2", {}, "\\boxed{\\frac{1}{0}}", False),
    c("rat-conflicting-forms", Q, "1/2", {}, "\\boxed{\\frac{1}{2}} or \\boxed{0.6}", False),
    c("rat-agreeing-forms", Q, "1/2", {}, "\\boxed{\\frac{1}{2}} = \\boxed{0.5}", True),
    # -- real (tolerance 1e-3 relative) ---------------------------------------------------
    c("real-rounded", R, "3.14159", TOL, "3.1416", True),
    c("real-within-tolerance", R, "3.14159", TOL, "\\boxed{3.14}", True),
    c("real-outside-tolerance", R, "3.14159", TOL, "\\boxed{3.2}", False),
    c("real-pi-symbol", R, "3.14159", TOL, "\\boxed{\\pi}", True),
    c("real-pi-unboxed", R, "3.14159", TOL, "\\pi", True),
    c("real-sqrt", R, "1.41421", TOL, "\\sqrt{2}", True),
    c("real-sqrt-short", R, "1.41421", TOL, "\\boxed{\\sqrt2}", True),
    c("real-wrong-root", R, "1.41421", TOL, "\\boxed{\\sqrt{3}}", False),
    c("real-e", R, "2.71828", TOL, "\\boxed{e}", True),
    c("real-fraction", R, "2.5", TOL, "5/2", True),
    c("real-frac", R, "2.5", TOL, "\\frac{5}{2}", True),
    c("real-scientific", R, "2.5", TOL, "25e-1", True),
    c("real-unit", R, "2.5", TOL, "2.5 m", True),
    c("real-relative-ok", R, "100", TOL, "100.05", True),
    c("real-relative-miss", R, "100", TOL, "100.2", False),
    c("real-sign", R, "2.5", TOL, "-2.5", False),
    c("real-conflict", R, "2.5", TOL, "\\boxed{2.5} or \\boxed{3.5}", False),
    # -- expression ---------------------------------------------------------------------
    c("expr-factored", E, "x^2+2x+1", {}, "(x+1)^2", True),
    c("expr-factored-boxed", E, "x^2+2x+1", {}, "\\boxed{(x+1)^2}", True),
    c("expr-left-right", E, "x^2+2x+1", {}, "\\boxed{\\left(x+1\\right)^{2}}", True),
    c("expr-dollars", E, "x^2+2x+1", {}, "$x^2 + 2x + 1$", True),
    c("expr-paren-math", E, "x^2+2x+1", {}, "\\(x^2+2x+1\\)", True),
    c("expr-python-syntax", E, "x^2+2x+1", {}, "x**2+2*x+1", True),
    c("expr-missing-term", E, "x^2+2x+1", {}, "x^2+2x", False),
    c("expr-implicit-product", E, "2x", {}, "x+x", True),
    c("expr-cdot", E, "2x", {}, "2 \\cdot x", True),
    c("expr-number-is-not-2x", E, "2x", {}, "2", False),
    c("expr-difference-of-squares", E, "x^2-1", {}, "(x-1)(x+1)", True),
    c("expr-wrong-factor", E, "x^2-1", {}, "(x-1)(x-1)", False),
    c("expr-frac-vs-slash", E, "\\frac{x}{2}", {}, "x/2", True),
    c("expr-dfrac", E, "\\frac{x}{2}", {}, "\\dfrac{x}{2}", True),
    c("expr-sqrt-as-power", E, "\\sqrt{2}", {}, "2^{1/2}", True),
    c("expr-simplified-root", E, "\\sqrt{8}", {}, "2\\sqrt{2}", True),
    c("expr-trig-identity", E, "\\sin^2 x + \\cos^2 x", {}, "1", True),
    c("expr-exp", E, "e^x", {}, "\\exp(x)", True),
    c("expr-pi", E, "2\\pi", {}, "\\boxed{2\\pi}", True),
    c("expr-other-variable", E, "x", {}, "y", False),
    c("expr-y-equals", E, "x+1", {}, "\\boxed{y = x+1}", True),
    c("expr-f-of-x-equals", E, "x+1", {}, "f(x) = x+1", True),
    c("expr-unicode-minus", E, "-x", {}, "\u2212x", True),
    c("expr-displaystyle", E, "x^2", {}, "\\boxed{\\displaystyle x^2}", True),
    c("expr-final-answer-line", E, "x^2", {}, "The final answer is $x^2$.", True),
    c("expr-conflicting-boxes", E, "x^2", {}, "\\boxed{x^2} and \\boxed{x^3}", False),
    c("expr-agreeing-boxes", E, "x^2", {}, "\\boxed{x^2}, that is \\boxed{x \\cdot x}", True),
    c("expr-huge-constant-is-not-x2", E, "x^2", {}, "\\boxed{1.5^{9999}}", False),
    c("expr-exp-1000-is-not-x2", E, "x^2", {}, "\\boxed{\\exp(1000)}", False),
    # -- choice -------------------------------------------------------------------------
    c("choice-letter", CH, "B", CITIES, "B", True),
    c("choice-lowercase", CH, "B", CITIES, "b", True),
    c("choice-parenthesised", CH, "B", CITIES, "(B)", True),
    c("choice-half-paren", CH, "B", CITIES, "b)", True),
    c("choice-boxed", CH, "B", CITIES, "\\boxed{B}", True),
    c("choice-boxed-parenthesised", CH, "B", CITIES, "\\boxed{(B)}", True),
    c("choice-text-wrapped", CH, "B", CITIES, "\\boxed{\\text{B}}", True),
    c("choice-textbf", CH, "B", CITIES, "\\textbf{B}", True),
    c("choice-markdown-bold", CH, "B", CITIES, "**B**", True),
    c("choice-option-word", CH, "B", CITIES, "Option B", True),
    c("choice-answer-line", CH, "B", CITIES, "The answer is (B).", True),
    c("choice-bold-answer-line", CH, "B", CITIES, "**Answer:** B", True),
    c("choice-tag", CH, "B", CITIES, "<answer>B</answer>", True),
    c("choice-option-text", CH, "B", CITIES, "London", True),
    c("choice-option-text-lowercase", CH, "B", CITIES, "london", True),
    c("choice-option-text-boxed", CH, "B", CITIES, "\\boxed{\\text{London}}", True),
    c("choice-letter-and-text", CH, "B", CITIES, "(B) London", True),
    c("choice-letter-dot-text", CH, "B", CITIES, "B. London", True),
    c("choice-answer-line-letter-text", CH, "B", CITIES, "The answer is **(B) London**.", True),
    c("choice-letter-and-other-text", CH, "B", CITIES, "(B) Paris", False),
    c("choice-wrong-letter", CH, "B", CITIES, "\\boxed{C}", False),
    c("choice-wrong-text", CH, "B", CITIES, "Berlin", False),
    c("choice-letter-not-an-option", CH, "B", CITIES, "E", False),
    c("choice-hedge", CH, "B", CITIES, "B or C", False),
    c("choice-two-boxes", CH, "B", CITIES, "\\boxed{B} ... no, \\boxed{C}", False),
    c("choice-letter-then-text-agree", CH, "B", CITIES, "\\boxed{B}, i.e. \\boxed{London}", True),
    c("choice-no-options-letter", CH, "B", {}, "(b)", True),
    # -- multi_choice -------------------------------------------------------------------
    c("multi-comma", MC, "A,C", CITIES, "A, C", True),
    c("multi-order", MC, "A,C", CITIES, "C, A", True),
    c("multi-boxed", MC, "A,C", CITIES, "\\boxed{A,C}", True),
    c("multi-and", MC, "A,C", CITIES, "A and C", True),
    c("multi-semicolon", MC, "A,C", CITIES, "A;C", True),
    c("multi-braces", MC, "A,C", CITIES, "{A, C}", True),
    c("multi-brackets", MC, "A,C", CITIES, "[A, C]", True),
    c("multi-parenthesised", MC, "A,C", CITIES, "(A), (C)", True),
    c("multi-run-together", MC, "A,C", CITIES, "AC", True),
    c("multi-texts", MC, "A,C", CITIES, "Paris, Berlin", True),
    c("multi-text-wrapped", MC, "A,C", CITIES, "\\boxed{\\text{A, C}}", True),
    c("multi-duplicate", MC, "A,C", CITIES, "A, C, C", True),
    c("multi-texts-with-spaces", MC, "A,B", MULTI, "Rome, New York", True),
    c("multi-text-with-and", MC, "C", MULTI, "Salt and pepper", True),
    c("multi-partial", MC, "A,C", CITIES, "\\boxed{A}", False),
    c("multi-superset", MC, "A,C", CITIES, "\\boxed{A, B, C}", False),
    c("multi-wrong", MC, "A,C", CITIES, "B, D", False),
    c("multi-unknown-letter", MC, "A,B", MULTI, "A, E", False),
    c("multi-single-letter-a", MC, "A", CITIES, "\\boxed{A}", True),
    c("multi-single-lowercase-a", MC, "A", CITIES, "a", True),
    c("multi-none", MC, "", CITIES, "none", True),
    c("multi-none-vs-some", MC, "A", CITIES, "none", False),
    c("multi-conflicting-boxes", MC, "A,C", CITIES, "\\boxed{A,C} or \\boxed{A}", False),
    # -- boolean ------------------------------------------------------------------------
    c("bool-yes", B, "yes", {}, "yes", True),
    c("bool-yes-capital", B, "yes", {}, "Yes", True),
    c("bool-true", B, "yes", {}, "True", True),
    c("bool-y", B, "yes", {}, "Y", True),
    c("bool-yes-period", B, "yes", {}, "Yes.", True),
    c("bool-yes-bold", B, "yes", {}, "**Yes**", True),
    c("bool-text-yes", B, "yes", {}, "\\boxed{\\text{Yes}}", True),
    c("bool-answer-line", B, "yes", {}, "The answer is yes.", True),
    c("bool-no-vs-yes", B, "yes", {}, "no", False),
    c("bool-false", B, "no", {}, "False", True),
    c("bool-no-caps", B, "no", {}, "NO", True),
    c("bool-no-boxed", B, "no", {}, "\\boxed{\\text{no}}", True),
    c("bool-true-vs-no", B, "no", {}, "\\boxed{True}", False),
    c("bool-maybe", B, "no", {}, "maybe", False),
    c("bool-both", B, "yes", {}, "yes and no", False),
    c("bool-conflicting-boxes", B, "yes", {}, "\\boxed{yes} \\boxed{no}", False),
    c("bool-agreeing-boxes", B, "yes", {}, "\\boxed{Yes}, \\boxed{True}", True),
    c("bool-empty", B, "yes", {}, "", False),
    # -- text, free ----------------------------------------------------------------------
    c("text-exact", T, "Alice", {}, "Alice", True),
    c("text-case", T, "Alice", {}, "alice", True),
    c("text-bold", T, "Alice", {}, "**Alice**", True),
    c("text-boxed-text", T, "Alice", {}, "\\boxed{\\text{Alice}}", True),
    c("text-answer-line", T, "Alice", {}, "The answer is Alice.", True),
    c("text-punctuation", T, "New York", {}, "New  York!", True),
    c("text-article", T, "the red house", {}, "Red house", True),
    c("text-wrong", T, "Alice", {}, "Bob", False),
    c("text-near-name", T, "Alice", {}, "Alicia", False),
    c("text-prose-without-options", T, "Alice", {}, "It is Alice.", False),
    c("text-hedge", T, "Alice", {}, "\\boxed{Alice or Bob}", False),
    c("text-conflicting-boxes", T, "Alice", {}, "\\boxed{Alice} \\boxed{Bob}", False),
    # -- text, with candidate names ------------------------------------------------------
    c("names-exact", T, "Alice", NAMES, "\\boxed{Alice}", True),
    c("names-in-sentence", T, "Alice", NAMES, "Alice is the answer", True),
    c("names-short-prose", T, "Alice", NAMES, "It is Alice.", True),
    c("names-bold-answer-line", T, "Alice", NAMES, "Answer: **Alice**", True),
    c("names-other-name", T, "Alice", NAMES, "\\boxed{Bob}", False),
    c("names-two-names", T, "Alice", NAMES, "Not Alice, it's Bob", False),
    c("names-unknown-name", T, "Alice", NAMES, "Alicia", False),
    # -- assignment: grid ----------------------------------------------------------------
    c("grid-boxed-rows", A, SQUARE, GRID, "\\boxed{1 2\\\\ 2 1}", True),
    c("grid-tag-multiline", A, SQUARE, GRID, "<answer>\n1 2\n2 1\n</answer>", True),
    c("grid-one-line", A, SQUARE, GRID, "Answer: 1 2 2 1", True),
    c("grid-nested-lists", A, SQUARE, GRID, "[[1,2],[2,1]]", True),
    c("grid-matrix", A, SQUARE, GRID, "\\boxed{\\begin{matrix}1 & 2\\\\ 2 & 1\\end{matrix}}", True),
    c(
        "grid-pmatrix",
        A,
        SQUARE,
        GRID,
        "$\\boxed{\\begin{pmatrix}1 & 2\\\\ 2 & 1\\end{pmatrix}}$",
        True,
    ),
    c("grid-one-cell-wrong", A, SQUARE, GRID, "<answer>1 2 2 2</answer>", False),
    c("grid-too-few-cells", A, SQUARE, GRID, "<answer>1 2 2</answer>", False),
    c("grid-too-many-cells", A, SQUARE, GRID, "\\boxed{1 2 2 1 1}", False),
    c("grid-repeated-agree", A, SQUARE, GRID, "\\boxed{1 2 2 1} ... \\boxed{1 2\\\\2 1}", True),
    c("grid-repeated-conflict", A, SQUARE, GRID, "\\boxed{1 2 2 1} \\boxed{2 1 1 2}", False),
    c("grid-empty", A, SQUARE, GRID, "", False),
    # -- assignment: list ----------------------------------------------------------------
    c("list-plain", A, "red, green, blue", LIST, "red, green, blue", True),
    c("list-case", A, "red, green, blue", LIST, "\\boxed{Red, Green, Blue}", True),
    c("list-arrows", A, "red, green, blue", LIST, "red -> green -> blue", True),
    c("list-brackets", A, "red, green, blue", LIST, "[red, green, blue]", True),
    c("list-semicolons", A, "red, green, blue", LIST, "Answer: red; green; blue", True),
    c("list-order-matters", A, "red, green, blue", LIST, "blue, green, red", False),
    c("list-too-short", A, "red, green, blue", LIST, "red, green", False),
    # -- assignment: set -----------------------------------------------------------------
    c("set-any-order", A, "Alice, Carol", SET, "Carol, Alice", True),
    c("set-and", A, "Alice, Carol", SET, "\\boxed{Alice and Carol}", True),
    c("set-ampersand", A, "Alice, Carol", SET, "Alice & Carol", True),
    c("set-braces", A, "Alice, Carol", SET, "{Alice, Carol}", True),
    c("set-latex-braces", A, "Alice, Carol", SET, "\\boxed{\\{Alice, Carol\\}}", True),
    c("set-partial", A, "Alice, Carol", SET, "\\boxed{Alice}", False),
    c("set-superset", A, "Alice, Carol", SET, "\\boxed{Alice, Bob, Carol}", False),
    c("set-stranger", A, "Alice, Carol", SET, "\\boxed{Alice, Dave}", False),
    c("set-none", A, "none", SET, "\\boxed{none}", True),
    c("set-nobody", A, "none", SET, "\\boxed{nobody}", True),
    c("set-none-vs-someone", A, "none", SET, "\\boxed{Alice}", False),
    # -- assignment: mapping ---------------------------------------------------------------
    c("map-any-order", A, TRIPLE, MAP, "Bob=2, Alice=1, Carol=3", True),
    c("map-json", A, TRIPLE, MAP, '{"Alice": 1, "Bob": 2, "Carol": 3}', True),
    c("map-colons-lines", A, TRIPLE, MAP, "<answer>\nAlice: 1\nBob: 2\nCarol: 3\n</answer>", True),
    c("map-swapped-values", A, TRIPLE, MAP, "Alice=1, Bob=3, Carol=2", False),
    c("map-missing-variable", A, TRIPLE, MAP, "Alice=1, Bob=2", False),
    c("map-extra-variable", A, TRIPLE, MAP, "Alice=1, Bob=2, Carol=3, Dave=4", False),
    c("map-indexed-short-keys", A, "Alice=red, Bob=blue", MAP_IDX, "Alice: red, Bob: blue", True),
    c(
        "map-indexed-full-keys",
        A,
        "Alice=red, Bob=blue",
        MAP_IDX,
        "house[Alice]=red, house[Bob]=blue",
        True,
    ),
    c("map-is", A, "Alice=red, Bob=blue", MAP_IDX, "Alice is red; Bob is blue", True),
]


def _grade(answer_type: str, gold: str, grader: dict[str, Any], response: str):  # type: ignore[no-untyped-def]
    return grade({"answer": gold, "answer_type": answer_type, "grader": grader}, response)


def test_table_size() -> None:
    assert len(CASES) >= 150
    ids = [p.id for p in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    covered = {p.values[0] for p in CASES}
    assert covered == {I, Q, R, E, CH, MC, B, T, A}
    formats = {p.values[2].get("format") for p in CASES if p.values[0] == A}
    assert formats == {"grid", "list", "set", "mapping"}


@pytest.mark.parametrize("answer_type, gold, grader, response, expected", CASES)
def test_case(
    answer_type: str, gold: str, grader: dict[str, Any], response: str, expected: bool
) -> None:
    result = _grade(answer_type, gold, grader, response)
    assert result.correct is expected, result
    if expected:
        assert result.score == 1.0 and result.extracted is not None
    elif answer_type != "assignment":
        assert result.score == 0.0  # partial credit exists only for assignments
    assert 0.0 <= result.score <= 1.0 and result.reason


def test_same_verdicts_for_every_problem_form() -> None:
    """The table again with the grader as a pool row's JSON string and as a Problem."""
    for param in CASES:
        answer_type, gold, grader, response, expected = param.values
        row = {"answer": gold, "answer_type": answer_type, "grader": json.dumps(grader)}
        assert grade(row, response).correct is expected, (param.id, "json")
        problem = Problem(
            id="x", source="s", category="c", prompt="p", answer=gold,
            answer_type=answer_type, grader=grader,
        )  # fmt: skip
        assert grade(problem, response).correct is expected, (param.id, "problem")


@pytest.mark.parametrize(
    "grader, gold, response, partial, score",
    [
        pytest.param(GRID, SQUARE, "\\boxed{1 2 2 2}", True, 0.75, id="grid-3-of-4"),
        pytest.param(GRID, SQUARE, "\\boxed{1 2 2 2}", False, 0.0, id="grid-no-partial"),
        pytest.param(GRID, SQUARE, "\\boxed{2 1 1 2}", True, 0.0, id="grid-all-wrong"),
        pytest.param(LIST, "red, green, blue", "blue, green, red", True, 1 / 3, id="list-1-of-3"),
        pytest.param(SET, "Alice, Carol", "Alice", True, 2 / 3, id="set-2-of-3"),
        pytest.param(MAP, TRIPLE, "Alice=1, Bob=3, Carol=2", True, 1 / 3, id="map-1-of-3"),
        pytest.param(GRID, SQUARE, "\\boxed{1 2 2}", True, 0.0, id="unreadable-no-credit"),
        pytest.param(GRID, SQUARE, "\\boxed{1 2 2 2}\\boxed{1 2 2 1}", True, 0.0, id="conflict"),
    ],
)
def test_assignment_partial_credit(
    grader: dict[str, Any], gold: str, response: str, partial: bool, score: float
) -> None:
    row = {"answer": gold, "answer_type": "assignment", "grader": grader}
    result = grade(row, response, partial_credit=partial)
    assert not result.correct
    assert result.score == pytest.approx(score)


def test_none_response_is_no_answer() -> None:
    result = grade({"answer": "7", "answer_type": "integer", "grader": ""}, None)
    assert (result.correct, result.score, result.extracted) == (False, 0.0, None)


@pytest.mark.parametrize(
    "row",
    [
        pytest.param({"answer": "7", "answer_type": "number"}, id="unknown-type"),
        pytest.param({"answer": "seven", "answer_type": "integer"}, id="unreadable-gold"),
        pytest.param({"answer_type": "integer"}, id="no-answer"),
        pytest.param(
            {"answer": "1 2 3", "answer_type": "assignment", "grader": GRID}, id="gold-misfit"
        ),
    ],
)
def test_malformed_problem_raises_value_error(row: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        grade(row, "\\boxed{7}")
