"""A model trained on cached encoder frames (issue 11): two real steps on the frames of the
app's own Whisper tiny.en pass, export, and the app's frame path (core.ear.projector +
AudioLLMEngine._eval_prompt_frames) against PyTorch on the same frames."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from core.audio.pcm import load_audio  # noqa: E402
from core.engines.options import resolve_options  # noqa: E402
from core.models.bundled import require_bundled  # noqa: E402
from core.settings import Settings  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from training.export.exporter import write_projector
    from training.export.merged import merge_lora, write_llama_gguf
    from training.model.cogaudio import CogAudioModel, Segmented
    from training.model.config import ModelConfig
    from training.model.export_layout import save_model
    from training.model.prompt import audio_prompt, target_ids
    from training.stages.data import frames_cache

    root = tmp_path_factory.mktemp("frames")
    torch.manual_seed(0)
    cfg = ModelConfig(llm="tiny-random", encoder_init="ct2:tiny.en", audio_input="asr-encoder-frames",
                      frames_cache=str(root / "cache"), train_encoder=False, projector_hidden=256, lora_r=4,
                      lora_alpha=8)
    model = CogAudioModel.build(cfg)
    cache = frames_cache(cfg)
    frames = torch.from_numpy(cache.get(load_audio(SAMPLES / "tired.wav")).frames.astype(np.float32))
    parts = audio_prompt(model.tokenizer, explicit=False)
    ex = Segmented(parts.before, None, parts.after,
                   target_ids(model.tokenizer, "Emotion: sad, high.\nResponse: That sounds exhausting."), frames=frames)
    trainable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train()
    for _ in range(2):
        opt.zero_grad()
        model([ex])["loss"].backward()
        opt.step()
    model.eval()
    changed = {n: not torch.equal(trainable[n], p) for n, p in model.named_parameters() if p.requires_grad}
    save_model(model, root / "model")
    audio_cfg = json.loads((root / "model" / "audio" / "config.json").read_text())
    mmproj = write_projector(root / "model", audio_cfg, root / "mmproj-f16.gguf", "f16")
    merged = write_llama_gguf(root / "llm-f16.gguf", merge_lora(model.llm), require_bundled("llm"), "f16")
    return {"model": model, "mmproj": mmproj, "merged": merged, "changed": changed, "encoder": model.encoder}


def test_only_the_projector_and_lora_train_and_every_one_moves(trained):
    changed = trained["changed"]
    assert changed and all(changed.values()), [n for n, c in changed.items() if not c]
    assert not any(n.startswith("encoder.") for n in changed)  # the encoder stays frozen
    assert any(n.startswith("projector.") for n in changed) and any("lora_" in n for n in changed)


def test_mmproj_says_it_reads_the_transcripts_frames(trained):
    from core.ear.projector import FrameProjector

    proj = FrameProjector.from_mmproj(trained["mmproj"])
    assert proj is not None and proj.encoder == "whisper-tiny.en" and proj.stack == 10
    frames = np.random.default_rng(0).normal(size=(37, 384)).astype(np.float32)
    with torch.no_grad():
        want = trained["model"].project_frames(torch.from_numpy(frames)).numpy()
    got = proj(frames)
    assert got.shape == want.shape == (4, trained["model"].llm.get_input_embeddings().weight.shape[1])
    cos = (got * want).sum() / np.linalg.norm(got) / np.linalg.norm(want)
    assert cos >= 0.999  # F16 weights


def test_the_app_hears_the_frames_as_pytorch_does(trained):
    from core.engines.audio_llm import AudioLLMEngine
    from core.speech.asr import SpeechRecognizer
    from training.export.parity import cosine
    from training.model.cogaudio import Segmented
    from training.model.mel import AUDIO_MARKER
    from training.model.prompt import audio_prompt, render_chat

    model = trained["model"]
    pcm = load_audio(SAMPLES / "worried.wav")
    settings = Settings()
    asr = SpeechRecognizer(settings.asr)
    engine = AudioLLMEngine(resolve_options(settings), trained["merged"], trained["mmproj"], None, asr=asr)
    try:
        assert engine._frames is not None  # the frame path, not mtmd's 30 s window
        out = asr.encode(pcm)
        prompt = engine._prompt([], 1, None)
        ll = engine._ll
        ll.llama_memory_clear(ll.llama_get_memory(engine._ctx), True)
        engine._eval_prompt_frames(prompt, engine._frames(out.speech))
        n_vocab = ll.llama_vocab_n_tokens(engine._vocab)
        ptr = ll.llama_get_logits_ith(engine._ctx, -1)
        got = np.ctypeslib.as_array(ctypes.cast(ptr, ctypes.POINTER(ctypes.c_float)), shape=(n_vocab,)).copy()
    finally:
        engine.close()
    parts = audio_prompt(model.tokenizer, explicit=False)
    assert prompt == render_chat(model.tokenizer, AUDIO_MARKER, False)  # the training prompt
    ex = Segmented(parts.before, None, parts.after, [], frames=torch.from_numpy(out.speech.copy()))
    want = model.next_token_logits(ex).numpy()
    assert cosine(want, got) >= 0.99
    assert int(np.argmax(got)) == int(np.argmax(want))
