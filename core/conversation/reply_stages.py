"""The four stages of a turn: engine, sentences, TTS, playback (composed by core.conversation.orchestrator).

- EngineStage:   UserTurn -> engine.respond() events; crisis check on the transcript and reply
- SentenceStage: ReplyDelta -> Sentence, with the prosody for this reply (perceived emotion
                 and EIPS strategy); sequential mode keeps the whole reply as one piece
- TtsStage:      Sentence -> SpeechAudio (Piper), streamed per chunk or whole (sequential)
- PlaybackStage: SpeechAudio -> sink; ReplyEnd -> TurnFinished; holds early-started turns
                 until their end is confirmed
Each one only reads its frame and pushes frames; cancellation comes through the turn's
cancel Event (core.conversation.stage_framework' interrupt lane).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import numpy as np

from core.conversation.frames import (
    EngineEvent,
    PlaybackStarted,
    ReplyEnd,
    SafetyOverride,
    Sentence,
    SpeechAudio,
    TurnFinished,
    UserTurn,
)
from core.conversation.history import Conversation
from core.conversation.sentences import SentenceSplitter
from core.conversation.stage_framework import Frame, Push, Stage
from core.engines.base import Engine
from core.engines.events import Done, Error, Event, Perceived, Reasoning, ReplyDelta
from core.safety import SafetyCheck
from core.speech.tts import Prosody, Speaker, prosody_for

log = logging.getLogger(__name__)

# A long first sentence may be spoken from its first clause on (~8 words), so the voice
# starts before the whole sentence is generated; later pieces are whole sentences.
FIRST_CLAUSE_CHARS = 40

EventFor = Callable[[int], threading.Event]  # turn -> its cancel (or playback gate) Event

SAFETY_PROSODY = Prosody("gentle", length=1.12, noise=0.75, noise_w=0.8, volume=0.85)


class VoiceFirst:
    """The first sentence's voice goes before the rest of the reply.

    While TTS synthesises a reply's first sentence, the engine stage stops pulling events
    from the engine; engines generate inside their `respond()` generator, so generation of
    the rest pauses between tokens and Piper has every core. The listener is waiting for that
    voice, while the rest of the reply has the first sentence's whole playback (~1.5 s) to
    catch up. Measured here: a 4-word sentence takes Piper 68 ms on two threads and 114 ms
    on one, and ~115 ms in the pipeline when the model kept generating beside it.
    """

    LIMIT_S = 2.0  # never hold generation longer than this, whatever happens to the TTS

    def __init__(self) -> None:
        self._idle = threading.Event()
        self._idle.set()

    @contextmanager
    def speaking(self):
        self._idle.clear()
        try:
            yield
        finally:
            self._idle.set()

    def wait(self) -> None:
        self._idle.wait(self.LIMIT_S)


class EngineStage(Stage):
    """Runs the engine for a UserTurn and screens what is heard and said for crisis language."""

    name = "engine"

    def __init__(self, engine: Engine, conversation: Conversation, safety: SafetyCheck | None,
                 cancel_for: EventFor, voice_first: VoiceFirst | None = None) -> None:
        self.engine = engine
        self.voice_first = voice_first
        self.conversation = conversation
        self.safety = safety
        self._cancel_for = cancel_for

    def process(self, frame: Frame, push: Push) -> None:
        if not isinstance(frame, UserTurn):
            push(frame)
            return
        turn, cancel = frame.turn, self._cancel_for(frame.turn)
        gen_cancel = _EitherCancel(cancel)  # set on interrupt or when the safety check takes over
        reply, ended = "", False
        try:
            if self.safety and frame.text and self._override(turn, self.safety.check_transcript(frame.text), push):
                return
            events = self.engine.respond(frame.audio, self.conversation.window(), text=frame.text, cancel=gen_cancel)
            for event in events:
                if cancel.is_set():
                    return
                if self.safety and isinstance(event, Perceived):
                    push(EngineEvent(turn, event))
                    if self._override(turn, self.safety.check_transcript(event.transcript), push, gen_cancel, events):
                        return
                    continue
                if self.safety and isinstance(event, ReplyDelta):
                    reply += event.text
                    if self._override(turn, self.safety.check_reply(reply), push, gen_cancel, events):
                        return
                push(EngineEvent(turn, event))
                ended = ended or isinstance(event, (Done, Error))
                if self.voice_first is not None:
                    self.voice_first.wait()  # the engine generates only when pulled
        except Exception as exc:  # the protocol says engines yield Error; a buggy one must not hang the turn
            log.exception("engine %s raised", getattr(self.engine, "name", "?"))
            push(EngineEvent(turn, Error(f"the engine failed: {type(exc).__name__}: {exc}", stage="engine")))
            ended = True
        if not ended and not cancel.is_set():
            push(EngineEvent(turn, Done(reply, None)))  # an engine that stopped without Done still ends its turn

    def _override(self, turn: int, result, push: Push, gen_cancel: threading.Event | None = None,
                  events: Iterator[Event] | None = None) -> bool:
        if not result.triggered:
            return False
        if gen_cancel is not None:
            gen_cancel.set()  # the model's words are not spoken
        text = self.safety.safe_reply()
        push(SafetyOverride(turn, text, result.source, result.matched, result.as_record()))  # its voice starts now
        # The turn's record keeps what the engine measured before the check fired (asr_ms, first_token_ms...):
        # a crisis turn's timeline is as complete as any other's (issue 14: the latency bench's turn lost
        # its `asr` mark whenever a sample or its reply scored over the threshold).
        timings = _wind_down(events) if events is not None else {}
        push(EngineEvent(turn, Done(text, None, timings_ms=timings, safety_triggered=True)))
        return True


def _wind_down(events: Iterator[Event]) -> dict[str, float]:
    """Drain a stopped engine (its cancel is set; engines poll it between tokens and end with
    Done(interrupted=True)) and return the measurements its Done carries; none of its events is
    forwarded. An engine that fails while stopping costs its timings, never the turn."""
    try:
        for event in events:
            if isinstance(event, Done):
                return dict(event.timings_ms)
            if isinstance(event, Error):
                break
    except Exception:
        log.exception("the engine failed while stopping for the crisis reply")
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
    return {}


class _EitherCancel(threading.Event):
    """Set when the turn is cancelled or when this turn's generation alone is stopped (the safety
    check took over). Engines only poll `is_set()` between tokens, so no watcher thread is needed."""

    def __init__(self, turn_cancel: threading.Event) -> None:
        super().__init__()
        self._turn_cancel = turn_cancel

    def is_set(self) -> bool:
        return super().is_set() or self._turn_cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        step, waited = 0.02, 0.0
        while not self.is_set():
            if timeout is not None and waited >= timeout:
                return False
            self._turn_cancel.wait(step)
            waited += step
        return True


class SentenceStage(Stage):
    """Cuts the streamed reply into sentences and picks the prosody for this reply."""

    name = "sentences"

    def __init__(self, streaming: bool = True) -> None:
        self.streaming = streaming
        self._turns: dict[int, dict] = {}

    def _state(self, turn: int) -> dict:
        split = SentenceSplitter(first_clause_chars=FIRST_CLAUSE_CHARS if self.streaming else 0)
        return self._turns.setdefault(turn, {"split": split, "label": None, "intensity": None,
                                             "strategy": None, "n": 0, "text": "", "override": False})

    def process(self, frame: Frame, push: Push) -> None:
        push(frame)  # forward everything; Sentence frames follow the event that completed them
        if isinstance(frame, SafetyOverride):
            st = self._state(frame.turn)
            st["split"].reset()
            st["override"], st["text"] = True, ""
            self._say(frame.turn, [frame.text] if not self.streaming else SentenceSplitter().feed(frame.text + " \n"),
                      push, SAFETY_PROSODY)
            return
        if not isinstance(frame, EngineEvent):
            return
        st, ev = self._state(frame.turn), frame.event
        if isinstance(ev, Perceived):
            st["label"], st["intensity"] = ev.label, ev.intensity
        elif isinstance(ev, Reasoning) and ev.step == "strategy":
            st["strategy"] = ev.text
        elif isinstance(ev, ReplyDelta) and not st["override"]:
            if self.streaming:
                self._say(frame.turn, st["split"].feed(ev.text), push)
            else:
                st["text"] += ev.text
        elif isinstance(ev, (Done, Error)):
            if not st["override"]:
                if self.streaming:
                    self._say(frame.turn, st["split"].flush(), push)
                elif st["text"].strip():
                    self._say(frame.turn, [st["text"].strip()], push)
            push(ReplyEnd(frame.turn))
            self._turns.pop(frame.turn, None)

    def _say(self, turn: int, sentences: list[str], push: Push, prosody: Prosody | None = None) -> None:
        st = self._state(turn)
        for s in sentences:
            p = prosody or prosody_for(st["label"], st["strategy"], st["intensity"])
            push(Sentence(turn, s, st["n"], p))
            st["n"] += 1

    def interrupt(self, turn: int) -> None:
        self._turns.pop(turn, None)


class TtsStage(Stage):
    """Speaks each sentence with Piper; in sequential mode the audio leaves only when complete."""

    name = "tts"

    def __init__(self, speaker: Speaker, cancel_for: EventFor, streaming: bool = True,
                 voice_first: VoiceFirst | None = None) -> None:
        self.speaker = speaker
        self.streaming = streaming
        self._cancel_for = cancel_for
        self.voice_first = voice_first

    def process(self, frame: Frame, push: Push) -> None:
        if not isinstance(frame, Sentence):
            if isinstance(frame, (SpeechAudio, ReplyEnd)):
                push(frame)
            return  # engine events and sentences stop here; playback needs only audio
        cancel = self._cancel_for(frame.turn)
        chunks = []
        first = self.voice_first is not None and self.streaming and frame.index == 0
        with self.voice_first.speaking() if first else nullcontext():
            for chunk in self.speaker.synthesize(frame.text, frame.prosody, cancel):
                if self.streaming:
                    push(SpeechAudio(frame.turn, chunk, self.speaker.sample_rate, frame.index))
                else:
                    chunks.append(chunk)
        if chunks and not cancel.is_set():
            push(SpeechAudio(frame.turn, np.concatenate(chunks), self.speaker.sample_rate, frame.index))


class PlaybackStage(Stage):
    """Plays the audio; when the reply has been played, the turn is finished.

    A turn is either playing or held: a held (early-started) turn's audio and its end wait
    here until `release(turn)`, called on the system lane when the end of the person's turn is
    decided; an interrupt wakes the wait too, and the held audio is then dropped."""

    name = "playback"

    def __init__(self, sink, cancel_for: EventFor) -> None:
        self.sink = sink
        self._cancel_for = cancel_for
        self._started: set[int] = set()
        self._held: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def hold(self, turn: int) -> None:
        with self._lock:
            self._held.setdefault(turn, threading.Event())

    def release(self, turn: int) -> None:
        with self._lock:
            gate = self._held.pop(turn, None)
        if gate is not None:
            gate.set()

    def held(self, turn: int) -> bool:
        with self._lock:
            return turn in self._held

    def process(self, frame: Frame, push: Push) -> None:
        if isinstance(frame, SpeechAudio):
            if not self._wait_release(frame.turn):
                return
            if frame.turn not in self._started:
                self._started.add(frame.turn)
                push(PlaybackStarted(frame.turn))
            self.sink.play(frame.samples, frame.sample_rate, self._cancel_for(frame.turn), turn=frame.turn)
        elif isinstance(frame, ReplyEnd):
            self._started.discard(frame.turn)
            # a held turn is not finished (nor stored) before its end is confirmed
            if self._wait_release(frame.turn) and not self._cancel_for(frame.turn).is_set():
                push(TurnFinished(frame.turn))

    def _wait_release(self, turn: int) -> bool:
        """Wait while `turn` is held; False if it was cancelled meanwhile."""
        with self._lock:
            gate = self._held.get(turn)
        if gate is not None:
            gate.wait()  # set by release(), or by interrupt()
        return not self._cancel_for(turn).is_set()

    def interrupt(self, turn: int) -> None:
        self._started.discard(turn)
        self.release(turn)  # a held turn's wait ends; its audio is dropped as cancelled
