"""The SMT generation engine: one spec instance at a time, then many in parallel."""

from synth.engine.instance import CompiledSpec, Outcome, compile_spec, generate_instance

__all__ = ["CompiledSpec", "Outcome", "compile_spec", "generate_instance"]
