"""The conversation turn orchestrator: source -> VAD -> engine -> sentences -> TTS -> sink.

`ConversationPipeline` composes the stages of core.conversation.stage_framework on worker threads:

    listener thread: source frames -> StreamingVad -> UserTurn        (and barge-in)
    EngineStage:     UserTurn -> engine.respond() events, crisis check on transcript and reply
    SentenceStage:   ReplyDelta -> Sentence (prosody from perceived emotion + EIPS strategy)
    TtsStage:        Sentence -> SpeechAudio (Piper)
    PlaybackStage:   SpeechAudio -> sink; ReplyEnd -> TurnFinished

Early start: after `vad.early_start_ms` of silence the turn is already submitted (ASR and
the language model start), but its audio is held back until the endpointer confirms the end
(`vad.min_silence_ms`); if the user goes on speaking, the early turn is retracted and nothing
of it is stored. This hides most of the end-of-turn wait behind the models' work.

Barge-in: a speech start while a turn is in flight (thinking or speaking) interrupts it on
the interrupt lane: generation stops (the engine's cancel Event), queued sentences and audio
are dropped, and the sink stops within one 20 ms block. The `TurnRecorder` observer then
stores the turn as interrupted with the reply as far as it got. `stop_speaking()` is the
same for the stop button. Every frame reaches the observers (GUI bridge, CLI printers).

Transcript prefetch: at the first silent VAD window the engine's recogniser starts on the
utterance so far (core.speech.asr_prefetch); the early-started turn then finds its transcript
(nearly) ready. Setting asr.prefetch.

Voice first: while a reply's first sentence is synthesised, generation of the rest pauses
(core.conversation.reply_stages.VoiceFirst), so that the voice starts as soon as it can.

`streaming=False` gives the sequential baseline for benchmarks: the whole reply is
generated, then the whole reply synthesised, then played.
"""

from __future__ import annotations

import logging
import threading
import time

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.audio.sinks import ArraySink
from core.conversation.history import ContextBudget, Conversation
from core.engines.base import Engine, prefetch
from core.engines.events import Error
from core.conversation.frames import EngineEvent, Interrupted, TurnComplete, UserSpeechEnded, UserSpeechStarted, UserTurn
from core.safety import SafetyCheck
from core.settings import Settings
from core.conversation.stage_framework import NO_TURN, Frame, Observer, StagePipeline, notify
from core.speech.tts import Speaker
from core.conversation.reply_stages import EngineStage, PlaybackStage, SentenceStage, TtsStage, VoiceFirst
from core.conversation.recorder import TurnRecorder
from core.speech.vad import SpeechEnded, SpeechPaused, SpeechQuieted, SpeechResumed, SpeechStarted, StreamingVad

__all__ = ["ConversationPipeline", "EngineStage", "SentenceStage", "TtsStage", "PlaybackStage"]

log = logging.getLogger(__name__)

_OPEN = threading.Event()
_OPEN.set()


class _HeldFrames:
    """The observers outside the pipeline (GUI, CLI) see an early-started turn only once its end
    is confirmed, and never see a retracted one; internal bookkeeping sees everything at once."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # delivery happens under it, so frames keep their order
        self._held: dict[int, list[Frame]] = {}
        self._dropped: set[int] = set()
        self.observers: list[Observer] = []

    def hold(self, turn: int) -> None:
        with self._lock:
            self._held[turn] = []

    def release(self, turn: int) -> None:
        with self._lock:
            for frame in self._held.pop(turn, None) or []:
                self._deliver(frame)

    def drop(self, turn: int) -> None:
        with self._lock:
            self._held.pop(turn, None)
            self._dropped.add(turn)

    def __call__(self, frame: Frame) -> None:
        with self._lock:
            if frame.turn in self._dropped:
                return
            held = self._held.get(frame.turn)
            if held is not None:
                held.append(frame)
            else:
                self._deliver(frame)

    def _deliver(self, frame: Frame) -> None:
        notify(self.observers, frame)


class ConversationPipeline:
    """Owns the stages, the listener thread and the turn bookkeeping of one conversation."""

    def __init__(self, settings: Settings, engine: Engine, speaker: Speaker, sink=None, *,
                 vad: StreamingVad | None = None, store=None, session_id: int | None = None,
                 conversation: Conversation | None = None, safety: SafetyCheck | None = None,
                 streaming: bool = True, barge_in: bool = True, observers: list[Observer] | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.speaker = speaker
        self.sink = sink if sink is not None else ArraySink()
        self.vad = vad
        self.barge_in = barge_in
        self.conversation = conversation or Conversation(
            ContextBudget(n_ctx=settings.engine.n_ctx, reply_tokens=settings.engine.max_tokens))
        self.safety = safety if safety is not None else SafetyCheck(settings.safety)
        self._turn_ids = iter(range(1, 1 << 62))
        self._active: set[int] = set()
        self._lock = threading.Lock()
        self._finished: dict[int, threading.Event] = {}
        self._gates: dict[int, threading.Event] = {}  # early-started turns wait here before playing
        self._tentative: int | None = None
        self._listener: threading.Thread | None = None
        self._source = None
        self.listener_error: BaseException | None = None
        cancel_for = self._cancel_for
        self.voice_first = VoiceFirst()
        self.stages = StagePipeline([
            EngineStage(engine, self.conversation, self.safety, cancel_for, self.voice_first),
            SentenceStage(streaming),
            TtsStage(speaker, cancel_for, streaming, self.voice_first),
            PlaybackStage(self.sink, cancel_for, self._gate_for),
        ])
        self.recorder = TurnRecorder(self.conversation, engine, store, session_id, publish=self.stages.publish)
        self._external = _HeldFrames()
        # The recorder sees each frame first, so its TurnComplete reaches outside observers
        # before the TurnFinished / Interrupted that caused it (the GUI relies on this order).
        self.stages.subscribe(self.recorder)
        self.stages.subscribe(self._track)
        self.stages.subscribe(self._external)
        self._external.observers.extend(observers or [])

    def _cancel_for(self, turn: int) -> threading.Event:
        return self.stages.cancel_event(turn)

    def _gate_for(self, turn: int) -> threading.Event:
        return self._gates.get(turn, _OPEN)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> ConversationPipeline:
        self.stages.start()
        return self

    def close(self) -> None:
        """Stop listening, cancel what is in flight, join threads. Models belong to the caller."""
        if self._source is not None:
            self._source.close()
        if self._listener is not None:
            self._listener.join(5)
        self.stages.stop()

    def __enter__(self) -> ConversationPipeline:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def subscribe(self, observer: Observer) -> None:
        """Receive every frame (from worker threads); early-started turns show up once confirmed."""
        self._external.observers.append(observer)

    # -- turns -------------------------------------------------------------------------
    def submit_audio(self, audio: np.ndarray | None, text: str | None = None, endpoint_ms: float = 0.0,
                     hold: bool = False) -> int:
        """Answer one utterance (or typed text) now; returns the turn id.

        `hold=True` starts the work but keeps the reply silent until `release(turn)`."""
        turn = next(self._turn_ids)
        with self._lock:
            self._active.add(turn)
            self._finished[turn] = threading.Event()
            if hold:
                self._gates[turn] = threading.Event()
                self._external.hold(turn)
        self.stages.submit(UserTurn(turn, audio, text, endpoint_ms, time.perf_counter()))
        return turn

    def submit_text(self, text: str) -> int:
        return self.submit_audio(None, text=text)

    def wait(self, turn: int, timeout: float | None = None) -> bool:
        """Block until `turn` is complete (stored) or interrupted; False on timeout."""
        ev = self._finished.get(turn)
        return True if ev is None else ev.wait(timeout)

    def wait_idle(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [self._finished[t] for t in self._active if t in self._finished]
            if not pending:
                return True
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not pending[0].wait(left) and left == 0.0:
                return False

    @property
    def active_turns(self) -> list[int]:
        with self._lock:
            return sorted(self._active)

    def interrupt(self, reason: str = "barge-in") -> list[int]:
        """Cut every turn in flight (interrupt lane); returns the turns cut."""
        cut = []
        for turn in self.active_turns:
            if self.stages.interrupt(turn):
                self.sink.stop()
                self.stages.publish(Interrupted(turn, reason))  # TurnRecorder stores it as interrupted
                cut.append(turn)
        return cut

    def stop_speaking(self) -> list[int]:
        """The stop button."""
        return self.interrupt("stop")

    def release(self, turn: int) -> None:
        """Let a held (early-started) turn play."""
        self._external.release(turn)
        gate = self._gates.pop(turn, None)
        if gate is not None:
            gate.set()

    def retract(self, turn: int) -> None:
        """Drop an early-started turn whose user went on speaking; nothing of it is stored or shown."""
        self._external.drop(turn)
        if self.stages.interrupt(turn):
            self.stages.publish(Interrupted(turn, "retracted"))
        self._gates.pop(turn, None)
        self._turn_done(turn)

    def _track(self, frame: Frame) -> None:
        if isinstance(frame, TurnComplete):
            self._turn_done(frame.turn)

    def _turn_done(self, turn: int) -> None:
        with self._lock:
            self._active.discard(turn)
            ev = self._finished.get(turn)
            gate = self._gates.pop(turn, None)
        if gate is not None:
            gate.set()
        self.stages.forget(turn)
        if ev is not None:
            ev.set()

    # -- listening ---------------------------------------------------------------------
    def listen(self, source) -> threading.Thread:
        """Start the listener thread on `source` (microphone, file, queue)."""
        if self.vad is None:
            self.vad = StreamingVad(self.settings.vad)
        self._source = source
        self._listener = threading.Thread(target=self._listen, args=(source,), name="listener", daemon=True)
        self._listener.start()
        return self._listener

    def _listen(self, source) -> None:
        try:
            for frame in source.frames():
                for decision in self.vad.feed(frame):
                    self._on_vad(decision)
        except BaseException as exc:  # surfaced to the caller; the GUI shows it
            self.listener_error = exc
            log.exception("listener failed")
            self.stages.publish(EngineEvent(NO_TURN, Error(f"listening failed: {exc}", stage="audio-input")))

    def _on_vad(self, decision) -> None:
        if isinstance(decision, SpeechStarted):
            self.stages.publish(UserSpeechStarted(NO_TURN, decision.decision_s))
            if self.barge_in and self.active_turns:
                self.interrupt("barge-in")
        elif isinstance(decision, SpeechQuieted):
            if self.settings.asr.prefetch:
                prefetch(self.engine, decision.audio)  # the transcript starts while the end is a guess
        elif isinstance(decision, SpeechPaused):
            # the end is likely: start thinking now, speak only once it is certain
            self._tentative = self.submit_audio(decision.audio, hold=True)
        elif isinstance(decision, SpeechResumed):
            if self._tentative is not None:
                self.retract(self._tentative)
                self._tentative = None
        elif isinstance(decision, SpeechEnded):
            endpoint_ms = (decision.decision_s - decision.speech_end_s) * 1000.0
            turn, self._tentative = self._tentative, None
            if turn is None or decision.cut:
                if turn is not None:
                    self.retract(turn)
                turn = self.submit_audio(decision.audio, endpoint_ms=endpoint_ms)
            else:
                self.recorder.set_endpoint(turn, endpoint_ms)
                self.release(turn)
            self.stages.publish(UserSpeechEnded(turn, decision.decision_s, decision.speech_end_s,
                                                len(decision.audio) / SAMPLE_RATE, time.perf_counter()))

    def wait_listener(self, timeout: float | None = None) -> None:
        if self._listener is not None:
            self._listener.join(timeout)

    def say(self, source, clips: list[np.ndarray], on_turn=None) -> list[int]:
        """Speak recordings into a listening QueueSource, one turn each, each after the previous reply.

        Drives headless conversations (`talk --input`, the benchmark, tests). Returns the turn
        ids the VAD opened; a clip in which it finds no speech is skipped after a while.
        """
        ended = threading.Event()
        opened: list[int] = []

        def on_frame(frame: Frame) -> None:
            if isinstance(frame, UserSpeechEnded):
                opened.append(frame.turn)
                ended.set()

        self.subscribe(on_frame)
        for clip in clips:
            ended.clear()
            seen = len(opened)
            source.push(clip)
            speed = source.speed if source.speed > 0 else 50.0
            patience = (len(clip) / SAMPLE_RATE + self.settings.vad.min_silence_ms / 1000 + 3.0) / speed + 5.0
            if not ended.wait(patience):
                log.warning("no speech found in a recording of %.1f s; skipped", len(clip) / SAMPLE_RATE)
                continue
            for turn in opened[seen:]:
                self.wait(turn)
                if on_turn is not None:
                    on_turn(turn)
        self.wait_idle()
        return opened
