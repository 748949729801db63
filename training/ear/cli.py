"""`cogaudio-train ear features|train|loco` and `cogaudio-train eval`: the ear's training and scores.

    cogaudio-train ear features --config configs/ear.yaml   # cache encoder features, write the table
    cogaudio-train ear train    --config configs/ear.yaml   # fit the head -> runs/ear/emotion-head.gguf
    cogaudio-train ear loco     --config configs/ear.yaml   # leave-one-corpus-out table
    cogaudio-train eval --head runs/ear/emotion-head.gguf --data data/lime-tiny [--split test]
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

from core.audio.pcm import SAMPLE_RATE
from training.ear.config import EarConfig, load_ear_config


def add_parser(sub) -> None:
    ear = sub.add_parser("ear", help="the ear: encoder feature cache, emotion head, leave-one-corpus-out")
    ear_sub = ear.add_subparsers(dest="ear_command", required=True)
    for name, func, text in (("features", cmd_features, "cache encoder features of every clip; write the table"),
                             ("train", cmd_train, "fit the emotion head on the table"),
                             ("loco", cmd_loco, "leave-one-corpus-out evaluation")):
        p = ear_sub.add_parser(name, help=text)
        p.add_argument("--config", default="configs/ear.yaml")
        p.add_argument("overrides", nargs="*", help="key=value (e.g. head.C=0.1)")
        p.set_defaults(func=func)
    ev = sub.add_parser("eval", help="score an emotion head on a LIME folder, a corpus manifest or a feature table")
    ev.add_argument("--head", required=True, help="emotion-head.gguf")
    ev.add_argument("--data", required=True, help="LIME dataset folder, corpus manifest (.jsonl) or table (.npz)")
    ev.add_argument("--split", default="test", help="LIME split to score (ignored for corpora)")
    ev.add_argument("--out", default=None, help="report folder (default: runs/ear/eval-<name>)")
    ev.add_argument("--config", default="configs/ear.yaml", help="encoder and cache settings")
    ev.add_argument("--json", action="store_true", help="print the summary as JSON")
    ev.add_argument("--replies", action="append", metavar="NAME=SPEC", help=(
        "also score the replies of these systems on the same split (training/eval/reply_eval.py): "
        "NAME=cascade | NAME=path/manifest.json | NAME=torch:MODEL_DIR; repeatable"))
    ev.add_argument("--reply-rows", type=int, default=105, help="held-out turns for --replies")
    ev.set_defaults(func=cmd_eval)


# ----- shared ---------------------------------------------------------------------------

def encoder_dir(cfg: EarConfig) -> Path:
    if cfg.encoder == "bundled:asr":
        from core.models.bundled import require_bundled

        return require_bundled("asr")
    return Path(cfg.encoder)


def open_stem(cfg: EarConfig):
    """The encoder stem the config's head reads, or None (the last layer)."""
    if not cfg.stem_layers:
        return None
    from training.ear.stem import load_stem

    return load_stem(encoder_dir(cfg), cfg.stem_layers)


def open_extra_stems(cfg: EarConfig) -> tuple:
    """The config's `extra_stems` ('base:2' -> the first 2 layers of the installed Whisper base)."""
    from training.ear.stem import load_stem

    stems = []
    for spec in cfg.extra_stems:
        model, _, layers = spec.partition(":")
        if not cfg.stem_layers or not model or not layers.isdigit():
            raise ValueError(f"extra_stems entry {spec!r}: write MODEL:LAYERS (e.g. base:2), with stem_layers >= 1")
        stems.append(load_stem(f"ct2:{model}", int(layers), model))
    return tuple(stems)


def open_features(cfg: EarConfig, stem=None, with_last_layer: bool = False, with_encoder: bool = True,
                  extra_stems: tuple = ()):
    """The cache of the pooled vectors a head reads: the encoder's last layer (`stem` None), the
    stem's output, or both joined (`with_last_layer`), then any extra stems'; one encoder pass
    object for all (the stems read its mel frames)."""
    from core.speech.encoder_pass import EncoderPass
    from training.ear.features import FeatureCache, JoinedCache, encoder_fingerprint

    model_dir = encoder_dir(cfg)
    encoder = None
    if with_encoder:
        from faster_whisper import WhisperModel

        encoder = EncoderPass(WhisperModel(str(model_dir), device="cpu", compute_type=cfg.compute_type,
                                           cpu_threads=cfg.threads))
    fp = encoder_fingerprint(model_dir, cfg.encoder_name, cfg.compute_type)
    root = Path(cfg.cache_dir) / cfg.encoder_name
    last = FeatureCache(root, encoder, fp)
    if stem is None:
        return last
    parts = [last] if with_last_layer else []
    parts += [FeatureCache(root, encoder, fp, s) for s in (stem, *extra_stems)]
    return JoinedCache(*parts) if len(parts) > 1 else parts[0]


def open_cache(cfg: EarConfig, with_encoder: bool = True):
    """The cache of the encoder's last layer (pooled features and frames)."""
    return open_features(cfg, with_encoder=with_encoder)


def _augmenter(cfg: EarConfig):
    """Augmented copies of real clips (speed, room, noise, level: training.lime.augment), seeded
    per clip so that the cache key (which carries the seed) finds them again."""
    if cfg.augment_copies <= 0:
        return None
    from training.lime.augment import augment

    def make(pcm: np.ndarray, meta: dict) -> list[tuple[str, np.ndarray]]:
        if meta["corpus"] == "lime":
            return []
        base = int(hashlib.sha256(meta["id"].encode()).hexdigest()[:8], 16) ^ cfg.augment_seed
        return [(f"aug:{base + i}", augment(pcm, SAMPLE_RATE, base + i)[0]) for i in range(cfg.augment_copies)]

    return make


def _clips(cfg: EarConfig):
    from training.ear.table import corpus_clips, lime_clips

    if cfg.lime and Path(cfg.lime).exists():
        yield from lime_clips(Path(cfg.lime))
    elif cfg.lime:
        print(f"ear: LIME folder {cfg.lime} not found (build it: cogaudio-train lime build); skipped", file=sys.stderr)
    if cfg.corpora_manifest:
        path = Path(cfg.corpora_manifest)
        if not path.exists():
            raise SystemExit(f"ear: corpus manifest {path} not found; run `cogaudio-train corpora prepare` "
                             "(docs/corpora.md) or set corpora_manifest: null for synthetic data only")
        clips = [c for c in corpus_clips(path) if cfg.corpora is None or c.meta["corpus"] in cfg.corpora]
        yield from balanced(clips, cfg.max_per_cell, cfg.augment_seed)


def balanced(clips: list, cap: int | None, seed: int) -> list:
    """At most `cap` clips per (corpus, speaker, label) cell (seeded), interleaved across cells
    so that a run stopped early still holds every corpus and label."""
    cells: dict[tuple[str, str, str], list] = {}
    for c in clips:
        cells.setdefault((c.meta["corpus"], c.meta["speaker"], c.meta["label"]), []).append(c)
    rng = np.random.default_rng(seed)
    queues = [[group[i] for i in rng.permutation(len(group))][: cap or None] for _, group in sorted(cells.items())]
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop())
    return out


def cmd_features(args) -> int:
    from training.ear.table import build_table

    cfg = load_ear_config(args.config, args.overrides)
    cache = open_features(cfg, open_stem(cfg), cfg.stem_with_last_layer, extra_stems=open_extra_stems(cfg))
    t0 = time.perf_counter()

    def progress(i: int) -> None:
        if i % 250 == 0:
            print(f"  {i} clips, {cache.misses} encoded, {cache.hits} cached, {time.perf_counter() - t0:.0f} s", flush=True)

    table, skipped = build_table(_clips(cfg), cache, _augmenter(cfg), progress)
    table.save(Path(cfg.table))
    report = {"rows": len(table), "encoded": cache.misses, "cached": cache.hits, "skipped": skipped,
              "seconds": round(time.perf_counter() - t0, 1)}
    Path(cfg.table).with_suffix(".report.json").write_text(json.dumps(report, indent=1))
    print(f"ear features: {len(table)} rows ({cache.misses} encoded, {cache.hits} from the cache, "
          f"{len(skipped)} skipped) in {report['seconds']} s -> {cfg.table}")
    from collections import Counter

    counts = Counter(zip(table.corpus, table.label, strict=True))
    corpora = sorted(set(table.corpus.tolist()))
    from core.emotion.labels import EMOTIONS

    print("| corpus | " + " | ".join(EMOTIONS) + " |")
    for c in corpora:
        print(f"| {c} | " + " | ".join(str(counts.get((c, e), 0)) for e in EMOTIONS) + " |")
    return 0


def cmd_train(args) -> int:
    from training.ear.evaluate import fit_and_report

    cfg = load_ear_config(args.config, args.overrides)
    fit_and_report(cfg)
    return 0


def cmd_loco(args) -> int:
    from training.ear.evaluate import leave_one_corpus_out

    cfg = load_ear_config(args.config, args.overrides)
    leave_one_corpus_out(cfg)
    return 0


def cmd_eval(args) -> int:
    from training.ear.evaluate import evaluate_head

    cfg = load_ear_config(args.config if Path(args.config).exists() else None)
    summary = evaluate_head(cfg, Path(args.head), Path(args.data), args.split, Path(args.out) if args.out else None)
    if args.replies:  # the reply section: same data and split, its own report beside the emotion one
        from training.eval.reply_cli import evaluate_replies

        out = Path(args.out or "runs/ear/eval-replies") / "replies"
        summary["replies"], _ = evaluate_replies(Path(args.data), args.split, args.reply_rows, args.replies, out)
    if args.json:
        print(json.dumps(summary))
    return 0
