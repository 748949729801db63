"""The audio engine's side channel: the turn's transcript and prosodic cues, on a thread.

The audio language model perceives the emotion from the audio itself; the transcript and the
cues are for the session record, the conversation view and the crisis-safety check, which
reads the user's words. They are computed while mtmd encodes the audio, so they cost the
reply nothing on a free core.

The thread belongs to the turn: `result()` joins it when the Emotion line is read, and
`close()` (the engine's turn ends with it, however it ends: an error before the Emotion line,
a consumer that stops reading) joins it otherwise, so no turn leaves a thread behind.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from core.engines.turn_stream import ms_since
from core.speech.asr import SpeechRecognizer
from core.speech.cues import measure_cues


class SideListener:
    """Transcript and cues of one turn, started at construction; `result()` waits for them,
    `close()` (or leaving a `with` block) joins the thread whatever happened to the turn."""

    def __init__(self, asr: SpeechRecognizer, pcm: np.ndarray, timings: dict[str, float]) -> None:
        self._result: tuple[str, dict[str, float]] = ("", {})
        self._timings = timings

        def work() -> None:
            t0 = time.perf_counter()
            try:
                transcript = asr.transcribe(pcm)
                self._result = (transcript.text, measure_cues(pcm, transcript.words, len(transcript.text.split())).as_dict())
            except Exception:  # a side channel: its failure must not fail the turn
                self._result = ("", {})
            self._timings["asr_ms"] = ms_since(t0)

        self._thread = threading.Thread(target=work, name="audio-llm-asr", daemon=True)
        self._thread.start()

    def result(self) -> tuple[str, dict[str, float]]:
        self._thread.join()
        return self._result

    def close(self) -> None:
        """Wait for the transcript to finish (it cannot be interrupted; a short turn's takes
        ~0.1-1 s) so that the thread ends with the turn that started it."""
        self._thread.join()

    def __enter__(self) -> SideListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
