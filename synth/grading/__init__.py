"""Grading: is a model's response right? One entry point (`grade`) for everything that
scores responses: evaluation, evolution fitness and training rewards."""

from synth.grading.adapters import compute_score, score_answer, trl_reward
from synth.grading.grade import Grade, grade, grade_batch

__all__ = ["Grade", "compute_score", "grade", "grade_batch", "score_answer", "trl_reward"]
