"""Pure parts of reply/talk/bench: output naming, the terminal printer, the latency summary."""

from __future__ import annotations

import io
from pathlib import Path

from core.cli.bench_cmd import table
from core.cli.latency_bench import BenchResult, TurnLatency
from core.cli.reply_cmd import out_paths
from core.cli.talk_cmd import Printer
from core.conversation.frames import EngineEvent, Interrupted, TurnComplete, UserSpeechEnded
from core.engines.events import Done, Perceived, ReplyDelta


def test_out_paths_number_by_input_position():
    assert out_paths(None, 2) == [None, None]
    assert out_paths("r.wav", 1) == [Path("r.wav")]
    assert out_paths("d/r.wav", 3) == [Path("d/r-1.wav"), Path("d/r-2.wav"), Path("d/r-3.wav")]


def test_printer_shows_heard_text_emotion_and_streamed_reply():
    out = io.StringIO()
    p = Printer(out)
    for frame in [
        UserSpeechEnded(1, 3.0, 2.5, 2.4),
        EngineEvent(1, Perceived("sad", "high", 0.71, "I lost my keys")),
        EngineEvent(1, ReplyDelta("Oh")),
        EngineEvent(1, ReplyDelta(" no.")),
        EngineEvent(1, Done("Oh no.", None)),
        Interrupted(1, "barge-in"),
        TurnComplete(1, object(), 5),
    ]:
        p(frame)
    text = out.getvalue()
    assert "you:       I lost my keys" in text
    assert "perceived: sad (high, confidence 0.71)" in text
    assert "companion: Oh no.\n" in text
    assert "[interrupted: barge-in]" in text and "saved as turn 5" in text


def test_bench_summary_ratio_and_table():
    r = BenchResult(engine="cascade", model="m", cold_start_ms=900.0, peak_rss_mb=700.0)
    for mode, values in (("streaming", [1000, 1200, 1100]), ("sequential", [2000, 2600, 2200])):
        for v in values:
            r.turns.append(TurnLatency("s", mode, v, {"endpoint": 500.0, "first_audio": v}, "hi"))
    d = r.as_dict()
    assert d["streaming"]["median_ms"] == 1100 and d["sequential"]["median_ms"] == 2200
    assert d["speedup_median"] == 2.0
    assert d["streaming"]["p90_ms"] == 1180.0
    d.update(min_silence_ms=500, early_start_ms=150, explicit_reasoning=True)
    text = table(d)
    assert "median latency (ms)" in text and "2.00" in text and "peak RSS" in text
