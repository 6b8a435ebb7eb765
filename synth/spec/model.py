"""Pydantic models of the spec format (version 1).

A spec describes a family of puzzles: sampled parameters, unknowns, constraints, clue
families, a query, and how to render the prompt. `veriforge schema` prints the JSON Schema
derived from these models for editor completion.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ExprText = str | int | float | bool
Texts = str | list[str]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Param(_Strict):
    """One sampled parameter. Exactly one of `int`, `choice`, `sample`, `expr`, `value`."""

    int_range: list[ExprText] | None = Field(
        None, alias="int", min_length=2, max_length=2, description="[lo, hi] inclusive, expressions"
    )
    choice: list[Any] | ExprText | None = Field(None, description="pick one of these values")
    sample: str | None = Field(None, description="a word-list name or a list expression")
    k: ExprText | None = Field(None, description="how many to sample (default 1)")
    expr: ExprText | None = Field(None, description="any expression over earlier parameters")
    value: Any = Field(None, description="a fixed value")
    harder: Literal["up", "down", "none"] = Field(
        "none", description="which direction of this knob makes puzzles harder"
    )
    doc: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Param:
        kinds = [
            k
            for k in ("int_range", "choice", "sample", "expr", "value")
            if getattr(self, k) is not None
        ]
        if len(kinds) != 1:
            names = [{"int_range": "int"}.get(k, k) for k in kinds]
            raise ValueError(
                "a parameter needs exactly one of int, choice, sample, expr, value"
                + (f" (got {', '.join(names)})" if names else "")
            )
        if self.k is not None and self.sample is None:
            raise ValueError("'k' only goes with 'sample'")
        return self


class Unknown(_Strict):
    """A solver variable or an indexed family of them (`seat[person]`, `cell[r][c]`)."""

    type: Literal["int", "bool", "enum", "real"]
    range: list[ExprText] | None = Field(
        None, min_length=2, max_length=2, description="[lo, hi] for int unknowns"
    )
    values: ExprText | None = Field(None, description="list expression of enum values")
    index: dict[str, ExprText] = Field(
        default_factory=dict, description="index name -> list expression"
    )
    doc: str | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> Unknown:
        if self.type == "enum" and self.values is None:
            raise ValueError("enum unknowns need 'values'")
        if self.type != "enum" and self.values is not None:
            raise ValueError("'values' only goes with type enum")
        if self.type != "int" and self.range is not None:
            raise ValueError("'range' only goes with type int")
        return self


class Fact(_Strict):
    """A fixed constraint that is always stated in the prompt."""

    holds: ExprText | None = None
    text: Texts
    let: dict[str, ExprText] = Field(default_factory=dict)


class ClueFamily(_Strict):
    """A template for random clues: pick entities (`let`), state `holds`, render `text`."""

    name: str
    weight: float = Field(1.0, gt=0)
    let: dict[str, ExprText] = Field(default_factory=dict)
    when: ExprText | None = Field(None, description="skip the candidate unless this holds")
    holds: ExprText
    text: Texts


class Clues(_Strict):
    families: list[ClueFamily] = Field(default_factory=list)
    count: ExprText | None = Field(
        None,
        description="exactly this many clues (sample strategy); plant strategy adds "
        "clues until the answer is unique when omitted",
    )
    start: ExprText = Field(0, description="clues added before the first uniqueness check")
    max: int = Field(80, ge=1, description="give up (reject) after this many clues")
    minimize: bool = Field(True, description="drop clues that are not needed for uniqueness")


class Options(_Strict):
    count: int = Field(5, ge=2, le=8)
    semantics: Literal["must", "could"] = "must"
    select: Literal["one", "all"] = "one"
    families: list[ClueFamily]


class Query(_Strict):
    kind: Literal["value", "yesno", "which", "assignment", "count", "optimum", "choice"]
    let: dict[str, ExprText] = Field(default_factory=dict)
    text: Texts = Field(description="the question sentence (template)")
    ask: ExprText | None = Field(None, description="value/yesno: the term asked for")
    among: ExprText | None = Field(None, description="which: the candidate list")
    holds: ExprText | None = Field(None, description="which: condition on candidate `x`")
    over: list[str] = Field(
        default_factory=list, description="assignment/count/optimum: unknown families"
    )
    maximize: ExprText | None = None
    minimize: ExprText | None = None
    answer: Literal["value", "assignment"] = Field("value", description="optimum: what to ask")
    render: ExprText | None = Field(None, description="expression turning `value` into text")
    format: Literal["mapping", "grid", "list", "set"] = Field(
        "mapping",
        description="assignment answers: JSON mapping, grid rows, value list, or "
        "the set of indices whose Boolean is true",
    )
    max_count: int = Field(500, ge=1)
    allow_zero: bool = False
    options: Options | None = None

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Query:
        need = {
            "value": ["ask"],
            "yesno": ["ask"],
            "which": ["among", "holds"],
            "assignment": ["over"],
            "count": ["over"],
            "choice": ["options"],
        }.get(self.kind, [])
        missing = [n for n in need if not getattr(self, n)]
        if missing:
            raise ValueError(f"query kind {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "optimum" and (self.maximize is None) == (self.minimize is None):
            raise ValueError("query kind 'optimum' needs exactly one of maximize, minimize")
        if self.kind == "optimum" and self.answer == "assignment" and not self.over:
            raise ValueError("an optimum asked as an assignment needs 'over'")
        return self


class PortfolioEntry(_Strict):
    """One (backend, strategy) pair raced by the portfolio."""

    backend: Literal["z3", "cvc5", "pysmt-cvc5"]
    strategy: str = "auto"

    @model_validator(mode="after")
    def _known(self) -> PortfolioEntry:
        _check_strategy(self.backend, self.strategy, portfolio=False)
        return self


def _check_strategy(backend: str, strategy: str, portfolio: bool) -> None:
    from synth.backends.registry import STATIC_STRATEGIES

    names = ["auto", *STATIC_STRATEGIES[backend], *(["portfolio"] if portfolio else [])]
    if strategy not in names:
        raise ValueError(
            f"unknown strategy {strategy!r} for backend {backend}; expected one of: "
            + ", ".join(names)
        )


class Solver(_Strict):
    """Which solver decides the instance's checks, and how it treats quantifiers."""

    backend: Literal["z3", "cvc5", "pysmt-cvc5"] = Field(
        "z3",
        description="z3 (native, the fast default), cvc5 (its own API) or pysmt-cvc5 "
        "(cvc5 driven through pysmt)",
    )
    strategy: str = Field(
        "auto",
        description="auto (ground where quantifiers are finite, else the backend's native "
        "default), a strategy of the backend (z3: ground, mbqi, ematching, qsat; cvc5: "
        "ground, cegqi, mbqi, mbqi-enum, enum-inst, fmf-bound, full-saturate-quant, "
        "sygus-inst) or portfolio",
    )
    rlimit: int = Field(
        20_000_000,
        ge=1000,
        description="deterministic z3 resource limit per check; exceeding "
        "it rejects the instance (unknown is not verified)",
    )
    cvc5_rlimit: int = Field(
        2_000_000,
        ge=1000,
        description="deterministic cvc5 resource limit per check (rlimit-per)",
    )
    triggers: dict[str, list[ExprText]] = Field(
        default_factory=dict,
        description="E-matching patterns (strategy ematching): quantified variable name -> "
        "terms over the quantifier's body names",
    )
    portfolio: list[PortfolioEntry] = Field(
        default_factory=list, description="strategy portfolio: the (backend, strategy) pairs raced"
    )
    budget: float = Field(
        60.0, gt=0, description="portfolio: seconds per instance before it is rejected"
    )

    @model_validator(mode="after")
    def _known(self) -> Solver:
        _check_strategy(self.backend, self.strategy, portfolio=True)
        if self.strategy == "portfolio" and len(self.portfolio) < 1:
            raise ValueError(
                "strategy portfolio needs a 'portfolio' list of backend/strategy pairs"
            )
        return self


class Spec(_Strict):
    """A puzzle family. See README 'The spec format'."""

    spec: Literal[1] = Field(description="format version")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    category: str
    description: str = ""
    version: str = "1"
    license: str = "cc-by-4.0"
    strategy: Literal["plant", "sample"] = "plant"
    levels: dict[str, dict[str, Param | Any]] = Field(
        default_factory=dict,
        description="level name -> parameter overrides (a fixed value or a parameter form)",
    )
    default_level: str | None = None
    parameters: dict[str, Param | ExprText | list[Any]] = Field(
        default_factory=dict,
        description="sampled per instance, in order; a string is an expression",
    )
    unknowns: dict[str, Unknown]
    constraints: list[ExprText] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    plant: dict[str, ExprText] = Field(default_factory=dict)
    clues: Clues = Field(default_factory=Clues)
    unique_over: list[str] = Field(default_factory=list)
    query: Query
    intro: Texts = ""
    instructions: str | None = None
    template: str | None = None
    solution: str | None = Field(
        None, description="optional Jinja2 template of a worked solution, stored in meta.solution"
    )
    solver: Solver = Field(default_factory=Solver)

    @model_validator(mode="after")
    def _cross_checks(self) -> Spec:
        if self.default_level is not None and self.default_level not in self.levels:
            raise ValueError(
                f"default_level {self.default_level!r} is not one of the levels "
                f"({', '.join(self.levels) or 'none defined'})"
            )
        if self.strategy == "sample" and self.clues.families and self.clues.count is None:
            raise ValueError("the sample strategy needs clues.count")
        for name in list(self.unique_over) + list(self.query.over) + list(self.plant):
            if name not in self.unknowns:
                raise ValueError(
                    f"{name!r} is not an unknown (unknowns: {', '.join(self.unknowns)})"
                )
        return self
