"""`cogaudio bench latency --json` on one bundled utterance, as a user runs it (subprocess).

Numbers are not asserted (speed belongs in benchmarks); what is checked is the contract of
the JSON and that the two modes really differ in what they overlap: the streaming pipeline
may start before the endpoint decision (early start), the sequential baseline only after it.
"""

from __future__ import annotations

import json
import subprocess
import sys

from core.models.bundled import ASSETS

STAGES = ("endpoint", "asr", "first_token", "first_sentence", "tts_first_chunk", "first_audio")


def test_bench_latency_json_contract_and_mode_difference():
    sample = ASSETS / "samples" / "hello.wav"
    proc = subprocess.run(
        [sys.executable, "-m", "app.launcher", "bench", "latency", "--engine", "cascade", "--samples", str(sample),
         "--turn-rows", "0", "--json"],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    assert data["engine"] == "cascade" and data["explicit_reasoning"] is False and data["baseline_early_start"] is False
    stream, seq = data["streaming"], data["sequential"]
    for mode in (stream, seq):
        assert mode["n"] == 1 and mode["median_ms"] > 0 and mode["p90_ms"] >= mode["median_ms"]
        marks = mode["stages_median_ms"]
        assert set(STAGES) <= marks.keys()
        # the timeline is ordered, and the first sample comes after the end of turn is confirmed
        assert marks["first_token"] <= marks["first_sentence"] <= marks["tts_first_chunk"] <= marks["first_audio"] + 1
        assert mode["median_ms"] >= marks["endpoint"] > 0
    assert data["early_start_ms"] > 0  # the streaming mode may start before the end is confirmed...
    assert seq["stages_median_ms"]["asr"] > seq["stages_median_ms"]["endpoint"]  # ...the baseline only after it
    assert data["speedup_median"] == round(seq["median_ms"] / stream["median_ms"], 2)
    assert data["peak_rss_mb"] > 100 and data["cold_start_ms"] > 0
    # the transcript started at the first silent window served the streaming turns (the warm-up
    # and the measured one); the baseline starts nothing before the endpoint
    assert data["asr_prefetch"] is True
    assert data["smart_end"] is True and data["lm_completion"] is False  # the default end of turn: words + voice, no LM
    assert data["asr_prefetch_runs"]["used"] >= 1
    assert data["asr_prefetch_runs"]["started"] >= data["asr_prefetch_runs"]["used"]
    replies = [t["reply"] for t in data["turns"]]
    assert len(replies) == 2 and all(len(r.split()) >= 2 for r in replies)
