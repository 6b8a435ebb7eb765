"""Reinforcement learning from verifiable rewards on veriforge pools.

This layer will own: rollout backends (transformers `generate`, vLLM), the GRPO loss and
training loop, difficulty-adaptive rollout sampling (DARS), hard-example curricula,
pass@k evaluation and checkpoints. It may import `synth` and `evolve`.
"""
