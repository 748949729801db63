"""A first crisis-safety check: self-harm or suicide language -> a safe, caring reply with help.

This is a conservative keyword screen, not a classifier: it looks for explicit phrases of
suicidal intent or self-harm in what the person said (the transcript) and in what the
model was about to say (the reply), skips clear negations ("I'm not going to kill myself",
"I would never hurt myself") and figures of speech ("killing it", "dying to see"), and
when it fires the companion stops the model and speaks a fixed, caring reply that points
to real helplines from assets/safety/resources.json for the configured region. A false
alarm costs one gentle message; a miss is worse, so the patterns lean towards firing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from core.models.bundled import ASSETS
from core.settings import SafetySettings

RESOURCES_PATH = ASSETS / "safety" / "resources.json"

# Explicit phrases. Kept readable rather than clever; each is matched case-insensitively.
_CRISIS_PATTERNS = [
    r"\bkill(?:ing)?\s+my\s?self\b",
    r"\bend(?:ing)?\s+(?:my|it)\s+(?:own\s+)?(?:life|lives)\b",
    r"\bend\s+it\s+all\b",
    r"\btake\s+my\s+(?:own\s+)?life\b",
    r"\bsuicid(?:e|al)\b",
    r"\bwant(?:ed)?\s+to\s+die\b",
    r"\bwish\s+i\s+(?:was|were)\s+dead\b",
    r"\bwish\s+i\s+(?:had\s+never\s+been|wasn'?t|weren'?t)\s+born\b",
    r"\bbetter\s+off\s+(?:dead|without\s+me)\b",
    r"\bno\s+(?:reason|point)\s+(?:to|in)\s+(?:live|living|going\s+on)\b",
    r"\b(?:don'?t|do\s+not)\s+want\s+to\s+(?:live|be\s+alive|wake\s+up)\b",
    r"\b(?:hurt|harm|cut|cutting|hurting|harming)\s+my\s?self\b",
    r"\bself[-\s]?harm(?:ing)?\b",
    r"\boverdos(?:e|ing)\b",
    r"\bcan'?t\s+go\s+on\s+(?:living|anymore|any\s+more)\b",
]
_CRISIS_RE = re.compile("|".join(f"(?:{p})" for p in _CRISIS_PATTERNS), re.IGNORECASE)

# In a reply, the model urging self-harm is as bad as the user describing it.
_REPLY_PATTERNS = [r"\bkill\s+your\s?self\b", r"\bend\s+your\s+(?:own\s+)?life\b", r"\b(?:hurt|harm|cut)\s+your\s?self\b"]
_REPLY_RE = re.compile("|".join(f"(?:{p})" for p in _CRISIS_PATTERNS + _REPLY_PATTERNS), re.IGNORECASE)

# A negation shortly before the match ("I'm not suicidal", "I would never hurt myself").
_NEGATION_RE = re.compile(
    r"\b(?:not|never|no\s+longer|don'?t|do\s+not|didn'?t|won'?t|wouldn'?t|isn'?t|aren'?t|nobody|no\s+one)\b"
    r"(?:\s+\w+){0,3}\s*$",
    re.IGNORECASE,
)
# Phrases about helplines/prevention in a *reply* are the safe answer itself, not a crisis.
_REPLY_SAFE_CONTEXT = re.compile(r"\b(?:prevention|lifeline|hotline|helpline|crisis\s+line)\b", re.IGNORECASE)


@dataclass(frozen=True)
class SafetyResult:
    triggered: bool
    matched: str | None = None
    source: str | None = None  # "transcript" | "reply"


@dataclass(frozen=True)
class Resource:
    name: str
    contact: str
    spoken: str
    hours: str = ""


class SafetyError(RuntimeError):
    """The resources file is missing or malformed; the message says which file to fix."""


def find_crisis(text: str | None, pattern: re.Pattern = _CRISIS_RE) -> str | None:
    """The first non-negated crisis phrase in `text`, or None."""
    if not text:
        return None
    for m in pattern.finditer(text):
        # look back within the same clause only: "I'm not okay, I want to die" must still fire
        before = re.split(r"[.!?;,]|\bbut\b", text[: m.start()])[-1]
        if _NEGATION_RE.search(before):
            continue
        return m.group(0)
    return None


class SafetyCheck:
    """Screens transcripts and replies; builds the safe reply for the configured region."""

    def __init__(self, settings: SafetySettings | None = None, resources_path: Path = RESOURCES_PATH) -> None:
        self.settings = settings or SafetySettings()
        try:
            data = json.loads(Path(resources_path).read_text(encoding="utf-8"))
            regions = data["regions"]
        except (OSError, ValueError, KeyError) as exc:
            raise SafetyError(f"cannot read the crisis resources {resources_path}: {exc}. "
                              "Restore assets/safety/resources.json from the repository.") from exc
        self._regions = regions
        region = self.settings.region.lower()
        self.region = region if region in regions else "international"

    def check_transcript(self, text: str | None) -> SafetyResult:
        m = find_crisis(text)
        return SafetyResult(m is not None, m, "transcript" if m else None)

    def check_reply(self, text: str | None) -> SafetyResult:
        if text and _REPLY_SAFE_CONTEXT.search(text):
            return SafetyResult(False)
        m = find_crisis(text, _REPLY_RE)
        return SafetyResult(m is not None, m, "reply" if m else None)

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
