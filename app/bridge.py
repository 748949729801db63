"""The one bridge between core and Qt: core pipeline frames in, Qt signals out.

`ConversationBridge` owns a core `ConversationPipeline` and subscribes to its frames. Frames
arrive on the pipeline's worker threads; the bridge only re-emits them as Qt signals, which Qt
delivers queued on the GUI thread. Loading models, opening the microphone and closing the
pipeline happen on a worker thread too, so the GUI thread never runs audio or inference.

Push-to-talk and the level meter are a thin wrapper around the audio source (`GatedSource`):
while the talk key is up in push-to-talk mode the VAD hears silence, so core's endpointer
ends the turn the same way in both modes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.workers import Task
from core.conversation.frames import (
    EngineEvent,
    Interrupted,
    PlaybackStarted,
    SafetyOverride,
    TurnComplete,
    TurnFinished,
    UserSpeechEnded,
    UserSpeechStarted,
    UserTurn,
)
from core.conversation.stage_framework import Frame, StageError
from core.engines.events import Error, Perceived, Reasoning, ReplyDelta
from core.settings import Settings

log = logging.getLogger(__name__)

Factory = Callable[[Settings], Any]


@dataclass
class PipelineParts:
    """What the conversation is made of. None means the real thing from settings (microphone,
    speakers, models from core). Tests and the screenshot command pass files and pre-loaded
    models; models passed in are owned by the caller and never closed by the bridge."""

    source: Factory | None = None  # settings -> audio source with frames() and close()
    sink: Factory | None = None  # settings -> audio sink with play() and stop()
    engine: Any | None = None
    speaker: Any | None = None
    listen: bool = True  # False: typed turns only (no audio input at all)


class GatedSource:
    """Wraps an audio source: reports each frame's RMS, and mutes it while push-to-talk is up."""

    def __init__(self, inner: Any, on_level: Callable[[float], None]) -> None:
        self.inner = inner
        self.on_level = on_level
        self.hands_free = True
        self.talking = False

    def frames(self) -> Iterator[np.ndarray]:
        for frame in self.inner.frames():
            self.on_level(float(np.sqrt(np.mean(np.square(frame)))) if len(frame) else 0.0)
            if self.hands_free or self.talking:
                yield frame
            else:
                yield np.zeros_like(frame)

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:  # fed, last_frame_at, ... of the wrapped source
        return getattr(self.inner, name)


class ConversationBridge(QObject):
    """Runs one conversation and tells the GUI what happens in it."""

    state_changed = Signal(str)  # idle | listening | hearing | thinking | speaking
    level = Signal(float)  # RMS of the latest microphone block
    # No bare None crosses threads as a signal argument (see app.workers.Task): "" and -1 stand for none.
    user_turn = Signal(int, str)  # turn, typed text or "" (spoken)
    perceived = Signal(int, object)  # turn, core.engines.events.Perceived
    reasoning = Signal(int, str, str)  # turn, EIPS step, text
    reply_delta = Signal(int, str)
    safety = Signal(int, str)  # turn, the caring reply that replaced the model's
    interrupted = Signal(int, str)  # turn, "barge-in" | "stop"
    turn_complete = Signal(int, object, int)  # turn, TurnRecord, row id or -1 (not stored)
    error = Signal(str)
    ready = Signal(str, str)  # engine name, model description
    closed = Signal()

    def __init__(self, settings: Settings, store: Any, parts: PipelineParts, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.store = store
        self.parts = parts
        self.session_id: int | None = None
        self.pipeline = None
        self.source: GatedSource | None = None
        # Models this bridge loaded, kept across a restart whose settings they do not depend on
        # (a change of VAD, turn-taking or audio devices reloads neither; of the voice, only the voice).
        self._engine: Any = None
        self._engine_inputs: Any = None  # core.engines.options.engine_inputs of the loaded engine
        self._speaker: Any = None
        self._voice: Any = None  # settings.tts of the loaded voice
        self.engine: Any = None  # the engine in use (loaded here or given in parts)
        self._pending_text: list[str] = []
        self._lock = threading.Lock()
        self._loader: Task | None = None
        self._hands_free = True
        self._talking = False
        self._store_errors_seen = 0
        self._closing = False
        self._shut = False  # shutdown() was called: nothing may start again
        self.listening = False

    # -- lifecycle (GUI thread) -------------------------------------------------------------

    def start(self, session_id: int | None) -> Task:
        """Load models and start listening on a worker thread; `ready` or `error` follows."""
        self.session_id = session_id
        self.state_changed.emit("thinking")
        self._loader = Task("load-models", self._load, self.settings, parent=self)
        self._loader.result.connect(self._loaded)
        self._loader.error.connect(self._load_failed)
        return self._loader.start()

    @property
    def loading(self) -> bool:
        return self._loader is not None and self._loader.running

    def _load(self, settings: Settings) -> Any:
        """Worker thread: build engine, voice, sink and pipeline; open the audio input."""
        from core.conversation.orchestrator import ConversationPipeline
        from core.engines.options import engine_inputs

        engine, speaker = self.parts.engine, self.parts.speaker
        if engine is None:
            if self._engine is None:
                self._engine = _create_engine(settings)
                self._engine_inputs = engine_inputs(settings)
            engine = self._engine
        self.engine = engine
        if speaker is None:
            if self._speaker is None:
                from core.speech.tts import Speaker

                self._speaker, self._voice = Speaker(settings.tts), settings.tts
            speaker = self._speaker
        sink, sink_notice = (self.parts.sink(settings), None) if self.parts.sink else _speaker_sink(settings, self.error.emit)
        pipeline = ConversationPipeline(settings, engine, speaker, sink, store=self.store,
                                        session_id=self.session_id, observers=[self._observe])
        pipeline.start()
        mic_error = None
        if self.parts.listen:
            try:
                inner = self.parts.source(settings) if self.parts.source else _microphone(settings, self.error.emit)
                self.source = GatedSource(inner, self.level.emit)
                self.source.hands_free, self.source.talking = self._hands_free, self._talking
                pipeline.listen(self.source)
            except Exception as exc:  # no microphone: typing still works
                mic_error = f"{exc}" if "microphone" in str(exc).lower() else f"No microphone: {exc}"
        with self._lock:
            if self._closing:  # the window closed while we were loading: undo, quietly
                pipeline.close()
                return None
            self.pipeline = pipeline  # set here, not in _loaded, so shutdown() can always find it
        return engine, mic_error, sink_notice

    def _loaded(self, result: tuple | None) -> None:
        if result is None:
            return
        engine, mic_error, sink_notice = result
        with self._lock:
            pending, self._pending_text = self._pending_text, []
        self.listening = mic_error is None and self.parts.listen
        self.ready.emit(engine.name, engine.model)
        notices = [engine.notice, sink_notice,
                   f"{mic_error} You can still type your messages." if mic_error else None]
        if any(notices):  # one message: the bar shows the latest only
            self.error.emit("\n".join(n for n in notices if n))
        self.state_changed.emit("listening" if self.listening else "idle")
        for text in pending:
            self.send_text(text)

    def _load_failed(self, message: str) -> None:
        self.state_changed.emit("idle")
        self.error.emit(f"Could not start the conversation: {message} "
                        "Choose another model in Settings > Model, or check Tools > Models.")

    def restart(self, settings: Settings) -> Task:
        """Apply new settings: close this pipeline on a worker thread (a reply may be mid-synthesis),
        then load again with `settings`. The engine is only reloaded when what it is built from
        changed (core.engines.options.engine_inputs), the voice only when settings.tts changed."""
        from core.engines.options import engine_inputs

        with self._lock:
            self._closing = True
        previous = self._loader

        def teardown() -> None:
            if previous is not None:
                previous.wait()
            self._teardown(drop_engine=self._engine_inputs != engine_inputs(settings),
                           drop_voice=self._voice != settings.tts)

        task = Task("restart", teardown, parent=self)
        task.finished.connect(lambda: self._reload(settings))
        self._loader = task  # shutdown() waits for it like for a load
        return task.start()

    def _reload(self, settings: Settings) -> None:
        if self._shut:  # the window closed while the old pipeline was closing
            return
        self.settings = settings
        with self._lock:
            self._closing = False
        self.start(self.session_id)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop listening and speaking, join every thread, close the models this bridge loaded."""
        with self._lock:
            self._closing = True
            self._shut = True
        if self._loader is not None:
            self._loader.wait(timeout)
        self._teardown()
        self.closed.emit()

    def _teardown(self, drop_engine: bool = True, drop_voice: bool = True) -> None:
        with self._lock:
            pipeline, self.pipeline = self.pipeline, None
        if pipeline is not None:
            pipeline.stop_speaking()
            pipeline.close()  # joins the stages: nothing uses the models after this
        self.source = None
        if drop_voice:
            self._speaker = self._voice = None
        if drop_engine:
            engine, self._engine, self._engine_inputs = self._engine, None, None
            if engine is not None:
                try:
                    engine.close()
                except Exception:  # closing is best effort; the process may be exiting
                    log.exception("closing %r failed", engine)
        self.listening = False
        self.state_changed.emit("idle")

    # -- commands (GUI thread) --------------------------------------------------------------

    def send_text(self, text: str) -> None:
        with self._lock:
            pipeline = self.pipeline
            if pipeline is None:
                if self.loading:
                    self._pending_text.append(text)  # answered as soon as the models are loaded
                else:
                    self.error.emit("The conversation is not running (no model loaded). "
                                    "Check Settings > Model, then start a new session.")
                return
        if pipeline.active_turns:
            pipeline.stop_speaking()  # a new message replaces the reply in progress
        pipeline.submit_text(text)

    def stop(self) -> None:
        """The stop button: speech and generation stop at once (core's interrupt lane)."""
        pipeline = self.pipeline
        if pipeline is not None and pipeline.active_turns:
            pipeline.stop_speaking()

    def set_session(self, session_id: int | None) -> None:
        self.session_id = session_id
        pipeline = self.pipeline
        if pipeline is not None:
            pipeline.recorder.session_id = session_id
            pipeline.conversation.clear()  # a new session starts with a fresh context

    def set_hands_free(self, on: bool) -> None:
        self._hands_free = on
        if self.source is not None:
            self.source.hands_free = on

    def set_talking(self, on: bool) -> None:
        """Push-to-talk key down/up. Pressing it while the companion speaks interrupts it."""
        self._talking = on
        if self.source is not None:
            self.source.talking = on
        if on:
            self.stop()

    # -- frames (pipeline threads) ----------------------------------------------------------

    def _observe(self, frame: Frame) -> None:
        """Called on core's worker threads: translate, emit, return quickly."""
        if isinstance(frame, EngineEvent):
            ev = frame.event
            if isinstance(ev, Perceived):
                self.perceived.emit(frame.turn, ev)
            elif isinstance(ev, Reasoning):
                self.reasoning.emit(frame.turn, ev.step, ev.text)
            elif isinstance(ev, ReplyDelta):
                self.reply_delta.emit(frame.turn, ev.text)
            elif isinstance(ev, Error):
                if ev.stage == "audio-input":  # the microphone went away: typing still works
                    self.listening = False
                    self.state_changed.emit("idle")
                self.error.emit(ev.message)
        elif isinstance(frame, UserSpeechStarted):
            self.state_changed.emit("hearing")
        elif isinstance(frame, UserSpeechEnded):
            self.state_changed.emit("thinking")
        elif isinstance(frame, UserTurn):
            self.user_turn.emit(frame.turn, frame.text or "")
            self.state_changed.emit("thinking")
        elif isinstance(frame, PlaybackStarted):
            self.state_changed.emit("speaking")
        elif isinstance(frame, SafetyOverride):
            self.safety.emit(frame.turn, frame.text)
        elif isinstance(frame, Interrupted):
            self.interrupted.emit(frame.turn, frame.reason)
        elif isinstance(frame, TurnFinished):
            pass
        elif isinstance(frame, TurnComplete):
            self._report_store_error(frame)
            self.turn_complete.emit(frame.turn, frame.record, frame.turn_id if frame.turn_id is not None else -1)
            pipeline = self.pipeline
            if pipeline is None or not [t for t in pipeline.active_turns if t != frame.turn]:
                self.state_changed.emit("listening" if self.listening else "idle")
        elif isinstance(frame, StageError):
            self.error.emit(f"{frame.stage}: {frame.message}")

    def _report_store_error(self, frame: TurnComplete) -> None:
        pipeline = self.pipeline
        if frame.turn_id is not None or pipeline is None:
            return
        errors = pipeline.recorder.store_errors
        if len(errors) > self._store_errors_seen:
            self._store_errors_seen = len(errors)
            self.error.emit(f"This turn was not saved: {errors[-1]}")


def _create_engine(settings: Settings) -> Any:
    from core.engines.factory import create_engine

    return create_engine(settings, settings.engine.kind)


def _microphone(settings: Settings, on_status=None) -> Any:
    from core.audio.sources import MicrophoneSource

    # a microphone unplugged and plugged back is said in the window (on_status) and picked up again
    return MicrophoneSource(settings.audio.input_device, settings.audio.frame_ms, on_status=on_status)


def _speaker_sink(settings: Settings, on_status=None) -> tuple[Any, str | None]:
    """The speakers, or a silent real-time sink and a notice when there is no output device."""
    from core.audio.sinks import ArraySink, AudioDeviceError, SpeakerSink

    try:
        return SpeakerSink(settings.audio.output_device, on_status=on_status), None
    except (AudioDeviceError, OSError) as exc:
        return ArraySink(realtime=True), f"Replies are shown but not played: {exc}"
