"""Shared fixtures. Tests run on the real bundled models; nothing downloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def _shared_cache(tmp_path_factory):
    # Derived files only (the embedded adapter merged into the base, core.models.adapter_merge): one
    # cache for the session, as a user has one, so that the ~5 s merge is not redone per test.
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch, _shared_cache):
    """Keep every test's settings, sessions and models out of the real user folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(_shared_cache))
    yield
