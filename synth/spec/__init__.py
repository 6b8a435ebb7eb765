"""The spec language: YAML files describing a family of verified puzzles."""

from synth.spec.errors import SpecError
from synth.spec.loader import load_spec, load_spec_text
from synth.spec.model import Spec

__all__ = ["Spec", "SpecError", "load_spec", "load_spec_text"]
