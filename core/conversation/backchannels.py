"""What a short sound over the reply was: a backchannel ("mm-hm", "uh-huh", "yeah") that lets the
reply go on, or an interruption that cuts it. Used by core.conversation.turn_taking.

The words come from the recogniser, which is the weak point: tiny.en reads a hummed "mm-hm"
as a short sentence ("And make him...", "And then I can.") about one time in five on the
bench voices (bench/barge_in.py), because nothing tells it that a hum is a possible answer.
Whisper spells what it hears in the style of its "previous text" (OpenAI's prompting guide:
a prompt with filler words keeps them), so a burst whose first reading is neither a
backchannel nor an interruption is read a second time with BACKCHANNEL_PROMPT as that text:
a hum then comes out as "Mm-hmm.", real words stay words ("Wait.", "Hold on a second.").
One or two words without an interruption cue were let be on the first reading alone (tiny.en
spells hums as "MMA Chen", "Damn."); they are read again too, and cut when the primed reading
names an interruption or is longer ("Tanyong" -> "Hang on."). A first reading that names an
interruption ("wait", "stop", "no"...) is never read again: priming cannot turn words into a hum.
The prompted reading is only ever used for this decision, never as the turn's transcript
(with a prompt, tiny.en sometimes repeats a phrase: "Hold on a second. Hold on a second...").
"""

from __future__ import annotations

import re

# Common spellings of listener sounds, as Whisper's previous text (see the module doc).
BACKCHANNEL_PROMPT = "Mm-hmm. Uh-huh. Hmm. Mhm."
INTERRUPT_CUES = frozenset(
    "wait stop no nope hold hang sorry excuse but actually listen hey what why how please pause enough shut".split())
BACKCHANNEL = re.compile(r"m+|h+m+|m+h+m+|u+h+|h+u+h+|uhhuh|a+h+|o+h+|yeah|yep|yes|okay|ok|right|sure|see|i|got|it")
HUM = re.compile(r"m+|h+m+|m+h+m+|u+h+u+h+|h+u+h+|uhhuh")  # sounds no word is spelled like
SHORT_WORDS = 4  # a primed reading longer than this is speech, whatever hums it has


def _words(text: str) -> list[str]:
    return re.sub(r"[^a-z' ]+", " ", re.sub(r"[-.]", "", text.lower())).split()  # "M.H.M.", "mm-hmm"


def sounds_like_backchannel(text: str) -> bool:
    """Words that keep the listener listening ("mm-hm", "uh-huh", "yeah", "okay"), or none at all;
    a hum spelled in letters ("M&H M")."""
    return all(BACKCHANNEL.fullmatch(w) for w in _words(text)) or bool(
        BACKCHANNEL.fullmatch(re.sub(r"[^a-z]", "", text.lower())))


def is_backchannel(text: str) -> bool:
    """A backchannel's words, or one or two words without an interruption cue: the recogniser
    (tiny.en) hears a hummed "mm-hm" as "MMA Chen" or "Damn." often enough that short words
    must name the interruption."""
    return sounds_like_backchannel(text) or (len(_words(text)) <= 2 and not names_interruption(text))


def names_interruption(text: str) -> bool:
    """A word that people use to take the floor ("wait", "stop", "no", "sorry", "but")."""
    return any(w.strip("'") in INTERRUPT_CUES for w in _words(text))


def hums(text: str) -> bool:
    """A short reading that ends in a hum, with no interruption cue ("And the Mm-hmm.": tiny.en
    hears the start of a hum as "and the" even when primed for it). A hum followed by words
    ("Mm, not really.") is speech: the sound went on after the hum."""
    words = _words(text)
    return 0 < len(words) <= SHORT_WORDS and bool(HUM.fullmatch(words[-1])) and not names_interruption(text)


def needs_second_reading(first: str) -> bool:
    """Words that neither sound like a backchannel nor name an interruption are worth a second
    look: a sentence heard in a hum, and one or two words that might be either ("Tanyong" is a
    misheard "Hang on.", "Damn." a misheard "Hmm.")."""
    return not sounds_like_backchannel(first) and not names_interruption(first)


def verdict(first: str, second: str | None) -> tuple[bool, str]:
    """(let the reply go on?, why) from the first reading of a burst and, when it was needed,
    the second one primed for backchannels (None: there is none; the first reading decides)."""
    if sounds_like_backchannel(first):
        return True, f"a backchannel ({first.strip() or 'no words'})"
    if second is None or names_interruption(first):
        if is_backchannel(first):
            return True, f"a backchannel ({first.strip()}: short, no interruption cue)"
        return False, f"a short interruption: {first.strip()!r}"
    if is_backchannel(second) or hums(second):
        return True, f"a backchannel ({first.strip()!r}, read again as {second.strip() or 'no words'!r})"
    return False, f"a short interruption: {first.strip()!r} (read again as {second.strip()!r})"
