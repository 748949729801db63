"""How much the Whisper encoder's frames of a turn depend on the window they are computed in.

    python bench/encoder_windows.py [--encoders tiny.en,base]

The app encodes a turn once over a short window (max(10 s, 2x the turn), core.speech.encoder_pass)
and the ear and the projector read those frames; llama.cpp's mtmd, which other tools use with
the exported mmproj, encodes the same turn over a padded 30 s window. The log-mel is the same
over the speech part (checked: max |difference| printed), so any difference comes from the
window: attention sees more (silent) context. Per clip: per-frame cosine over the speech frames
(mean, min, frames below 0.9) and the cosine of the mean+std pooled vector, PyTorch float32.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.pcm import SAMPLE_RATE, load_audio  # noqa: E402
from core.models.bundled import ASSETS  # noqa: E402


def clips() -> dict[str, np.ndarray]:
    """The bundled voices of tests/helpers/voice_clips.py: 4.2 s, 5.2 s, 8.9 s."""
    s = {n: load_audio(ASSETS / "samples" / f"{n}.wav") for n in ("worried", "tired", "hello", "good_news")}
    return {"worried": s["worried"], "tired": s["tired"], "hello+good_news": np.concatenate([s["hello"], s["good_news"]])}


def frame_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoders", default="tiny.en,base")
    args = ap.parse_args(argv)
    import torch
    from faster_whisper import WhisperModel

    from training.model.mel import log_mel_chunks
    from training.model.whisper_ct2 import ct2_model_dir, encode_window, load_whisper_encoder

    torch.set_num_threads(2)
    print(f"{'encoder':8} {'clip':16} {'s':>5} {'mel |diff|':>10} {'frame cos mean':>14} {'min':>7} {'< 0.9':>6} {'pooled cos':>10}")
    for name in [n for n in args.encoders.split(",") if n]:
        encoder = load_whisper_encoder(f"ct2:{name}")
        fw = WhisperModel(str(ct2_model_dir(f"ct2:{name}")), device="cpu", compute_type="int8")
        for clip, audio in clips().items():
            n = int(round(min(30.0, max(10.0, 2.0 * audio.size / SAMPLE_RATE)) * 100))
            n += n % 2
            short = fw.feature_extractor(audio, chunk_length=30)[:, :n]
            short = np.pad(short, ((0, 0), (0, n - short.shape[1])), constant_values=short.min())[None]
            full = log_mel_chunks(audio, 80)[:1]
            speech_mel = audio.size // 160
            mel_diff = float(np.abs(short[0, :, :speech_mel] - full[0, :, :speech_mel]).max())
            n_speech = -(-audio.size // 320)
            with torch.no_grad():
                a = encode_window(encoder, torch.from_numpy(np.ascontiguousarray(short, dtype=np.float32)))[0, :n_speech].numpy()
                b = encoder(torch.from_numpy(full)).last_hidden_state[0, :n_speech].numpy()
            c = frame_cosines(a, b)
            pooled = frame_cosines(np.concatenate([a.mean(0), a.std(0)])[None], np.concatenate([b.mean(0), b.std(0)])[None])[0]
            print(f"{name:8} {clip:16} {audio.size / SAMPLE_RATE:5.1f} {mel_diff:10.4f} {c.mean():14.3f} {c.min():7.3f} "
                  f"{int((c < 0.9).sum()):6d} {pooled:10.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
