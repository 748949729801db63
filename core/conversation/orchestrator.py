"""The conversation turn orchestrator: source -> VAD -> turn-taking -> engine -> sentences -> TTS -> sink.

`ConversationPipeline` composes the stages:

    listener thread: source frames -> StreamingVad -> TurnTaking      (core.conversation.turn_taking)
    EngineStage:     UserTurn -> engine.respond() events, crisis check on transcript and reply
    SentenceStage:   ReplyDelta -> Sentence (prosody from perceived emotion + EIPS strategy)
    TtsStage:        Sentence -> SpeechAudio (Piper)
    PlaybackStage:   SpeechAudio -> sink; ReplyEnd -> TurnFinished (a held turn waits for release)

The turn-taking stage decides; this module routes what it pushes: a UserTurn into the stage
pipeline (held turns also hold their frames from the outside observers, core.conversation.
held_frames), a TurnReleased to the playback stage and the recorder, a TurnRetracted and a
BargeIn to the interrupt lane, a Backchannel to the backchannel voice.

Early start: after `vad.early_start_ms` of silence the turn is already submitted (ASR and
the language model start), but its audio is held back until the end of the turn is decided
(core.conversation.end_of_turn); if the user goes on speaking, the early turn is retracted
and nothing of it is stored. This hides most of the end-of-turn wait behind the models' work.

Barge-in: speech over a reply pauses its voice at once (the sink holds within one 20 ms
block); a backchannel ("mm-hm") or a cough lets it go on from there, speech that goes on
interrupts it on the interrupt lane: generation stops (the engine's cancel Event), queued
sentences and audio are dropped, and the sink stops. The
`TurnRecorder` observer then stores the turn as interrupted with the reply as far as it got.
`stop_speaking()` is the same for the stop button. Every frame reaches the observers.

Transcript prefetch: at the first silent VAD window the engine's recogniser starts on the
utterance so far (core.speech.asr_prefetch); the end-of-turn decision reads those words, and
the early-started turn finds its transcript (nearly) ready. Setting asr.prefetch.

Threads: the listener, one worker per stage, the backchannel voice and the turn-taking
stage's prosody worker, all joined by `close()`; nothing is started per turn here (the
recogniser's prefetch worker is joined by the engine's close()).

`streaming=False` gives the sequential baseline for benchmarks: the whole reply is
generated, then the whole reply synthesised, then played.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future

import numpy as np

from core.audio.sinks import ArraySink
from core.conversation.backchannel_voice import BackchannelVoice
from core.conversation.backchannels import BACKCHANNEL_PROMPT
from core.conversation.end_of_turn import EndOfTurnPolicy
from core.conversation.frames import (
    Backchannel,
    BargeIn,
    EngineEvent,
    Interrupted,
    PlaybackStarted,
    TurnComplete,
    TurnReleased,
    TurnRetracted,
    UserTurn,
    VoicePaused,
)
from core.conversation.heap import HeapTrimmer
from core.conversation.held_frames import HeldFrames
from core.conversation.history import ContextBudget, Conversation
from core.conversation.recorder import TurnRecorder
from core.conversation.reply_stages import EngineStage, PlaybackStage, SentenceStage, TtsStage, VoiceFirst
from core.conversation.stage_framework import NO_TURN, Frame, Observer, StageChain
from core.conversation.turn_taking import BACKCHANNELS, TurnTaking
from core.engines.base import Engine
from core.engines.events import Error
from core.safety import SafetyCheck
from core.settings import Settings
from core.speech.tts import Speaker
from core.speech.vad import SileroVad, StreamingVad

__all__ = ["ConversationPipeline", "EngineStage", "SentenceStage", "TtsStage", "PlaybackStage"]

log = logging.getLogger(__name__)

HARD_END_MARGIN_MS = 300  # the VAD's own end comes this long after the policy's longest wait


class ConversationPipeline:
    """Owns the stages, the listener thread and the turn bookkeeping of one conversation."""

    def __init__(self, settings: Settings, engine: Engine, speaker: Speaker, sink=None, *,
                 vad_model: SileroVad | None = None, store=None, session_id: int | None = None,
                 conversation: Conversation | None = None, safety: SafetyCheck | None = None,
                 streaming: bool = True, barge_in: bool = True, observers: list[Observer] | None = None) -> None:
        self.settings = settings
        self.engine = engine
        self.speaker = speaker
        self.sink = sink if sink is not None else ArraySink()
        self.vad_model = vad_model
        self.vad: StreamingVad | None = None
        self.barge_in = barge_in
        self.conversation = conversation or Conversation(
            ContextBudget(n_ctx=settings.engine.n_ctx, reply_tokens=settings.engine.max_tokens))
        self.safety = safety if safety is not None else SafetyCheck(settings.safety)
        self._turn_ids = iter(range(1, 1 << 62))
        self._active: set[int] = set()
        self._playing: set[int] = set()
        self._lock = threading.Lock()
        self._finished: dict[int, threading.Event] = {}
        self._heap = HeapTrimmer()  # freed native memory back to the system after each turn (soak)
        self._listener: threading.Thread | None = None
        self._source = None
        self.listener_error: BaseException | None = None
        cancel_for = self._cancel_for
        self.voice_first = VoiceFirst()
        self.playback = PlaybackStage(self.sink, cancel_for)
        self.stages = StageChain([
            EngineStage(engine, self.conversation, self.safety, cancel_for, self.voice_first),
            SentenceStage(streaming),
            TtsStage(speaker, cancel_for, streaming, self.voice_first),
            self.playback,
        ])
        self.recorder = TurnRecorder(self.conversation, engine, store, session_id, publish=self.stages.publish)
        self._external = HeldFrames()
        # The recorder sees each frame first, so its TurnComplete reaches outside observers
        # before the TurnFinished / Interrupted that caused it (the GUI relies on this order).
        self.stages.subscribe(self.recorder)
        self.stages.subscribe(self._track)
        self.stages.subscribe(self._external)
        self._external.observers.extend(observers or [])
        self.policy = EndOfTurnPolicy(settings.turn, settings.vad.min_silence_ms)
        self.turn_taking = TurnTaking(
            settings, self.policy, lambda: next(self._turn_ids), transcribe_ahead=self._transcribe_ahead,
            close_utterance=self._close_utterance, replying=lambda: bool(self.active_turns),
            speaking=self.speaking, barge_in=barge_in,
            reread=self._reread_burst if getattr(engine, "asr", None) is not None else None)
        self.backchannel = BackchannelVoice(speaker, self.sink, self.speaking, BACKCHANNELS)

    def _cancel_for(self, turn: int) -> threading.Event:
        return self.stages.cancel_event(turn)

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
        self.backchannel.close()
        self.turn_taking.close()
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
        self._start_turn(UserTurn(turn, audio, text, endpoint_ms, time.perf_counter(), held=hold))
        return turn

    def submit_text(self, text: str) -> int:
        return self.submit_audio(None, text=text)

    def _start_turn(self, frame: UserTurn) -> None:
        with self._lock:
            self._active.add(frame.turn)
            self._finished[frame.turn] = threading.Event()
        if frame.held:
            self.playback.hold(frame.turn)
            self._external.hold(frame.turn)
        self.stages.submit(frame)

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

    def speaking(self) -> bool:
        """Is a reply's audio playing (from its first sample until the turn is over)?"""
        with self._lock:
            return bool(self._playing)

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
        self.playback.release(turn)

    def retract(self, turn: int) -> None:
        """Drop an early-started turn whose user went on speaking; nothing of it is stored or shown."""
        self._external.drop(turn)
        if self.stages.interrupt(turn):
            self.stages.publish(Interrupted(turn, "retracted"))
        self._turn_done(turn)

    def _track(self, frame: Frame) -> None:
        if isinstance(frame, PlaybackStarted):
            with self._lock:
                self._playing.add(frame.turn)
        elif isinstance(frame, TurnComplete):
            record = frame.record
            self.turn_taking.perceived(getattr(record, "label", None), getattr(record, "intensity", None))
            self._turn_done(frame.turn)
        elif isinstance(frame, Interrupted):
            with self._lock:
                self._playing.discard(frame.turn)

    def _turn_done(self, turn: int) -> None:
        with self._lock:
            self._active.discard(turn)
            self._playing.discard(turn)
            ev = self._finished.get(turn)
        self.playback.release(turn)  # a held turn that ended without release must not keep a gate
        self.stages.forget(turn)
        if not self.active_turns:
            self._heap.trim()  # nothing else is running: the freed arenas go back (core.conversation.heap)
        if ev is not None:
            ev.set()

    # -- listening ---------------------------------------------------------------------
    def listen(self, source) -> threading.Thread:
        """Start the listener thread on `source` (microphone, file, queue)."""
        hard_end = self.policy.longest_ms + (HARD_END_MARGIN_MS if self.settings.turn.smart_end else 0)
        self.vad = StreamingVad(self.settings.vad, self.vad_model, min_silence_ms=hard_end)
        self._source = source
        self.backchannel.start()
        self._listener = threading.Thread(target=self._listen, args=(source,), name="listener", daemon=True)
        self._listener.start()
        return self._listener

    def _listen(self, source) -> None:
        try:
            for frame in source.frames():
                for event in self.vad.feed(frame):
                    self.turn_taking.process(event, self._route)
            for event in self.vad.flush():  # the input ended: an open utterance ends with it
                self.turn_taking.process(event, self._route)
            self.turn_taking.flush(self._route)
        except BaseException as exc:  # surfaced to the caller; the GUI shows it
            self.listener_error = exc
            log.exception("listener failed")
            self.stages.publish(EngineEvent(NO_TURN, Error(f"listening failed: {exc}", stage="audio-input")))

    def _route(self, frame: Frame) -> None:
        """Carry out what the turn-taking stage decided."""
        if isinstance(frame, UserTurn):
            self._start_turn(frame)
        elif isinstance(frame, TurnReleased):
            self.recorder.set_endpoint(frame.turn, frame.endpoint_ms, frame.turn_taking)
            self.release(frame.turn)
        elif isinstance(frame, TurnRetracted):
            self.retract(frame.turn)
        elif isinstance(frame, VoicePaused):
            self.stages.publish(frame)
            if frame.paused:
                self.sink.pause()
            else:
                self.sink.resume()
        elif isinstance(frame, BargeIn):
            self.stages.publish(frame)
            self.interrupt(frame.reason)
            self.sink.resume()  # the next reply plays
        elif isinstance(frame, Backchannel):
            self.stages.publish(frame)
            self.backchannel.say(frame.text)
        else:
            self.stages.publish(frame)  # UserSpeechStarted / UserSpeechEnded

    def _transcribe_ahead(self, audio: np.ndarray) -> Future | None:
        if not self.settings.asr.prefetch:
            return None
        return self.engine.prefetch(audio)  # the transcript starts while the end is a guess

    def _reread_burst(self, audio: np.ndarray):
        """A short sound over the reply read again, primed for backchannels (turn-taking's worker
        runs it; core.conversation.backchannels)."""
        return self.engine.asr.transcribe(audio, prompt=BACKCHANNEL_PROMPT)

    def _close_utterance(self) -> None:
        if self.vad is not None:
            self.vad.close_utterance()

    def wait_listener(self, timeout: float | None = None) -> None:
        if self._listener is not None:
            self._listener.join(timeout)
