"""What counts as a backchannel over a reply, from the recogniser's first and second (primed)
readings (core.conversation.backchannels); the stage that uses it: test_turn_taking.py."""

import pytest

from core.conversation.backchannels import is_backchannel, verdict


@pytest.mark.parametrize("first, second, go_on", [
    ("And make him...", "Mm-hmm.", True), ("and I can", "Mm-hmm. Mm-hmm.", True),
    ("And make him...", None, False),  # no second reading (no recogniser): the words stand
    ("And then I can.", "And then I can.", False), ("Wait.", "Mm-hmm.", False),
    ("Hold on a second.", "Mm-hmm.", False), ("Mm-hmm.", None, True), ("M&H M", None, True),
    ("and the Meacham.", "And the Mm-hmm.", True),  # a hum in a short primed reading
    ("And then I can.", "And then I can, mm, say it.", False),  # five words: speech, not a hum
    ("Hold it.", "Hold it, mm.", False),
    ("Mm, not really.", "Mm, not really.", False),  # a hum, then words: speech
    ("Tanyong", "Hang on.", False), ("Damn.", "Damn.", True), ("Damn.", None, True)])  # short words: read again
def test_the_verdict_from_both_readings(first, second, go_on):
    assert verdict(first, second)[0] is go_on


@pytest.mark.parametrize("text, expected", [
    ("Mm-hmm.", True), ("Uh-huh.", True), ("Yeah.", True), ("Okay.", True), ("", True), ("I see.", True),
    ("MMA Chen", True), ("Damn.", True), ("M.H.M.", True),  # what tiny.en makes of hums
    ("Wait.", False), ("Stop, please.", False), ("No, that's not it.", False), ("Hold on.", False),
    ("Sorry, can I say something?", False), ("And make him do it", False)])
def test_what_counts_as_a_backchannel(text, expected):
    assert is_backchannel(text) is expected
