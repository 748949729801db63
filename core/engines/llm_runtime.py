"""The llama.cpp runtime: GGUF validation, backend detection, model loading and token streaming.

llama.cpp aborts the whole process on some malformed files, so every GGUF is first read
with the `gguf` package (core.models.manifest.check_llm: header, metadata, tensor extents)
and refused with a ModelAssetError that says what to do when it is missing, truncated or
not a language model. Loading follows settings.engine: `gpu_offload`
"auto" offloads every layer when this llama.cpp build supports a GPU, "cpu" keeps all on
the CPU. `TextLLM.stream()` yields text pieces and stops at the next token once `cancel` is set.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.engines.decoding import completion_kwargs
from core.models.bundled import require_bundled
from core.models.manifest import ModelAssetError, check_llm
from core.settings import EngineSettings


class GGUFError(ModelAssetError):
    """llama.cpp refused a model file that passed the metadata checks; the message says what to do."""


@dataclass(frozen=True)
class BackendInfo:
    """Which llama.cpp backend this build runs on (for doctor and the offload decision)."""

    name: str  # "CPU", "CUDA", "Metal", "Vulkan", ...
    gpu_offload: bool
    system_info: str


def backend_info() -> BackendInfo:
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    offload = bool(llama_cpp.llama_supports_gpu_offload())
    name = "CPU"
    if offload:
        # system_info lists the compiled backends by name ("CUDA : ARCHS = ...", "METAL : ...")
        for key, label in (("CUDA", "CUDA"), ("METAL", "Metal"), ("VULKAN", "Vulkan"), ("HIP", "ROCm"), ("SYCL", "SYCL")):
            if key in info.upper():
                name = label
                break
        else:
            name = "Metal" if sys.platform == "darwin" else "GPU"
    return BackendInfo(name, offload, info.strip())


def gpu_layers(settings: EngineSettings) -> int:
    """-1 (every layer) when offload is wanted and possible, else 0."""
    if settings.gpu_offload == "cpu":
        return 0
    import llama_cpp

    return -1 if llama_cpp.llama_supports_gpu_offload() else 0


@dataclass(frozen=True)
class OffloadPlan:
    """How many of a model's layers llama.cpp puts on the GPU with these settings (for doctor)."""

    model: str
    offloaded: int
    total: int
    reason: str  # why not all, or "" when every layer goes to the GPU


def offload_plan(settings: EngineSettings, path: Path) -> OffloadPlan:
    """The count llama.cpp logs at load ("offloaded k/n layers to GPU"), known before loading.

    llama.cpp counts a model of B blocks as B + 1 offloadable layers (the output layer is
    one) and clamps the requested n_gpu_layers to that; -1 (what gpu_layers gives) asks for
    all of them (llama-model.cpp, load_tensors / n_gpu_layers). B is the GGUF's block_count.
    """
    from core.models.manifest import read_gguf_metadata

    meta = read_gguf_metadata(Path(path), "language model")
    arch = meta.get("general.architecture")
    blocks = meta.get(f"{arch}.block_count")
    if not isinstance(blocks, int) or blocks <= 0:
        raise ModelAssetError(f"{path} has no {arch}.block_count; is it a language-model GGUF?")
    total = blocks + 1
    requested = gpu_layers(settings)
    offloaded = total if requested < 0 else min(requested, total)
    if offloaded == total:
        reason = ""
    elif settings.gpu_offload == "cpu":
        reason = "engine.gpu_offload is 'cpu' in the settings"
    else:
        reason = "this llama.cpp build has no GPU backend; packaging/README.md says how to build one"
    return OffloadPlan(Path(path).name, offloaded, total, reason)


def all_cores(settings: EngineSettings) -> int:
    """settings.n_threads when set, else every core (at most 8)."""
    return settings.n_threads or max(1, min(8, os.cpu_count() or 1))


def default_threads(settings: EngineSettings) -> int:
    """llama.cpp threads: all cores but one, which is left to the audio work that runs beside
    generation (Piper speaking the previous sentence, the side transcript during the audio
    prefill). llama.cpp's threads busy-wait, so giving it every core makes them fight the
    audio threads: on 2 cores a turn of the audio model took 45 s with 2 threads and 2.8 s
    with 1 (measured with `cogaudio reply --engine audio-llm` while another job ran)."""
    return settings.n_threads or max(1, min(8, (os.cpu_count() or 1) - 1))


def batch_threads(settings: EngineSettings) -> int:
    """Prompt-evaluation threads: every core. The prompt is evaluated once the turn's audio work
    is done (the transcript is in, Piper has nothing to say yet), so nothing is starved."""
    return settings.n_threads_batch or all_cores(settings)


class ThreadSprint:
    """Every core for generation until the first sentence is out, then all but one.

    Up to the first sentence nothing else runs (the transcript is in, Piper is waiting for
    that sentence), so two threads on a 2-core CPU generate ~1.5x faster (62 -> 93 tok/s
    measured with SmolLM2-135M). After it, Piper speaks while the rest is generated and
    llama.cpp's busy-waiting threads must leave it a core (see default_threads)."""

    def __init__(self, set_threads: Callable[[int, int], None], settings: EngineSettings) -> None:
        self._set = set_threads
        self.full = all_cores(settings)
        self.background = default_threads(settings)
        self.batch = batch_threads(settings)
        self.active = False

    def start(self) -> None:
        if self.full != self.background:
            self._set(self.full, self.batch)
            self.active = True

    def relax(self) -> None:
        if self.active:
            self._set(self.background, self.batch)
            self.active = False


def llm_path(settings: EngineSettings) -> Path:
    return Path(settings.llm_path) if settings.llm_path else require_bundled("llm")


class TextLLM:
    """A GGUF chat model through llama-cpp-python's high-level `Llama`, loaded once."""

    def __init__(self, settings: EngineSettings, path: Path | None = None) -> None:
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.path = Path(path) if path else llm_path(settings)
        self.architecture, self.n_embd = check_llm(self.path)  # raises ModelAssetError with a fix
        self.settings = settings
        try:
            self.llm = llama_cpp.Llama(
                str(self.path),
                n_ctx=settings.n_ctx,
                n_threads=default_threads(settings),
                n_threads_batch=batch_threads(settings),
                n_gpu_layers=gpu_layers(settings),
                last_n_tokens_size=settings.decoding.repeat_last_n,  # the penalties' window
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise GGUFError(f"llama.cpp could not load {self.path}: {exc}") from exc
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise GGUFError(f"{self.path} has no chat template (tokenizer.chat_template); use an instruct/chat GGUF")
        eos = self.llm._model.token_get_text(self.llm.token_eos())
        bos = self.llm._model.token_get_text(self.llm.token_bos()) if self.llm.token_bos() >= 0 else ""
        self._formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, add_generation_prompt=True)
        self._eos_text = eos
        self.sprint = ThreadSprint(lambda n, nb: llama_cpp.llama_set_n_threads(self.llm.ctx, n, nb), settings)

    @property
    def n_ctx(self) -> int:
        return self.llm.n_ctx()

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def chat_prompt(self, messages: list[dict[str, str]]) -> tuple[str, list[str]]:
        """Render messages with the model's own chat template; returns (prompt, stop strings)."""
        rendered = self._formatter(messages=messages)
        stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
        return rendered.prompt, stops or [self._eos_text]

    def stream(
        self,
        prompt: str,
        stop: list[str],
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[str]:
        """Yield generated text pieces; returns early (between tokens) once `cancel` is set."""
        temperature = self.settings.temperature if temperature is None else temperature
        chunks = self.llm.create_completion(  # the penalties keep a tiny model from looping (core.engines.decoding)
            prompt, stream=True, max_tokens=max_tokens or self.settings.max_tokens, stop=stop,
            **completion_kwargs(temperature, self.settings.decoding),
        )
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    return
                piece = chunk["choices"][0]["text"]
                if piece:
                    yield piece
        finally:
            chunks.close()  # ends llama.cpp's generator so the context is free for the next call

    def close(self) -> None:
        llm, self.llm = getattr(self, "llm", None), None
        if llm is not None:
            llm.close()
