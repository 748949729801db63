"""The ear of a running app: the emotion head, the user's voice baseline and its profile file.

Engines call `hear(encoder_output)` once per turn. The baseline is the user's: it lives in
the profile (`<data dir>/profile/voice-baseline.json`, statistics only) when `remember` is on,
so the app knows the voice from one session to the next; `reset()` forgets it (settings,
`cogaudio voice reset`). `enrol(asr, pcm)` takes a sentence read calmly into the baseline before
the first turns (core.ear.enrolment; `cogaudio voice enrol`, the settings' "Read a calm
sentence"). `cogaudio reply` without --session calls `new_session()` before each input, so each
one is heard alone.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from core.ear.baseline import VoiceBaseline
from core.ear.ear import Ear, Hearing
from core.ear.enrolment import EnrolResult, check_clip, enrolment_path, read_enrolled, write_enrolled
from core.ear.head import EmotionHead, HeadError
from core.models.manifest import DEFAULT_MANIFEST, ModelAssetError, check_file, load_manifest
from core.speech.encoder_pass import EncoderOutput

log = logging.getLogger(__name__)

DEFAULT_HEAD = Path(__file__).resolve().parents[2] / "assets" / "models" / "emotion-head.gguf"
ASR_ENCODER = "whisper-tiny.en"  # the encoder whose frames the bundled ASR computes


def _checked_default_head(manifest_path: Path = DEFAULT_MANIFEST) -> Path:
    """The shipped head, checked against the sha256 that the embedded model's manifest lists for
    it (a head damaged or swapped after install is refused, as the model files are)."""
    try:
        manifest = load_manifest(manifest_path)
    except ModelAssetError:  # the manifest's own problems are reported by the engine that needs it
        return DEFAULT_HEAD
    if manifest.ear is None or manifest.ear.file is None:
        return DEFAULT_HEAD
    try:
        return check_file(manifest.ear, manifest_path.parent, "emotion head")
    except ModelAssetError as exc:
        raise HeadError(str(exc)) from None


class EarListener:
    def __init__(self, head: EmotionHead, profile: Path | None = None, adapt: bool = True) -> None:
        self.ear = Ear(head)
        self.head = head
        self.adapt = adapt  # off: every turn is read as a first turn (no speaker baseline)
        self.profile = profile
        self._lock = threading.Lock()
        self.baseline: VoiceBaseline = head.baseline()
        self.enrolled = 0  # calm enrolment turns in the baseline (core.ear.enrolment)
        if profile is not None and adapt and self.baseline.load(profile, head.features):
            self.enrolled = min(read_enrolled(profile, head.features), self.baseline.n)
            log.info("voice baseline: %d earlier turns (%d enrolment) from %s", self.baseline.n, self.enrolled, profile)

    @classmethod
    def load(cls, head_path: Path | None, encoder: str, profile: Path | None, adapt: bool = True) -> EarListener:
        """The ear for an ASR whose encoder is `encoder`; HeadError when the head is missing,
        damaged, or was trained on another encoder's frames."""
        head = EmotionHead.load(Path(head_path) if head_path else _checked_default_head())
        if head.encoder != encoder:
            raise HeadError(f"the emotion head reads {head.encoder} frames but the speech model is {encoder}; "
                            "use the matching ASR model or retrain the head (cogaudio-train ear)")
        return cls(head, profile, adapt)

    def hear(self, output: EncoderOutput) -> Hearing:
        with self._lock:
            if not self.adapt:
                return self.ear.hear(output, self.baseline.fresh())
            hearing = self.ear.hear(output, self.baseline)
            if self.profile is not None:
                try:
                    self.baseline.save(self.profile, self.head.features)
                except OSError as exc:  # a full or read-only disk must not cost the turn
                    log.warning("could not save the voice baseline to %s: %s", self.profile, exc)
            return hearing

    def warm(self, asr, pcm) -> None:
        """Pool a turn ahead of its end (the transcript prefetch's worker calls this when its
        pass is done): when the turn is answered with this audio, the ear's stem has already run."""
        try:
            self.ear.pooled(asr.encode(pcm))
        except Exception as exc:  # the turn itself will say so, or not need it
            log.debug("could not pool the prefetched turn ahead: %s: %s", type(exc).__name__, exc)

    def warm_after(self, asr, pcm, prefetch) -> None:
        """`warm` once the transcript prefetch `prefetch` (a Future) has run, on its worker."""
        if prefetch is None or self.head.stem is None:
            return
        prefetch.add_done_callback(lambda f: None if f.cancelled() or f.exception() else self.warm(asr, pcm))

    def hear_turn(self, asr, pcm, timings: dict[str, float] | None = None) -> Hearing | None:
        """The turn read on the recogniser's own encoder pass (core.speech.asr.SpeechRecognizer
        .encode); None, logged, when that fails: the ear is an aid and must not fail the turn."""
        if asr is None:
            return None
        t0 = time.perf_counter()
        try:
            hearing = self.hear(asr.encode(pcm))
        except Exception as exc:
            log.warning("the ear could not read this turn: %s: %s", type(exc).__name__, exc)
            return None
        if timings is not None:
            timings["ear_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        return hearing

    def enrol(self, asr, pcm) -> EnrolResult:
        """Take a clip read calmly (16 kHz mono float32) into the speaker's baseline, on the
        recogniser's encoder pass, and save it to the profile when there is one. ValueError, with
        what to do, for a clip too short or silent, or when the ear does not adapt to the speaker."""
        if not self.adapt:
            raise ValueError("the ear is not hearing you against your own voice (ear.adapt_to_speaker is off); "
                             "turn on 'Hear me against my own voice' in Settings > Listening to enrol")
        voice_s = check_clip(pcm)
        x = self.ear.pooled(asr.encode(pcm))  # before the lock: the encoder pass is the slow part
        with self._lock:
            self.baseline.add(x)
            self.enrolled += 1
            if self.profile is not None:  # errors reach the caller: an enrolment asked for must be kept
                self.baseline.save(self.profile, self.head.features)
                write_enrolled(self.profile, self.head.features, self.enrolled)
            return EnrolResult(self.enrolled, self.baseline.n, round(voice_s, 2), self.profile)

    def new_session(self) -> None:
        """Forget the turns heard so far in memory (the profile file is left as it is)."""
        with self._lock:
            self.baseline = self.baseline.fresh()
            self.enrolled = 0

    def reset(self) -> None:
        """Forget the voice: in memory and in the profile."""
        with self._lock:
            self.baseline = self.baseline.fresh()
            self.enrolled = 0
            if self.profile is not None:
                self.profile.unlink(missing_ok=True)
                enrolment_path(self.profile).unlink(missing_ok=True)
