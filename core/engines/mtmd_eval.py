"""Evaluate mtmd input chunks into a llama context, optionally keeping only the audio
embeddings that cover the speech ("trimmed audio").

Why not always `mtmd_helper_eval_chunks`: mtmd pads every audio input to whole 30 s
chunks and the helper decodes all of a chunk's embeddings (150 at stack factor 10), so a
3 s turn costs the LLM 150 positions of which ~135 encode padding. A model trained on the
speech part only (manifest `projector.audio_tail_tokens`, training `audio_tail_tokens`)
needs just the first `speech_tokens(...)` of them: ~17 for that turn, which makes the
prompt evaluation ~6x shorter on a CPU. mtmd has no option for this, so the audio chunk is
encoded with `mtmd_encode_chunk` and its first embeddings are decoded here; text chunks
still go through mtmd's own `mtmd_helper_eval_chunk_single`.

Training and run time use the same count (core.models.audio_tokens.speech_tokens), so the
model sees exactly what it was trained on.
"""

from __future__ import annotations

import ctypes

_TEXT_CHUNK = 0  # MTMD_INPUT_CHUNK_TYPE_TEXT


def eval_chunks(ll, mt, mctx, ctx, chunks, n_batch: int, n_embd: int, keep_audio: int | None, n_past: int = 0,
                first_chunk: int = 0) -> int:
    """Evaluate the chunks from `first_chunk` on (logits for the last position only); returns
    the new n_past. Earlier chunks are taken as already in the context (a cached prefix).

    `keep_audio` None: every audio embedding, as mtmd's own helper does. An int: only the
    first `keep_audio` audio embeddings (across all audio chunks, in order) reach the LLM."""
    left = keep_audio
    n = mt.mtmd_input_chunks_size(chunks)
    for i in range(first_chunk, n):
        chunk = mt.mtmd_input_chunks_get(chunks, i)
        last = i == n - 1
        if mt.mtmd_input_chunk_get_type(chunk) == _TEXT_CHUNK or keep_audio is None:
            new_n_past = ll.llama_pos(n_past)  # the helper adds to it (as mtmd_helper_eval_chunks seeds it)
            rc = mt.mtmd_helper_eval_chunk_single(mctx, ctx, chunk, n_past, 0, n_batch, last, ctypes.byref(new_n_past))
            if rc != 0:
                raise RuntimeError(f"mtmd_helper_eval_chunk_single failed with code {rc}")
            n_past = int(new_n_past.value)
            continue
        if left <= 0:
            continue
        if mt.mtmd_encode_chunk(mctx, chunk) != 0:
            raise RuntimeError("mtmd_encode_chunk failed on the audio")
        k = min(left, int(mt.mtmd_input_chunk_get_n_tokens(chunk)))
        left -= k
        n_past = decode_embeddings(ll, ctx, mt.mtmd_get_output_embd(mctx), k, n_embd, n_past, n_batch, last)
    return n_past


def chunk_text_tokens(mt, chunk) -> list[int] | None:
    """The token ids of a text chunk (None for an audio chunk)."""
    if mt.mtmd_input_chunk_get_type(chunk) != _TEXT_CHUNK:
        return None
    n = ctypes.c_size_t(0)
    ptr = mt.mtmd_input_chunk_get_tokens_text(chunk, ctypes.byref(n))
    return [int(ptr[i]) for i in range(n.value)]


def decode_embeddings(ll, ctx, embd, count: int, n_embd: int, n_past: int, n_batch: int, logits_last: bool) -> int:
    """Decode the first `count` rows of the float embedding array `embd` at positions n_past..."""
    batch = ll.llama_batch_init(n_batch, n_embd, 1)
    try:
        base = ctypes.cast(embd, ctypes.c_void_p).value
        row = n_embd * ctypes.sizeof(ctypes.c_float)
        dst = ctypes.cast(batch.embd, ctypes.c_void_p).value
        for start in range(0, count, n_batch):
            m = min(n_batch, count - start)
            ctypes.memmove(dst, base + start * row, m * row)
            for j in range(m):
                batch.pos[j] = n_past + start + j
                batch.n_seq_id[j] = 1
                batch.seq_id[j][0] = 0
                batch.logits[j] = 1 if (logits_last and start + j == count - 1) else 0
            batch.n_tokens = m
            rc = ll.llama_decode(ctx, batch)
            if rc != 0:
                raise RuntimeError(f"llama_decode failed on the audio embeddings (code {rc})")
        return n_past + count
    finally:
        ll.llama_batch_free(batch)
