"""CascadeEngine and the engine factory on the real bundled models (espeak-ng speech in)."""

from __future__ import annotations

import shutil
import subprocess
import threading

import jiwer
import pytest

from core.audio.pcm import load_audio
from core.emotion.labels import EMOTIONS, INTENSITIES
from core.engines.cascade import CascadeEngine
from core.engines.events import Done, Error, Perceived, Reasoning, ReplyDelta
from core.engines.factory import create_engine
from core.engines.options import resolve_options
from core.settings import Settings

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (apt-get install espeak-ng)")
SPOKEN = "I lost my job today and I do not know what to do"


@pytest.fixture(scope="module")
def engine():
    settings = Settings()
    settings.engine.max_tokens = 96
    settings.engine.n_threads = 2
    eng = CascadeEngine(resolve_options(settings))
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def utterance(tmp_path_factory):
    wav = tmp_path_factory.mktemp("speech") / "turn.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), SPOKEN], check=True)
    return load_audio(wav)


def _check_order(events) -> None:
    kinds = [type(e) for e in events]
    assert kinds[0] is Perceived and kinds[-1] is Done
    assert Error not in kinds
    assert kinds.count(Reasoning) in (0, 4)
    if Reasoning in kinds:  # the four steps come together, before the reply
        first_reply = kinds.index(ReplyDelta)
        assert all(k is Reasoning for k in kinds[first_reply - 4:first_reply])


def test_spoken_turn_gives_transcript_emotion_and_reply(engine, utterance):
    events = list(engine.respond(utterance, []))
    _check_order(events)
    perceived, done = events[0], events[-1]
    assert jiwer.wer(SPOKEN.lower(), perceived.transcript.lower().strip(".")) <= 0.35
    assert perceived.label in EMOTIONS and perceived.intensity in INTENSITIES
    assert 0.0 <= perceived.confidence <= 1.0
    assert perceived.cues["f0_mean_hz"] > 50 and perceived.cues["rate_sps"] > 0
    streamed = "".join(e.text for e in events if isinstance(e, ReplyDelta)).strip()
    assert done.reply and streamed.startswith(done.reply[:20])
    assert len(done.reply.split()) >= 3 and not done.interrupted
    assert {"asr_ms", "first_token_ms", "total_ms"} <= done.timings_ms.keys()


def test_cancel_stops_generation_and_marks_the_turn_interrupted(engine):
    cancel = threading.Event()
    events = []
    for event in engine.respond(None, [], text="Tell me a long story about the sea.", cancel=cancel):
        events.append(event)
        if isinstance(event, Perceived):
            cancel.set()
    assert isinstance(events[-1], Done) and events[-1].interrupted
    assert sum(isinstance(e, ReplyDelta) for e in events) <= 1  # stopped at the next token


def test_history_and_silence(engine):
    import numpy as np

    events = list(engine.respond(np.zeros(16000, dtype=np.float32), []))
    assert isinstance(events[-1], Done) and events[-1].reply  # nothing heard: still a kind answer
    from core.engines.base import HistoryTurn

    history = [HistoryTurn("My name is Sam.", "Nice to meet you, Sam.")] * 40  # more than the context holds
    events = list(engine.respond(None, history, text="Do you remember my name?"))
    assert isinstance(events[-1], Done) and events[-1].reply


def test_factory_falls_back_to_cascade_with_a_notice(tmp_path):
    from tests.helpers.random_gguf import write_random_projector

    bad = write_random_projector(tmp_path / "narrow.gguf", n_embd_text=512)
    settings = Settings()
    settings.engine.mmproj_path = bad
    engine = create_engine(settings, "auto")
    try:
        assert engine.name == "cascade"
        assert "512" in engine.notice and "cascade" in engine.notice
    finally:
        engine.close()
    plain = create_engine(Settings(), "cascade")
    try:
        assert plain.name == "cascade" and plain.notice is None
    finally:
        plain.close()
