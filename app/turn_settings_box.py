"""Settings > Listening: when the companion takes its turn and when it lets the person go on
(core.settings.TurnSettings, used by core.conversation.end_of_turn and turn_taking).

The spin boxes take their ranges from the settings model's own bounds, so the dialog can never
offer a value that saving would refuse, nor hide one it would accept. The fixed end-of-turn
silence (vad.min_silence_ms) is only used with the smart end off, so it is enabled only then.
"""

from __future__ import annotations

from pydantic import BaseModel
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox

from core.settings import Settings, TurnSettings, VadSettings


def _bounds(name: str, model: type[BaseModel] = TurnSettings) -> tuple[float, float]:
    """The (ge, le) bounds pydantic checks for a field (its Field(ge=, le=) constraints)."""
    meta = model.model_fields[name].metadata
    low = next(m.ge for m in meta if getattr(m, "ge", None) is not None)
    high = next(m.le for m in meta if getattr(m, "le", None) is not None)
    return low, high


def _ms_spin(name: str, value: int, step: int, tip: str, model: type[BaseModel] = TurnSettings) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(*(int(b) for b in _bounds(name, model)))
    spin.setSingleStep(step)
    spin.setSuffix(" ms")
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


def _times_spin(name: str, value: float, tip: str) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(*_bounds(name))
    spin.setDecimals(1)
    spin.setSingleStep(0.1)
    spin.setSuffix(" ×")
    spin.setValue(value)
    spin.setToolTip(tip)
    return spin


class TurnSettingsBox(QGroupBox):
    """The turn.* settings and the fixed silence they replace; `values()` gives them back."""

    def __init__(self, settings: Settings) -> None:
        super().__init__("Taking turns")
        t = settings.turn
        form = QFormLayout(self)
        self.smart_check = QCheckBox("Decide when I have finished from my words and voice, not silence alone")
        self.smart_check.setChecked(t.smart_end)
        self.smart_check.setToolTip("Off: the companion answers after a fixed silence (below)")
        form.addRow(self.smart_check)
        self.lm_check = QCheckBox("Ask the language model whether my words sound finished")
        self.lm_check.setChecked(t.lm_completion)
        self.lm_check.setToolTip("The bundled SmolLM2 reads the words so far: answers come sooner after a "
                                 "finished sentence and later after 'and the…' (a few tens of ms per pause)")
        form.addRow(self.lm_check)
        self.min_wait_spin = _ms_spin("min_wait_ms", t.min_wait_ms, 50,
                                      "Silence before answering a turn that sounds finished")
        form.addRow("Wait after a finished sentence:", self.min_wait_spin)
        self.max_wait_spin = _ms_spin("max_wait_ms", t.max_wait_ms, 100,
                                      "Silence after which the turn ends whatever its words (e.g. after 'and…')")
        form.addRow("Longest wait:", self.max_wait_spin)
        self.patience_spin = _times_spin("patience", t.patience,
                                         "Waits are this many times longer when you sound sad, fearful or hesitant")
        form.addRow("When I sound sad or hesitant, wait:", self.patience_spin)
        self.agitated_spin = _times_spin("agitated_patience", t.agitated_patience,
                                         "Waits are this many times longer when you sound agitated, so that the "
                                         "companion does not talk over you")
        form.addRow("When I sound agitated, wait:", self.agitated_spin)
        self.backchannel_check = QCheckBox("Say \u201cmm\u201d and keep listening when I pause for long while sad")
        self.backchannel_check.setChecked(t.backchannel)
        form.addRow(self.backchannel_check)
        self.backchannel_max_spin = _ms_spin(
            "backchannel_max_ms", t.backchannel_max_ms, 100,
            "While the companion speaks, a shorter sound of yours that is a backchannel ('mm-hm', 'yeah') or a "
            "cough does not stop it; 0 ms: any speech stops it")
        form.addRow("Let \u201cmm-hm\u201d under this length pass:", self.backchannel_max_spin)
        self.silence_spin = _ms_spin("min_silence_ms", settings.vad.min_silence_ms, 50,
                                     "With the smart end off, the companion answers after this much silence",
                                     VadSettings)
        form.addRow("Fixed end-of-turn silence:", self.silence_spin)
        self.smart_check.toggled.connect(self._smart_toggled)
        self._smart_toggled(t.smart_end)

    def _smart_toggled(self, on: bool) -> None:
        for w in (self.lm_check, self.min_wait_spin, self.max_wait_spin, self.patience_spin, self.agitated_spin,
                  self.backchannel_check):
            w.setEnabled(on)
        self.silence_spin.setEnabled(not on)

    def values(self, turn: TurnSettings) -> dict:
        """The turn section as edited (validated by the caller with the rest of the settings)."""
        return {**turn.model_dump(mode="json"), "smart_end": self.smart_check.isChecked(),
                "lm_completion": self.lm_check.isChecked(),
                "min_wait_ms": self.min_wait_spin.value(), "max_wait_ms": self.max_wait_spin.value(),
                "patience": round(self.patience_spin.value(), 2),
                "agitated_patience": round(self.agitated_spin.value(), 2),
                "backchannel": self.backchannel_check.isChecked(),
                "backchannel_max_ms": self.backchannel_max_spin.value()}

