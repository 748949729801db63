"""Property-based fuzzing of what comes from outside: audio files, settings, model output, manifests.

Each reader either returns a usable value or raises its documented clear error; nothing else
may escape (bench/fuzz_inputs.py runs the same targets longer and prints a table).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.helpers.fuzz_targets import TARGETS


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_reader_raises_only_its_documented_error(target):
    @settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(target.strategy)
    def run(value):
        with tempfile.TemporaryDirectory() as folder:
            try:
                target.call(value, Path(folder))
            except target.errors as exc:
                assert str(exc).strip(), "a clear error says something"

    run()
