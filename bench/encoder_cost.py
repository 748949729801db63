"""What a pretrained Whisper encoder costs per turn, against the scratch encoder it replaces.

    python bench/encoder_cost.py [--runs 5] [--threads 2]

Rows (all on the bundled voice samples, one turn per timing, runs interleaved so machine load
hits every row alike; median and p90 in ms, and the ratio to the first row's median):

* mtmd encode: llama.cpp's audio path over its padded 30 s window (log-mel + Whisper encoder
  + ultravox projector), for the shipped scratch mmproj (assets/models/mmproj-q8_0.gguf) and
  for tiny.en / base exported the same way (real encoder, random projector, Q8_0 like the
  shipped one; the projector is a small part of the cost);
* CTranslate2 encode: faster-whisper's feature extraction + encoder over the app's short window
  (max(10 s, 2x the turn)), in the app's compute type (int8) and in float32.

`cos` is the agreement with PyTorch float32 on the first clip, per token or frame: the minimum
over the tokens/frames that cover speech, then the mean over the whole window (padding
included); the exported mmproj against encoder + projector, CTranslate2 against `encode_window`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio.pcm import SAMPLE_RATE, load_audio  # noqa: E402
from core.models.bundled import ASSETS, require_bundled  # noqa: E402

N_EMBD = 576


def _clips() -> list[np.ndarray]:
    names = ("hello", "tired", "good_news", "worried")
    return [load_audio(ASSETS / "samples" / f"{n}.wav") for n in names if (ASSETS / "samples" / f"{n}.wav").exists()]


def _cos(a: np.ndarray, b: np.ndarray, n_speech: int) -> str:
    """'min over the speech part / mean over all' of the per-row cosines."""
    a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    c = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return f"{c[:n_speech].min():.4f} / {c.mean():.4f}"


def _short_mel(fw, audio: np.ndarray) -> np.ndarray:
    n = int(round(min(30.0, max(10.0, 2.0 * audio.size / SAMPLE_RATE)) * 100))
    n += n % 2
    mel = fw.feature_extractor(audio, chunk_length=30)[:, :n]
    return np.pad(mel, ((0, 0), (0, n - mel.shape[1])), constant_values=mel.min())[None]


def _mmproj_rows(names: list[str], out: Path, threads: int, first: np.ndarray) -> list[tuple[str, callable, str]]:
    import torch

    from training.export.mmproj import EncoderSpec, write_mmproj
    from training.export.parity import LlamaCppAudio
    from training.export.quantize import quantize_projector
    from training.model.mel import log_mel_chunks
    from training.model.projector import UltravoxProjector
    from training.model.whisper_ct2 import load_whisper_encoder

    llm = require_bundled("llm")
    rows = []
    scratch = LlamaCppAudio(llm, ASSETS / "models" / "mmproj-q8_0.gguf", n_ctx=512, n_threads=threads)
    rows.append(("mtmd encode 30 s, scratch mmproj (shipped)", scratch.audio_embeddings, "-"))
    for name in names:
        encoder = load_whisper_encoder(f"ct2:{name}")
        torch.manual_seed(0)
        projector = UltravoxProjector(encoder.config.d_model, 10, 1024, N_EMBD).eval()
        f16 = write_mmproj(out / f"{name}-f16.gguf", encoder.state_dict(), projector.state_dict(),
                           EncoderSpec.from_whisper_config(encoder.config), 10, N_EMBD, ftype="f16")
        runner = LlamaCppAudio(llm, quantize_projector(f16, out / f"{name}-q8_0.gguf"), n_ctx=512, n_threads=threads)
        with torch.no_grad():
            want = projector(encoder(torch.from_numpy(log_mel_chunks(first, 80))).last_hidden_state).numpy()
        rows.append((f"mtmd encode 30 s, {name} mmproj Q8_0", runner.audio_embeddings,
                     _cos(runner.audio_embeddings(first), want, -(-first.size // 3200))))
    return rows


def _ct2_rows(names: list[str], threads: int, first: np.ndarray) -> list[tuple[str, callable, str]]:
    import torch
    from faster_whisper import WhisperModel
    from faster_whisper.transcribe import get_ctranslate2_storage

    from training.model.whisper_ct2 import ct2_model_dir, encode_window, load_whisper_encoder

    rows = []
    for name in names:
        encoder = load_whisper_encoder(f"ct2:{name}")
        for compute in ("int8", "float32"):
            fw = WhisperModel(str(ct2_model_dir(f"ct2:{name}")), device="cpu", compute_type=compute, cpu_threads=threads)

            def run(audio, fw=fw):
                mel = _short_mel(fw, audio)
                return np.array(fw.model.encode(get_ctranslate2_storage(mel), to_cpu=True))

            mel = _short_mel(fw, first)
            with torch.no_grad():
                want = encode_window(encoder, torch.from_numpy(np.ascontiguousarray(mel, dtype=np.float32))).numpy()
            rows.append((f"CT2 encode short window, {name} {compute}", run, _cos(run(first), want, -(-first.size // 320))))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed turns per row (after one warm-up)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--encoders", default="tiny.en,base")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    names = [n for n in args.encoders.split(",") if n]
    clips = _clips()
    with tempfile.TemporaryDirectory() as tmp:
        rows = _mmproj_rows(names, Path(tmp), args.threads, clips[0]) + _ct2_rows(names, args.threads, clips[0])
        times: list[list[float]] = [[] for _ in rows]
        for _, fn, _ in rows:
            fn(clips[0])  # warm-up
        for r in range(args.runs):
            audio = clips[r % len(clips)]
            for i, (_, fn, _) in enumerate(rows):
                t = time.perf_counter()
                fn(audio)
                times[i].append(1000 * (time.perf_counter() - t))
    base = statistics.median(times[0])
    print(f"{'path':46} {'median ms':>10} {'p90 ms':>8} {'x scratch':>10} {'cos speech min / all mean':>26}")
    for (label, _, cos), ts in zip(rows, times, strict=True):
        med = statistics.median(ts)
        p90 = sorted(ts)[min(len(ts) - 1, int(0.9 * len(ts)))]
        print(f"{label:46} {med:10.0f} {p90:8.0f} {med / base:10.2f} {cos:>26}")
    print(f"{args.runs} turns of {min(c.size for c in clips) / SAMPLE_RATE:.1f}-{max(c.size for c in clips) / SAMPLE_RATE:.1f} s, "
          f"{args.threads} threads")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
