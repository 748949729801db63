"""`AudioLLMEngine`: a GGUF language model that hears the audio through an mmproj projector.

llama-cpp-python's chat handlers refuse audio-only projectors, so this engine drives llama.cpp
through the low-level bindings. The audio reaches the LLM one of two ways:

* the mmproj reads the transcript's encoder frames (`cogaudio.audio_input`, core.ear.projector):
  the projector runs here on the recogniser's own short-window pass and the embeddings are
  decoded between the prompt's text (`_eval_prompt_frames`), with no second encoder run;
* otherwise mtmd: mtmd_bitmap_init_from_audio -> mtmd_tokenize -> encoder + projector over a
  padded 30 s window -> prefill (core.engines.mtmd_eval).

Then a sampling loop -> text pieces -> core.engines.turn_stream events. A LoRA adapter GGUF is
applied on top when given. The prompt is the one training uses (training/model/prompt.py).
Every file is validated by core.models.manifest BEFORE llama.cpp sees it (some bad projectors
abort the process inside clip.cpp). Native handles have one owner, freed in reverse order.

Perceived emotion: with the calibrated ear (core.ear, attached by the factory) its label goes
into the Emotion line and its probability is the confidence. Without it, the logits at the
label position give the seven labels' first-token probabilities, renormalised (0.6 when the
label position could not be observed, e.g. a model that skips the format).
"""

from __future__ import annotations

import codecs
import ctypes
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import ExitStack, suppress
from pathlib import Path

import numpy as np

from core.ear.listener import EarListener
from core.ear.projector import FrameProjector
from core.emotion.eips import emotion_tag, system_prompt
from core.emotion.labels import EMOTIONS
from core.engines.base import SAMPLE_RATE, HistoryTurn, fit_history
from core.engines.decoding import sampler_chain
from core.engines.events import Error, Event, Perceived
from core.engines.generation import CONTINUE_TOKENS, generate_reply
from core.engines.llama_tokens import first_tokens, label_distribution, piece_bytes
from core.engines.llm_runtime import ThreadSprint, batch_threads, default_threads, gpu_layers
from core.engines.mtmd_eval import chunk_text_tokens, decode_embeddings, eval_chunks
from core.engines.native_handles import NativeHandles, quiet_native_logs
from core.engines.options import EngineOptions
from core.engines.side_listener import SideListener
from core.engines.turn_stream import LEAD, NUDGE, RESPONSE_HEAD, TurnStream, ms_since
from core.models.audio_tokens import n_audio_tokens, speech_tokens, tokens_per_chunk
from core.models.manifest import ModelAssetError, check_adapter, check_llm, check_projector
from core.models.manifest import audio_tail_tokens as audio_tail_tokens_of
from core.speech.asr import SpeechRecognizer

FALLBACK_LABEL_CONFIDENCE = 0.6


class AudioLLMEngine:
    """GGUF LLM + audio projector (+ LoRA) through mtmd. Loads once; `respond()` streams events."""

    name = "audio-llm"

    def __init__(
        self,
        options: EngineOptions,
        llm_path: Path,
        mmproj_path: Path,
        lora_path: Path | None = None,
        lora_scale: float = 1.0,
        asr: SpeechRecognizer | None = None,
        audio_tail_tokens: int | None = None,
    ) -> None:
        import llama_cpp
        from llama_cpp import mtmd_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._ll, self._mtmd = llama_cpp, mtmd_cpp
        self.options = options
        eng = options.engine
        self.explicit = options.explicit_reasoning
        self.llm_path, self.mmproj_path = Path(llm_path), Path(mmproj_path)
        self.lora_path = Path(lora_path) if lora_path else None
        # Metadata checks first: width, projector type, stack factor, adapter architecture.
        arch, n_embd = check_llm(self.llm_path)
        projector = check_projector(self.mmproj_path, n_embd)
        if self.lora_path is not None:
            check_adapter(self.lora_path, arch)
        stack = int(projector.get("clip.audio.projector.stack_factor") or 1)
        self._tokens_per_chunk = tokens_per_chunk(stack)
        self._stack, self._n_embd = stack, n_embd
        # None: every embedding of mtmd's padded 30 s chunk; an int: the model was trained on the
        # speech part only, so the LLM gets the embeddings covering the speech plus this many
        self.audio_tail_tokens = audio_tail_tokens if audio_tail_tokens is not None else audio_tail_tokens_of(projector)
        self.model = " + ".join(p.name for p in (self.llm_path, self.mmproj_path, self.lora_path) if p)
        self.notice: str | None = None
        self.asr = asr  # optional: the transcript is for the record and the safety check, not for perceiving
        self.ear: EarListener | None = None  # the calibrated ear (core.ear), given by the factory
        # a projector trained on the transcript's encoder frames runs here on that one pass, not
        # in mtmd over a padded 30 s window (core.ear.projector)
        frames = FrameProjector.from_mmproj(self.mmproj_path)
        self._frames = frames if frames is not None and asr is not None and frames.encoder == asr.encoder_name else None
        self.last_prompt_positions = 0
        self.last_prefix_evaluated = 0  # tokens of the shared first chunk evaluated last turn (KV reuse)
        self._prefix: list[int] = []  # tokens of the first text chunk now held in the context
        self._lock = threading.Lock()  # one turn at a time: the context is not re-entrant
        self._h = NativeHandles()
        llama_cpp.llama_backend_init()
        quiet_native_logs(mtmd_cpp)
        n_gpu = gpu_layers(eng)
        threads = default_threads(eng)

        mparams = llama_cpp.llama_model_default_params()
        mparams.n_gpu_layers = n_gpu
        self._model = self._h.add(
            "language model", llama_cpp.llama_model_load_from_file(str(self.llm_path).encode(), mparams),
            llama_cpp.llama_model_free,
        )
        try:
            if self.lora_path is not None:
                adapter = self._h.add(
                    "LoRA adapter", llama_cpp.llama_adapter_lora_init(self._model, str(self.lora_path).encode()),
                    llama_cpp.llama_adapter_lora_free,
                )
            cparams = llama_cpp.llama_context_default_params()
            cparams.n_ctx = eng.n_ctx
            cparams.n_batch = 512
            cparams.n_threads, cparams.n_threads_batch = threads, batch_threads(eng)
            self._ctx = self._h.add("llama context", llama_cpp.llama_init_from_model(self._model, cparams), llama_cpp.llama_free)
            if self.lora_path is not None:
                adapters = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
                scales = (ctypes.c_float * 1)(lora_scale)
                if llama_cpp.llama_set_adapters_lora(self._ctx, adapters, 1, scales) != 0:
                    raise ModelAssetError(f"llama.cpp could not apply the LoRA adapter {self.lora_path}")
            mp = mtmd_cpp.mtmd_context_params_default()
            mp.use_gpu = n_gpu != 0
            mp.n_threads = threads
            mp.print_timings = False
            mp.warmup = False  # a warm-up pass costs a full 30 s chunk of encoding at load time
            self._mctx = self._h.add(
                "audio projector context", mtmd_cpp.mtmd_init_from_file(str(self.mmproj_path).encode(), self._model, mp),
                mtmd_cpp.mtmd_free,
            )
            if not mtmd_cpp.mtmd_support_audio(self._mctx):
                raise ModelAssetError(f"{self.mmproj_path} has no audio encoder; use an audio mmproj GGUF")
            self._sprint = ThreadSprint(lambda n, nb: llama_cpp.llama_set_n_threads(self._ctx, n, nb), eng)
            self._vocab = llama_cpp.llama_model_get_vocab(self._model)
            self._n_ctx = llama_cpp.llama_n_ctx(self._ctx)
            self._n_batch = llama_cpp.llama_n_batch(self._ctx)
            self.marker = mtmd_cpp.mtmd_default_marker().decode()
            template = llama_cpp.llama_model_chat_template(self._model, None)
            if not template:
                raise ModelAssetError(f"{self.llm_path} has no chat template; use an instruct/chat GGUF")
            eos = self._piece(llama_cpp.llama_vocab_eos(self._vocab))
            self._format = Jinja2ChatFormatter(template.decode(), eos_token=eos, bos_token="", add_generation_prompt=True)
            self._label_tokens = {label: first_tokens(self._tokenize, label) for label in EMOTIONS}
        except Exception:
            self.close()
            raise

    # ----- public interface -------------------------------------------------------------

    def respond(
        self,
        audio: np.ndarray | None,
        history: list[HistoryTurn],
        text: str | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Event]:
        cancel = cancel or threading.Event()
        try:
            with self._lock, ExitStack() as owned:  # what the turn starts ends with it (SideListener)
                yield from self._respond(audio, history, text, cancel, owned)
        except Exception as exc:
            yield Error(f"the audio model failed: {type(exc).__name__}: {exc}", stage="engine")

    def prefetch(self, audio: np.ndarray) -> Future | None:
        """The user may have finished: start the side transcript (core.speech.asr_prefetch); the ear pools its pass."""
        future = self.asr.prefetch(audio) if self.asr is not None else None
        if self.ear is not None:
            self.ear.warm_after(self.asr, audio, future)  # nothing without a prefetch
        return future

    def close(self) -> None:
        if self.asr is not None:
            self.asr.close()
        self._h.close()

    def __del__(self) -> None:  # safety net; callers should close() explicitly
        with suppress(Exception):
            self._h.close()

    # ----- one turn ---------------------------------------------------------------------

    def _respond(self, audio, history, text, cancel: threading.Event, owned: ExitStack) -> Iterator[Event]:
        ll = self._ll
        t0 = time.perf_counter()
        timings: dict[str, float] = {}
        pcm = None if audio is None else np.ascontiguousarray(np.asarray(audio, dtype=np.float32).reshape(-1))
        if pcm is not None and pcm.size < SAMPLE_RATE // 10:
            pcm = None  # under 100 ms: nothing to hear
        if pcm is None and not (text and text.strip()):
            yield Error("no audio and no text to answer; speak for longer or type a message", stage="engine")
            return
        # mtmd pads audio to whole 30 s chunks, each giving a fixed number of embeddings
        audio_tokens = 0 if pcm is None else n_audio_tokens(pcm.size, self._stack)
        prompt = self._prompt(history, audio_tokens, text) + LEAD
        # the ear first: its encoder pass is the one the transcript then reuses (core.speech.encoder_pass)
        hearing = self.ear.hear_turn(self.asr, pcm, timings) if pcm is not None and self.ear is not None else None
        side = owned.enter_context(SideListener(self.asr, pcm, timings)) if pcm is not None and self.asr is not None else None
        if pcm is not None and self._frames is not None:
            n_past = self._eval_prompt_frames(prompt, self._frames(self.asr.encode(pcm).speech))
        else:
            n_past = self._eval_prompt(prompt, pcm)
        timings["audio_prefill_ms"] = ms_since(t0)
        label_probs: dict[str, float] = dict(hearing.probabilities) if hearing is not None else {}

        def perceive(label: str | None, intensity: str | None) -> Perceived:
            transcript, cues = side.result() if side is not None else (text, {})
            if label is None:
                return Perceived("neutral", "medium", 0.0, transcript or None, cues)
            conf = label_probs.get(label, FALLBACK_LABEL_CONFIDENCE) if label_probs else FALLBACK_LABEL_CONFIDENCE
            intensity = "medium" if label == "neutral" else intensity or "medium"
            return Perceived(label, intensity, round(conf, 3), transcript or None, cues)

        stream = TurnStream(perceive, t0, timings)
        yield from stream.feed(LEAD)  # evaluated with the prompt: the model starts inside the format
        sampler = self._sampler()
        pos = [n_past]  # positions held in the context, advanced by both callables below

        tag_due = [hearing is not None]

        def pieces(budget: int) -> Iterator[str]:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            if tag_due[0]:
                # the calibrated ear has heard the emotion: the Emotion line says what it heard
                # (decoded in one batch, like "Response:"), and the model goes on from there
                tag_due[0] = False
                forced = f" {emotion_tag(hearing.label, hearing.intensity)}"
                if not self.explicit:
                    forced += "\n" + RESPONSE_HEAD
                tokens = self._tokenize(forced)
                for t in tokens:
                    ll.llama_sampler_accept(sampler, t)
                pos[0] = self._decode(tokens, pos[0])
                yield forced
            for _ in range(budget):
                if cancel.is_set() or pos[0] >= self._n_ctx - 1:
                    return
                if not label_probs and stream.text.rstrip().lower().endswith("emotion:"):
                    label_probs.update(label_distribution(ll.llama_get_logits_ith(self._ctx, -1), self._label_tokens))
                token = ll.llama_sampler_sample(sampler, self._ctx, -1)
                if ll.llama_vocab_is_eog(self._vocab, token):
                    return
                timings.setdefault("first_token_ms", ms_since(t0))
                piece = decoder.decode(self._piece_bytes(token))
                pos[0] = self._decode([token], pos[0])
                yield piece
                if not self.explicit and stream.awaits_response_head():
                    # direct replies always go on with "Response:" (the trained format): decode
                    # it in one batch instead of sampling it token by token
                    forced = self._tokenize(RESPONSE_HEAD)
                    for t in forced:
                        ll.llama_sampler_accept(sampler, t)
                    pos[0] = self._decode(forced, pos[0])
                    yield RESPONSE_HEAD

        def nudge() -> bool:
            if pos[0] >= self._n_ctx - 16:
                return False
            pos[0] = self._decode(self._tokenize(NUDGE), pos[0])
            return True

        try:
            yield from generate_reply(stream, pieces, self._sprint, cancel, self.options.engine.max_tokens, t0, nudge)
        finally:
            ll.llama_sampler_free(sampler)
        timings["llm_ms"] = ms_since(t0) - timings["audio_prefill_ms"]
        yield from stream.finish(interrupted=cancel.is_set())

    def _prompt(self, history: list[HistoryTurn], audio_tokens: int, text: str | None) -> str:
        """The training prompt (system + user marker) with earlier turns as text, fitted to n_ctx."""
        user = self.marker if audio_tokens else ""
        if text and text.strip():
            user = f"{user}\n{text.strip()}" if user else text.strip()
        system = {"role": "system", "content": system_prompt(explicit=self.explicit)}
        budget = self._n_ctx - self.options.engine.max_tokens - CONTINUE_TOKENS - audio_tokens

        def render(turns: list[HistoryTurn]) -> str:
            past = [m for t in turns for m in ({"role": "user", "content": t.user}, {"role": "assistant", "content": t.assistant})]
            return self._format(messages=[system, *past, {"role": "user", "content": user}]).prompt

        return fit_history(history, render, lambda prompt: len(self._tokenize(prompt)) <= budget)

    def _eval_prompt(self, prompt: str, pcm: np.ndarray | None) -> int:
        """Tokenize the prompt around the audio and evaluate it all; returns the new n_past."""
        mt, ll = self._mtmd, self._ll
        turn = NativeHandles()  # per-turn handles, freed whatever happens
        try:
            bitmaps = (mt.mtmd_bitmap_p_ctypes * 1)()
            n_bitmaps = 0
            if pcm is not None:
                data = pcm.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
                bitmaps[0] = turn.add("audio bitmap", mt.mtmd_bitmap_init_from_audio(pcm.size, data), mt.mtmd_bitmap_free)
                n_bitmaps = 1
            chunks = turn.add("input chunks", mt.mtmd_input_chunks_init(), mt.mtmd_input_chunks_free)
            raw = prompt.encode("utf-8")
            inp = mt.mtmd_input_text(raw, len(raw), True, True)
            rc = mt.mtmd_tokenize(self._mctx, chunks, ctypes.byref(inp), bitmaps, n_bitmaps)
            if rc != 0:
                raise RuntimeError(f"mtmd_tokenize failed with code {rc} (is the audio marker in the prompt?)")
            # upper bound (every audio embedding); the trimmed count is known after evaluation
            if int(mt.mtmd_helper_get_n_pos(chunks)) >= self._n_ctx - 16:
                raise RuntimeError(f"the turn needs more than n_ctx={self._n_ctx} tokens; raise settings.engine.n_ctx")
            keep = None
            if pcm is not None and self.audio_tail_tokens is not None:
                keep = speech_tokens(pcm.size, self._stack, self.audio_tail_tokens)
            n_past, first_chunk = self._reuse_prefix(chunk_text_tokens(mt, mt.mtmd_input_chunks_get(chunks, 0)),
                                                     logits=mt.mtmd_input_chunks_size(chunks) == 1)
            n_past = eval_chunks(ll, mt, self._mctx, self._ctx, chunks, self._n_batch, self._n_embd, keep,
                                 n_past, first_chunk)
            self.last_prompt_positions = n_past
            return n_past
        finally:
            turn.close()

    def _eval_prompt_frames(self, prompt: str, embeds: np.ndarray) -> int:
        """The prompt with the projected encoder frames where the marker is (the tokens around it
        as mtmd would cut them: the first part with the model's special tokens)."""
        before, after = prompt.split(self.marker, 1)
        if len(self._tokenize(prompt)) + embeds.shape[0] >= self._n_ctx - 16:
            raise RuntimeError(f"the turn needs more than n_ctx={self._n_ctx} tokens; raise settings.engine.n_ctx")
        n_past, _ = self._reuse_prefix(self._tokenize(before, add_special=True), logits=False)
        embeds = np.ascontiguousarray(embeds, dtype=np.float32)
        n_past = decode_embeddings(self._ll, self._ctx, embeds.ctypes.data, embeds.shape[0], self._n_embd, n_past,
                                   self._n_batch, logits_last=not after)
        tail = self._tokenize(after)
        if tail:
            n_past = self._decode(tail, n_past)
        self.last_prompt_positions = n_past
        return n_past

    def _reuse_prefix(self, tokens: list[int] | None, logits: bool = True) -> tuple[int, int]:
        """Keep the context's KV for the tokens this turn's first text chunk shares with the
        last turn's (the system prompt, earlier history), evaluate the rest of that chunk, and
        return (n_past, index of the next chunk to evaluate); `logits`: the chunk is the whole
        prompt, so at least its last token is evaluated again. The system prompt is ~70 tokens:
        re-evaluating it each turn cost ~0.2 s on 2 cores. llama-cpp-python's high-level Llama
        does this for the cascade; the mtmd path has no such cache, hence this."""
        ll = self._ll
        mem = ll.llama_get_memory(self._ctx)
        if not tokens:
            ll.llama_memory_clear(mem, True)
            self._prefix = []
            self.last_prefix_evaluated = 0
            return 0, 0
        held = ll.llama_memory_seq_pos_max(mem, 0) + 1  # 0 after a clear from outside
        common = 0
        for a, b in zip(self._prefix, tokens, strict=False):
            if a != b or common >= held:
                break
            common += 1
        if logits:
            common = min(common, len(tokens) - 1)  # the next token is sampled from this chunk's last logits
        if common == 0:
            ll.llama_memory_clear(mem, True)
        else:
            ll.llama_memory_seq_rm(mem, 0, common, -1)
        n_past = common
        self.last_prefix_evaluated = len(tokens) - common
        for start in range(common, len(tokens), self._n_batch):
            n_past = self._decode(tokens[start:start + self._n_batch], n_past)
        self._prefix = tokens
        return n_past, 1

    # ----- small llama.cpp helpers ------------------------------------------------------

    def _sampler(self):
        return sampler_chain(self._ll, self._vocab, self.options.engine.temperature, self.options.engine.decoding)

    def _decode(self, tokens: list[int], n_past: int) -> int:
        ll = self._ll
        arr = (ll.llama_token * len(tokens))(*tokens)
        if ll.llama_decode(self._ctx, ll.llama_batch_get_one(arr, len(tokens))) != 0:
            raise RuntimeError("llama_decode failed (context full?)")
        return n_past + len(tokens)

    def _tokenize(self, text: str, add_special: bool = False) -> list[int]:
        ll = self._ll
        raw = text.encode("utf-8")
        buf = (ll.llama_token * (len(raw) + 16))()
        n = ll.llama_tokenize(self._vocab, raw, len(raw), buf, len(buf), add_special, True)
        return list(buf[: max(n, 0)])

    def _piece_bytes(self, token: int) -> bytes:
        return piece_bytes(self._ll, self._vocab, token)

    def _piece(self, token: int) -> str:
        return piece_bytes(self._ll, self._vocab, token, special=True).decode("utf-8", "replace")
