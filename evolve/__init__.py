"""Evolution of existing benchmarks into harder, still-verified problems.

- `loaders`, `recover`, `numbers`, `program`: benchmark rows become `Problem`s, with an
  executable program (in the spec expression language) recovered for word problems and
  every numeral of the text given a role.
- `operators`: mutation and crossover (renumber, distract, decoy, chain, invert, extend,
  rephrase; tighten, drop-clue, reask for SMT-backed pools), each returning a child or a
  rejection reason; `verify` re-checks every child.
- `fitness`, `search`, `pipeline`, `report`: measured difficulty + structure + novelty, the
  resumable evolutionary loop, the pool and its report.
- `models` (the `Answerer` protocol) and `endpoint` (an OpenAI-compatible answerer): this
  layer may import `synth` only; a `transformers` model is handed in by the CLI.

See docs/evolve.md.
"""
