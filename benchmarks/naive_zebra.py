"""The straightforward zebra (logic grid) generator: the baseline for bench_generate.py.

This is what a plain z3 generator does, written without veriforge so that the comparison
is honest:

* one z3 integer per attribute value (its house, 1..n) and `Distinct` per attribute;
* a random planted solution (one permutation of the houses per attribute);
* random clues that are true of the planted solution, drawn from the same families and
  with the same weights as specs/logic_grid.yaml (same house, different houses, directly
  left of, next to, somewhere left of, in house k); exact duplicates are skipped;
* after EVERY added clue: a brand-new `z3.Solver()`, all constraints and clues added,
  `check()`, take the model, block it (an Or of `var != value` over all variables) and
  `check()` again: unsat means the grid is unique;
* then the same redundant-clue removal as veriforge: in a random order, for each clue,
  rebuild the solver without it and re-test uniqueness; drop it if the grid stays unique.

The output has the same quality as veriforge's logic_grid rows (a whole grid proved
unique, no redundant clue, one "who has X?" question), but it carries no certificate.
Run it directly for a quick rate: `python benchmarks/naive_zebra.py [COUNT]`.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass

import z3

WORDS = {
    "names": [
        "Alice",
        "Bob",
        "Carol",
        "David",
        "Emma",
        "Frank",
        "Grace",
        "Henry",
        "Irene",
        "Jack",
        "Karen",
        "Liam",
        "Mia",
        "Noah",
        "Olivia",
        "Peter",
    ],
    "colours": [
        "red",
        "green",
        "blue",
        "yellow",
        "white",
        "black",
        "purple",
        "orange",
        "pink",
        "grey",
    ],
    "pets": [
        "cat",
        "dog",
        "bird",
        "fish",
        "horse",
        "rabbit",
        "hamster",
        "turtle",
        "snake",
        "ferret",
    ],
    "drinks": ["tea", "coffee", "milk", "water", "juice", "cocoa", "lemonade", "soda"],
    "jobs": [
        "doctor",
        "teacher",
        "baker",
        "pilot",
        "painter",
        "nurse",
        "lawyer",
        "chef",
        "farmer",
        "writer",
    ],
    "hobbies": [
        "chess",
        "hiking",
        "painting",
        "cooking",
        "fishing",
        "gardening",
        "reading",
        "cycling",
        "dancing",
        "knitting",
    ],
}
NOUN = {
    "names": "{}",
    "colours": "the {} house",
    "pets": "the {} owner",
    "drinks": "the {} drinker",
    "jobs": "the {}",
    "hobbies": "the {} fan",
}
SINGULAR = {
    "colours": "colour",
    "pets": "pet",
    "drinks": "drink",
    "jobs": "job",
    "hobbies": "hobby",
}

# (family, weight) exactly as in specs/logic_grid.yaml.
FAMILIES = [
    ("same_house", 3),
    ("not_same", 2),
    ("left_of", 2),
    ("next_to", 2),
    ("somewhere_left", 1),
    ("at_house", 1),
]


@dataclass
class Puzzle:
    prompt: str
    answer: str
    clues: int
    checks: int


def _ordinal(h: int) -> str:
    return {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth", 7: "seventh"}[
        h
    ]


class _Generator:
    def __init__(self, rng: random.Random, n: int, k: int) -> None:
        self.rng, self.n, self.k = rng, n, k
        self.attrs = ["names"] + rng.sample([a for a in WORDS if a != "names"], k - 1)
        self.values = [rng.sample(WORDS[a], n) for a in self.attrs]
        # items are (attribute index, value index); pos = planted house of each item
        self.items = [(a, i) for a in range(k) for i in range(n)]
        self.pos = {}
        for a in range(k):
            houses = list(range(1, n + 1))
            rng.shuffle(houses)
            for i in range(n):
                self.pos[(a, i)] = houses[i]
        self.var = {(a, i): z3.Int(f"pos_{a}_{i}") for (a, i) in self.items}
        self.constraints = [c for v in self.var.values() for c in (v >= 1, v <= n)]
        self.constraints += [z3.Distinct([self.var[(a, i)] for i in range(n)]) for a in range(k)]
        self.checks = 0

    def noun(self, item: tuple[int, int]) -> str:
        a, i = item
        return NOUN[self.attrs[a]].format(self.values[a][i])

    # -- clues ------------------------------------------------------------------------------
    def draw(self):
        """A random clue true of the planted solution: (key, z3 formula, sentence), or None."""
        rng, n, k, pos, var = self.rng, self.n, self.k, self.pos, self.var
        total = sum(w for _, w in FAMILIES)
        pick = rng.random() * total
        for family, weight in FAMILIES:
            pick -= weight
            if pick < 0:
                break
        if family in ("same_house", "not_same"):
            a = rng.randrange(k)
            b = rng.choice([j for j in range(k) if j != a])
            x = (a, rng.randrange(n))
            if family == "same_house":
                y = next((b, i) for i in range(n) if pos[(b, i)] == pos[x])
                key = ("same_house",) + tuple(sorted([x, y]))
                return (
                    key,
                    var[x] == var[y],
                    f"{self.noun(x)} is in the same house as {self.noun(y)}.",
                )
            y = rng.choice([(b, i) for i in range(n) if pos[(b, i)] != pos[x]])
            key = ("not_same",) + tuple(sorted([x, y]))
            text = f"{self.noun(x)} and {self.noun(y)} are in different houses."
            return key, var[x] != var[y], text
        if family == "left_of":
            x = rng.choice(self.items)
            if pos[x] == n:
                return None
            y = rng.choice([v for v in self.items if pos[v] == pos[x] + 1])
            return (
                ("left_of", x, y),
                var[x] + 1 == var[y],
                f"{self.noun(x)} is directly left of {self.noun(y)}.",
            )
        if family == "next_to":
            x = rng.choice(self.items)
            y = rng.choice([v for v in self.items if abs(pos[v] - pos[x]) == 1])
            key = ("next_to",) + tuple(sorted([x, y]))
            return (
                key,
                z3.Or(var[x] == var[y] + 1, var[y] == var[x] + 1),
                f"{self.noun(x)} and {self.noun(y)} are next to each other.",
            )
        if family == "somewhere_left":
            x = rng.choice([v for v in self.items if pos[v] < n])
            y = rng.choice([v for v in self.items if pos[v] > pos[x]])
            return (
                ("somewhere_left", x, y),
                var[x] < var[y],
                f"{self.noun(x)} is somewhere to the left of {self.noun(y)}.",
            )
        x = rng.choice(self.items)
        return (
            ("at_house", x),
            var[x] == pos[x],
            f"{self.noun(x)} is in the {_ordinal(pos[x])} house.",
        )

    # -- solving: a fresh solver for every question -------------------------------------------
    def unique(self, clues: list) -> bool:
        """Build a new solver with everything, solve, block the model, solve again."""
        self.checks += 2
        solver = z3.Solver()
        solver.add(self.constraints)
        solver.add([formula for _, formula, _ in clues])
        if solver.check() != z3.sat:
            raise AssertionError("clues true of the planted solution cannot be unsat")
        model = solver.model()
        values = {
            item: model.eval(v, model_completion=True).as_long() for item, v in self.var.items()
        }
        solver.add(z3.Or([v != values[item] for item, v in self.var.items()]))
        if solver.check() == z3.unsat:
            assert values == self.pos, "a unique solution must be the planted one"
            return True
        return False

    def generate(self, max_clues: int = 100) -> Puzzle | None:
        clues: list = []
        seen: set = set()
        attempts = 0
        while True:
            if len(clues) >= max_clues or attempts > 50 * max_clues:
                return None
            attempts += 1
            drawn = self.draw()
            if drawn is None or drawn[0] in seen:
                continue
            seen.add(drawn[0])
            clues.append(drawn)
            if self.unique(clues):
                break
        # Redundant-clue removal, as in veriforge: each clue once, in a random order.
        order = list(range(len(clues)))
        self.rng.shuffle(order)
        keep = [True] * len(clues)
        for i in order:
            keep[i] = False
            if not self.unique([c for c, kept in zip(clues, keep) if kept]):
                keep[i] = True
        clues = [c for c, kept in zip(clues, keep) if kept]
        # The question: who has a random value of a random non-name attribute?
        b = self.rng.randrange(1, self.k)
        target = (b, self.rng.randrange(self.n))
        answer = next(
            self.values[0][i] for i in range(self.n) if self.pos[(0, i)] == self.pos[target]
        )
        lines = [
            (
                f"There are {self.n} houses in a row, numbered 1 to {self.n} from left to "
                f"right. In each house lives one person. The people are "
                f"{', '.join(self.values[0])}."
            )
        ]
        lines += [
            f"Each house has a different {SINGULAR[self.attrs[a]]} ({', '.join(self.values[a])})."
            for a in range(1, self.k)
        ]
        lines += [f"{j + 1}. {text[0].upper() + text[1:]}" for j, (_, _, text) in enumerate(clues)]
        lines.append(f"Who has the {self.values[b][target[1]]}?")
        return Puzzle("\n".join(lines), answer, len(clues), self.checks)


def generate(seed: int, n: int = 5, k: int = 5, max_clues: int = 100) -> Puzzle | None:
    """One puzzle from `seed`, or None if it stayed ambiguous after `max_clues` clues."""
    return _Generator(random.Random(seed), n, k).generate(max_clues)


def run(count: int, seed: int = 0, n: int = 5, k: int = 5) -> dict:
    """Generate `count` accepted puzzles on this core; rejected attempts count in the time."""
    started = time.perf_counter()
    accepted, attempted, clues, checks = 0, 0, 0, 0
    index = 0
    while accepted < count:
        puzzle = generate(seed * 1_000_003 + index, n, k)
        index += 1
        attempted += 1
        if puzzle is not None:
            accepted += 1
            clues += puzzle.clues
            checks += puzzle.checks
    seconds = time.perf_counter() - started
    return {
        "accepted": accepted,
        "attempted": attempted,
        "seconds": seconds,
        "rate": accepted / seconds,
        "mean_clues": clues / max(1, accepted),
        "mean_checks": checks / max(1, accepted),
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print(generate(0).prompt)
    result = run(count)
    print(
        f"{result['accepted']} puzzles in {result['seconds']:.2f}s: "
        f"{result['rate']:.2f}/s, {result['mean_clues']:.1f} clues, "
        f"{result['mean_checks']:.0f} solver checks per puzzle"
    )
