"""`cogaudio safety check [--json]`: one result per input line, bad lines included, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from core.cli.safety_cmd import run_check
from core.safety.classifier import HEAD_PATH

REPO = Path(__file__).resolve().parents[2]


def test_the_command_answers_each_line_in_order():
    lines = ["I've written goodbye letters to my family", "this commute is killing me", "i just wanna die"]
    out = subprocess.run([sys.executable, "-m", "core.cli.main", "safety", "check", "--json"], cwd=REPO,
                         input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    results = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["line"] for r in results] == [1, 2, 3]
    assert [r["triggered"] for r in results] == [True, False, True]
    assert results[0]["category"] == "preparatory" and results[0]["layer"] == "pattern"
    assert results[0]["rule"].startswith("preparatory:") and results[0]["matched"] == "goodbye letters"
    assert set(results[1]) >= {"triggered", "category", "score", "rule", "model", "matched"}
    assert "Traceback" not in out.stderr


def test_text_output_is_one_line_per_input():
    out = subprocess.run([sys.executable, "-m", "core.cli.main", "safety", "check"], cwd=REPO,
                         input="I want to kill myself\nhello there\n", capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    first, second = out.stdout.splitlines()
    assert first.startswith("FIRE") and "active_ideation" in first and "kill myself" in first
    assert second.startswith("ok")


def test_bad_lines_get_a_result_and_the_rest_are_still_answered():
    long_line = ("I had a long day at work and the bus was late. " * 2100).encode()  # ~100 kB
    data = b"\n".join([
        b"",  # empty
        long_line + b"I have a rope in the garage and I keep looking at it.",
        b"caf\xe9 \xff\xfe I want to end my life",  # not UTF-8
        "我今天很累，什么都不顺利".encode(),  # another language
        b"je veux mourir",
        b"i just wanna die",
    ]) + b"\n"
    out, err = io.StringIO(), io.StringIO()
    code = run_check(io.BytesIO(data), out, err, as_json=True, reply=False)
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0 and "Traceback" not in err.getvalue()
    assert [r["line"] for r in results] == [1, 2, 3, 4, 5, 6]
    assert results[0]["triggered"] is False and results[0]["score"] == 0.0
    assert results[1]["triggered"]  # the statement at the end of 100 kB is still found
    assert results[2]["triggered"] and "not valid UTF-8" in results[2]["warning"]
    assert results[5]["triggered"]
    assert all(r["warning"] is None for i, r in enumerate(results) if i != 2)


def test_without_the_classifier_it_says_so_and_still_checks(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = run_check(io.BytesIO(b"I want to kill myself\n"), out, err, as_json=True, reply=False,
                     head_path=tmp_path / "missing.npz")
    assert code == 2
    assert "patterns alone" in err.getvalue() and err.getvalue().count("\n") == 1
    assert json.loads(out.getvalue())["triggered"]


def test_head_option_scores_with_another_head(tmp_path):
    # a candidate head is scored through the same command before it ships: here the shipped weights
    # with a threshold of 0, so that its classifier fires on any sentence it reads
    with np.load(HEAD_PATH) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["threshold"] = np.float32(0.0)
    np.savez_compressed(tmp_path / "eager.npz", **arrays)
    line = "we went to the shop and bought some bread\n"
    runs = {}
    for name, extra in (("shipped", []), ("eager", ["--head", str(tmp_path / "eager.npz")])):
        out = subprocess.run([sys.executable, "-m", "core.cli.main", "safety", "check", "--json", *extra], cwd=REPO,
                             input=line, capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        runs[name] = json.loads(out.stdout)
    assert runs["shipped"]["triggered"] is False
    assert runs["eager"]["triggered"] is True and runs["eager"]["layer"] == "model"
    assert runs["eager"]["score"] == runs["shipped"]["score"]  # the same weights read the line alike
