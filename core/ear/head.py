"""The emotion head: a calibrated linear read-out of the speaker-normalised pooled features.

Stored as a small GGUF file (`emotion-head.gguf`, written by training/ear/export.py) so that it
travels with the model pair and loads without torch or pickle:

    tensors  ear.mu0, ear.var0            population statistics (the baseline's prior)
             ear.emotion.weight/bias      (7, D) / (7,)  label logits
             ear.intensity.weight/bias    (3, D) / (3,)  low / medium / high logits
             ear.stem.*                   optional: the encoder's first layers (core/ear/encoder_stem.py),
                                          float16; the head then reads their output, not the last layer
    keys     cogaudio.ear.encoder         which encoder's frames it reads (e.g. whisper-tiny.en)
             cogaudio.ear.stem_layers     with ear.stem.*: how many layers, and their attention heads
             cogaudio.ear.stem_heads
             cogaudio.ear.stem_with_last  1: the last layer's pooled vector comes first, then the stem's
             cogaudio.ear.extra_stems     optional: n more stems from other Whisper models (ear.stem1.* ...
                                          with cogaudio.ear.stem1_layers/_heads/_source), read after the first
             cogaudio.ear.temperature     logits are divided by it (fitted on held-out data)
             cogaudio.ear.prior_turns     the baseline's prior weight k
             cogaudio.ear.labels          the label order (EMOTIONS.md)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.ear.baseline import VoiceBaseline
from core.ear.encoder_stem import EncoderStem
from core.emotion.labels import EMOTIONS, INTENSITIES


class HeadError(ValueError):
    """The head file is missing, damaged or does not fit; the message names the file."""


@dataclass(frozen=True)
class EmotionHead:
    encoder: str
    mu0: np.ndarray
    var0: np.ndarray
    w: np.ndarray
    b: np.ndarray
    wi: np.ndarray
    bi: np.ndarray
    temperature: float = 1.0
    prior_turns: float = 3.0
    stem: EncoderStem | None = None  # None: the head reads the encoder's last layer (the transcript's frames)
    stem_with_last: bool = False  # with a stem: the last layer's pooled vector, then the stem's
    # more stems, each from its own Whisper model (`source`), their pooled vectors after the first stem's
    extra_stems: tuple[EncoderStem, ...] = ()

    @property
    def dim(self) -> int:
        return int(self.mu0.shape[0])

    @property
    def features(self) -> str:
        """What the pooled vector is made of; a voice profile is kept per feature space."""
        if self.stem is None:
            return self.encoder
        extra = "".join(f"+{s.source}.layer{s.n_layers}" for s in self.extra_stems)
        return f"{self.encoder}/{'last+' if self.stem_with_last else ''}layer{self.stem.n_layers}{extra}"

    def baseline(self) -> VoiceBaseline:
        return VoiceBaseline(self.mu0, self.var0, self.prior_turns)

    def probabilities(self, z: np.ndarray) -> np.ndarray:
        """(D,) or (N, D) normalised features -> (7,) or (N, 7) label probabilities."""
        return _softmax((np.asarray(z, dtype=np.float32) @ self.w.T + self.b) / self.temperature)

    def intensity(self, z: np.ndarray) -> np.ndarray:
        return _softmax(np.asarray(z, dtype=np.float32) @ self.wi.T + self.bi)

    @classmethod
    def load(cls, path: Path) -> EmotionHead:
        import gguf

        path = Path(path)
        try:
            reader = gguf.GGUFReader(str(path))
        except FileNotFoundError:
            raise HeadError(f"emotion head {path} not found; reinstall the model or retrain it (cogaudio-train ear)") from None
        except Exception as exc:
            raise HeadError(f"emotion head {path} is not a readable GGUF file ({exc}); re-export it") from exc
        # the stems' weights stay float16 in memory (core/ear/encoder_stem.py); the head's own are float32
        tensors = {t.name: np.array(t.data, dtype=np.float16 if t.name.startswith("ear.stem") else np.float32)
                   for t in reader.tensors}
        fields = {f.name: f for f in reader.fields.values()}

        def scalar(key: str, default=None):
            f = fields.get(key)
            if f is None:
                if default is None:
                    raise HeadError(f"emotion head {path} lacks the key {key}; re-export it")
                return default
            value = f.parts[f.data[0]]
            return bytes(value).decode() if f.types and f.types[0] == gguf.GGUFValueType.STRING else value[0]

        need = ["ear.mu0", "ear.var0", "ear.emotion.weight", "ear.emotion.bias", "ear.intensity.weight", "ear.intensity.bias"]
        missing = [n for n in need if n not in tensors]
        if missing:
            raise HeadError(f"emotion head {path} lacks tensors {missing}; re-export it")
        labels = fields.get("cogaudio.ear.labels")
        if labels is not None:
            names = [bytes(labels.parts[i]).decode() for i in labels.data]
            if tuple(names) != EMOTIONS:
                raise HeadError(f"emotion head {path} was trained for labels {names}, not {list(EMOTIONS)}")
        d = tensors["ear.mu0"].shape[0]
        shapes = {t.name: [int(x) for x in reversed(t.shape)] for t in reader.tensors}  # GGUF lists dims innermost first
        stems: list[EncoderStem] = []
        for i in range(1 + int(scalar("cogaudio.ear.extra_stems", 0))):
            prefix, key = ("ear.stem.", "cogaudio.ear.stem") if i == 0 else (f"ear.stem{i}.", f"cogaudio.ear.stem{i}")
            stem_tensors = {n[len(prefix):]: v.reshape(shapes[n]) for n, v in tensors.items() if n.startswith(prefix)}
            if not stem_tensors:
                if i:
                    raise HeadError(f"emotion head {path} lacks the tensors of its stem {i}; re-export it")
                break
            stem = EncoderStem(stem_tensors, int(scalar(f"{key}_layers")), int(scalar(f"{key}_heads")),
                               str(scalar(f"{key}_source", "-")) if i else "")
            try:
                stem.validate()
            except ValueError as exc:
                raise HeadError(f"emotion head {path}: {exc}; re-export it") from None
            stems.append(stem)
        stem = stems[0] if stems else None
        with_last = bool(stems) and bool(int(scalar("cogaudio.ear.stem_with_last", 0)))
        if stems:
            width = 2 * sum(s.dim for s in stems) + (2 * stem.dim if with_last else 0)
            if width != d:
                raise HeadError(f"emotion head {path}: its stems ({' + '.join(str(s.dim) for s in stems)} wide) give "
                                f"{width} features but the head reads {d}; re-export it")
        head = cls(
            encoder=str(scalar("cogaudio.ear.encoder")),
            mu0=tensors["ear.mu0"], var0=tensors["ear.var0"],
            w=tensors["ear.emotion.weight"].reshape(len(EMOTIONS), d), b=tensors["ear.emotion.bias"],
            wi=tensors["ear.intensity.weight"].reshape(len(INTENSITIES), d), bi=tensors["ear.intensity.bias"],
            temperature=float(scalar("cogaudio.ear.temperature", 1.0)),
            prior_turns=float(scalar("cogaudio.ear.prior_turns", 3.0)),
            stem=stem, stem_with_last=with_last, extra_stems=tuple(stems[1:]),
        )
        if head.temperature <= 0 or not np.all(np.isfinite(head.w)):
            raise HeadError(f"emotion head {path} holds invalid values; re-export it")
        return head

    def save(self, path: Path) -> Path:
        import gguf

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = gguf.GGUFWriter(str(path), "cogaudio-ear")
        writer.add_string("cogaudio.ear.encoder", self.encoder)
        writer.add_float32("cogaudio.ear.temperature", float(self.temperature))
        writer.add_float32("cogaudio.ear.prior_turns", float(self.prior_turns))
        writer.add_array("cogaudio.ear.labels", list(EMOTIONS))
        for name, value in (("ear.mu0", self.mu0), ("ear.var0", self.var0), ("ear.emotion.weight", self.w),
                            ("ear.emotion.bias", self.b), ("ear.intensity.weight", self.wi),
                            ("ear.intensity.bias", self.bi)):
            writer.add_tensor(name, np.ascontiguousarray(value, dtype=np.float32))
        if self.stem is not None:
            writer.add_uint32("cogaudio.ear.stem_layers", self.stem.n_layers)
            writer.add_uint32("cogaudio.ear.stem_heads", self.stem.n_heads)
            writer.add_uint32("cogaudio.ear.stem_with_last", int(self.stem_with_last))
            for name, value in sorted(self.stem.tensors.items()):
                writer.add_tensor(f"ear.stem.{name}", np.ascontiguousarray(value, dtype=np.float16))
            if self.extra_stems:
                writer.add_uint32("cogaudio.ear.extra_stems", len(self.extra_stems))
            for i, extra in enumerate(self.extra_stems, 1):
                writer.add_uint32(f"cogaudio.ear.stem{i}_layers", extra.n_layers)
                writer.add_uint32(f"cogaudio.ear.stem{i}_heads", extra.n_heads)
                writer.add_string(f"cogaudio.ear.stem{i}_source", extra.source)
                for name, value in sorted(extra.tensors.items()):
                    writer.add_tensor(f"ear.stem{i}.{name}", np.ascontiguousarray(value, dtype=np.float16))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        return path


def _softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=-1, keepdims=True)
