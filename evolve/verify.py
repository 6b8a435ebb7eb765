"""Re-verify a child before it enters a population (never trust the operator that made it).

Word problems: the program parses, runs, gives exactly the stated answer, and every
numeral of the text is accounted for (an input showing its value, context kept from the
source, a distractor or a decoy). SMT-backed rows: the SMT-LIB2 certificate is re-proved
from its text alone by `synth.certificate.verify` (answer holds, and is unique).
"""

from __future__ import annotations

from fractions import Fraction

from evolve.numbers import parse_number
from evolve.program import Mentions, Program, ProgramError, check_alignment
from synth import certificate
from synth.problem import Problem


class VerificationError(ValueError):
    """The child is wrong; the message says how."""


def verify_word(problem: Problem) -> None:
    try:
        program = Program.from_json(problem.meta["program"])
        mentions = Mentions.from_json(problem.meta["mentions"])
        value = program.result()
        check_alignment(problem.prompt, program, mentions)
    except (KeyError, TypeError) as error:
        raise VerificationError(f"missing program data: {error}") from None
    except ProgramError as error:
        raise VerificationError(str(error)) from None
    stated = parse_number(problem.answer)
    if stated is None or stated != Fraction(value):
        raise VerificationError(f"the program gives {value}, the row says {problem.answer}")
    if problem.answer_type == "integer" and Fraction(value).denominator != 1:
        raise VerificationError(f"answer type integer but the program gives {value}")


def verify_smt(problem: Problem, rlimit: int = 50_000_000) -> None:
    verdict = certificate.verify(problem.certificate, problem.answer, rlimit=rlimit)
    if not verdict.ok:
        raise VerificationError(f"certificate: {verdict.reason}")


def verify_child(problem: Problem) -> str:
    """Raise `VerificationError` unless the row is proved right; return how it was proved."""
    if problem.meta.get("mutable") and "program" in problem.meta:
        verify_word(problem)
        return "program"
    if problem.certificate:
        verify_smt(problem)
        return "certificate"
    raise VerificationError("neither a program nor a certificate: nothing proves this row")
