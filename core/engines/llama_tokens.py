"""Small llama.cpp helpers over the low-level bindings: token pieces and the label distribution.

The audio engine drives llama.cpp directly (mtmd needs the low-level API); these are the
parts of that driving that hold no engine state (the sampler chain: core.engines.decoding).
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable


def piece_bytes(ll, vocab, token: int, special: bool = False) -> bytes:
    """The bytes of one token (a piece may end inside a UTF-8 character)."""
    buf = ctypes.create_string_buffer(64)
    n = ll.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    if n < 0:
        buf = ctypes.create_string_buffer(-n)
        n = ll.llama_token_to_piece(vocab, token, buf, len(buf), 0, special)
    return buf.raw[: max(n, 0)]


def first_tokens(tokenize: Callable[[str], list[int]], label: str) -> set[int]:
    """First token of the label as written after "Emotion:" (with and without a space)."""
    return {toks[0] for variant in (f" {label}", label, f" {label.capitalize()}") if (toks := tokenize(variant))}


def label_distribution(logits, label_tokens: dict[str, set[int]]) -> dict[str, float]:
    """Softmax over the labels' first-token logits (`logits`: the row at the label position)."""
    scores = {label: max(logits[t] for t in toks) for label, toks in label_tokens.items() if toks}
    top = max(scores.values())
    exp = {label: math.exp(s - top) for label, s in scores.items()}
    total = sum(exp.values())
    return {label: v / total for label, v in exp.items()}
