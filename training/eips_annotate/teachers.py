"""Teacher LLMs for EIPS annotation: a local GGUF through llama-cpp-python, or any
OpenAI-compatible chat endpoint (vLLM, llama-server, TGI, a hosted API) over HTTP.

A teacher is anything with `name` and `complete(messages, seed) -> str`. The HTTP teacher
uses the standard library so no client package is needed on GPU servers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class Teacher(Protocol):
    name: str

    def complete(self, messages: list[dict], seed: int) -> str: ...


@dataclass
class GenerationParams:
    temperature: float = 0.7
    max_tokens: int = 320
    stop: list[str] | None = None  # the reply-only teacher stops at the end of its first paragraph


class GGUFTeacher:
    """A GGUF chat model run by llama.cpp (the bundled SmolLM2 works as a tiny teacher)."""

    def __init__(self, model_path: str | Path, params: GenerationParams, n_ctx: int = 2048, n_threads: int | None = None):
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise RuntimeError("the gguf teacher needs llama-cpp-python: pip install llama-cpp-python==0.3.36") from exc
        path = Path(model_path)
        if not path.exists():
            raise FileNotFoundError(f"teacher GGUF {path} not found; pass --model PATH to a .gguf chat model")
        self.name = f"gguf:{path.name}"
        self.params = params
        self._llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)

    def complete(self, messages: list[dict], seed: int) -> str:
        out = self._llm.create_chat_completion(
            messages=messages, temperature=self.params.temperature, max_tokens=self.params.max_tokens, seed=seed,
            stop=self.params.stop,
        )
        return out["choices"][0]["message"]["content"] or ""

    def close(self) -> None:
        self._llm.close()


class OpenAITeacher:
    """POST {base_url}/chat/completions with an OpenAI-style body; `api_key` is optional."""

    def __init__(self, base_url: str, model: str, params: GenerationParams, api_key: str | None = None,
                 timeout_s: float = 120.0):
        self.base_url = base_url.rstrip("/")
        self.model, self.params, self.api_key, self.timeout_s = model, params, api_key, timeout_s
        self.name = f"openai:{model}"

    def complete(self, messages: list[dict], seed: int) -> str:
        body = {"model": self.model, "messages": messages, "temperature": self.params.temperature,
                "max_tokens": self.params.max_tokens, "seed": seed}
        if self.params.stop:
            body["stop"] = self.params.stop
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.base_url}/chat/completions", data=json.dumps(body).encode(),
                                     headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                data = json.loads(resp.read())
        except urllib.error.URLError as exc:
            raise RuntimeError(f"teacher endpoint {self.base_url} failed ({exc}); check --base-url and that the "
                               "server is up") from exc
        return data["choices"][0]["message"]["content"] or ""

    def close(self) -> None:
        pass
