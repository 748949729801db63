"""Streaming voice activity detection: Silero VAD through onnxruntime plus an endpointer.

Two parts, kept apart on purpose (as in pipecat):
- `SileroVad` runs the ONNX model one 512-sample window at a time and carries the model's
  LSTM state and 64-sample context across windows itself (faster-whisper's wrapper resets
  the state on every call, which is wrong for a live stream).
- `Endpointer` is a pure, synchronous state machine over speech probabilities
  (quiet -> starting -> speaking -> stopping -> quiet) that reports what it hears: one family
  of speech-boundary events (onset, dropped, started, quieted, paused, resumed, ended). It
  can be tested on synthetic probabilities with no model at all. It does not decide when a
  turn is over: core.conversation.turn_taking does, from these events.
`StreamingVad` joins them with an audio buffer so that a pause or an end carries the
utterance, including the pre-roll kept from before the start.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
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
ONSET_REPORT_S = 2.0  # speech windows are reported one by one this long after an onset (barge-in)


# The speech-boundary events: one family. The pure Endpointer emits them without audio;
# StreamingVad attaches the audio. Times are seconds into the stream at the end of the window
# that decided (`decision_s`).


@dataclass(frozen=True, eq=False)
class SpeechOnset:
    """A window of young speech (from its first window on, for ONSET_REPORT_S): what a barge-in
    decision listens to. `onset_s` is where this speech began; `window` the window's samples."""

    decision_s: float
    onset_s: float
    probability: float
    window: np.ndarray | None = None


@dataclass(frozen=True)
class SpeechDropped:
    """Speech that began (SpeechOnset) stopped before min_speech_ms: a click, a breath, a cough."""

    decision_s: float
    onset_s: float


@dataclass(frozen=True)
class SpeechStarted:
    """The user is speaking: speech has lasted min_speech_ms (it began at `onset_s`)."""

    decision_s: float
    onset_s: float = 0.0


@dataclass(frozen=True, eq=False)
class SpeechQuieted:
    """The first silent window after speech; `audio` is the utterance so far (with pre-roll).
    The turn may be over, or this is a pause: that is the turn-taking stage's question."""

    decision_s: float
    speech_end_s: float
    audio: np.ndarray | None = None


@dataclass(frozen=True)
class SpeechPaused:
    """Every further silent window after a SpeechQuieted: `silence_s` of silence so far."""

    decision_s: float
    speech_end_s: float
    silence_s: float


@dataclass(frozen=True)
class SpeechResumed:
    """Speech came back after a SpeechQuieted, after `silence_s` of silence."""

    decision_s: float
    silence_s: float


@dataclass(frozen=True, eq=False)
class SpeechEnded:
    """The VAD's own end of an utterance: silence reached min_silence_ms (`cut` False), or the
    input stream ended (`cut` True). `audio` is the utterance with pre-roll; when it ran longer
    than max_turn_s only its last max_turn_s are kept and `dropped_s` says how much went."""

    decision_s: float
    speech_end_s: float
    audio: np.ndarray | None = None
    cut: bool = False
    dropped_s: float = 0.0


VadDecision = SpeechOnset | SpeechDropped | SpeechStarted | SpeechQuieted | SpeechPaused | SpeechResumed | SpeechEnded


class Endpointer:
    """Pure state machine over per-window speech probabilities; `step()` returns its events.

    Hysteresis as in Silero's own iterator: speech starts at `threshold` and only counts
    as silence below `threshold - 0.15`, so a probability hovering near the threshold does
    not chop a sentence into pieces. The endpointer only reports what it hears; when a turn
    is over is decided above it (core.conversation.turn_taking), which calls `close()`.
    `min_silence_ms` is its own end: the turn-taking stage sets it past its longest wait.
    """

    def __init__(self, settings: VadSettings, window_ms: float = WINDOW_MS, min_silence_ms: float | None = None) -> None:
        self.window_s = window_ms / 1000.0
        self.threshold = settings.threshold
        self.neg_threshold = max(settings.threshold - 0.15, 0.01)
        self.min_speech = max(1, round(settings.min_speech_ms / window_ms))
        silence_ms = settings.min_silence_ms if min_silence_ms is None else min_silence_ms
        self.min_silence = max(1, round(silence_ms / window_ms))
        self.onset_report = round(ONSET_REPORT_S * 1000 / window_ms)
        self.state = QUIET
        self._i = -1
        self._start = 0
        self._silence_start = 0

    def _t(self, window: int) -> float:
        """Stream time at the end of `window`."""
        return (window + 1) * self.window_s

    def close(self) -> None:
        """The turn-taking stage ended the utterance: the next speech is a new one."""
        self.state = QUIET

    def step(self, prob: float) -> list[VadDecision]:
        self._i += 1
        i, out = self._i, []
        speech = prob >= self.threshold
        silence = prob < self.neg_threshold
        if self.state == QUIET:
            if speech:
                self.state, self._start = STARTING, i
                out.append(SpeechOnset(self._t(i), self._start * self.window_s, prob))
                if self.min_speech <= 1:
                    self.state = SPEAKING
                    out.append(SpeechStarted(self._t(i), self._start * self.window_s))
        elif self.state == STARTING:
            if silence:
                self.state = QUIET  # a click, a breath or a cough, not speech
                out.append(SpeechDropped(self._t(i), self._start * self.window_s))
            else:
                out.append(SpeechOnset(self._t(i), self._start * self.window_s, prob))
                if i - self._start + 1 >= self.min_speech:
                    self.state = SPEAKING
                    out.append(SpeechStarted(self._t(i), self._start * self.window_s))
        elif self.state == SPEAKING:
            if silence:
                self.state, self._silence_start = STOPPING, i
                out.append(SpeechQuieted(self._t(i), i * self.window_s))
            elif i - self._start < self.onset_report:
                out.append(SpeechOnset(self._t(i), self._start * self.window_s, prob))
        elif self.state == STOPPING:
            silent_for = (i - self._silence_start + 1) * self.window_s
            if speech:
                self.state = SPEAKING
                out.append(SpeechResumed(self._t(i), silent_for - self.window_s))
            elif i - self._silence_start + 1 >= self.min_silence:
                self.state = QUIET
                out.append(SpeechEnded(self._t(i), self._silence_start * self.window_s))
            else:
                out.append(SpeechPaused(self._t(i), self._silence_start * self.window_s, silent_for))
        return out


# --- model + state machine + audio ------------------------------------------------------


class StreamingVad:
    """Feed frames of any length; get the speech-boundary events as they are decided, the
    utterance audio attached to SpeechQuieted and SpeechEnded."""

    def __init__(self, settings: VadSettings, model: SileroVad | None = None, min_silence_ms: float | None = None) -> None:
        self.settings = settings
        self.model = model or SileroVad()
        self._min_silence_ms = min_silence_ms
        pre = -(-settings.pre_roll_ms // int(WINDOW_MS))
        self._pre_roll = pre
        self._max_windows = max(1, round(settings.max_turn_s * 1000 / WINDOW_MS))
        self.reset()
        self.last_probability = 0.0

    @property
    def speaking(self) -> bool:
        return self.endpointer.state in (SPEAKING, STOPPING)

    def reset(self) -> None:
        self.model.reset()
        self.endpointer = Endpointer(self.settings, min_silence_ms=self._min_silence_ms)
        self._pending = np.zeros(0, dtype=np.float32)
        # windows kept while quiet: enough for the pre-roll plus a speech start still undecided
        self._history: deque[np.ndarray] = deque(maxlen=self._pre_roll + self.endpointer.min_speech + 1)
        self._utterance: deque[np.ndarray] = deque()
        self._dropped = 0  # windows of a long utterance let go from its front
        self._windows = 0

    def close_utterance(self) -> None:
        """The turn-taking stage ended the turn: forget its audio; the next speech is a new utterance."""
        self.endpointer.close()
        self._utterance = deque()
        self._dropped = 0

    def feed(self, frame: np.ndarray) -> list[VadDecision]:
        self._pending = np.concatenate([self._pending, np.asarray(frame, dtype=np.float32).reshape(-1)])
        out: list[VadDecision] = []
        while len(self._pending) >= WINDOW:
            window, self._pending = self._pending[:WINDOW], self._pending[WINDOW:]
            out.extend(self._window(window))
        return out

    def flush(self) -> list[VadDecision]:
        """The input ended: an utterance still open ends here (`cut`), whatever its silence."""
        if self.endpointer.state not in (SPEAKING, STOPPING):
            return []
        now = self._windows * WINDOW / SAMPLE_RATE
        end = self.endpointer._silence_start if self.endpointer.state == STOPPING else self._windows
        audio = np.concatenate(list(self._utterance)) if self._utterance else np.zeros(0, np.float32)
        self.close_utterance()
        return [SpeechEnded(now, end * WINDOW / SAMPLE_RATE, audio, cut=True,
                            dropped_s=self._dropped * WINDOW / SAMPLE_RATE)]

    def _window(self, window: np.ndarray) -> list[VadDecision]:
        self.last_probability = prob = self.model(window)
        before = self.endpointer.state
        decisions = self.endpointer.step(prob)
        self._windows += 1
        if before in (SPEAKING, STOPPING):
            self._utterance.append(window)
            while before == SPEAKING and len(self._utterance) > self._max_windows:
                self._utterance.popleft()  # a monologue: keep its last max_turn_s
                self._dropped += 1
        else:
            self._history.append(window)
        out: list[VadDecision] = []
        for d in decisions:
            if isinstance(d, SpeechOnset):
                out.append(replace(d, window=window))
            elif isinstance(d, SpeechStarted):
                # the speech so far and the pre-roll before it come from the history
                keep = round((d.decision_s - d.onset_s) / (WINDOW / SAMPLE_RATE)) + self._pre_roll
                self._utterance = deque(list(self._history)[-keep:])
                self._dropped = 0
                self._history.clear()
                out.append(d)
            elif isinstance(d, SpeechQuieted):
                out.append(replace(d, audio=np.concatenate(self._trim())))
            elif isinstance(d, SpeechEnded):
                kept = self._trim()
                audio = np.concatenate(kept) if kept else np.zeros(0, np.float32)
                out.append(replace(d, audio=audio, dropped_s=self._dropped * WINDOW / SAMPLE_RATE))
                self._utterance = deque()
            else:
                out.append(d)
        return out

    def _trim(self) -> list[np.ndarray]:
        """The utterance windows, keeping at most pre-roll's worth of the trailing silence."""
        ep = self.endpointer
        trailing = ep._i - ep._silence_start + 1 if ep.state in (STOPPING, QUIET) else 0
        drop = max(0, trailing - self._pre_roll)
        windows = list(self._utterance)
        return windows[: len(windows) - drop] if drop else windows


def speech_seconds(audio: np.ndarray, model: SileroVad | None = None, threshold: float = 0.5) -> float:
    """Seconds of `audio` (16 kHz) that Silero calls speech; for checks on generated audio."""
    probs = (model or SileroVad()).probabilities(np.asarray(audio, dtype=np.float32))
    return float((probs >= threshold).sum() * WINDOW / SAMPLE_RATE)
