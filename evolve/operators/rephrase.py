"""`rephrase`: a model paraphrases the text; the child is kept only if its numbers still line
up with the program.

The model is untrusted: its output is accepted only when the multiset of numerals is the
parent's (nothing added, dropped or changed), each value had a single role in the parent
(so roles carry over by value without guessing), the text still asks a question, and the
usual alignment check passes. The program is the parent's, so the answer is unchanged.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Sequence

from evolve.models import SamplingParams
from evolve.numbers import find_numbers
from evolve.operators.base import Context, Rejected, has_program, unpack, word_child
from evolve.program import Mentions
from synth.problem import Problem

PROMPT = (
    "Rewrite the following math word problem in your own words. Keep every number exactly "
    "as written, keep the same question, and do not solve it.\n\n"
    "Problem: {text}\n\nRewritten problem:"
)


def clean(completion: str) -> str:
    text = completion.strip()
    text = re.sub(r"^(rewritten problem|problem)\s*:\s*", "", text, flags=re.IGNORECASE)
    return text.split("\n\n")[0].strip().strip('"').strip()


class Rephrase:
    name = "rephrase"
    arity = 1

    def applicable(self, problem: Problem, ctx: Context) -> bool:
        return ctx.answerer is not None and has_program(problem)

    def apply(self, parents: Sequence[Problem], rng: random.Random, ctx: Context) -> Problem:
        if ctx.answerer is None:
            raise Rejected("needs a model", "pass --model or --endpoint")
        word = unpack(parents[0])
        params = SamplingParams(
            max_new_tokens=min(512, 2 * len(word.text) // 3 + 64),
            temperature=0.7,
            top_p=0.95,
            seed=rng.randrange(2**31),
        )
        completion = ctx.answerer.complete([PROMPT.format(text=word.text)], params)[0][0]
        text = clean(completion)
        if not text or "?" not in text:
            raise Rejected("no question in the paraphrase")
        if text == word.text:
            raise Rejected("unchanged")
        if not 0.5 <= len(text) / len(word.text) <= 2.0:
            raise Rejected("length changed too much")
        old = find_numbers(word.text)
        new = find_numbers(text)
        if Counter(m.value for m in old) != Counter(m.value for m in new):
            raise Rejected("numbers changed")
        role_of: dict = {}
        for m, role in zip(old, word.mentions.roles):
            if role_of.setdefault(m.value, role) != role:
                raise Rejected("ambiguous roles", f"{m.text} has two roles")
        mentions = Mentions(tuple(role_of[m.value] for m in new))
        return word_child(
            self.name,
            parents,
            {"model": ctx.answerer.name, "seed": params.seed},
            text,
            word.program,
            mentions,
            ctx,
        )
