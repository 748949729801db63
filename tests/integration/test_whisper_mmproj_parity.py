"""The pretrained tiny.en encoder exported as an mmproj runs in llama.cpp's mtmd as it runs in PyTorch.

tiny.en's real weights (read from the installed CTranslate2 file) plus a randomly initialised
ultravox projector are written with the export code, as F16 (the export's form) and requantized
to Q8_0 (the shipped form); mtmd computes its own log-mel, runs its own Whisper graph and the
projector. Its embeddings must match PyTorch's (encoder + projector on training's mel) token
for token, on three clips of different lengths.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("llama_cpp")

from core.models.audio_tokens import n_audio_tokens  # noqa: E402
from core.models.bundled import require_bundled  # noqa: E402
from core.models.manifest import read_gguf_metadata  # noqa: E402
from tests.helpers.voice_clips import clips, frame_cosines  # noqa: E402
from training.model.mel import log_mel_chunks  # noqa: E402
from training.model.projector import UltravoxProjector  # noqa: E402

N_EMBD = 576  # the bundled SmolLM2's width


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from training.export.mmproj import EncoderSpec, write_mmproj
    from training.export.quantize import quantize_projector
    from training.model.whisper_ct2 import load_whisper_encoder

    encoder = load_whisper_encoder("ct2:tiny.en")
    torch.manual_seed(0)
    projector = UltravoxProjector(encoder.config.d_model, 10, 256, N_EMBD).eval()
    root = tmp_path_factory.mktemp("mmproj")
    f16 = write_mmproj(root / "mmproj-f16.gguf", encoder.state_dict(), projector.state_dict(),
                       EncoderSpec.from_whisper_config(encoder.config), 10, N_EMBD, ftype="f16")
    q8 = quantize_projector(f16, root / "mmproj-q8_0.gguf", "Q8_0")
    audio = clips()
    with torch.no_grad():
        ours = {k: projector(encoder(torch.from_numpy(log_mel_chunks(a, 80))).last_hidden_state).reshape(-1, N_EMBD).numpy()
                for k, a in audio.items()}
    return {"f16": f16, "q8_0": q8, "audio": audio, "ours": ours}


def _mtmd(mmproj, audio: dict[str, np.ndarray], names) -> dict[str, np.ndarray]:
    from training.export.parity import LlamaCppAudio

    runner = LlamaCppAudio(require_bundled("llm"), mmproj, n_ctx=512)
    try:
        return {k: runner.audio_embeddings(audio[k]) for k in names}
    finally:
        runner.close()


def test_mmproj_holds_the_tiny_en_encoder(exported):
    meta = read_gguf_metadata(exported["f16"], "projector")
    got = {k: meta[f"clip.audio.{k}"] for k in ("embedding_length", "feed_forward_length", "block_count",
                                                "attention.head_count", "num_mel_bins")}
    assert got == {"embedding_length": 384, "feed_forward_length": 1536, "block_count": 4,
                   "attention.head_count": 6, "num_mel_bins": 80}
    assert meta["clip.audio.attention.layer_norm_epsilon"] == pytest.approx(1e-5)


def test_mtmd_embeddings_match_pytorch_on_three_clips(exported):
    ours = exported["ours"]
    theirs = _mtmd(exported["f16"], exported["audio"], ours)
    for name, audio in exported["audio"].items():
        assert theirs[name].shape == ours[name].shape == (n_audio_tokens(audio.size, 10), N_EMBD)
        assert frame_cosines(theirs[name], ours[name]).min() >= 0.99, name
    # not trivially equal: the speech part of two different clips is far apart
    assert frame_cosines(ours["worried"][:20], ours["tired"][:20]).mean() < 0.9


def test_q8_0_mmproj_stays_at_parity(exported):
    name = "hello+good_news"
    theirs = _mtmd(exported["q8_0"], exported["audio"], [name])[name]
    assert frame_cosines(theirs, exported["ours"][name]).min() >= 0.99
