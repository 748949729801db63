"""Streaming sentence splitter: reply text arrives in small deltas, sentences leave as soon as known.

TTS speaks whole sentences (Piper's prosody needs a sentence of context), so the first
sentence is cut out of the stream the moment its end is certain and the rest keeps
generating meanwhile. No library does this incrementally (nltk/pysbd split finished text),
so it is a small hand-written scanner: a sentence ends at . ! ? … (plus closing quotes or
brackets) followed by whitespace, except after common abbreviations, initials and inside
numbers such as 3.5. A newline also ends a sentence, and a run-on longer than `max_chars`
is cut at its last comma or space so that speech never waits on an endless sentence.
"""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st vs etc e.g i.e a.m p.m approx dept est fig inc ltd vol".split()
)
_TERMINATORS = ".!?…"
_CLOSERS = "\"')]}”’»"
_WORD_BEFORE = re.compile(r"([\w.]+)$")


class SentenceSplitter:
    """Feed deltas with `feed()`, get finished sentences; `flush()` returns the remainder."""

    def __init__(self, max_chars: int = 220, min_chars: int = 2, first_clause_chars: int = 0) -> None:
        self.max_chars = max_chars
        self.min_chars = min_chars
        # > 0: the very first piece may end at a clause (", " "; " ": ") once it is this long,
        # so the voice starts sooner; later pieces are whole sentences for natural prosody
        self.first_clause_chars = first_clause_chars
        self._buf = ""
        self._emitted = 0

    def feed(self, delta: str) -> list[str]:
        self._buf += delta
        out: list[str] = []
        while True:
            cut = self._find_end(self._buf)
            if cut is None:
                break
            sentence, self._buf = self._buf[:cut].strip(), self._buf[cut:]
            if len(sentence) >= self.min_chars and _has_word(sentence):
                out.append(sentence)
        if not out and self._emitted == 0 and self.first_clause_chars:
            out.extend(self._first_clause())
        if len(self._buf) > self.max_chars:
            out.extend(self._cut_run_on())
        self._emitted += len(out)
        return out

    def _first_clause(self) -> list[str]:
        head = self._buf.lstrip()
        if len(head) < self.first_clause_chars:
            return []
        cut = max(head.rfind(", "), head.rfind("; "), head.rfind(": "))
        if cut + 1 < self.first_clause_chars // 2:
            return []  # a clause this short would sound clipped
        self._buf = head[cut + 2:]
        return [head[: cut + 1]]

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        out = [rest] if rest and _has_word(rest) else []
        self._emitted += len(out)
        return out

    def reset(self) -> None:
        self._buf = ""
        self._emitted = 0

    @property
    def pending(self) -> str:
        return self._buf

    def _find_end(self, text: str) -> int | None:
        """Index just past the first certain sentence end in `text`, or None."""
        for i, ch in enumerate(text):
            if ch == "\n":
                return i + 1  # a blank line gives an empty piece, which feed() drops
            if ch not in _TERMINATORS:
                continue
            j = i + 1
            while j < len(text) and (text[j] in _TERMINATORS or text[j] in _CLOSERS):
                j += 1
            if j >= len(text):
                return None  # the next character decides (a space ends it, a digit does not)
            if not text[j].isspace():
                continue  # 3.5, e.g., example.com
            if ch == "." and j == i + 1 and self._is_abbreviation(text[:i]):
                continue
            return j
        return None

    @staticmethod
    def _is_abbreviation(before: str) -> bool:
        m = _WORD_BEFORE.search(before)
        if not m:
            return False
        word = m.group(1).lower()
        # single capital initials ("J. Smith") and known short forms do not end a sentence
        return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and before[-1].isupper())

    def _cut_run_on(self) -> list[str]:
        head = self._buf[: self.max_chars]
        cut = max(head.rfind(", "), head.rfind("; "), head.rfind(": "))
        if cut < self.max_chars // 3:
            cut = head.rfind(" ")
        if cut <= 0:
            cut = self.max_chars
        piece, self._buf = self._buf[: cut + 1].strip(), self._buf[cut + 1:]
        return [piece] if piece else []


def _has_word(text: str) -> bool:
    return any(c.isalnum() for c in text)


def split_sentences(text: str) -> list[str]:
    """All sentences of a finished text (same rules as the streaming splitter)."""
    s = SentenceSplitter()
    return s.feed(text) + s.flush()
