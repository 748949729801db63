"""Training rows from an annotated LIME split, deterministic batch plans, and example building.

A batch plan maps a global step to the rows of that step from (seed, step) alone, so a run
resumed after a kill sees exactly the batches the killed run would have seen. Contrastive
plans fill a batch from one lexical group (the same text in different emotions), so that
inside a batch only the voice separates the targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from core.audio.pcm import SAMPLE_RATE
from core.emotion.eips import EIPS, render_target
from core.emotion.labels import EMOTION_ID
from core.models.audio_tokens import speech_tokens
from training.model.cogaudio import Segmented
from training.model.mel import log_mel_chunks
from training.model.prompt import PromptParts, audio_prompt, target_ids

ANNOTATION_COLUMNS = ("eips_emotion", "eips_intent", "eips_psychology", "eips_strategy", "response", "annotator")


@dataclass(frozen=True)
class RowMeta:
    index: int
    group: str
    emotion: str
    kind: str


def check_annotated(ds) -> None:
    missing = [c for c in ANNOTATION_COLUMNS if c not in ds.column_names]
    if missing:
        raise ValueError(
            f"dataset has no {missing} columns: annotate it first, for example "
            "`cogaudio-train eips annotate --data data/lime-tiny --out data/lime-tiny-eips --teacher template`"
        )


def select_rows(ds, kinds: list[str]) -> list[RowMeta]:
    names = ["group", "emotion", "kind"] + (["annotation_ok"] if "annotation_ok" in ds.column_names else [])
    cols = ds.select_columns(names).to_dict()
    ok = cols.get("annotation_ok") or [True] * len(cols["group"])
    keep = []
    for i, (g, e, k) in enumerate(zip(cols["group"], cols["emotion"], cols["kind"], strict=True)):
        if k in kinds and ok[i]:
            keep.append(RowMeta(i, g, e, k))
    if not keep:
        raise ValueError(f"no rows of kinds {kinds} in this split; check train_kinds / eval.kinds")
    return keep


class BatchPlan:
    """Global step -> row indices, a pure function of (seed, step)."""

    def __init__(self, rows: list[RowMeta], batch_size: int, contrastive: bool, seed: int) -> None:
        self.rows, self.batch_size, self.contrastive, self.seed = rows, batch_size, contrastive, seed
        self._epoch, self._batches = -1, []

    def _plan(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        if not self.contrastive:
            order = rng.permutation(len(self.rows))
            return [[self.rows[j].index for j in order[s:s + self.batch_size]]
                    for s in range(0, len(order) - self.batch_size + 1, self.batch_size)] or [
                [r.index for r in self.rows]]
        groups: dict[str, list[RowMeta]] = {}
        for r in self.rows:
            groups.setdefault(r.group, []).append(r)
        batches = []
        for name in sorted(groups):
            buckets: dict[str, list[int]] = {}
            for j in rng.permutation(len(groups[name])):
                buckets.setdefault(groups[name][j].emotion, []).append(groups[name][j].index)
            # round-robin over emotions, so a batch holds as many different emotions as it can
            picked = [b[i] for i in range(max(map(len, buckets.values()))) for b in buckets.values() if i < len(b)]
            batches += [picked[s:s + self.batch_size] for s in range(0, len(picked), self.batch_size)
                        if len(picked[s:s + self.batch_size]) > 1]
        return [batches[j] for j in rng.permutation(len(batches))]

    def batch(self, step: int) -> list[int]:
        epoch_len = len(self._plan(0)) if self._epoch < 0 else len(self._batches)
        epoch, pos = divmod(step, epoch_len)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, self._plan(epoch)
        return self._batches[pos % len(self._batches)]


def row_audio(row: dict) -> np.ndarray:
    from training.lime.dataset import decode_audio

    x, rate = decode_audio(row["audio"])
    if x.ndim > 1:
        x = x.mean(axis=1)
    if rate != SAMPLE_RATE:
        g = gcd(rate, SAMPLE_RATE)
        x = resample_poly(x, SAMPLE_RATE // g, rate // g).astype(np.float32)
    return x


def row_target(row: dict, explicit: bool) -> str:
    eips = None
    if explicit:
        eips = EIPS(row["eips_emotion"], row["eips_intent"], row["eips_psychology"], row["eips_strategy"])
    return render_target(row["emotion"], row["intensity"], row["response"], eips)


def encoder_name(encoder_init: str) -> str:
    """'ct2:tiny.en' -> 'whisper-tiny.en': the name the ear's feature cache and head use."""
    return "whisper-" + encoder_init.removeprefix("ct2:").rstrip("/").rsplit("/", 1)[-1]


def frames_cache(model_cfg):
    """The per-clip cache of the frozen encoder's frames, computed with the app's own pass."""
    from faster_whisper import WhisperModel

    from core.speech.encoder_pass import EncoderPass
    from training.ear.features import FeatureCache, encoder_fingerprint
    from training.model.whisper_ct2 import ct2_model_dir

    folder = ct2_model_dir(model_cfg.encoder_init)
    name = encoder_name(model_cfg.encoder_init)
    encoder = EncoderPass(WhisperModel(str(folder), device="cpu", compute_type=model_cfg.frames_compute_type))
    fingerprint = encoder_fingerprint(folder, name, model_cfg.frames_compute_type)
    return FeatureCache(Path(model_cfg.frames_cache) / name, encoder, fingerprint)


class ExampleBuilder:
    """Rows -> `Segmented` examples for the model, with the chat prompt tokenized once.

    With `frames` (a training.ear.features.FeatureCache) the audio goes in as the frozen
    encoder's cached frames of the speech instead of log-mel chunks."""

    def __init__(self, tokenizer, n_mels: int, stack_factor: int = 10, frames=None) -> None:
        self.tokenizer, self.n_mels, self.stack_factor = tokenizer, n_mels, stack_factor
        self.frames = frames
        self.prompts: dict[bool, PromptParts] = {e: audio_prompt(tokenizer, e) for e in (True, False)}

    @classmethod
    def for_model(cls, model) -> ExampleBuilder:
        cfg = model.cfg
        cache = frames_cache(cfg) if cfg.audio_input == "asr-encoder-frames" else None
        return cls(model.tokenizer, cfg.n_mels, cfg.stack_factor, cache)

    def _frames(self, row: dict) -> torch.Tensor:
        return torch.from_numpy(self.frames.get(row_audio(row)).frames.astype(np.float32))

    def mel(self, row: dict) -> torch.Tensor:
        return self.mel_and_valid(row)[0]

    def mel_and_valid(self, row: dict) -> tuple[torch.Tensor, int]:
        """Log-mel chunks and how many audio tokens cover real samples (for the aux pooling)."""
        x = row_audio(row)
        # the same count llama.cpp is given at run time (core.engines.mtmd_eval)
        return torch.from_numpy(log_mel_chunks(x, self.n_mels)), speech_tokens(x.size, self.stack_factor, 0)

    def prompt_example(self, row: dict, prompt: PromptParts) -> Segmented:
        """An inference example (no target) in whichever audio input the model takes."""
        if self.frames is not None:
            return Segmented(prompt.before, None, prompt.after, [], frames=self._frames(row))
        mel, valid = self.mel_and_valid(row)
        return Segmented(prompt.before, mel, prompt.after, [], valid)

    def train_example(self, row: dict, explicit: bool) -> Segmented:
        p = self.prompts[explicit]
        target = target_ids(self.tokenizer, row_target(row, explicit))
        if self.frames is not None:
            return Segmented(p.before, None, p.after, target, frames=self._frames(row))
        mel, valid = self.mel_and_valid(row)
        return Segmented(p.before, mel, p.after, target, valid)

    def audio_only(self, row: dict) -> Segmented:
        """Encoder warm-up input: no prompt tokens are used."""
        if self.frames is not None:
            return Segmented([], None, [], [], frames=self._frames(row))
        mel, valid = self.mel_and_valid(row)
        return Segmented([], mel, [], [], valid)

    @staticmethod
    def emotion_ids(rows: list[dict]) -> torch.Tensor:
        return torch.tensor([EMOTION_ID[r["emotion"]] for r in rows], dtype=torch.long)
