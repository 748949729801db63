"""The walls between packages: core never imports Qt, torch, app or training; app never imports training;
inside core, cli > conversation > engines > speech > audio, and the floor (models, emotion, store,
settings) imports nothing above it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert "Contracts: 4 kept, 0 broken" in result.stdout, result.stdout + result.stderr


def test_core_imports_without_qt_or_torch():
    code = (
        "import sys, importlib, pkgutil, core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'core.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in ('PySide6', 'torch', 'app', 'training') if m in sys.modules]\n"
        "print('BAD', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "BAD []" in out.stdout, out.stdout
