"""The end-of-turn decision's own figures, for `cogaudio bench latency` and its calibration.

Held-out LIME rows (the test split: texts never used to calibrate, and a held-out voice) are
replayed through the real VAD (Silero), the real turn-taking stage and the real recogniser,
in stream time rather than wall time, so that a few hundred rows take minutes:

- complete turns: the row as spoken, then silence. The figure is the end-of-turn delay: the
  silence between the last speech and the decision;
- paused turns: the same row with a pause of 300-900 ms inserted at a word boundary inside
  the sentence (`make_cases`, seeded). A cut-off is a turn ended before the speaker's last
  word (during the inserted pause, or a natural one).

The transcript is handed to the stage only when it would have been ready: its real compute
time (measured here, on this machine) after the silent window that started it. The same rows
are replayed with today's fixed window (`turn.smart_end` off, `vad.min_silence_ms`), the
baseline in the same table.
"""

from __future__ import annotations

import io
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from core.conversation.end_of_turn import EndOfTurnPolicy
from core.conversation.frames import TurnReleased, UserTurn
from core.conversation.turn_taking import TurnTaking
from core.settings import Settings
from core.speech.final_prosody import measure_final_prosody
from core.speech.vad import WINDOW, SileroVad, StreamingVad

PAUSE_RANGE_S = (0.3, 0.9)
TAIL_S = 3.0  # silence after the last word: past the longest wait of any mood
DEFAULT_ROWS = Path("data/lime-turns")


class TurnBenchError(RuntimeError):
    """The LIME rows could not be read; the message says how to build them."""


@dataclass(frozen=True, eq=False)
class Case:
    row: str
    emotion: str
    audio: np.ndarray  # speech (with the inserted pause, if any) then TAIL_S of silence
    last_word_end_s: float  # where the speaker's last word ends, in `audio`
    pause_s: float = 0.0  # the inserted pause (0: a complete turn as spoken)


@dataclass(frozen=True)
class Outcome:
    case: Case
    ended_s: list[float]  # stream times of every end-of-turn decision

    @property
    def cut_off(self) -> bool:
        """A turn was ended while the speaker was only pausing."""
        return any(t < self.case.last_word_end_s for t in self.ended_s)

    @property
    def delay_ms(self) -> float | None:
        """Silence after the last word until the turn was ended (None if it never was)."""
        after = [t for t in self.ended_s if t >= self.case.last_word_end_s]
        return (after[0] - self.case.last_word_end_s) * 1000.0 if after else None


def load_rows(path: Path, split: str, limit: int | None = None) -> list[dict]:
    """LIME rows of `split` (audio decoded, 16 kHz float32)."""
    try:
        from datasets import load_from_disk
    except ImportError as exc:
        raise TurnBenchError("the end-of-turn figures read LIME rows with `datasets`: pip install -e '.[train]'") from exc
    import soundfile as sf

    if not Path(path).exists():
        raise TurnBenchError(f"no LIME rows at {path}: build them with `nice -n 10 cogaudio-train lime build "
                             f"--config configs/lime-turns.yaml --out {path}` (~15 min on 2 cores), or pass --turn-rows 0")
    data = load_from_disk(str(path))
    if split not in data:
        raise TurnBenchError(f"{path} has no '{split}' split ({', '.join(data)})")
    rows = []
    for row in data[split].select(range(min(limit or len(data[split]), len(data[split])))):
        audio, rate = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="float32")
        if rate != SAMPLE_RATE:
            raise TurnBenchError(f"row {row['id']} is at {rate} Hz, not {SAMPLE_RATE}")
        rows.append({"id": row["id"], "audio": audio, "words": row["words"], "emotion": row["emotion"]})
    return rows


def _quietest(audio: np.ndarray, t: float, span_s: float = 0.04) -> int:
    """The sample nearest `t` seconds with the least energy around it (a clean cut between words)."""
    hop = 80
    lo, hi = max(0, int((t - span_s) * SAMPLE_RATE)), min(len(audio) - hop, int((t + span_s) * SAMPLE_RATE))
    if hi <= lo:
        return int(t * SAMPLE_RATE)
    energy = [float(np.sum(audio[i:i + hop] ** 2)) for i in range(lo, hi, hop)]
    return lo + hop * int(np.argmin(energy)) + hop // 2


def speech_end_s(audio: np.ndarray, silero: SileroVad, threshold: float = 0.5) -> float:
    """Where Silero hears the last speech of a clip (what the endpointer measures silence from)."""
    probs = silero.probabilities(audio)
    voiced = np.flatnonzero(probs >= threshold)
    return float((voiced[-1] + 1) * WINDOW / SAMPLE_RATE) if voiced.size else len(audio) / SAMPLE_RATE


def make_cases(rows: list[dict], seed: int = 0, silero: SileroVad | None = None) -> tuple[list[Case], list[Case]]:
    """(complete, paused): each row as spoken, and with a 300-900 ms pause at an inner word boundary."""
    rng = np.random.default_rng(seed)
    tail = np.zeros(int(TAIL_S * SAMPLE_RATE), np.float32)
    silero = silero or SileroVad()
    complete, paused = [], []
    for row in rows:
        audio, words = row["audio"], row["words"]
        last_end = speech_end_s(audio, silero)
        complete.append(Case(row["id"], row["emotion"], np.concatenate([audio, tail]), last_end))
        if len(words) < 3:
            continue
        k = int(rng.integers(1, len(words) - 1))  # after word k (never after the last): mid-sentence
        cut = _quietest(audio, float(words[k]["end"]))
        pause = float(rng.uniform(*PAUSE_RANGE_S))
        gap = np.zeros(int(pause * SAMPLE_RATE), np.float32)
        paused.append(Case(row["id"], row["emotion"], np.concatenate([audio[:cut], gap, audio[cut:], tail]),
                           last_end + len(gap) / SAMPLE_RATE, pause))
    return complete, paused


class _Inline:
    """An executor that runs at once (the replay has no wall clock to hide work behind)."""

    def submit(self, fn, *args) -> Future:
        f: Future = Future()
        f.set_result(fn(*args))
        return f

    def shutdown(self, **_) -> None:
        pass


class _ReadyAt(Future):
    """A finished transcript that counts as done only once the stream clock reaches `ready_at`."""

    def __init__(self, value, ready_at: float, clock: Callable[[], float]) -> None:
        super().__init__()
        self.set_result(value)
        self._ready_at, self._clock = ready_at, clock

    def done(self) -> bool:
        return self._clock() >= self._ready_at


class StreamClockExecutor:
    """An executor for replays: runs at once; each result counts as done after its compute time
    in stream time (as a worker beside the listener would deliver it)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def submit(self, fn, *args) -> Future:
        t0 = time.perf_counter()
        value = fn(*args)
        return _ReadyAt(value, self._clock() + time.perf_counter() - t0, self._clock)

    def shutdown(self, **_) -> None:
        pass


def ready_at(transcribe: Callable[[np.ndarray], object] | None, clock: Callable[[], float]):
    """A transcribe_ahead for replays: runs now, counts as done after its compute time in stream time."""
    def ahead(audio: np.ndarray) -> Future | None:
        if transcribe is None:
            return None
        t0 = time.perf_counter()
        value = transcribe(audio)
        return _ReadyAt(value, clock() + time.perf_counter() - t0, clock)

    return ahead


def replay(case: Case, settings: Settings, silero: SileroVad, transcribe: Callable[[np.ndarray], object] | None,
           perceived: tuple[str | None, str | None] = (None, None), policy: EndOfTurnPolicy | None = None) -> Outcome:
    """Feed `case` through the VAD and the turn-taking stage in stream time; when were turns ended?

    `policy`: one built from `settings` for many replays (it may hold the language model; its
    readings are not counted in stream time: they run on the listener thread, once per pause)."""
    policy = policy or EndOfTurnPolicy(settings.turn, settings.vad.min_silence_ms)
    hard_end = policy.longest_ms + (300 if settings.turn.smart_end else 0)
    vad = StreamingVad(settings.vad, silero, min_silence_ms=hard_end)
    now = [0.0]
    ahead = ready_at(transcribe, lambda: now[0])
    ids = iter(range(1, 1 << 30))
    stage = TurnTaking(settings, policy, lambda: next(ids), transcribe_ahead=ahead, close_utterance=vad.close_utterance,
                       measure_prosody=measure_final_prosody, executor=_Inline())
    stage.perceived(*perceived)
    ended: list[float] = []

    def push(frame) -> None:
        if isinstance(frame, TurnReleased) or (isinstance(frame, UserTurn) and not frame.held):
            ended.append(now[0])

    vad.model.reset()
    audio = case.audio
    for i in range(0, len(audio) - WINDOW + 1, WINDOW):
        for event in vad.feed(audio[i:i + WINDOW]):
            now[0] = event.decision_s
            stage.process(event, push)
    return Outcome(case, ended)


def summarize(outcomes: list[Outcome]) -> dict:
    delays = [o.delay_ms for o in outcomes if o.delay_ms is not None]
    cut = sum(o.cut_off for o in outcomes)
    return {"n": len(outcomes), "cut_offs": cut, "cut_off_rate": round(cut / len(outcomes), 4) if outcomes else None,
            "delay_median_ms": round(statistics.median(delays), 1) if delays else None,
            "delay_p90_ms": round(float(np.percentile(delays, 90)), 1) if delays else None}


def run_turn_bench(settings: Settings, rows: list[dict], transcribe: Callable[[np.ndarray], object],
                   silero: SileroVad | None = None, progress=None, seed: int = 0) -> dict:
    """Smart and fixed end of turn on the same held-out rows: delays after complete turns, cut-offs
    on turns with inserted pauses; also the smart one with the row's emotion taken as perceived."""
    silero = silero or SileroVad()
    complete, paused = make_cases(rows, seed, silero)
    smart = settings.model_copy(deep=True)
    smart.turn.smart_end = True
    fixed = settings.model_copy(deep=True)
    fixed.turn.smart_end = False
    out: dict = {"rows": len(rows), "pause_range_ms": [int(PAUSE_RANGE_S[0] * 1000), int(PAUSE_RANGE_S[1] * 1000)],
                 "fixed_window_ms": settings.vad.min_silence_ms}
    policies = {id(cfg): EndOfTurnPolicy(cfg.turn, cfg.vad.min_silence_ms) for cfg in (smart, fixed)}
    try:
        for name, cfg, words, mood in (("smart", smart, transcribe, False), ("fixed", fixed, None, False),
                                       ("smart_mood", smart, transcribe, True)):
            res = {}
            for kind, cases in (("complete", complete), ("paused", paused)):
                outcomes = [replay(c, cfg, silero, words, (c.emotion, "medium") if mood else (None, None),
                                   policies[id(cfg)]) for c in cases]
                res[kind] = summarize(outcomes)
                if progress:
                    progress(name, kind, res[kind])
            out[name] = res
    finally:
        for policy in policies.values():
            policy.close()
    return out
