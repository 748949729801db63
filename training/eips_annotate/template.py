"""The deterministic template annotator: EIPS steps and a response from tables, no model.

For bootstrapping and tests only. Every row it writes is marked `annotator = "template-v1"`,
so nothing downstream can mistake its sentences for a teacher model's (or the trained
model's) own words. Variants are picked by a hash of the text, so output is stable.
"""

from __future__ import annotations

import hashlib

from core.emotion.eips import EIPS
from core.emotion.labels import PROSODY

NAME = "template-v1"

_INTENT = {
    "neutral": "To share something plainly and be heard.",
    "happy": "To share good news and have the joy noticed.",
    "sad": "To vent a heavy feeling and feel less alone with it.",
    "angry": "To vent frustration and have the grievance taken seriously.",
    "fearful": "To be reassured about something that feels threatening.",
    "surprised": "To make sense of something unexpected.",
    "disgusted": "To express strong disapproval of something unpleasant.",
}
_PSYCH = {
    "neutral": "A calm, settled state; the need is simple attention and a clear answer.",
    "happy": "Positive arousal; the need is connection and shared celebration.",
    "sad": "Low energy and a sense of loss; the need is comfort and validation.",
    "angry": "High arousal from a perceived injustice; the need is respect and being understood.",
    "fearful": "Anxiety about what may come; the need is safety and a sense of control.",
    "surprised": "Heightened attention after an expectation was broken; the need is orientation.",
    "disgusted": "Aversion to something that violates their values; the need is to have the boundary respected.",
}
_STRATEGY = {
    "neutral": "Answer clearly and warmly, and invite them to say more.",
    "happy": "Mirror the joy, celebrate with them, ask what it means to them.",
    "sad": "Validate the feeling gently, slow down, offer presence and a soft open question.",
    "angry": "Stay calm, acknowledge the frustration without judging, ask what would help.",
    "fearful": "Reassure in a steady voice, name the worry, suggest one small grounding step.",
    "surprised": "Share the surprise lightly and help them make sense of it.",
    "disgusted": "Acknowledge the reaction, respect the boundary, ask what bothered them most.",
}
RESPONSES = {
    "neutral": ("Thanks for telling me. What would you like to do next?",
                "I hear you. Tell me a little more about it."),
    "happy": ("That sounds wonderful! I can hear how pleased you are.",
              "What lovely news. Tell me more, I'm happy for you."),
    "sad": ("That sounds really heavy. I'm here with you.",
            "I'm sorry it feels this hard. Do you want to talk about it?"),
    "angry": ("I can hear how frustrating this is. What happened?",
              "That would upset anyone. What would help right now?"),
    "fearful": ("That sounds worrying. Let's take a slow breath together.",
                "You're not alone with this. What feels most uncertain?"),
    "surprised": ("Oh, that's unexpected! How are you taking it?",
                  "Wow, I didn't see that coming either. What happened?"),
    "disgusted": ("That sounds really unpleasant. What bothered you most?",
                  "I understand why that put you off. Do you want to talk it through?"),
}


def cue_words(emotion: str, intensity: str) -> str:
    """Plain words for the docs/emotions.md prosody profile of (emotion, intensity)."""
    p = PROSODY[emotion].at(intensity)
    parts = []
    if abs(p.f0_semitones) >= 0.5:
        parts.append("higher pitch" if p.f0_semitones > 0 else "lower pitch")
    if abs(p.f0_range - 1) >= 0.1:
        parts.append("a livelier melody" if p.f0_range > 1 else "a flatter melody")
    if abs(p.rate - 1) >= 0.04:
        parts.append("a faster pace" if p.rate > 1 else "a slower pace")
    if abs(p.loudness_db) >= 1:
        parts.append("a louder voice" if p.loudness_db > 0 else "a quieter voice")
    quality = {"breathy": "a breathy tone", "tense": "a tense, pressed tone", "tremolo": "a trembling voice",
               "final_rise": "a rising end", "creak": "a creaky voice"}.get(p.quality)
    if quality:
        parts.append(quality)
    return ", ".join(parts) if parts else "an even pitch, pace and loudness"


def _pick(options: tuple[str, ...], key: str) -> str:
    return options[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(options)]


def annotate(text: str, emotion: str, intensity: str, text_emotion: str | None = None) -> tuple[EIPS, str]:
    """(EIPS, response) for one row; conflict rows say that the words point elsewhere."""
    if text_emotion and text_emotion not in (emotion, "neutral"):
        words = f"the words sound {text_emotion}, but the voice is what counts"
    else:
        words = "the words themselves are neutral"
    eips = EIPS(
        emotion=f"{emotion}, {intensity}. The voice has {cue_words(emotion, intensity)}; {words}.",
        intent=_INTENT[emotion], psychology=_PSYCH[emotion], strategy=_STRATEGY[emotion],
    )
    return eips, _pick(RESPONSES[emotion], text)
