"""A sound device unplugged mid-turn and plugged back: the source and sink say so and recover in place.

The sound card is the one thing mocked here (a fake `sounddevice` module whose device can be
unplugged); the pipeline, the Piper voice, the session store and the recovery code are real.
"""

from __future__ import annotations

import sys
import threading
import time
import types

import numpy as np
import pytest
from scripted_engine import ScriptedEngine

from core.audio.sinks import SpeakerSink
from core.audio.sources import MicrophoneSource
from core.conversation.orchestrator import ConversationPipeline
from core.settings import Settings
from core.speech.tts import Speaker
from core.store.session_store import SessionStore


class FakeCard:
    """One input and one output device that can be unplugged; streams behave like PortAudio's."""

    def __init__(self) -> None:
        self.plugged = True
        self.written = 0  # output samples that reached the device

    def module(self) -> types.ModuleType:
        card = self

        class PortAudioError(Exception):
            pass

        class InputStream:
            def __init__(self, samplerate, channels, dtype, device, blocksize, callback):
                if not card.plugged:
                    raise PortAudioError("Error opening InputStream: Device unavailable [PaErrorCode -9985]")
                self.blocksize, self.callback = blocksize, callback
                self._run = threading.Event()
                self._thread = None

            @property
            def active(self):
                return self._run.is_set() and card.plugged

            def start(self):
                if not card.plugged:
                    raise PortAudioError("Error starting stream: Device unavailable")
                self._run.set()
                self._thread = threading.Thread(target=self._pump, daemon=True)
                self._thread.start()

            def _pump(self):
                status = types.SimpleNamespace(input_overflow=False)
                while self._run.is_set() and card.plugged:  # an unplugged device simply stops calling back
                    self.callback(np.zeros((self.blocksize, 1), np.float32), self.blocksize, None, status)
                    time.sleep(self.blocksize / 16000 / 4)

            def stop(self):
                self._run.clear()

            abort = stop

            def close(self):
                self._run.clear()

        class OutputStream:
            def __init__(self, samplerate, channels, dtype, device):
                if not card.plugged:
                    raise PortAudioError("Error opening OutputStream: Device unavailable [PaErrorCode -9985]")

            def start(self):
                pass

            def write(self, block):
                if not card.plugged:
                    raise PortAudioError("Error writing to stream: Device unavailable")
                card.written += len(block)

            def stop(self):
                pass

            abort = stop

            def close(self):
                pass

        mod = types.ModuleType("sounddevice")
        mod.PortAudioError = PortAudioError
        mod.InputStream, mod.OutputStream = InputStream, OutputStream
        mod.check_input_settings = lambda **kw: None
        mod.check_output_settings = lambda **kw: None
        return mod


@pytest.fixture
def card(monkeypatch):
    c = FakeCard()
    monkeypatch.setitem(sys.modules, "sounddevice", c.module())
    return c


def _wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_microphone_says_it_is_gone_and_comes_back_in_the_same_source(card):
    said: list[str] = []
    mic = MicrophoneSource(on_status=said.append, reopen_s=0.05)
    mic.STALL_S = 0.3
    got = []
    reader = threading.Thread(target=lambda: [got.append(f) for f in mic.frames()], daemon=True)
    reader.start()
    _wait(lambda: len(got) > 5)
    card.plugged = False
    _wait(lambda: any("stopped working" in s for s in said))
    assert mic.lost
    n = len(got)
    card.plugged = True
    _wait(lambda: any("back" in s for s in said))
    _wait(lambda: len(got) > n + 5)  # frames flow again from the same source object
    assert not mic.lost and len(said) == 2
    mic.close()
    reader.join(5)
    assert not reader.is_alive()


def test_speakers_unplugged_mid_reply_then_back_the_conversation_goes_on(card, tmp_path):
    said: list[str] = []
    sink = SpeakerSink(on_status=said.append)
    store = SessionStore(tmp_path / "s.sqlite3")
    sid = store.new_session("t")
    engine = ScriptedEngine(reply="I hear you. That sounds really hard. Tell me more about it.")

    with ConversationPipeline(Settings(), engine, Speaker(), sink, store=store, session_id=sid) as p:
        # unplug after the first sentence reached the device: mid-turn
        first = p.submit_text("rough day")
        _wait(lambda: card.written > 0, 60)
        card.plugged = False
        assert p.wait(first, 60)
        assert any("sound output stopped working" in s for s in said)
        card.plugged = True
        before = card.written
        second = p.submit_text("and then it rained")
        assert p.wait(second, 60)
    assert card.written > before  # the next reply was heard, without a restart
    assert said[-1] == "The sound output is back."
    turns = store.turns(sid)
    assert len(turns) == 2 and all(t.reply for t in turns)  # both turns are in the record
    store.close()
