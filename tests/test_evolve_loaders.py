"""Benchmark loaders and program recovery: coverage, exact programs, bad files."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evolve.loaders import SourceError, boxed, load_source
from evolve.numbers import find_numbers, format_number
from evolve.program import Mentions, Program, ProgramError, check_alignment
from evolve.recover import RecoveryError, recover_equation, recover_gsm8k

ROOT = Path(__file__).resolve().parents[1]
GSM8K = ROOT / "data" / "gsm8k" / "test.jsonl"
SVAMP = ROOT / "data" / "svamp" / "test.jsonl"


@pytest.fixture(scope="module")
def gsm8k():
    return load_source(GSM8K)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_gsm8k_programs_cover_at_least_95_percent(gsm8k):
    cov = gsm8k.coverage()
    assert gsm8k.format == "gsm8k"
    assert cov["rows"] == 1319 and cov["skipped"] == 0
    assert cov["coverage"] >= 0.95, cov
    assert cov["programs"] + sum(cov["no_program_by_reason"].values()) == 1319


def test_every_recovered_program_reproduces_gold_and_aligns_with_text(gsm8k):
    for problem in gsm8k.problems:
        if not problem.meta["mutable"]:
            assert problem.meta["program_error"]
            assert "program" not in problem.meta
            continue
        program = Program.from_json(problem.meta["program"])
        assert program.result() == Fraction(problem.answer)
        found = check_alignment(
            problem.prompt, program, Mentions.from_json(problem.meta["mentions"])
        )
        assert len(found) == len(problem.meta["mentions"])
        assert problem.meta["solution"] and "####" not in problem.meta["solution"]


def test_svamp_programs_cover_almost_everything():
    result = load_source(SVAMP)
    assert result.format == "svamp"
    assert result.coverage()["coverage"] >= 0.99


def test_gsm8k_first_row_program_is_exact():
    question = "Janet’s ducks lay 16 eggs per day. She eats three for breakfast and bakes with four. She sells the rest for $2 per egg. How much does she make?"
    rationale = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18\n#### 18"
    recovered = recover_gsm8k(question, rationale.rpartition("####")[0], Fraction(18))
    assert recovered.program.steps == (("s1", "x1 - x2 - x3"), ("s2", "s1 * x4"))
    assert recovered.program.inputs == {"x1": 16, "x2": 3, "x3": 4, "x4": 2}
    assert recovered.mentions.roles == (
        ("input", "x1"),
        ("input", "x2"),
        ("input", "x3"),
        ("input", "x4"),
    )
    assert recovered.program.result({"x1": Fraction(20)}) == 26


def test_percent_literal_links_to_percent_numeral_and_plain_calculation_is_read():
    question = "A house costs $80,000. Its value rises by 150%. Then $5 is added. What is it worth?"
    rationale = "80,000*1.5=<<80000*1.5=120000>>120,000\nSo 120,000+80,000 = $200,000 and 200,000 + 5 = 200,005"
    recovered = recover_gsm8k(question, rationale, Fraction(200005))
    assert "(x2 / 100)" in recovered.program.steps[0][1]
    assert recovered.program.result() == 200005


def test_equation_program_and_failure_reasons():
    rec = recover_equation(
        "There are 87 oranges and 290 bananas in 2 groups.", "( 290.0 / 2.0 )", Fraction(145)
    )
    assert rec.program.steps == (("s1", "x1 / x2"),)
    assert rec.mentions.roles[0] == ("context", "")
    with pytest.raises(RecoveryError, match="gold answer"):
        recover_equation("5 and 6", "( 5.0 + 6.0 )", Fraction(12))
    with pytest.raises(RecoveryError, match="not plain arithmetic"):
        recover_equation("5 and 6", "__import__('os')", Fraction(12))
    with pytest.raises(RecoveryError, match="no calculation steps"):
        recover_gsm8k("He has 5 apples.", "He has five.", Fraction(5))


def test_numbers_scanner_reads_commas_decimals_words_and_ordinals():
    found = find_numbers("He paid $1,200.50 on the 2nd day for three books, 20% off")
    assert [m.value for m in found] == [Fraction("1200.50"), 2, 3, 20]
    assert found[1].ordinal and found[2].word and found[3].percent
    assert format_number(Fraction(4500), found[0]) == "4,500"
    assert format_number(Fraction(7), found[2]) == "seven"


def test_program_rejects_unknown_names_and_unsafe_syntax():
    with pytest.raises(ProgramError, match="undefined"):
        Program({"x1": Fraction(1)}, (("s1", "x1 + y"),), "s1")
    with pytest.raises(ProgramError):
        Program({"x1": Fraction(1)}, (("s1", "x1.__class__"),), "s1")


def test_missing_columns_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q?", "solution": "1"}])
    with pytest.raises(SourceError, match=r"bad.jsonl: gsm8k rows need the column\(s\) answer"):
        load_source(path, "gsm8k")
    with pytest.raises(SourceError, match="cannot tell the format"):
        load_source(write_jsonl(tmp_path / "odd.jsonl", [{"foo": 1}]))


def test_bad_rows_are_counted_never_crash(tmp_path):
    rows = [
        {"question": "Tom has 3 apples and buys 4. How many?", "answer": "3+4=<<3+4=7>>7\n#### 7"},
        {
            "question": "Tom has 3 apples and buys 4. How many?",
            "answer": "3+4=<<3+4=7>>7\n#### 9",
        },  # wrong
        {
            "question": "Tom has 3 apples. How many?",
            "answer": "<<3*=>> #### 3",
        },  # broken annotation
        {"question": "Tom has 2 pets. Name one?", "answer": "A dog.\n#### a dog"},  # non-numeric
        {"question": "", "answer": "#### 5"},
        {"question": "What?", "answer": "no final line"},
        {"question": "Tom has 3 apples and buys 4. How many?", "answer": "3+4=<<3+(4=7>>7\n#### 7"},
    ]
    result = load_source(write_jsonl(tmp_path / "gsm.jsonl", rows), "gsm8k")
    assert [p.meta["mutable"] for p in result.problems] == [True, False, False, False]
    assert result.skipped == {
        "non-numeric answer": 1,
        "empty question": 1,
        "no '#### answer' line": 1,
    }
    assert "gold answer 9" in result.problems[1].meta["program_error"]
    assert "annotation '3*' does not parse" in result.problems[2].meta["program_error"]
    assert "does not parse" in result.problems[3].meta["program_error"]
    assert "gsm.jsonl row 3" in result.skip_examples["non-numeric answer"]


def test_invalid_json_line_names_the_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"question": "a", "answer": "#### 1"}\n{not json\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"broken.jsonl:2: not valid JSON"):
        load_source(path)
    (tmp_path / "x.csv").write_text("a,b\n", encoding="utf-8")
    with pytest.raises(SourceError, match="unknown file type '.csv'"):
        load_source(tmp_path / "x.csv")
    with pytest.raises(SourceError, match="no such file"):
        load_source(tmp_path / "missing.jsonl")


def test_math_format_boxed_and_numeric_answers(tmp_path):
    rows = [
        {"problem": "Compute 2+2.", "answer": "\\boxed{4}"},
        {"problem": "Simplify x+x.", "answer": "2x"},
        {"problem": "Find 1/2 of 5.", "answer": 2.5},
        {"problem": "No answer.", "solution": "The answer is \\boxed{\\frac{1}{2}}."},
    ]
    result = load_source(write_jsonl(tmp_path / "math.jsonl", rows))
    assert result.format == "math"
    assert [(p.answer, p.answer_type) for p in result.problems] == [
        ("4", "integer"),
        ("2x", "expression"),
        ("2.5", "rational"),
        ("\\frac{1}{2}", "expression"),
    ]
    assert boxed("a \\boxed{\\frac{1}{2}} b") == "\\frac{1}{2}"


def test_parquet_with_column_mapping_and_equations(tmp_path):
    table = pa.table(
        {
            "text": [
                "Ann has 5 pens and gets 7 more. How many pens?",
                "Bo has some cups. How many?",
            ],
            "gold": ["12", "9"],
            "eq": ["5 + 7", "4 + 5"],
        }
    )
    path = tmp_path / "mine.parquet"
    pq.write_table(table, path)
    result = load_source(path, mapping={"prompt": "text", "answer": "gold", "equation": "eq"})
    assert result.format == "table"
    first = result.problems[0]
    assert first.meta["mutable"] and Program.from_json(first.meta["program"]).result() == 12
    assert result.problems[1].meta["mutable"] is False  # reads no number: kept, not mutable


def test_datasets_folder_source(tmp_path):
    import datasets

    data = datasets.Dataset.from_list(
        [
            {
                "Body": "Sam had 10 cards and lost 4",
                "Question": "How many are left?",
                "Equation": "( 10.0 - 4.0 )",
                "Answer": 6.0,
            }
        ]
    )
    data.save_to_disk(str(tmp_path / "ds"))
    result = load_source(tmp_path / "ds")
    assert result.format == "svamp"
    assert result.problems[0].prompt == "Sam had 10 cards and lost 4. How many are left?"
    assert result.problems[0].answer == "6"
