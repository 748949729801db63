"""Settings > Listening > Taking turns: the turn.* settings are shown with their real range,
changes round-trip into the saved settings, and a contradictory pair is refused by name."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.settings_dialog import SettingsDialog
from core.settings import Settings, TurnSettings, load_settings


def _dialog(qtbot, settings: Settings, path):
    dialog = SettingsDialog(settings, path)
    qtbot.addWidget(dialog)
    return dialog


def test_the_turn_settings_show_their_range_and_round_trip_into_the_saved_settings(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, Settings(), path)
    box = dialog.turn_box
    # the shipped values, and the bounds that saving would accept (core.settings.TurnSettings)
    assert box.smart_check.isChecked() and box.backchannel_check.isChecked() and not box.lm_check.isChecked()
    assert (box.min_wait_spin.value(), box.max_wait_spin.value(), box.backchannel_max_spin.value()) == (300, 1200, 1000)
    assert (box.min_wait_spin.minimum(), box.min_wait_spin.maximum()) == (100, 2000)
    assert (box.max_wait_spin.minimum(), box.max_wait_spin.maximum()) == (300, 5000)
    assert (box.backchannel_max_spin.minimum(), box.backchannel_max_spin.maximum()) == (0, 3000)
    assert (box.patience_spin.minimum(), box.patience_spin.maximum()) == (1.0, 3.0)
    assert not box.silence_spin.isEnabled()  # the fixed silence only counts with the smart end off

    box.min_wait_spin.setValue(450)
    box.max_wait_spin.setValue(2500)
    box.patience_spin.setValue(2.2)
    box.agitated_spin.setValue(1.1)
    qtbot.mouseClick(box.backchannel_check, Qt.MouseButton.LeftButton)
    box.backchannel_max_spin.setValue(600)
    qtbot.mouseClick(box.lm_check, Qt.MouseButton.LeftButton)
    assert dialog.apply()
    saved = load_settings(path)
    assert saved.turn == TurnSettings(smart_end=True, min_wait_ms=450, max_wait_ms=2500, patience=2.2,
                                      agitated_patience=1.1, backchannel=False, backchannel_max_ms=600,
                                      lm_completion=True)

    again = _dialog(qtbot, saved, path)  # reopened: the saved values are what it shows
    box = again.turn_box
    assert (box.min_wait_spin.value(), box.max_wait_spin.value(), box.patience_spin.value()) == (450, 2500, 2.2)
    assert not box.backchannel_check.isChecked() and box.backchannel_max_spin.value() == 600
    assert box.lm_check.isChecked()
    qtbot.mouseClick(box.smart_check, Qt.MouseButton.LeftButton)  # back to the fixed silence
    assert box.silence_spin.isEnabled() and not box.min_wait_spin.isEnabled() and not box.lm_check.isEnabled()
    box.silence_spin.setValue(700)
    assert again.apply()
    saved = load_settings(path)
    assert saved.turn.smart_end is False and saved.vad.min_silence_ms == 700 and saved.turn.min_wait_ms == 450


def test_a_shortest_wait_longer_than_the_longest_is_refused_and_nothing_is_saved(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    dialog = _dialog(qtbot, Settings(), path)
    dialog.turn_box.min_wait_spin.setValue(1500)
    dialog.turn_box.max_wait_spin.setValue(1000)
    assert not dialog.apply()
    assert "min_wait_ms" in dialog.error_label.text() and not path.exists()
    dialog.turn_box.max_wait_spin.setValue(1500)  # equal is allowed: one wait whatever the words
    assert dialog.apply() and load_settings(path).turn.max_wait_ms == 1500
