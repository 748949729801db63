"""Small llama.cpp helpers over the low-level bindings: the sampler chain and token pieces.

The audio engine drives llama.cpp directly (mtmd needs the low-level API); these are the
parts of that driving that hold no engine state.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable


def sampler_chain(ll, vocab, temperature: float):
    """Repetition penalty (tiny models loop), then greedy at temperature 0, else top-k/top-p."""
    chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
    n_vocab = ll.llama_vocab_n_tokens(vocab)
    ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_penalties(n_vocab, 64, 1.1, 0.0, 0.0))
    if temperature <= 0.0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
    else:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(40))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(0.95, 1))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(temperature))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(0xC06A))
    return chain


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
