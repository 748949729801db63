"""The bundle tests build the PyInstaller bundle (minutes of CPU): they run only when asked,
with `-m bundle` or COGAUDIO_BUNDLE_TESTS=1, never in the default suite."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config, items):
    if os.environ.get("COGAUDIO_BUNDLE_TESTS") == "1" or "bundle" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="builds the desktop bundle (minutes): run with -m bundle")
    for item in items:
        if item.get_closest_marker("bundle"):
            item.add_marker(skip)
