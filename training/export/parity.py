"""Parity between the PyTorch CogAudio model and llama.cpp running its export.

`LlamaCppAudio` drives llama.cpp through llama-cpp-python's low-level API and mtmd (the same
calls AudioLLMEngine makes: mtmd_tokenize with the default marker, core.engines.mtmd_eval),
but exposes what the engine does not: the projector's output embeddings and the next-token
logits, so they can be compared number for number with the PyTorch model.

What parity means per form (see docs/export.md): the merged F16 GGUF holds the same weights as
the PyTorch model, so the first greedy tokens must be identical and the next-token logits
cosine >= 0.99. The adapter form runs the LoRA on the shipped Q4_1 base; PyTorch loads that
same Q4_1 GGUF dequantized, so the weights agree too and only llama.cpp's quantized matmuls
differ; it is held to the same logit cosine, and greedy tokens are reported.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


@dataclass
class ParityResult:
    logits_cosine: float
    torch_tokens: list[int]
    llama_tokens: list[int]
    embed_cosine: float | None = None

    @property
    def tokens_equal(self) -> bool:
        return self.torch_tokens == self.llama_tokens

    def as_dict(self) -> dict:
        return {"logits_cosine": round(self.logits_cosine, 5), "tokens_equal": self.tokens_equal,
                "torch_tokens": self.torch_tokens, "llama_tokens": self.llama_tokens,
                "embed_cosine": None if self.embed_cosine is None else round(self.embed_cosine, 5)}


class LlamaCppAudio:
    """One llama.cpp model (+ LoRA) + mtmd projector, for logits-level checks. Close it when done."""

    def __init__(self, llm: Path, mmproj: Path, lora: Path | None = None, lora_scale: float = 1.0,
                 n_ctx: int = 1024, n_threads: int = 2) -> None:
        import llama_cpp
        import llama_cpp.mtmd_cpp as mtmd

        from core.models.manifest import audio_tail_tokens, check_model_files, read_gguf_metadata

        check_model_files(Path(llm), Path(mmproj), Path(lora) if lora else None)  # never let mtmd abort
        meta = read_gguf_metadata(Path(mmproj), "audio projector")
        self.stack_factor = int(meta.get("clip.audio.projector.stack_factor") or 10)
        self.audio_tail_tokens = audio_tail_tokens(meta)
        self._ll, self._mtmd = llama_cpp, mtmd
        llama_cpp.llama_backend_init()
        mp = llama_cpp.llama_model_default_params()
        mp.n_gpu_layers = 0
        self.model = llama_cpp.llama_model_load_from_file(str(llm).encode(), mp)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {llm}")
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.n_embd = llama_cpp.llama_model_n_embd(self.model)
        cp = llama_cpp.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch = n_ctx, n_ctx, n_ctx
        cp.n_threads = cp.n_threads_batch = n_threads
        self.ctx = llama_cpp.llama_init_from_model(self.model, cp)
        self.adapter = None
        if lora:
            self.adapter = llama_cpp.llama_adapter_lora_init(self.model, str(lora).encode())
            if not self.adapter:
                raise RuntimeError(f"llama.cpp could not load the LoRA adapter {lora}")
            adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self.adapter)
            scales = (ctypes.c_float * 1)(lora_scale)
            llama_cpp.llama_set_adapters_lora(self.ctx, adapters, 1, scales)
        mcp = mtmd.mtmd_context_params_default()
        mcp.use_gpu, mcp.n_threads, mcp.print_timings = False, n_threads, False
        self.mctx = mtmd.mtmd_init_from_file(str(mmproj).encode(), self.model, mcp)
        if not self.mctx:
            raise RuntimeError(f"mtmd could not load the projector {mmproj}")
        self.marker = mtmd.mtmd_default_marker().decode()

    def _chunks(self, prompt: str, audio: np.ndarray):
        mtmd = self._mtmd
        pcm = np.ascontiguousarray(audio, dtype=np.float32)
        bitmap = mtmd.mtmd_bitmap_init_from_audio(len(pcm), pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        chunks = mtmd.mtmd_input_chunks_init()
        text = mtmd.mtmd_input_text()
        raw = prompt.encode()
        text.text, text.text_len, text.add_special, text.parse_special = raw, len(raw), False, True
        bitmaps = (mtmd.mtmd_bitmap_p_ctypes * 1)(bitmap)
        rc = mtmd.mtmd_tokenize(self.mctx, chunks, ctypes.byref(text), bitmaps, 1)
        mtmd.mtmd_bitmap_free(bitmap)
        if rc != 0:
            mtmd.mtmd_input_chunks_free(chunks)
            raise RuntimeError(f"mtmd_tokenize failed ({rc}); the prompt needs exactly one {self.marker}")
        return chunks

    def audio_embeddings(self, audio: np.ndarray) -> np.ndarray:
        """(n_tokens, n_embd) projector output for `audio` (all chunks concatenated)."""
        mtmd = self._mtmd
        chunks = self._chunks(self.marker, audio)
        out = []
        try:
            for i in range(mtmd.mtmd_input_chunks_size(chunks)):
                ch = mtmd.mtmd_input_chunks_get(chunks, i)
                if mtmd.mtmd_input_chunk_get_type(ch) == 0:  # text
                    continue
                if mtmd.mtmd_encode_chunk(self.mctx, ch) != 0:
                    raise RuntimeError("mtmd_encode_chunk failed")
                n = mtmd.mtmd_input_chunk_get_n_tokens(ch)
                ptr = mtmd.mtmd_get_output_embd(self.mctx)
                out.append(np.ctypeslib.as_array(ptr, shape=(n * self.n_embd,)).reshape(n, self.n_embd).copy())
        finally:
            mtmd.mtmd_input_chunks_free(chunks)
        return np.concatenate(out)

    def _logits(self) -> np.ndarray:
        ptr = self._ll.llama_get_logits_ith(self.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).copy()

    def greedy(self, prompt: str, audio: np.ndarray, n_tokens: int = 8) -> tuple[np.ndarray, list[int]]:
        """(next-token logits after the prompt, the first `n_tokens` greedy tokens)."""
        ll, mtmd = self._ll, self._mtmd
        mem = ll.llama_get_memory(self.ctx)
        ll.llama_memory_clear(mem, True)
        chunks = self._chunks(prompt, audio)
        from core.engines.mtmd_eval import eval_chunks
        from core.models.audio_tokens import speech_tokens

        keep = None if self.audio_tail_tokens is None else speech_tokens(len(audio), self.stack_factor, self.audio_tail_tokens)
        try:
            eval_chunks(ll, mtmd, self.mctx, self.ctx, chunks, 512, self.n_embd, keep)  # as AudioLLMEngine does
        finally:
            mtmd.mtmd_input_chunks_free(chunks)
        first = self._logits()
        tokens: list[int] = []
        logits = first
        for _ in range(n_tokens):
            tok = int(np.argmax(logits))
            tokens.append(tok)
            if ll.llama_vocab_is_eog(self.vocab, tok):
                break
            arr = (ll.llama_token * 1)(tok)
            if ll.llama_decode(self.ctx, ll.llama_batch_get_one(arr, 1)) != 0:
                raise RuntimeError("llama_decode failed")
            logits = self._logits()
        return first, tokens

    def close(self) -> None:
        if getattr(self, "mctx", None):
            self._mtmd.mtmd_free(self.mctx)
            self.mctx = None
        if getattr(self, "adapter", None):
            self._ll.llama_adapter_lora_free(self.adapter)
            self.adapter = None
        if getattr(self, "ctx", None):
            self._ll.llama_free(self.ctx)
            self.ctx = None
        if getattr(self, "model", None):
            self._ll.llama_model_free(self.model)
            self.model = None


def torch_greedy(model, audio: np.ndarray, explicit: bool, n_tokens: int = 8) -> tuple[np.ndarray, list[int], str]:
    """(next-token logits, first greedy tokens, rendered prompt text) from the PyTorch model."""
    import torch

    from core.models.audio_tokens import speech_tokens
    from training.model.cogaudio import Segmented
    from training.model.mel import AUDIO_MARKER, log_mel_chunks
    from training.model.prompt import audio_prompt, render_chat

    parts = audio_prompt(model.tokenizer, explicit)
    mel = torch.from_numpy(log_mel_chunks(audio, model.cfg.n_mels))
    valid = speech_tokens(len(audio), model.cfg.stack_factor, 0)
    ex = Segmented(parts.before, mel, parts.after, [], valid)
    first = model.next_token_logits(ex).cpu().numpy()
    tokens: list[int] = []
    logits = first
    for _ in range(n_tokens):
        tok = int(np.argmax(logits))
        tokens.append(tok)
        if tok == model.tokenizer.eos_token_id:
            break
        ex = Segmented(parts.before, mel, parts.after + tokens, [], valid)
        logits = model.next_token_logits(ex).cpu().numpy()
    return first, tokens, render_chat(model.tokenizer, AUDIO_MARKER, explicit)


def check_parity(model, runner: LlamaCppAudio, audio: np.ndarray, explicit: bool = False,
                 n_tokens: int = 8) -> ParityResult:
    """Same audio + prompt through PyTorch and llama.cpp: logits cosine and greedy tokens."""
    import torch

    from training.model.mel import log_mel_chunks

    t_logits, t_tokens, prompt = torch_greedy(model, audio, explicit, n_tokens)
    l_logits, l_tokens = runner.greedy(prompt, audio, n_tokens)
    with torch.no_grad():
        t_emb = model.encode_audio(torch.from_numpy(log_mel_chunks(audio, model.cfg.n_mels))).reshape(-1, runner.n_embd)
    emb = cosine(t_emb.float().numpy(), runner.audio_embeddings(audio))
    return ParityResult(cosine(t_logits, l_logits), t_tokens, l_tokens, emb)
