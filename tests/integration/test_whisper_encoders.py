"""The installed Whisper encoders (tiny.en, base) read into PyTorch give what CTranslate2 itself
computes from the same files: on the padded 30 s window that mtmd and training use, and on the
short window (max(10 s, 2x the turn)) that the app encodes for its transcript."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("faster_whisper")

from tests.helpers.voice_clips import clips, frame_cosines  # noqa: E402
from training.model.mel import log_mel_chunks  # noqa: E402
from training.model.whisper_ct2 import ct2_model_dir, encode_window, load_whisper_encoder  # noqa: E402

SR = 16000


def short_window_mel(fw_model, audio: np.ndarray) -> np.ndarray:
    """(1, 80, frames) features of the app's short window: max(10 s, 2x the turn), padded as core pads."""
    n = int(round(min(30.0, max(10.0, 2.0 * audio.size / SR)) * 100))
    n += n % 2
    mel = fw_model.feature_extractor(audio, chunk_length=30)[:, :n]
    mel = np.pad(mel, ((0, 0), (0, n - mel.shape[1])), constant_values=mel.min())
    return np.ascontiguousarray(mel[None], dtype=np.float32)


@pytest.mark.parametrize("name", ["tiny.en", "base"])
def test_pytorch_encoder_matches_ctranslate2_encode(name):
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import get_ctranslate2_storage

    encoder = load_whisper_encoder(f"ct2:{name}")
    assert (encoder.config.d_model, encoder.config.encoder_layers) == {"tiny.en": (384, 4), "base": (512, 6)}[name]
    fw = WhisperModel(str(ct2_model_dir(f"ct2:{name}")), device="cpu", compute_type="float32", cpu_threads=2)
    lengths = set()
    for audio in clips().values():
        for mel, full in ((log_mel_chunks(audio, 80)[:1], True), (short_window_mel(fw, audio), False)):
            theirs = np.array(fw.model.encode(get_ctranslate2_storage(mel), to_cpu=True))
            with torch.no_grad():
                x = torch.from_numpy(mel)
                ours = (encoder(x).last_hidden_state if full else encode_window(encoder, x)).numpy()
            assert ours.shape == theirs.shape == (1, mel.shape[-1] // 2, encoder.config.d_model)
            assert frame_cosines(ours, theirs).min() >= 0.99
            lengths.add(mel.shape[-1])
    assert lengths == {3000, 1000, 1038, 1788}  # the 30 s window and three short ones
