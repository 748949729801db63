"""Voice-to-voice latency of the conversation pipeline: streaming versus a sequential baseline.

Bundled utterances are spoken in real time into the same pipeline the app uses (listener ->
VAD -> engine -> sentences -> TTS -> sink). Latency is measured from the moment the last
speech sample of the utterance is fed (found offline with Silero on the clip) to the moment
the first reply sample is written to the output, so it includes the endpoint decision.
Both modes run in the same process on the same loaded models:

- streaming: the first sentence is synthesised and played while the rest is generated;
- sequential: the classic cascade, nothing overlapped: the turn starts at the endpoint
  decision (no early start, no transcript prefetch), the whole reply is generated, then the
  whole reply synthesised, then played. `baseline_early_start=True` gives the baseline both
  early starts too (an ablation).

Per-stage marks are a timeline in ms after the last speech sample: when the endpoint was
decided, when ASR finished, the first LLM token, the first sentence, the first TTS chunk and
the first sample written. With early start (vad.early_start_ms) and the transcript prefetch
(asr.prefetch) ASR and the LLM begin before the endpoint decision, so their marks can be
smaller than the endpoint's.
"""

from __future__ import annotations

import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.audio.pcm import load_audio
from core.audio.sinks import ArraySink
from core.audio.sources import QueueSource
from core.cli.spoken_input import speak_clips
from core.conversation.frames import UserSpeechEnded, UserTurn
from core.conversation.orchestrator import ConversationPipeline
from core.settings import Settings
from core.speech.vad import WINDOW, SileroVad

STAGES = ("endpoint", "asr", "first_token", "first_sentence", "tts_first_chunk", "first_audio")


@dataclass
class TurnLatency:
    sample: str
    mode: str
    latency_ms: float
    stages_ms: dict[str, float]
    reply: str
    safety_triggered: bool = False  # the crisis check answered (the caring reply's timeline; still complete)


@dataclass
class BenchResult:
    turns: list[TurnLatency] = field(default_factory=list)
    cold_start_ms: float = 0.0
    peak_rss_mb: float = 0.0
    engine: str = ""
    model: str = ""

    def summary(self, mode: str) -> dict:
        lat = [t.latency_ms for t in self.turns if t.mode == mode]
        if not lat:
            return {}
        stages = {s: round(statistics.median([t.stages_ms[s] for t in self.turns if t.mode == mode and s in t.stages_ms]), 1)
                  for s in STAGES if any(s in t.stages_ms for t in self.turns if t.mode == mode)}
        return {"n": len(lat), "median_ms": round(statistics.median(lat), 1),
                "p90_ms": round(float(np.percentile(lat, 90)), 1), "stages_median_ms": stages}

    def as_dict(self) -> dict:
        stream, seq = self.summary("streaming"), self.summary("sequential")
        ratio = round(seq["median_ms"] / stream["median_ms"], 2) if stream and seq and stream["median_ms"] > 0 else None
        return {"engine": self.engine, "model": self.model, "streaming": stream, "sequential": seq,
                "speedup_median": ratio, "cold_start_ms": self.cold_start_ms, "peak_rss_mb": self.peak_rss_mb,
                "turns": [asdict(t) for t in self.turns]}


def speech_end_sample(clip: np.ndarray, vad: SileroVad, threshold: float = 0.5) -> int:
    """Index just past the last window Silero calls speech (the clip's trailing silence excluded)."""
    probs = vad.probabilities(clip)
    voiced = np.flatnonzero(probs >= threshold)
    return int((voiced[-1] + 1) * WINDOW) if voiced.size else len(clip)


def run_mode(settings: Settings, engine, speaker, clips: list[tuple[str, np.ndarray]], streaming: bool,
             silero: SileroVad, progress=None, early_start: bool = True) -> list[TurnLatency]:
    """Speak each clip into a fresh pipeline in real time and time its reply."""
    mode = "streaming" if streaming else "sequential"
    if not early_start:
        settings = settings.model_copy(deep=True)
        settings.vad.early_start_ms = 0
        settings.asr.prefetch = False  # nothing starts before the endpoint decision
        settings.turn.smart_end = False  # the classic endpoint: a fixed silence
    source = QueueSource(settings.audio.frame_ms, speed=1.0)
    source.keep_times()  # when each sample was fed: the start of every latency
    sink = ArraySink(realtime=False)  # only the first sample's time matters; no need to wait for playback
    submitted: dict[int, float] = {}
    decided: dict[int, float] = {}

    def watch(frame) -> None:
        if isinstance(frame, UserTurn):
            submitted[frame.turn] = frame.created
        elif isinstance(frame, UserSpeechEnded):
            decided[frame.turn] = frame.decided_at

    pipeline = ConversationPipeline(settings, engine, speaker, sink, vad_model=silero,
                                    streaming=streaming, barge_in=False, observers=[watch])
    out: list[TurnLatency] = []
    with pipeline:
        pipeline.listen(source)
        for name, clip in clips:
            pipeline.conversation.clear()  # each utterance answered alone, as in a first turn
            start_fed = source.fed
            end = speech_end_sample(clip, silero)
            turns = speak_clips(pipeline, source, [clip])
            if not turns:
                continue
            turn = turns[-1]
            record = pipeline.recorder.records[-1]
            t_speech = source.time_of(start_fed + end)
            first = next((p.started for p in sink.played if p.turn == turn), None)
            if t_speech is None or first is None:
                continue
            tm = record.timings_ms
            base = (submitted[turn] - t_speech) * 1000  # marks are ms after submission; shift to the speech end
            stages = {"endpoint": round((decided.get(turn, submitted[turn]) - t_speech) * 1000, 1)}
            for key, name_ in (("asr_ms", "asr"), ("first_token_ms", "first_token"), ("first_sentence_ms", "first_sentence"),
                               ("tts_first_chunk_ms", "tts_first_chunk"), ("first_audio_ms", "first_audio")):
                if key in tm:
                    stages[name_] = round(base + tm[key], 1)
            item = TurnLatency(name, mode, round((first - t_speech) * 1000, 1), stages, record.reply,
                               record.safety_triggered)
            out.append(item)
            if progress:
                progress(item)
    source.close()
    return out


def run_bench(settings: Settings, engine, speaker, samples: list[Path], runs: int = 1, started: float | None = None,
              progress=None, baseline_early_start: bool = False) -> BenchResult:
    silero = SileroVad()
    clips = [(p.stem, load_audio(p)) for p in samples]
    result = BenchResult(engine=engine.name, model=engine.model)
    if started is not None:
        result.cold_start_ms = round((time.perf_counter() - started) * 1000, 1)
    # one warm-up turn so that first-call costs (allocations, caches) do not land on either mode
    run_mode(settings, engine, speaker, clips[:1], True, silero)
    for _ in range(runs):
        # alternate the order so that neither mode always runs on a warmer (or hotter) machine
        for streaming in (True, False) if _ % 2 == 0 else (False, True):
            result.turns += run_mode(settings, engine, speaker, clips, streaming, silero, progress,
                                     early_start=streaming or baseline_early_start)
    result.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
