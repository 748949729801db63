"""Our audio path against llama.cpp's mtmd: same token count per clip length, same embeddings.

A small Whisper encoder + ultravox projector (random weights, LLM width 576 to match the
bundled SmolLM2 GGUF) is written as an mmproj with the export code, loaded by mtmd, and fed
the same audio. mtmd's own chunking (30 s, tail dropped) decides the count; its own log-mel
feeds the encoder. Matching embeddings therefore check training/model/mel.py end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("llama_cpp")

from core.models.audio_tokens import n_audio_tokens  # noqa: E402
from core.models.bundled import require_bundled  # noqa: E402
from training.model.cogaudio import build_encoder  # noqa: E402
from training.model.config import ModelConfig  # noqa: E402
from training.model.mel import log_mel_chunks  # noqa: E402
from training.model.projector import UltravoxProjector  # noqa: E402

SR = 16000


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    from training.export.mmproj import EncoderSpec, write_mmproj
    from training.export.parity import LlamaCppAudio

    torch.manual_seed(0)
    cfg = ModelConfig(encoder_layers=1, encoder_d_model=64, encoder_heads=2, encoder_ffn_dim=128, stack_factor=10)
    encoder = build_encoder(cfg).eval()
    projector = UltravoxProjector(64, 10, 128, 576).eval()
    path = tmp_path_factory.mktemp("mmproj") / "mmproj.gguf"
    write_mmproj(path, encoder.state_dict(), projector.state_dict(), EncoderSpec.from_whisper_config(encoder.config),
                 10, 576, ftype="f32")
    runner = LlamaCppAudio(require_bundled("llm"), path, n_ctx=512)
    yield encoder, projector, runner
    runner.close()


def _voice(seconds: float) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return (0.2 * np.sin(2 * np.pi * 150 * t * (1 + 0.1 * np.sin(3 * t))) * (1 + np.sin(2 * np.pi * 3 * t))).astype(np.float32)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 29.99, 31.0])
def test_mtmd_produces_as_many_audio_embeddings_as_we_insert(pair, seconds):
    _, _, runner = pair
    assert runner.audio_embeddings(_voice(seconds)).shape[0] == n_audio_tokens(int(SR * seconds), 10)


def test_mtmd_embeddings_match_our_mel_encoder_and_projector(pair):
    encoder, projector, runner = pair
    x = _voice(2.5)
    theirs = runner.audio_embeddings(x)
    with torch.no_grad():
        ours = projector(encoder(torch.from_numpy(log_mel_chunks(x, 80))).last_hidden_state)[0].numpy()
    assert theirs.shape == ours.shape == (150, 576)
    cos = (theirs * ours).sum(1) / (np.linalg.norm(theirs, axis=1) * np.linalg.norm(ours, axis=1))
    assert cos.min() > 0.999, cos.min()
    assert np.abs(theirs - ours).max() < 2e-2 * np.abs(ours).max()
