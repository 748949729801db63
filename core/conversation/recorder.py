"""TurnRecorder: watches the pipeline's frames and turns each finished turn into a stored record.

It is an observer like the GUI: it sees the user turn, the engine events, the sentences and
the playback, and when a turn is finished (its reply fully played) or interrupted (barge-in,
stop button) it builds a `TurnRecord`, commits it to the session store at once (so a crash
loses at most the turn in flight), adds the exchange to the conversation history and
publishes `TurnComplete`. It also stamps the latency marks of the turn, in milliseconds
from the moment the turn was submitted (right after the endpoint decision).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from core.conversation.frames import (
    EngineEvent,
    Interrupted,
    PlaybackStarted,
    SafetyOverride,
    Sentence,
    SpeechAudio,
    TurnComplete,
    TurnFinished,
    UserTurn,
)
from core.conversation.history import Conversation
from core.conversation.stage_framework import Frame, StageError
from core.engines.events import Done, Error, Perceived, Reasoning, ReplyDelta

log = logging.getLogger(__name__)


@dataclass
class _Turn:
    created: float
    text: str | None = None
    endpoint_ms: float = 0.0
    perceived: Perceived | None = None
    reasoning: dict[str, str] = field(default_factory=dict)
    reply: str = ""
    done: Done | None = None
    override: str | None = None
    safety: dict | None = None  # what the crisis check found, when it fired
    errors: list[str] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    turn_taking: dict | None = None

    def mark(self, name: str) -> None:
        self.marks.setdefault(name, round((time.perf_counter() - self.created) * 1000.0, 1))


class TurnRecorder:
    """Observer that assembles, stores and publishes each turn exactly once."""

    def __init__(self, conversation: Conversation, engine, store=None, session_id: int | None = None,
                 publish: Callable[[Frame], None] | None = None) -> None:
        self.conversation = conversation
        self.engine = engine
        self.store = store
        self.session_id = session_id
        self._publish = publish or (lambda f: None)
        self._turns: dict[int, _Turn] = {}
        self._lock = threading.Lock()
        self.records: list = []  # every record, in completion order (also without a store)
        self.store_errors: list[str] = []
        self.errors: dict[int, list[str]] = {}  # turn -> engine/stage error messages

    def __call__(self, frame: Frame) -> None:
        if isinstance(frame, UserTurn):
            with self._lock:
                self._turns[frame.turn] = _Turn(frame.created or time.perf_counter(), frame.text, frame.endpoint_ms,
                                              turn_taking=frame.turn_taking)
            return
        t = self._turns.get(frame.turn)
        if t is None:
            return
        if isinstance(frame, EngineEvent):
            self._on_event(t, frame.event)
        elif isinstance(frame, SafetyOverride):
            t.override = frame.text
            t.safety = frame.detail
            t.mark("safety")
            # the caring reply's words exist from here: its first token, unless the model's came first
            # (the engine's own first_token_ms, carried by the Done, wins as for any turn)
            t.mark("first_token_ms")
        elif isinstance(frame, Sentence):
            t.mark("first_sentence_ms")
        elif isinstance(frame, SpeechAudio):
            t.mark("tts_first_chunk_ms")
        elif isinstance(frame, PlaybackStarted):
            t.mark("first_audio_ms")
        elif isinstance(frame, StageError):
            t.errors.append(frame.message)
        elif isinstance(frame, TurnFinished):
            t.mark("played_ms")
            self._complete(frame.turn, interrupted=False)
        elif isinstance(frame, Interrupted):
            if frame.reason == "retracted":
                with self._lock:
                    self._turns.pop(frame.turn, None)  # the user had not finished: nothing to keep
            else:
                self._complete(frame.turn, interrupted=True)

    def set_endpoint(self, turn: int, endpoint_ms: float, turn_taking: dict | None = None) -> None:
        """An early-started turn learns its endpoint wait (and the decision's reasons) when the end is confirmed."""
        t = self._turns.get(turn)
        if t is not None:
            t.endpoint_ms = endpoint_ms
            t.turn_taking = turn_taking
            t.mark("confirmed_ms")

    def _on_event(self, t: _Turn, ev) -> None:
        if isinstance(ev, Perceived):
            t.perceived = ev
            t.mark("perceived_ms")
        elif isinstance(ev, Reasoning):
            t.reasoning[ev.step] = ev.text
            t.mark("first_token_ms")
        elif isinstance(ev, ReplyDelta):
            t.reply += ev.text
            t.mark("first_token_ms")
            t.mark("first_reply_ms")
        elif isinstance(ev, Done):
            t.done = ev
            t.mark("done_ms")
        elif isinstance(ev, Error):
            t.errors.append(ev.message)

    def _complete(self, turn: int, interrupted: bool) -> None:
        from core.store.session_store import TurnRecord

        with self._lock:
            t = self._turns.pop(turn, None)
        if t is None:
            return  # already stored (an interrupt racing the end of playback)
        p, done = t.perceived, t.done
        reply = t.override or (done.reply if done is not None and done.reply and not interrupted else t.reply).strip()
        eips = done.eips.as_dict() if done is not None and done.eips is not None else (
            dict(t.reasoning) if len(t.reasoning) == 4 else None)
        # the engine's own measurements win over the pipeline's marks of the same name
        timings = {**t.marks, **(done.timings_ms if done is not None else {}), "endpoint_ms": round(t.endpoint_ms, 1)}
        from core.emotion.words_vs_voice import detect

        said = t.text or (p.transcript if p is not None else None)
        mismatch = detect(said, p.label, p.confidence) if p is not None else None
        record = TurnRecord(
            words_vs_voice=mismatch.note if mismatch else None,
            user_text=t.text,
            transcript=p.transcript if p is not None and t.text is None else None,
            label=p.label if p else None,
            intensity=p.intensity if p else None,
            confidence=p.confidence if p else None,
            cues=dict(p.cues) if p else {},
            eips=eips,
            reply=reply,
            interrupted=interrupted,
            engine=getattr(self.engine, "name", None),
            model=getattr(self.engine, "model", None),
            timings_ms=timings,
            safety_triggered=t.override is not None,
            safety=t.safety,
            turn_taking=t.turn_taking,
        )
        if t.errors:
            self.errors[turn] = list(t.errors)
        row = None
        if self.store is not None and self.session_id is not None:
            try:
                row = self.store.add_turn(self.session_id, record)
            except Exception as exc:  # the conversation goes on; the GUI shows the error
                log.exception("storing turn %s failed", turn)
                self.store_errors.append(str(exc))
        self.conversation.add(record.said, reply)
        self.records.append(record)
        self._publish(TurnComplete(turn, record, row))
