"""Export round trip: a tiny trained CogAudio model -> GGUF pair -> AudioLLMEngine, with parity.

The model is tiny (2-layer random Llama sharing SmolLM2's tokenizer, 2-layer 64-wide Whisper
encoder) and takes two optimizer steps so that the LoRA and projector hold trained values.
Both export forms are checked: merged (one F16 LLM GGUF) and adapter (a base GGUF plus the
LoRA adapter GGUF). Parity: same audio + prompt, first greedy tokens identical and next-token
logits cosine >= 0.99, read from the engine's own llama.cpp context.
"""

from __future__ import annotations

import copy
import ctypes
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.engines.options import resolve_options  # noqa: E402
from core.models.bundled import require_bundled  # noqa: E402
from core.models.manifest import resolve_manifest  # noqa: E402
from core.settings import Settings  # noqa: E402

N_TOKENS = 6


def _audio(seconds: float = 2.0, f0: float = 180.0) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * f0 * t * (1 + 0.3 * t)) * np.hanning(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from training.export.exporter import build_manifest, write_adapter, write_manifest, write_projector
    from training.export.merged import merge_lora, write_llama_gguf
    from training.model.cogaudio import CogAudioModel, Segmented
    from training.model.config import ModelConfig
    from training.model.export_layout import save_model
    from training.model.mel import log_mel_chunks
    from training.model.prompt import audio_prompt, target_ids

    torch.manual_seed(0)
    cfg = ModelConfig(llm="tiny-random", encoder_layers=2, encoder_d_model=64, encoder_heads=4,
                      encoder_ffn_dim=128, projector_hidden=256, lora_r=4, lora_alpha=8)
    model = CogAudioModel.build(cfg)
    for name, p in model.llm.named_parameters():
        if "lora_B" in name:  # peft starts B at zero; make the adapter matter before training
            p.data.normal_(0, 0.2)
    parts = audio_prompt(model.tokenizer, explicit=False)
    mel = torch.from_numpy(log_mel_chunks(_audio(), cfg.n_mels))
    ex = Segmented(parts.before, mel, parts.after, target_ids(model.tokenizer, "Emotion: sad, high.\nResponse: I hear you."))
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    for _ in range(2):  # "trained": two real optimizer steps on the LM loss
        opt.zero_grad()
        model([ex])["loss"].backward()
        opt.step()
    model.eval()

    root = tmp_path_factory.mktemp("export")
    save_model(model, root / "model")
    audio_cfg = json.loads((root / "model" / "audio" / "config.json").read_text())
    mmproj = write_projector(root / "model", audio_cfg, root / "mmproj-f16.gguf", "f16")
    tok_gguf = require_bundled("llm")
    merged = write_llama_gguf(root / "llm-f16.gguf", merge_lora(model.llm), tok_gguf, "f16")
    # adapter form: the tiny model has no shipped base GGUF, so write its base (LoRA removed) first
    base = write_llama_gguf(root / "base-f32.gguf", copy.deepcopy(model.llm).unload(), tok_gguf, "f32")
    adapter = write_adapter(root / "model", base, root / "adapter-f32.gguf", "f32")
    manifest = build_manifest(
        name="tiny", form="merged", base=base, base_source="file", llm=merged, adapter=None, adapter_info=None,
        projector=mmproj, audio_cfg=audio_cfg, out_dir=root, llm_quant="F16", projector_quant="F16",
        training={"llm": "tiny-random"}, explicit=False,
    )
    write_manifest(manifest, root / "manifest.json")
    return {"model": model, "root": root, "mmproj": mmproj, "merged": merged, "base": base, "adapter": adapter}


def _engine_greedy(engine, audio: np.ndarray) -> tuple[str, np.ndarray, list[int]]:
    """Prompt, next-token logits and greedy tokens from the AudioLLMEngine's own llama.cpp context."""
    ll = engine._ll
    prompt = engine._prompt([], engine._tokens_per_chunk, None)
    ll.llama_memory_clear(ll.llama_get_memory(engine._ctx), True)
    n_past = engine._eval_prompt(prompt, audio)
    n_vocab = ll.llama_vocab_n_tokens(engine._vocab)

    def logits() -> np.ndarray:
        ptr = ll.llama_get_logits_ith(engine._ctx, -1)
        return np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,)).copy()

    first = cur = logits()
    tokens = []
    for _ in range(N_TOKENS):
        tokens.append(int(np.argmax(cur)))
        n_past = engine._decode([tokens[-1]], n_past)
        cur = logits()
    return prompt, first, tokens


@pytest.mark.parametrize("form", ["merged", "adapter"])
def test_engine_matches_pytorch(exported, form):
    from core.engines.audio_llm import AudioLLMEngine
    from training.export.parity import cosine, torch_greedy

    model, audio = exported["model"], _audio(2.5, 150.0)
    llm, lora = (exported["merged"], None) if form == "merged" else (exported["base"], exported["adapter"])
    engine = AudioLLMEngine(resolve_options(Settings()), llm, exported["mmproj"], lora)
    try:
        prompt, l_logits, l_tokens = _engine_greedy(engine, audio)
    finally:
        engine.close()
    t_logits, t_tokens, t_prompt = torch_greedy(model, audio, explicit=False, n_tokens=N_TOKENS)
    assert prompt == t_prompt  # the app renders exactly the training prompt
    assert cosine(t_logits, l_logits) >= 0.99
    assert l_tokens == t_tokens[:N_TOKENS]


def test_projector_embeddings_match(exported):
    from training.export.parity import LlamaCppAudio, cosine
    from training.model.mel import log_mel_chunks

    model, audio = exported["model"], _audio(1.5, 220.0)
    runner = LlamaCppAudio(exported["merged"], exported["mmproj"])
    try:
        got = runner.audio_embeddings(audio)
    finally:
        runner.close()
    with torch.no_grad():
        want = model.encode_audio(torch.from_numpy(log_mel_chunks(audio, 80))).reshape(got.shape).numpy()
    assert got.shape == (150, 64)
    assert cosine(want, got) >= 0.999


def test_quantized_pair_loads_and_stays_close(exported, tmp_path):
    from training.export.cli import run_quantize
    from training.export.parity import LlamaCppAudio, cosine

    audio = _audio(2.0, 200.0)
    results = {}
    for qtype in ("F16", "Q8_0", "Q4_K_M"):
        if qtype == "F16":
            files = resolve_manifest(exported["root"] / "manifest.json")
        else:
            files = resolve_manifest(run_quantize(exported["root"], tmp_path / qtype, qtype, "Q8_0"))
            assert files.manifest.llm.quantization == qtype and files.manifest.projector.quantization == "Q8_0"
            assert files.llm.stat().st_size < exported["merged"].stat().st_size
        runner = LlamaCppAudio(files.llm, files.projector)
        try:
            results[qtype] = runner.greedy(runner.marker + "\nEmotion:", audio, 1)[0]
        finally:
            runner.close()
    assert cosine(results["Q8_0"], results["F16"]) >= 0.99
    assert cosine(results["Q4_K_M"], results["F16"]) >= 0.95


def test_trimmed_audio_matches_pytorch_and_shortens_the_prompt(exported, tmp_path):
    """A model trained on the speech part only (audio_tail_tokens): llama.cpp gets the same
    few embeddings PyTorch used, so parity holds, and the prompt is far shorter."""
    from core.engines.audio_llm import AudioLLMEngine
    from core.models.audio_tokens import speech_tokens
    from core.models.manifest import AUDIO_TAIL_KEY, read_gguf_metadata
    from training.export.exporter import write_projector
    from training.export.parity import LlamaCppAudio, cosine, torch_greedy

    model, audio = exported["model"], _audio(2.5, 150.0)
    audio_cfg = json.loads((exported["root"] / "model" / "audio" / "config.json").read_text())
    mmproj = write_projector(exported["root"] / "model", {**audio_cfg, "audio_tail_tokens": 2}, tmp_path / "trim.gguf", "f16")
    assert read_gguf_metadata(mmproj, "projector")[AUDIO_TAIL_KEY] == 2
    positions = {}
    model.cfg.audio_tail_tokens = 2
    try:
        t_logits, t_tokens, _ = torch_greedy(model, audio, explicit=False, n_tokens=N_TOKENS)
        for name, proj in (("full", exported["mmproj"]), ("trimmed", mmproj)):
            engine = AudioLLMEngine(resolve_options(Settings()), exported["merged"], proj, None)
            try:
                prompt, l_logits, l_tokens = _engine_greedy(engine, audio)
                positions[name] = engine.last_prompt_positions
            finally:
                engine.close()
        runner = LlamaCppAudio(exported["merged"], mmproj)
        try:
            r_logits, _ = runner.greedy(prompt, audio, N_TOKENS)
        finally:
            runner.close()
    finally:
        model.cfg.audio_tail_tokens = None
    assert cosine(t_logits, l_logits) >= 0.99 and l_tokens == t_tokens[:N_TOKENS]  # the trimmed engine
    assert cosine(t_logits, r_logits) >= 0.99  # the parity runner trims alike
    kept = speech_tokens(audio.size, 10, 2)  # 2.5 s -> 13 speech embeddings + 2
    assert kept == 15 and positions["full"] - positions["trimmed"] == 150 - kept

