"""The model manager dialog over core's real registry and a loopback server that answers like the Hub."""

from __future__ import annotations

import errno

import pytest
from PySide6.QtCore import Qt

from app.model_manager import ModelManagerDialog, installed_models, plain_error
from core.models.registry import ModelRegistry, OfflineError
from core.settings import Settings
from tests.helpers.fake_hub import FakeHub, set_hub_offline, write_catalog

REPO = "test-org/tiny-audio-GGUF"
PAYLOAD = bytes(range(256)) * 4096  # 1 MiB: many progress steps


def _catalog(tmp_path):
    return write_catalog(tmp_path, REPO, "tiny-pair",
                         [{"role": "llm", "filename": "tiny.gguf", "size": None, "sha256": None},
                          {"role": "mmproj", "filename": "mmproj.gguf", "size": None, "sha256": None}])


@pytest.fixture
def hub(monkeypatch):
    set_hub_offline(monkeypatch, False)
    with FakeHub() as server:
        server.files[f"{REPO}/tiny.gguf"] = PAYLOAD
        server.files[f"{REPO}/mmproj.gguf"] = PAYLOAD[::-1]
        yield server


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data")


def test_download_with_progress_then_verify_detects_damage_then_remove(qtbot, tmp_path, hub, settings, monkeypatch):
    registry = ModelRegistry(settings.resolved_data_dir(), _catalog(tmp_path), endpoint=hub.endpoint)
    dialog = ModelManagerDialog(settings, registry=registry)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    dialog.select("tiny-pair")
    assert dialog.table.item(0, 4).text() == "not downloaded" and dialog.download_button.isEnabled()

    fractions = []
    task = dialog.download()
    task.progress.connect(lambda f, msg: fractions.append(f))
    assert dialog.cancel_button.isEnabled() and not dialog.download_button.isEnabled()
    qtbot.waitUntil(lambda: not task.running and "downloaded" in dialog.status.text(), timeout=30_000)
    assert fractions and fractions[-1] == pytest.approx(1.0)
    assert dialog.table.item(0, 4).text() == "verified"
    llm = settings.resolved_data_dir() / "models" / "tiny-pair" / "tiny.gguf"
    assert installed_models(settings, registry) == [("tiny-pair", llm, llm.with_name("mmproj.gguf"))]
    assert llm.read_bytes() == PAYLOAD

    llm.write_bytes(PAYLOAD[:-1] + b"\x00")  # one damaged byte
    task = dialog.verify()
    qtbot.waitUntil(lambda: not task.running and "mismatch" in dialog.status.text(), timeout=30_000)
    assert "tiny.gguf" in dialog.status.text()

    task = dialog.remove(confirm=False)
    qtbot.waitUntil(lambda: not task.running and "removed" in dialog.status.text(), timeout=30_000)
    assert not llm.exists() and dialog.table.item(0, 4).text() == "not downloaded"
    dialog.close()


def test_cancel_stops_the_download_and_it_resumes_later(qtbot, tmp_path, hub, settings):
    registry = ModelRegistry(settings.resolved_data_dir(), _catalog(tmp_path), endpoint=hub.endpoint)
    dialog = ModelManagerDialog(settings, registry=registry)
    qtbot.addWidget(dialog)
    dialog.select("tiny-pair")
    task = dialog.download()
    # cancel from the download thread at its first progress report, so the test does not race the transfer
    task.progress.connect(lambda f, msg: dialog.task.cancel(), Qt.ConnectionType.DirectConnection)
    qtbot.waitUntil(lambda: not task.running and "cancelled" in dialog.status.text(), timeout=30_000)
    assert "resume" in dialog.status.text() and dialog.progress.isHidden()
    part = settings.resolved_data_dir() / "models" / "tiny-pair" / "tiny.gguf.part"
    assert 0 < part.stat().st_size < len(PAYLOAD)

    task = dialog.download()
    qtbot.waitUntil(lambda: not task.running and "downloaded" in dialog.status.text(), timeout=30_000)
    assert hub.served[-2].startswith("bytes=")  # the first file resumed where it stopped
    dialog.close()


def test_offline_download_says_so_plainly(qtbot, tmp_path, settings, monkeypatch):
    set_hub_offline(monkeypatch, False)
    registry = ModelRegistry(settings.resolved_data_dir(), _catalog(tmp_path), endpoint="http://127.0.0.1:9")
    dialog = ModelManagerDialog(settings, registry=registry)
    qtbot.addWidget(dialog)
    dialog.select("tiny-pair")
    dialog.download()
    qtbot.waitUntil(lambda: "offline" in dialog.status.text(), timeout=60_000)
    qtbot.waitUntil(dialog.download_button.isEnabled, timeout=10_000)  # usable again once the task is done
    assert dialog.table.rowCount() == 2
    dialog.close()


def test_plain_errors():
    assert "disk is full" in plain_error(OSError(errno.ENOSPC, "No space left on device"))
    assert "offline" in plain_error(OfflineError("could not reach host"))
    # the registry reports any OSError during a transfer as "offline"; a full disk must still read as one
    wrapped = OfflineError("could not reach host (OSError: [Errno 28] No space left on device)")
    assert "disk is full" in plain_error(wrapped)
