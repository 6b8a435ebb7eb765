"""The trainer on CUDA: a ~100M-parameter Llama built from a config, bf16; rollout and
update tokens per second and peak GPU memory.

    .venv/bin/python benchmarks/bench_train_gpu.py [--steps 10] [--max-new-tokens 128]

Without a CUDA device it prints why and exits 0 (nothing is measured). The model is
randomly initialised (hidden 768, 12 layers, 12 heads, MLP 2560: ~99M parameters with the
local tokenizer's small vocabulary), the pool is specs/arithmetic.yaml; the config is
configs/bench-train-gpu.yaml (G = 8, 32 prompts per step, 128-token completions,
transformers backend with prefix sharing). A random model rarely stops early, so nearly
every completion has the full length: the figures are throughput, not learning.

- rollout tokens/s: completion tokens sampled / rollout seconds (the sampling loop)
- update tokens/s: completion tokens trained on / update seconds (forward + backward +
  optimizer, prompt tokens are processed too but not counted)
- peak GPU memory: torch.cuda.max_memory_allocated over the run
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

from train_common import RESULTS, ROOT, arithmetic_pools


def build_model(out: Path) -> int:
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    from trainers.tiny import default_corpus, train_tokenizer

    tokenizer = train_tokenizer(default_corpus(), 512)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=768,
        intermediate_size=2560,
        num_hidden_layers=12,
        num_attention_heads=12,
        num_key_value_heads=12,
        max_position_embeddings=2048,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return sum(p.numel() for p in model.parameters())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench_train_gpu")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        print(
            "bench_train_gpu: skipped: no CUDA device visible to torch "
            f"(torch {torch.__version__}); run it on a GPU machine."
        )
        return 0
    from trainers.config import TrainConfig, load_config
    from trainers.loop import train

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    params = build_model(work / "model")
    train_pool, _ = arithmetic_pools(work, n=1000)
    cfg = load_config(ROOT / "configs" / "bench-train-gpu.yaml", TrainConfig)
    cfg = cfg.model_copy(
        update={
            "model": str(work / "model"),
            "output_dir": str(work / "run"),
            "max_steps": args.steps,
            "data": cfg.data.model_copy(update={"pools": [str(train_pool)]}),
            "rollout": cfg.rollout.model_copy(update={"max_new_tokens": args.max_new_tokens}),
        }
    )
    shutil.rmtree(cfg.output_dir, ignore_errors=True)
    torch.cuda.reset_peak_memory_stats()
    run = train(cfg, show_progress=False)
    peak = torch.cuda.max_memory_allocated() / 2**30
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()][1:]
    tokens = [r["rollouts"] * r["response_length"] for r in records]
    rollout_tps = [t / r["time/rollout"] for t, r in zip(tokens, records)]
    update_tps = [t / r["time/update"] for t, r in zip(tokens, records) if r["time/update"] > 0]
    result = {
        "device": torch.cuda.get_device_name(0),
        "parameters": params,
        "steps": len(records),
        "rollout_tokens_per_s": statistics.median(rollout_tps[1:] or rollout_tps),
        "update_tokens_per_s": statistics.median(update_tps[1:] or update_tps),
        "seconds_per_step": statistics.median(
            r["time/rollout"] + r["time/update"] for r in records[1:] or records
        ),
        "peak_gpu_memory_gib": peak,
    }
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_train_gpu.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
