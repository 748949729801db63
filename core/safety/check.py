"""SafetyCheck: every transcript and every reply passes the crisis detector before anything is spoken.

The detection itself is layered (core.safety.detector: explicit patterns, then a learned
classifier). When it fires, the companion stops the model and speaks a fixed, caring reply
that points to real helplines from assets/safety/resources.json for the configured region,
the app shows its crisis panel, and the turn's record says what fired (category, layer,
rule or model, the words) so a therapist's export shows it. A false alarm costs one gentle
message; a miss is worse, so the check leans towards firing.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from core.models.bundled import ASSETS
from core.safety.classifier import HEAD_PATH, ClassifierError, CrisisClassifier
from core.safety.detector import CrisisDetector, Detection
from core.safety.patterns import find_crisis
from core.settings import SafetySettings

log = logging.getLogger(__name__)

RESOURCES_PATH = ASSETS / "safety" / "resources.json"

# Phrases about helplines/prevention in a *reply* are the safe answer itself, not a crisis.
_REPLY_SAFE_CONTEXT = re.compile(r"\b(?:prevention|lifeline|hotline|helpline|crisis\s+line)\b", re.IGNORECASE)

__all__ = ["RESOURCES_PATH", "Resource", "SafetyCheck", "SafetyError", "SafetyResult", "find_crisis"]


@dataclass(frozen=True)
class SafetyResult:
    triggered: bool
    matched: str | None = None  # the words a pattern matched, or the sentence the classifier flagged
    source: str | None = None  # "transcript" | "reply"
    category: str | None = None  # a core.safety.patterns.CATEGORIES entry
    score: float = 0.0
    layer: str | None = None  # "pattern" | "model"
    rule: str | None = None  # pattern id, e.g. "plan_timing:1"
    model: str | None = None  # classifier name when it decided

    @classmethod
    def of(cls, d: Detection, source: str) -> SafetyResult:
        if not d.triggered:
            return cls(False, score=d.score)
        return cls(True, d.matched, source, d.category, d.score, d.layer, d.rule, d.model)

    def as_record(self) -> dict:
        """The entry a turn's session record keeps (and a therapist's export shows)."""
        return {"source": self.source, "category": self.category, "layer": self.layer, "rule": self.rule,
                "model": self.model, "score": round(self.score, 3), "matched": self.matched}


@dataclass(frozen=True)
class Resource:
    name: str
    contact: str
    spoken: str
    hours: str = ""


class SafetyError(RuntimeError):
    """The resources file is missing or malformed; the message says which file to fix."""


class SafetyCheck:
    """Screens transcripts and replies; builds the safe reply for the configured region."""

    def __init__(self, settings: SafetySettings | None = None, resources_path: Path = RESOURCES_PATH,
                 detector: CrisisDetector | None = None, head_path: Path = HEAD_PATH) -> None:
        self.settings = settings or SafetySettings()
        self._detector = detector
        self._head_path = head_path
        self._lock = threading.Lock()
        try:
            data = json.loads(Path(resources_path).read_text(encoding="utf-8"))
            regions = data["regions"]
        except (OSError, ValueError, KeyError) as exc:
            raise SafetyError(f"cannot read the crisis resources {resources_path}: {exc}. "
                              "Restore assets/safety/resources.json from the repository.") from exc
        self._regions = regions
        region = self.settings.region.lower()
        self.region = region if region in regions else "international"

    @property
    def detector(self) -> CrisisDetector:
        """Loaded on first use (the crisis panel builds a SafetyCheck only for its resources)."""
        with self._lock:
            if self._detector is None:
                try:
                    classifier = CrisisClassifier.load(self._head_path)
                except ClassifierError as exc:
                    # the explicit patterns still run; the loss of the learned layer is said loudly
                    log.error("crisis check without its classifier: %s", exc)
                    classifier = None
                self._detector = CrisisDetector(classifier)
            return self._detector

    def check_transcript(self, text: str | None) -> SafetyResult:
        return SafetyResult.of(self.detector.check(text), "transcript")

    def check_reply(self, text: str | None) -> SafetyResult:
        if text and _REPLY_SAFE_CONTEXT.search(text):
            return SafetyResult(False)
        return SafetyResult.of(self.detector.check(text, reply=True), "reply")

    def resources(self, region: str | None = None) -> list[Resource]:
        entry = self._regions.get((region or self.region).lower()) or self._regions["international"]
        items = [Resource(**{k: r.get(k, "") for k in ("name", "contact", "spoken", "hours")}) for r in entry["resources"]]
        if (region or self.region) != "international":
            items += self.resources("international")[:1]
        return items

    def emergency_number(self) -> str:
        return self._regions.get(self.region, self._regions["international"]).get("emergency", "your local emergency number")

    def safe_reply(self) -> str:
        """Short, warm, spoken-friendly: acknowledge, say they are not alone, give one or two ways to reach help."""
        res = self.resources()
        ways = " or ".join(r.spoken for r in res[:2])
        return (
            "I'm really glad you told me, and I'm so sorry you're carrying this. You don't have to face it alone. "
            f"Please reach out to someone right now: you can {ways}. "
            f"If you are in danger right now, call {self.emergency_number()}. "
            "I'm here, and I'll keep listening."
        )

    def resources_text(self) -> str:
        """Written form for the screen: one line per resource."""
        return "\n".join(f"{r.name}: {r.contact}" + (f" ({r.hours})" if r.hours else "") for r in self.resources())
