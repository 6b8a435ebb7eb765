"""Evolution of existing benchmarks into harder, still-verified problems.

This layer will own: benchmark loaders and their executable programs; mutation and
crossover operators that keep the answer provably right; the fitness signal from real
models; the evolutionary search with lineage for every child; and variational problem
synthesis (SvS) prompts and filters. It may import `synth` only: a model that answers
prompts is declared here as a small protocol and supplied by the CLI from `trainers`.
"""
