"""An `Answerer` backed by any OpenAI-compatible server (vLLM, SGLang, llama.cpp, TGI).

Uses only the standard library (`urllib`), so evolve needs no HTTP client dependency.
`mode="completions"` posts the raw problem text to `/v1/completions` with a plain
"Question: ...\\nAnswer:" frame; `mode="chat"` posts one user message per problem to
`/v1/chat/completions` (the server applies the model's chat template).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, Literal

from evolve.models import SamplingParams

PLAIN_FRAME = "Question: {prompt}\nAnswer: Let's think step by step."


class EndpointError(RuntimeError):
    """The server could not be reached or answered something unusable (URL and cause named)."""


class EndpointAnswerer:
    """Answer prompts through an OpenAI-compatible HTTP API."""

    def __init__(
        self,
        url: str,
        model: str | None = None,
        *,
        mode: Literal["completions", "chat"] = "completions",
        api_key: str | None = None,
        timeout: float = 120.0,
        batch: int = 16,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"endpoint URL must start with http:// or https://, got {url!r}")
        if mode not in ("completions", "chat"):
            raise ValueError(f"mode must be 'completions' or 'chat', got {mode!r}")
        self.base = url.rstrip("/")
        self.base = self.base.removesuffix("/v1")
        self.mode = mode
        self.api_key = api_key
        self.timeout = timeout
        self.batch = batch
        self.model = model or self._first_model()
        self.name = f"{self.model}@{self.base}"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._request(path, json.dumps(body).encode("utf-8"))

    def _request(self, path: str, data: bytes | None = None) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace")
            raise EndpointError(f"{self.base}{path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise EndpointError(f"{self.base}{path}: cannot reach the server ({error})") from None
        try:
            result = json.loads(payload)
        except json.JSONDecodeError:
            raise EndpointError(f"{self.base}{path}: the server did not answer JSON") from None
        if not isinstance(result, dict):
            raise EndpointError(f"{self.base}{path}: expected a JSON object")
        return result

    def _first_model(self) -> str:
        listing = self._request("/v1/models")
        models = [m.get("id") for m in listing.get("data", []) if isinstance(m, dict)]
        if not models or not isinstance(models[0], str):
            raise EndpointError(f"{self.base}/v1/models lists no model; pass --endpoint-model")
        return models[0]

    def _options(self, params: SamplingParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "n": params.n,
            "seed": params.seed,
        }
        if params.stop:
            body["stop"] = list(params.stop)
        return body

    def complete(self, prompts: Sequence[str], params: SamplingParams) -> list[list[str]]:
        if self.mode == "chat":
            return [self._chat(p, params) for p in prompts]
        out: list[list[str]] = []
        for start in range(0, len(prompts), self.batch):
            chunk = [PLAIN_FRAME.format(prompt=p) for p in prompts[start : start + self.batch]]
            result = self._post("/v1/completions", {**self._options(params), "prompt": chunk})
            choices = result.get("choices")
            if not isinstance(choices, list) or len(choices) != len(chunk) * params.n:
                raise EndpointError(
                    f"{self.base}/v1/completions: expected {len(chunk) * params.n} choices, "
                    f"got {len(choices) if isinstance(choices, list) else 'none'}"
                )
            grouped: list[list[str]] = [[] for _ in chunk]
            for position, choice in enumerate(choices):
                index = choice.get("index", position)
                grouped[int(index) // params.n].append(str(choice.get("text", "")))
            out.extend(grouped)
        return out

    def _chat(self, prompt: str, params: SamplingParams) -> list[str]:
        body = {**self._options(params), "messages": [{"role": "user", "content": prompt}]}
        result = self._post("/v1/chat/completions", body)
        choices = result.get("choices")
        if not isinstance(choices, list) or len(choices) != params.n:
            raise EndpointError(f"{self.base}/v1/chat/completions: expected {params.n} choices")
        texts = []
        for choice in choices:
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            texts.append(str(content or ""))
        return texts
