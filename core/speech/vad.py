"""Streaming voice activity detection: Silero VAD through onnxruntime plus an endpointer.

Two parts, kept apart on purpose (as in pipecat):
- `SileroVad` runs the ONNX model one 512-sample window at a time and carries the model's
  LSTM state and 64-sample context across windows itself (faster-whisper's wrapper resets
  the state on every call, which is wrong for a live stream).
- `Endpointer` is a pure, synchronous state machine over speech probabilities
  (quiet -> starting -> speaking -> stopping -> quiet) that emits speech-start and
  speech-end decisions. It can be tested on synthetic probabilities with no model at all.
`StreamingVad` joins them with an audio buffer so that a speech end carries the utterance,
including the pre-roll kept from before the start.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.models.bundled import require_bundled
from core.settings import VadSettings
WINDOW = 512  # Silero's window at 16 kHz (32 ms)
CONTEXT = 64  # samples of the previous window the v5+ model expects in front of each window
WINDOW_MS = WINDOW * 1000 / SAMPLE_RATE


class SileroVad:
    """Speech probability per 512-sample window, with the recurrent state carried across calls."""

    def __init__(self, model_path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        path = model_path or require_bundled("vad")
        opts = ort.SessionOptions()
        # One thread: the VAD runs beside ASR/LLM/TTS on a 2-core machine and needs ~1 ms a window.
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._sr = np.array(SAMPLE_RATE, dtype=np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT), dtype=np.float32)

    def __call__(self, window: np.ndarray) -> float:
        if window.shape[-1] != WINDOW:
            raise ValueError(f"Silero VAD takes windows of {WINDOW} samples at 16 kHz, got {window.shape[-1]}")
        x = np.concatenate([self._context, window.reshape(1, WINDOW).astype(np.float32)], axis=1)
        out, self._state = self._session.run(None, {"input": x, "state": self._state, "sr": self._sr})
        self._context = x[:, -CONTEXT:]
        return float(out[0, 0])

    def probabilities(self, audio: np.ndarray) -> np.ndarray:
        """Probabilities for a whole clip (fresh state), one per window; for offline checks."""
        self.reset()
        n = len(audio) // WINDOW
        return np.array([self(audio[i * WINDOW:(i + 1) * WINDOW]) for i in range(n)], dtype=np.float32)


# --- the endpointer state machine -------------------------------------------------------

QUIET, STARTING, SPEAKING, STOPPING = "quiet", "starting", "speaking", "stopping"


@dataclass(frozen=True)
class SpeechStart:
    """Speech has lasted min_speech_ms. `start_window` is where it began (before pre-roll)."""

    window: int  # index of the window that made the decision
    start_window: int


@dataclass(frozen=True)
class SpeechEnd:
    """Silence has lasted min_silence_ms (or the turn reached max_turn_s: `cut` is True)."""

    window: int  # index of the window that made the decision
    start_window: int
    end_window: int  # first silent window after the speech
    cut: bool = False


@dataclass(frozen=True)
class SpeechPause:
    """Silence has lasted early_start_ms: the turn may be over (not yet certain)."""

    window: int
    start_window: int
    end_window: int


@dataclass(frozen=True)
class SpeechQuiet:
    """The first silent window after speech: the turn may be over (a guess, often wrong)."""

    window: int
    start_window: int
    end_window: int


@dataclass(frozen=True)
class SpeechResume:
    """Speech came back after a SpeechPause: the turn was not over."""

    window: int


class Endpointer:
    """Pure state machine over per-window speech probabilities; `step()` returns its decisions.

    Hysteresis as in Silero's own iterator: speech starts at `threshold` and only counts
    as silence below `threshold - 0.15`, so a probability hovering near the threshold does
    not chop a sentence into pieces.
    """

    def __init__(self, settings: VadSettings, window_ms: float = WINDOW_MS) -> None:
        self.threshold = settings.threshold
        self.neg_threshold = max(settings.threshold - 0.15, 0.01)
        self.min_speech = max(1, round(settings.min_speech_ms / window_ms))
        self.min_silence = max(1, round(settings.min_silence_ms / window_ms))
        self.max_turn = max(self.min_speech + 1, round(settings.max_turn_s * 1000 / window_ms))
        early = round(settings.early_start_ms / window_ms) if settings.early_start_ms else 0
        self.early = max(1, early) if 0 < early < self.min_silence else 0  # 0 = no early decisions
        self._paused = False
        self.state = QUIET
        self._i = -1
        self._start = 0
        self._silence_start = 0

    def step(self, prob: float) -> list[SpeechStart | SpeechEnd | SpeechPause | SpeechQuiet | SpeechResume]:
        self._i += 1
        i, out = self._i, []
        speech = prob >= self.threshold
        silence = prob < self.neg_threshold
        if self.state == QUIET:
            if speech:
                self.state, self._start = STARTING, i
                if self.min_speech <= 1:
                    self.state = SPEAKING
                    out.append(SpeechStart(i, self._start))
        elif self.state == STARTING:
            if silence:
                self.state = QUIET  # a click or a breath, not speech
            elif i - self._start + 1 >= self.min_speech:
                self.state = SPEAKING
                out.append(SpeechStart(i, self._start))
        elif self.state == SPEAKING:
            if silence:
                self.state, self._silence_start = STOPPING, i
                if self.min_silence > 1:
                    out.append(SpeechQuiet(i, self._start, i))
        elif self.state == STOPPING:
            if speech:
                self.state = SPEAKING
                if self._paused:
                    self._paused = False
                    out.append(SpeechResume(i))
            elif i - self._silence_start + 1 >= self.min_silence:
                self.state, self._paused = QUIET, False
                out.append(SpeechEnd(i, self._start, self._silence_start))
            elif self.early and not self._paused and i - self._silence_start + 1 >= self.early:
                self._paused = True
                out.append(SpeechPause(i, self._start, self._silence_start))
        if self.state in (SPEAKING, STOPPING) and i - self._start + 1 >= self.max_turn:
            end = self._silence_start if self.state == STOPPING else i + 1
            out.append(SpeechEnd(i, self._start, end, cut=True))
            self.state, self._paused = QUIET, False
        return out


# --- model + state machine + audio ------------------------------------------------------


@dataclass(frozen=True)
class SpeechStarted:
    """The user started speaking (decided `decision_s` seconds into the stream)."""

    decision_s: float


@dataclass(frozen=True)
class SpeechEnded:
    """The user finished a turn; `audio` is the utterance with its pre-roll (16 kHz float32)."""

    audio: np.ndarray
    decision_s: float  # stream time of the decision
    speech_end_s: float  # stream time where the speech itself ended
    cut: bool = False


@dataclass(frozen=True)
class SpeechPaused:
    """The user paused long enough to start answering early; `audio` is the utterance so far."""

    audio: np.ndarray
    decision_s: float
    speech_end_s: float


@dataclass(frozen=True)
class SpeechQuieted:
    """A first silent window after speech; `audio` is the utterance so far. Only a hint for
    work worth starting early (a transcript): most of these are pauses between words."""

    audio: np.ndarray
    decision_s: float


@dataclass(frozen=True)
class SpeechResumed:
    """The user went on speaking after a SpeechPaused: the early answer must be dropped."""

    decision_s: float


VadDecision = SpeechStarted | SpeechEnded | SpeechPaused | SpeechQuieted | SpeechResumed


class StreamingVad:
    """Feed frames of any length; get SpeechStarted / SpeechEnded as they are decided."""

    def __init__(self, settings: VadSettings, model: SileroVad | None = None) -> None:
        self.settings = settings
        self.model = model or SileroVad()
        self.endpointer = Endpointer(settings)
        self._pending = np.zeros(0, dtype=np.float32)
        pre = -(-settings.pre_roll_ms // int(WINDOW_MS))
        self._pre_roll = pre
        # windows kept while quiet: enough for the pre-roll plus a speech start still undecided
        self._history: deque[np.ndarray] = deque(maxlen=pre + self.endpointer.min_speech + 1)
        self._utterance: list[np.ndarray] = []
        self._windows = 0
        self.last_probability = 0.0

    @property
    def speaking(self) -> bool:
        return self.endpointer.state in (SPEAKING, STOPPING)

    def reset(self) -> None:
        self.model.reset()
        self.endpointer = Endpointer(self.settings)
        self._pending = np.zeros(0, dtype=np.float32)
        self._history.clear()
        self._utterance = []
        self._windows = 0

    def feed(self, frame: np.ndarray) -> list[VadDecision]:
        self._pending = np.concatenate([self._pending, np.asarray(frame, dtype=np.float32).reshape(-1)])
        out: list[VadDecision] = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            out.extend(self._window(window))
        return out

    def _window(self, window: np.ndarray) -> list[VadDecision]:
        self.last_probability = prob = self.model(window)
        before = self.endpointer.state
        decisions = self.endpointer.step(prob)
        self._windows += 1
        now = self._windows * WINDOW / SAMPLE_RATE
        if before in (SPEAKING, STOPPING):
            self._utterance.append(window)
        else:
            self._history.append(window)
        out: list[VadDecision] = []
        for d in decisions:
            if isinstance(d, SpeechResume):
                out.append(SpeechResumed(decision_s=now))
            elif isinstance(d, SpeechQuiet):
                out.append(SpeechQuieted(np.concatenate(self._trim(d.window, d.end_window)), decision_s=now))
            elif isinstance(d, SpeechPause):
                audio = np.concatenate(self._trim(d.window, d.end_window))
                out.append(SpeechPaused(audio, decision_s=now, speech_end_s=d.end_window * WINDOW / SAMPLE_RATE))
            elif isinstance(d, SpeechStart):
                # the speech so far and the pre-roll before it come from the history
                keep = (d.window - d.start_window + 1) + self._pre_roll
                self._utterance = list(self._history)[-keep:]
                self._history.clear()
                out.append(SpeechStarted(decision_s=now))
            else:
                kept = self._trim(d.window, d.end_window)
                audio = np.concatenate(kept) if kept else np.zeros(0, np.float32)
                out.append(SpeechEnded(audio, decision_s=now, speech_end_s=d.end_window * WINDOW / SAMPLE_RATE, cut=d.cut))
                self._utterance = []
        return out

    def _trim(self, window: int, end_window: int) -> list[np.ndarray]:
        """The utterance windows, keeping at most pre-roll's worth of the trailing silence."""
        trailing = window - end_window + 1  # silent windows after the speech
        drop = max(0, trailing - self._pre_roll)
        return self._utterance[: len(self._utterance) - drop] if drop else list(self._utterance)


def speech_seconds(audio: np.ndarray, model: SileroVad | None = None, threshold: float = 0.5) -> float:
    """Seconds of `audio` (16 kHz) that Silero calls speech; for checks on generated audio."""
    probs = (model or SileroVad()).probabilities(np.asarray(audio, dtype=np.float32))
    return float((probs >= threshold).sum() * WINDOW / SAMPLE_RATE)
