"""How a problem prompt becomes model input text.

Instruction-tuned tokenizers carry a chat template and their models expect it; base models
and the offline tiny models do not, and get a plain "Question/Answer" frame instead. Rollouts,
evaluation, difficulty estimation and SFT all go through this one function, so a model is
always trained and measured on the same framing.
"""

from __future__ import annotations

from typing import Any

PLAIN_FORMAT = "Question: {prompt}\nAnswer:"


def has_chat_template(tokenizer: Any) -> bool:
    return bool(getattr(tokenizer, "chat_template", None))


def format_prompt(tokenizer: Any, prompt: str, system: str | None = None) -> str:
    """The text the model sees before its completion."""
    if has_chat_template(tokenizer):
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    text = PLAIN_FORMAT.format(prompt=prompt)
    return f"{system}\n\n{text}" if system else text
