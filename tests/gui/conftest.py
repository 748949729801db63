"""GUI test fixtures: real bundled models loaded once, a window factory, and a guard that fails
any test leaving a thread running (the napari rule: a worker must never outlive its test)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from core.settings import EngineSettings, Settings

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "assets" / "samples"
# Threads started by libraries at import time, outside any test's control.
_LIBRARY_THREADS = ("tqdm_monitor",)
_TEST_SERVER_THREADS = "process_request_thread"  # the loopback hub's keep-alive handlers


@pytest.fixture(autouse=True)
def no_dangling_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 10.0
    while True:
        left = [t for t in threading.enumerate()
                if t not in before and t.is_alive() and not t.name.startswith(_LIBRARY_THREADS)
                and _TEST_SERVER_THREADS not in t.name]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"test left threads running: {[t.name for t in left]}"


@pytest.fixture(scope="session")
def gui_settings() -> Settings:
    # short replies keep each turn a few seconds on a 2-core CPU
    # the four EIPS steps on, so that the reasoning disclosure is exercised
    return Settings(engine=EngineSettings(kind="cascade", max_tokens=96, n_threads=2, explicit_reasoning=True))


@pytest.fixture(scope="session")
def models(gui_settings):
    """The real cascade engine (SmolLM2 + faster-whisper tiny.en) and Piper voice, loaded once."""
    from core.engines.factory import create_engine
    from core.speech.tts import Speaker

    engine = create_engine(gui_settings, "cascade")
    speaker = Speaker(gui_settings.tts)
    yield engine, speaker
    engine.close()


@pytest.fixture
def make_window(qtbot, tmp_path, gui_settings, models):
    """make_window(source=..., store=..., listen=...) -> a shown MainWindow, closed after the test."""
    from app.bridge import PipelineParts
    from app.main_window import MainWindow
    from core.audio.sinks import ArraySink
    from core.store.session_store import SessionStore

    windows, stores = [], []

    def make(source=None, store=None, listen=False, settings: Settings | None = None, realtime_sink=True,
             use_models=True, start=True):
        if store is None:
            store = SessionStore(tmp_path / "sessions.sqlite3")
            stores.append(store)
        engine, speaker = models if use_models else (None, None)
        parts = PipelineParts(source=source, sink=lambda s: ArraySink(realtime=realtime_sink),
                              engine=engine, speaker=speaker, listen=listen)
        window = MainWindow(settings or gui_settings, store, tmp_path / "settings.json", parts)
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        if start:
            window.start()
            qtbot.waitUntil(lambda: not window.bridge.loading, timeout=120_000)
        return window

    yield make
    for w in windows:
        w.close()
    for s in stores:
        s.close()
