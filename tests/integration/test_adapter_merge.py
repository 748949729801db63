"""The LoRA adapter folded into a cached copy of the base model (core.models.adapter_merge).

Real files: the bundled SmolLM2 Q4_1 base and the embedded adapter. The merged model must
behave as llama.cpp's adapter-on-top does (same next-token distribution), the cache must be
reused and keyed by its inputs, and every failure must leave no file behind and fall back to
the adapter on top.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.engines.audio_llm import AudioLLMEngine
from core.engines.events import Done, Perceived
from core.engines.factory import create_engine
from core.models.adapter_merge import AdapterMergeError, merged_model
from core.models.bundled import require_bundled
from core.models.manifest import resolve_manifest
from core.settings import Settings

EMBEDDED = resolve_manifest(Path(__file__).resolve().parents[2] / "assets" / "models" / "manifest.json")
PROMPTS = [
    "<|im_start|>user\nI lost my job today and I don't know what to do.<|im_end|>\n<|im_start|>assistant\nEmotion:",
    "<|im_start|>user\nWe won the final!<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>user\nCan you tell me the time?<|im_end|>\n<|im_start|>assistant\nEmotion: neutral, medium.\nResponse:",
]


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    return merged_model(EMBEDDED.llm, EMBEDDED.adapter, tmp_path_factory.mktemp("cache"), EMBEDDED.adapter_scale)


def _last_logits(model: Path, prompt: str, lora: Path | None = None) -> np.ndarray:
    from llama_cpp import Llama

    llm = Llama(str(model), lora_path=str(lora) if lora else None, n_ctx=256, n_threads=2, logits_all=True, verbose=False)
    try:
        tokens = llm.tokenize(prompt.encode(), add_bos=False, special=True)
        llm.eval(tokens)
        return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    finally:
        llm.close()


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_merged_model_predicts_as_the_adapter_on_top(merged):
    assert merged.built and merged.path.stat().st_size > 0
    off_merge = off_base = 0.0
    for prompt in PROMPTS:
        on_top = _last_logits(EMBEDDED.llm, prompt, EMBEDDED.adapter)
        folded = _last_logits(merged.path, prompt)
        plain = _last_logits(EMBEDDED.llm, prompt)
        assert _cos(on_top, folded) > 0.995
        # Q8_0 rounding moves logits by ~0.3: near-ties may swap, clear winners may not
        assert folded.max() - folded[on_top.argmax()] < 1.0
        assert on_top.max() - on_top[folded.argmax()] < 1.0
        off_merge += np.abs(on_top - folded).mean()
        off_base += np.abs(on_top - plain).mean()
    # and the adapter really is in there: the merge is far closer to it than the bare base is
    assert off_merge < 0.2 * off_base


def test_the_cache_is_reused_and_keyed_by_its_inputs(merged):
    again = merged_model(EMBEDDED.llm, EMBEDDED.adapter, merged.path.parent, EMBEDDED.adapter_scale)
    assert not again.built and again.path == merged.path
    assert (again.arch, again.n_embd) == ("llama", 576)
    other = merged.path.parent / "other-model+other-adapter-q8_0-0123456789ab.gguf"
    other.write_bytes(b"kept")
    half = merged_model(EMBEDDED.llm, EMBEDDED.adapter, merged.path.parent, 0.5)
    assert half.built and half.path != merged.path
    # the earlier merge of the same pair is replaced, not left behind; other models' stay
    assert not merged.path.exists() and not merged.path.with_suffix(".json").exists()
    assert sorted(p.name for p in merged.path.parent.iterdir()) == sorted(
        [half.path.name, half.path.with_suffix(".json").name, other.name])


def test_a_file_that_is_not_a_lora_adapter_is_refused_and_leaves_nothing(tmp_path):
    with pytest.raises(AdapterMergeError, match="not a LoRA adapter"):
        merged_model(EMBEDDED.llm, EMBEDDED.projector, tmp_path / "cache", 1.0)
    assert not list((tmp_path / "cache").iterdir())


def _settings(tmp_path: Path) -> Settings:
    s = Settings(cache_dir=tmp_path / "cache")
    s.engine.temperature = 0.0
    s.engine.max_tokens = 24
    s.engine.transcribe = False
    return s


def _label(engine) -> str:
    from core.audio.pcm import load_audio

    audio = load_audio(Path(__file__).resolve().parents[2] / "assets" / "samples" / "tired.wav")
    events = list(engine.respond(audio, []))
    assert isinstance(events[-1], Done) and events[-1].reply
    return next(e.label for e in events if isinstance(e, Perceived))


def test_the_factory_runs_the_merged_model_and_falls_back_to_the_adapter_on_top(tmp_path):
    settings = _settings(tmp_path)
    engine = create_engine(settings, "audio-llm")
    try:
        assert isinstance(engine, AudioLLMEngine) and engine.notice is None
        assert "(merged)" in engine.model and engine.lora_path is None
        cached = list((tmp_path / "cache" / "merged").glob("*.gguf"))
        assert len(cached) == 1 and engine.llm_path == cached[0]
        merged_label = _label(engine)
    finally:
        engine.close()
    # a cached file cut short: built again
    size = cached[0].stat().st_size
    cached[0].write_bytes(cached[0].read_bytes()[: size // 2])
    engine = create_engine(settings, "audio-llm")
    try:
        assert "(merged)" in engine.model and cached[0].stat().st_size == size
    finally:
        engine.close()
    # damaged in place (same size, broken header): llama.cpp refuses it, the file is dropped
    # and the adapter goes on top
    with open(cached[0], "r+b") as f:
        f.write(b"\0" * 4096)
    engine = create_engine(settings, "audio-llm")
    try:
        assert isinstance(engine, AudioLLMEngine) and engine.lora_path == EMBEDDED.adapter
        assert engine.llm_path == require_bundled("llm") and not cached[0].exists()
        assert _label(engine) == merged_label
    finally:
        engine.close()
    # a cache that cannot be written (a file where the folder should be): the adapter on top
    blocked = _settings(tmp_path)
    blocked.cache_dir = tmp_path / "not-a-dir"
    blocked.cache_dir.write_text("x")
    engine = create_engine(blocked, "audio-llm")
    try:
        assert isinstance(engine, AudioLLMEngine) and engine.lora_path == EMBEDDED.adapter
    finally:
        engine.close()
    off = _settings(tmp_path / "off")
    off.engine.merge_adapter = False
    engine = create_engine(off, "audio-llm")
    try:
        assert engine.lora_path == EMBEDDED.adapter and not (tmp_path / "off" / "cache").exists()
    finally:
        engine.close()


def test_a_direct_reply_gets_its_response_head_in_one_batch(tmp_path):
    """The embedded model replies in the direct format: after its Emotion line the engine
    decodes "Response:" as one batch instead of sampling it, and the reply still streams."""
    engine = create_engine(_settings(tmp_path), "audio-llm")
    batches: list[int] = []
    real = engine._decode
    engine._decode = lambda tokens, n_past: batches.append(len(tokens)) or real(tokens, n_past)
    try:
        from core.audio.pcm import load_audio

        audio = load_audio(Path(__file__).resolve().parents[2] / "assets" / "samples" / "tired.wav")
        events = list(engine.respond(audio, []))
        head = len(engine._tokenize("Response:"))
    finally:
        del engine._decode
        engine.close()
    sampled = [n for n in batches if n == 1]
    assert head == 2 and batches.count(head) == 1 and len(sampled) >= 3  # the head at once, the rest one by one
    assert next(e for e in events if isinstance(e, Perceived)).label
    assert isinstance(events[-1], Done) and len(events[-1].reply.split()) >= 3
