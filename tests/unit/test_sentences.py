"""The streaming sentence splitter."""

from __future__ import annotations

from core.conversation.sentences import SentenceSplitter, split_sentences


def test_sentence_leaves_as_soon_as_its_end_is_certain():
    s = SentenceSplitter()
    assert s.feed("I hear you") == []
    assert s.feed(".") == []  # could still be "3.5" or "..."
    assert s.feed(" That") == ["I hear you."]
    assert s.feed(" sounds hard.") == []
    assert s.flush() == ["That sounds hard."]


def test_abbreviations_numbers_and_initials_do_not_split():
    assert split_sentences("Dr. Smith paid 3.50 dollars, e.g. for J. Doe. Okay?! Yes.") == [
        "Dr. Smith paid 3.50 dollars, e.g. for J. Doe.", "Okay?!", "Yes."]


def test_quotes_and_newlines():
    assert split_sentences('She said "no." Then left\nNew line here') == ['She said "no."', "Then left", "New line here"]


def test_token_by_token_stream_equals_whole_text():
    text = "Oh no. I'm so sorry to hear that! Would you like to talk about it? I'm here."
    s = SentenceSplitter()
    out = []
    for ch in text:
        out += s.feed(ch)
    assert out + s.flush() == split_sentences(text) == [
        "Oh no.", "I'm so sorry to hear that!", "Would you like to talk about it?", "I'm here."]


def test_run_on_text_is_cut_at_a_comma():
    s = SentenceSplitter(max_chars=60)
    out = s.feed("well I was thinking that maybe, if you have the time and the energy today, we could")
    assert out and out[0].endswith(",") and len(out[0]) <= 60


def test_punctuation_only_pieces_are_dropped():
    assert split_sentences("... !! Hello.") == ["Hello."]


def test_first_piece_may_end_at_a_clause_to_start_speaking_sooner():
    s = SentenceSplitter(first_clause_chars=30)
    out = []
    for word in "I'm so sorry to hear about your friend, that sounds really hard. Do you, by any chance, want to talk?".split(" "):
        out += s.feed(word + " ")
    out += s.flush()
    assert out == ["I'm so sorry to hear about your friend,", "that sounds really hard.",
                   "Do you, by any chance, want to talk?"]  # only the first piece is a clause
    short = SentenceSplitter(first_clause_chars=30)
    assert short.feed("Oh, I see what you mean now, yes ") == ["Oh, I see what you mean now,"]
    assert SentenceSplitter(first_clause_chars=30).feed("Oh, well, hm, ") == []  # too short to say alone
