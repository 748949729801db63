"""No network traffic except an explicit model pull: a whole turn, the app start and `doctor` with sockets blocked.

Each command runs in a fresh process whose every IP connect, send and name lookup is refused
and logged (tests/helpers/netguard/sitecustomize.py), with HF_HUB_OFFLINE and friends unset.
bench/no_network.py runs the same commands and prints a table.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers.offline import APP_START, REPO, run_offline


def test_the_guard_itself_blocks_and_records(tmp_path):
    code = ("import urllib.request\ntry:\n    urllib.request.urlopen('http://example.org', timeout=5)\n"
            "except OSError as e:\n    print('refused', e)")
    run = run_offline("guard", ["-c", code], tmp_path, timeout=60)
    assert "refused" in run.stdout and run.attempts


def test_a_whole_turn_makes_no_network_attempt(tmp_path):
    run = run_offline("reply", ["-m", "core.cli.main", "reply", str(REPO / "assets/samples/hello.wav"), "--json",
                                "--out", str(tmp_path / "reply.wav")], tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["reply"] and result["transcript"] and (tmp_path / "reply.wav").stat().st_size > 10_000
    assert run.attempts == []


def test_doctor_makes_no_network_attempt(tmp_path):
    run = run_offline("doctor", ["-m", "core.cli.main", "doctor", "--json"], tmp_path, timeout=600)
    assert run.returncode in (0, 1), run.stderr[-3000:]
    assert json.loads(run.stdout)  # it reported
    assert run.attempts == []


def test_the_app_start_makes_no_network_attempt(tmp_path):
    pytest.importorskip("PySide6")
    run = run_offline("app", ["-c", APP_START], tmp_path, gui=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "app loaded" in run.stdout
    assert run.attempts == []
