"""Mutation and crossover operators. Each returns a verified child or raises `Rejected`."""

from __future__ import annotations

from evolve.operators.arith import Extend, Renumber
from evolve.operators.base import Context, Operator, Rejected
from evolve.operators.chain import Chain
from evolve.operators.invert import Invert
from evolve.operators.noise import Decoy, Distract
from evolve.operators.rephrase import Rephrase
from evolve.operators.smt import DropClue, Reask, SpecIndex, Tighten

OPERATORS: dict[str, type] = {
    "renumber": Renumber,
    "distract": Distract,
    "decoy": Decoy,
    "chain": Chain,
    "invert": Invert,
    "extend": Extend,
    "tighten": Tighten,
    "drop-clue": DropClue,
    "reask": Reask,
    "rephrase": Rephrase,
}
WORD_OPERATORS = ("renumber", "distract", "decoy", "chain", "invert", "extend")
SMT_OPERATORS = ("tighten", "drop-clue", "reask")
MODEL_OPERATORS = ("rephrase",)


def make_operators(names: list[str]) -> list[Operator]:
    """Operator instances by name; unknown names raise ValueError listing the known ones."""
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise ValueError(f"unknown operator(s) {', '.join(unknown)}; known: {', '.join(OPERATORS)}")
    return [OPERATORS[n]() for n in names]


__all__ = [
    "MODEL_OPERATORS",
    "OPERATORS",
    "SMT_OPERATORS",
    "WORD_OPERATORS",
    "Context",
    "Operator",
    "Rejected",
    "SpecIndex",
    "make_operators",
]
