"""Barge-in while the companion speaks: are backchannels and coughs let be, are interruptions stopped fast?

    python bench/barge_in.py [--json] [--phrases bench|held-out] [--no-reread]

Each clip is played to the real VAD (Silero) and the real turn-taking stage as if it came in
over a reply (the stage is told the reply's voice is playing), in stream time:

- backchannels: "Mm-hm", "Mm", "Hmm", "Mhm", "Uh-huh" spoken by the bundled Piper voice (at
  three speaking rates) and by four espeak-ng voices; coughs: bursts of noise shaped like one
  (a fast attack, a 150-350 ms decay, a low-passed and a broadband kind; no cough recordings
  are shipped, so these are stand-ins);
- interruptions: eight phrases ("Wait.", "Hold on a second.", "No, that's not it." ...) by
  the same voices.

The words of a short burst come from the real recogniser (faster-whisper tiny.en), handed to
the stage after their measured compute time, as the transcript prefetch would.

Figures: the share of backchannels and coughs after which the reply goes on (no BargeIn), and
the share of interruptions whose voice was held within 200 ms of the speech onset and which
were then cut; for the backchannels let be, how long the reply's voice was held (paused to
resumed: the burst's end, its silence and the reading(s) of its words). The time counts from the onset of sound in the clip (its 10 ms energy first
above -20 dB of its peak) to the VAD window that paused the voice, plus one 20 ms sink block
(the sinks check for a pause once a block). The listener thread's scheduling is not in it:
on this 2-core CPU it adds a few ms when the machine is quiet.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.pcm import SAMPLE_RATE, load_audio, resample  # noqa: E402
from core.cli.turn_bench import StreamClockExecutor, ready_at  # noqa: E402
from core.conversation.backchannels import BACKCHANNEL_PROMPT  # noqa: E402
from core.conversation.end_of_turn import EndOfTurnPolicy  # noqa: E402
from core.conversation.frames import BargeIn, VoicePaused  # noqa: E402
from core.conversation.turn_taking import TurnTaking  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.speech.asr import SpeechRecognizer  # noqa: E402
from core.speech.tts import Prosody, Speaker  # noqa: E402
from core.speech.vad import WINDOW, SileroVad, StreamingVad  # noqa: E402

BACKCHANNELS = ["Mm-hm.", "Mm.", "Hmm.", "Mhm.", "Uh-huh."]
INTERRUPTIONS = ["Wait.", "Stop, please.", "No, that's not it.", "Hold on a second.", "Sorry, can I say something?",
                 "Actually, I meant tomorrow.", "Excuse me, I have a question.", "But I already tried that."]
# Phrases that played no part in designing the decision (core.conversation.backchannels), to
# check it on words it has not seen: `--phrases held-out`.
HELD_OUT = (["Mmm.", "Mm-hmm.", "Uh-hum.", "Yeah.", "Okay.", "I see."],
            ["And what about me?", "And then what?", "Hang on.", "Let me finish.", "Mm, not really.",
             "I don't think so.", "Can I ask something?", "Okay, but why?"])
ESPEAK = ["en-us", "en-us+f3", "en-gb+m3", "en-us+f4"]
SINK_BLOCK_MS = 20.0


def voices(speaker: Speaker):
    for length in (0.9, 1.0, 1.2):
        yield f"piper-{length}", lambda text, length=length: resample(
            np.concatenate(list(speaker.synthesize(text, Prosody("neutral", length=length)))), speaker.sample_rate,
            SAMPLE_RATE)
    for v in ESPEAK:
        yield f"espeak-{v}", lambda text, v=v: _espeak(text, v)


def _espeak(text: str, voice: str) -> np.ndarray:
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", voice, "-w", f.name, text], check=True, capture_output=True)
        return load_audio(f.name)


def coughs(rng: np.random.Generator) -> list[np.ndarray]:
    out = []
    for dur in (0.15, 0.2, 0.25, 0.3, 0.35):
        for broadband in (True, False):
            n = int(dur * SAMPLE_RATE)
            env = np.minimum(1.0, np.arange(n) / (0.01 * SAMPLE_RATE)) * np.exp(-np.arange(n) / (0.35 * n))
            noise = rng.standard_normal(n)
            if not broadband:  # a chesty cough: most energy below ~1.5 kHz
                from scipy.signal import butter, lfilter

                b, a = butter(4, 1500 / (SAMPLE_RATE / 2))
                noise = lfilter(b, a, noise)
            out.append((0.4 * env * noise / np.abs(noise).max()).astype(np.float32))
    return out


def onset_s(clip: np.ndarray) -> float:
    hop = SAMPLE_RATE // 100
    rms = np.array([np.sqrt(np.mean(clip[i:i + hop] ** 2)) for i in range(0, len(clip) - hop, hop)])
    return float(np.flatnonzero(rms >= rms.max() * 0.1)[0] * hop / SAMPLE_RATE)


def replay(clip: np.ndarray, settings: Settings, silero: SileroVad, asr: SpeechRecognizer,
           no_reread: bool = False, policy: EndOfTurnPolicy | None = None) -> dict:
    lead = 0.5
    stream = np.concatenate([np.zeros(int(lead * SAMPLE_RATE), np.float32), clip, np.zeros(2 * SAMPLE_RATE, np.float32)])
    vad = StreamingVad(settings.vad, silero, min_silence_ms=3000)
    vad.model.reset()
    now = [0.0]
    policy = policy or EndOfTurnPolicy(settings.turn, settings.vad.min_silence_ms)
    stage = TurnTaking(settings, policy, lambda: 1,
                       transcribe_ahead=ready_at(asr.transcribe, lambda: now[0]),
                       close_utterance=vad.close_utterance, replying=lambda: True, speaking=lambda: True,
                       executor=StreamClockExecutor(lambda: now[0]),
                       reread=None if no_reread else lambda audio: asr.transcribe(audio, prompt=BACKCHANNEL_PROMPT))
    paused_at = barged_at = resumed_at = None

    def push(frame) -> None:
        nonlocal paused_at, barged_at, resumed_at
        if isinstance(frame, VoicePaused) and frame.paused and paused_at is None:
            paused_at = now[0]
        elif isinstance(frame, VoicePaused) and not frame.paused and resumed_at is None:
            resumed_at = now[0]
        elif isinstance(frame, BargeIn) and barged_at is None:
            barged_at = now[0]

    for i in range(0, len(stream) - WINDOW + 1, WINDOW):
        for ev in vad.feed(stream[i:i + WINDOW]):
            now[0] = ev.decision_s
            stage.process(ev, push)
    stage.close()
    start = lead + onset_s(clip)
    held = barged_at if paused_at is None else paused_at
    return {"barged": barged_at is not None,
            "stop_ms": None if held is None else round((held - start) * 1000 + SINK_BLOCK_MS, 1),
            "held_ms": None if paused_at is None or resumed_at is None else round((resumed_at - paused_at) * 1000, 1)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--phrases", choices=("bench", "held-out"), default="bench",
                    help="the phrases above, or others that played no part in designing the decision")
    ap.add_argument("--no-reread", action="store_true",
                    help="decide from the first reading only (the rule before the second, backchannel-primed one)")
    args = ap.parse_args()
    settings, silero, speaker = Settings(), SileroVad(), Speaker()
    asr = SpeechRecognizer(settings.asr)
    policy = EndOfTurnPolicy(settings.turn, settings.vad.min_silence_ms)  # one for every clip (its language model)
    rng = np.random.default_rng(0)
    results = {"backchannel": [], "cough": [], "interruption": []}
    backchannels, interruptions = (BACKCHANNELS, INTERRUPTIONS) if args.phrases == "bench" else HELD_OUT
    for name, say in voices(speaker):
        for text in backchannels:
            results["backchannel"].append({"voice": name, "text": text, **replay(say(text), settings, silero, asr, args.no_reread, policy)})
        for text in interruptions:
            results["interruption"].append({"voice": name, "text": text, **replay(say(text), settings, silero, asr, args.no_reread, policy)})
    for k, clip in enumerate(coughs(rng)):
        results["cough"].append({"voice": "synthetic", "text": f"cough {k}", **replay(clip, settings, silero, asr, args.no_reread, policy)})
    let_be = {k: sum(not r["barged"] for r in v) for k, v in results.items() if k != "interruption"}
    inter = results["interruption"]
    fast = [r for r in inter if r["barged"] and r["stop_ms"] is not None and r["stop_ms"] <= 200]
    stops = [r["stop_ms"] for r in inter if r["stop_ms"] is not None]
    summary = {
        "backchannels_let_be": f"{let_be['backchannel']}/{len(results['backchannel'])}",
        "backchannels_let_be_rate": round(let_be["backchannel"] / len(results["backchannel"]), 3),
        "coughs_let_be": f"{let_be['cough']}/{len(results['cough'])}",
        "interruptions_stopped_within_200ms": f"{len(fast)}/{len(inter)}",
        "interruptions_stopped_within_200ms_rate": round(len(fast) / len(inter), 3),
        "stop_ms_median": round(statistics.median(stops), 1) if stops else None,
        "stop_ms_max": max(stops) if stops else None,
        "backchannel_held_ms_median": statistics.median(held) if (held := [
            r["held_ms"] for r in results["backchannel"] if r["held_ms"] is not None]) else None,
        "backchannel_held_ms_max": max(held) if held else None,
        "backchannel_max_ms": settings.turn.backchannel_max_ms,
        "missed": [f"{r['voice']}: {r['text']}" for r in results["backchannel"] + results["cough"] if r["barged"]]
        + [f"{r['voice']}: {r['text']} ({r['stop_ms']} ms, cut={r['barged']})" for r in inter if r not in fast],
    }
    if args.json:
        print(json.dumps({"summary": summary, "results": results}))
    else:
        for k, v in summary.items():
            print(f"{k:<42} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
