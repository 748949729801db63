"""AudioLLMEngine through llama.cpp's mtmd with a random-weight ultravox projector the test writes.

The projector is untrained, so the words it produces mean nothing; what is checked is that
audio goes in through mtmd (the prompt grows by the projector's 150 embeddings per 30 s
chunk), generation runs and ends in a well-formed event stream, a LoRA adapter loads and
changes the output, and broken files are refused with clear errors before llama.cpp sees them.
"""

from __future__ import annotations

import shutil
import subprocess
import threading

import jiwer
import numpy as np
import pytest

from core.audio.pcm import load_audio
from core.engines.audio_llm import AudioLLMEngine
from core.engines.events import Done, Error, Perceived, ReplyDelta
from core.engines.factory import create_engine
from core.engines.llm_runtime import TextLLM
from core.engines.options import resolve_options
from core.models.bundled import require_bundled
from core.models.manifest import ModelAssetError
from core.settings import Settings
from tests.helpers.random_gguf import write_random_lora, write_random_projector


def _settings() -> Settings:
    s = Settings()
    s.engine.max_tokens = 16
    s.engine.temperature = 0.0  # greedy: runs are comparable
    s.engine.n_ctx = 1024
    s.engine.n_threads = 2
    return s


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("gguf")
    return {
        "projector": write_random_projector(d / "mmproj.gguf", n_embd_text=576, stack_factor=10),
        "lora": write_random_lora(d / "lora.gguf", alpha=4.0, seed=1, std=0.2),
        "dir": d,
    }


@pytest.fixture(scope="module")
def engine(files):
    settings = _settings()
    settings.engine.mmproj_path = files["projector"]
    eng = create_engine(settings, "audio-llm")  # the factory's audio path, with the side transcript
    assert isinstance(eng, AudioLLMEngine) and eng.notice is None
    yield eng
    eng.close()


def _tone(seconds: float = 1.5) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(np.float32)


def test_audio_goes_in_and_generation_runs(engine):
    events = list(engine.respond(_tone(), []))
    assert not [e for e in events if isinstance(e, Error)], events
    assert isinstance(events[0], Perceived) and isinstance(events[-1], Done)
    done = events[-1]
    assert done.reply  # malformed output from a random projector still gives something to say
    assert done.timings_ms["audio_prefill_ms"] > 0 and "first_token_ms" in done.timings_ms
    assert engine.last_prompt_positions >= 150  # the audio chunk's 150 embeddings were evaluated


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_speech_gets_a_side_transcript_and_cues(engine, files):
    wav = files["dir"] / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), "I feel a little tired today"], check=True)
    events = list(engine.respond(load_audio(wav), []))
    perceived = events[0]
    assert isinstance(perceived, Perceived) and isinstance(events[-1], Done)
    assert jiwer.wer("i feel a little tired today", perceived.transcript.lower().strip(".")) <= 0.35
    assert perceived.cues["f0_mean_hz"] > 50 and "asr_ms" in events[-1].timings_ms


def test_text_only_turn_uses_fewer_positions(engine):
    events = list(engine.respond(None, [], text="Hello there."))
    assert isinstance(events[-1], Done) and events[-1].reply
    assert engine.last_prompt_positions < 150


def test_the_shared_prompt_prefix_is_evaluated_once(engine):
    """Turn 2 keeps the KV of the system prompt from turn 1 and evaluates only the rest; the
    answer is the same as from a cleared context (greedy decoding)."""
    tone = _tone()
    first = list(engine.respond(tone, []))[-1]
    second = list(engine.respond(tone, []))[-1]
    evaluated_second = engine.last_prefix_evaluated  # the audio follows: no logits needed, nothing to redo
    ll = engine._ll
    ll.llama_memory_clear(ll.llama_get_memory(engine._ctx), True)  # from outside: the cache must notice
    third = list(engine.respond(tone, []))[-1]
    assert evaluated_second == 0 and engine.last_prefix_evaluated > 30  # re-evaluated after a clear
    assert first.reply == second.reply == third.reply
    # a text-only turn with the same first chunk still evaluates its last token for the logits
    list(engine.respond(None, [], text="Hello there."))
    list(engine.respond(None, [], text="Hello there."))
    assert engine.last_prefix_evaluated >= 1


def test_a_turn_that_fails_before_its_emotion_line_leaves_no_thread(engine, monkeypatch):
    """The side transcript's thread ends with its turn even when the Emotion line is never read
    (before: it was joined only there, so a turn that failed earlier left it running)."""

    def failing(*args, **kwargs):
        raise RuntimeError("llama_decode returned 1")  # what a failing native evaluation raises

    monkeypatch.setattr(engine, "_eval_prompt", failing)
    monkeypatch.setattr(engine, "_eval_prompt_frames", failing)
    events = list(engine.respond(_tone(), []))
    assert len(events) == 1 and isinstance(events[0], Error) and "llama_decode returned 1" in events[0].message
    assert [t.name for t in threading.enumerate() if t.name == "audio-llm-asr"] == []


def test_lora_adapter_loads_and_changes_the_output(engine, files):
    base = "".join(e.text for e in engine.respond(None, [], text="Hello there.") if isinstance(e, ReplyDelta))
    with_lora = AudioLLMEngine(resolve_options(_settings()), require_bundled("llm"), files["projector"], files["lora"], lora_scale=1.0)
    try:
        assert with_lora.model.endswith("lora.gguf")
        events = list(with_lora.respond(_tone(0.5), []))
        assert isinstance(events[-1], Done) and not [e for e in events if isinstance(e, Error)]
        adapted = "".join(e.text for e in with_lora.respond(None, [], text="Hello there.") if isinstance(e, ReplyDelta))
        assert adapted != base
    finally:
        with_lora.close()


def test_truncated_llm_is_refused_clearly(files):
    src = require_bundled("llm").read_bytes()
    cut = files["dir"] / "cut.gguf"
    cut.write_bytes(src[: len(src) // 3])
    with pytest.raises(ModelAssetError, match="truncated"):
        AudioLLMEngine(resolve_options(_settings()), cut, files["projector"])
    settings = _settings()
    settings.engine.llm_path = cut
    with pytest.raises(ModelAssetError, match="truncated"):  # the cascade's text LLM is checked the same way
        TextLLM(settings.engine)


def test_width_mismatched_projector_is_refused_clearly(files):
    narrow = write_random_projector(files["dir"] / "narrow.gguf", n_embd_text=512)
    with pytest.raises(ModelAssetError, match="width 512.*n_embd 576"):
        AudioLLMEngine(resolve_options(_settings()), require_bundled("llm"), narrow)


def test_stack_factor_that_would_abort_llama_cpp_is_refused(files):
    bad = write_random_projector(files["dir"] / "stack7.gguf", stack_factor=7)
    with pytest.raises(ModelAssetError, match="stack factor 7"):
        AudioLLMEngine(resolve_options(_settings()), require_bundled("llm"), bad)


def test_not_a_gguf_is_refused(files):
    junk = files["dir"] / "junk.gguf"
    junk.write_bytes(b"RIFF" + b"\0" * 100)
    with pytest.raises(ModelAssetError):
        AudioLLMEngine(resolve_options(_settings()), junk, files["projector"])
