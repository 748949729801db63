"""Fitting and scoring the ear: the shipped head, leave-one-corpus-out, and `cogaudio-train eval`.

Every figure comes in two readings: single-turn (each clip read alone, as a first turn is) and
in-session (each speaker's clips as one session, the baseline learning the voice turn by turn).
Real corpora are scored on their own label sets (a 4-emotion corpus as a 4-way task).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from core.ear.head import EmotionHead
from core.emotion.labels import EMOTIONS
from training.ear.config import EarConfig
from training.ear.head_train import predict, train_head
from training.ear.metrics import group_accuracy, score
from training.ear.report import group_table, pct, plot_confusion, scores_table
from training.ear.table import Table

MODES = ("single", "session")


def _lime(table: Table, split: str, originals: bool = True) -> np.ndarray:
    m = (table.corpus == "lime") & (table.split == split)
    return m & (table.augment == "") if originals else m


def shipped_split(table: Table) -> tuple[Table, Table, Table]:
    """(train, validation, test): LIME train + every real corpus / LIME validation / LIME test."""
    train = table.subset(_lime(table, "train", originals=False) | (table.corpus != "lime"))
    return train, table.subset(_lime(table, "validation")), table.subset(_lime(table, "test"))


def calibration_split(train: Table, val: Table, share: int = 5) -> tuple[Table, Table]:
    """Without LIME validation rows, every `share`-th training speaker (sorted, per corpus) is held
    out to fit the temperature on voices the head has not seen."""
    if len(val):
        return train, val
    held = set()
    for c in sorted(set(train.corpus.tolist())):
        speakers = sorted(set(train.speaker[train.corpus == c].tolist()))
        held |= set(speakers[share // 2::share]) if len(speakers) >= share else set()
    mask = np.isin(train.speaker, sorted(held))
    return train.subset(~mask), train.subset(mask & (train.augment == ""))


def label_set(t: Table) -> list[str]:
    return sorted(set(t.label.tolist()), key=EMOTIONS.index)


def fit_and_report(cfg: EarConfig) -> EmotionHead:
    table = Table.load(Path(cfg.table))
    train, val, test = shipped_split(table)
    head = train_head(*calibration_split(train, val), cfg.head, cfg.encoder_name)
    if cfg.stem_layers:  # the head carries the layers whose output it reads
        from training.ear.cli import open_extra_stems, open_stem

        head = dataclasses.replace(head, stem=open_stem(cfg), stem_with_last=cfg.stem_with_last_layer,
                                   extra_stems=open_extra_stems(cfg))
    out = Path(cfg.out_dir)
    head.save(out / "emotion-head.gguf")
    summary = report(head, test, out / "lime-test", "LIME test voice")
    print(f"ear train: {len(train)} training rows -> {out / 'emotion-head.gguf'} (temperature {head.temperature:.2f})")
    for mode in MODES:
        s = summary[mode]
        print(f"  LIME test {mode:7s}: accuracy {pct(s['all']['accuracy'])}, conflict rows {pct(s.get('conflict'))}, "
              f"ECE {s['all']['ece']:.3f}")
    print(f"  text-only baseline on conflict rows: {pct(summary.get('text_conflict'))}")
    return head


def leave_one_corpus_out(cfg: EarConfig) -> dict:
    """For each real corpus: train without it (LIME train + the other corpora), test on it."""
    table = Table.load(Path(cfg.table))
    corpora = sorted(c for c in set(table.corpus.tolist()) if c != "lime")
    results: dict[str, dict] = {}
    val = table.subset(_lime(table, "validation"))
    for c in corpora:
        train = table.subset((_lime(table, "train", originals=False) | (table.corpus != "lime")) & (table.corpus != c))
        test = table.subset((table.corpus == c) & (table.augment == ""))
        head = train_head(*calibration_split(train, val), cfg.head, cfg.encoder_name)
        labels = label_set(test)
        results[c] = {"labels": labels, "chance": 1 / len(labels), "speakers": len(set(test.speaker.tolist()))}
        for mode in MODES:
            results[c][mode] = score(predict(head, test, mode), test.y, labels).row()
        print(f"LOCO {c:8s} ({len(labels)} labels, n={len(test)}): single {pct(results[c]['single']['accuracy'])}, "
              f"session {pct(results[c]['session']['accuracy'])} (min recall {pct(results[c]['session']['min_recall'])}, "
              f"ECE {results[c]['session']['ece']:.3f})", flush=True)
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "loco.json").write_text(json.dumps(results, indent=1))
    lines = ["| held-out corpus | labels | chance | n | single-turn | in-session | in-session macro-F1 | min recall (session) | ECE (session) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c, r in results.items():
        s, t = r["single"], r["session"]
        lines.append(f"| {c} | {len(r['labels'])} | {pct(r['chance'])} | {s['n']} | {pct(s['accuracy'])} | "
                     f"{pct(t['accuracy'])} | {pct(t['macro_f1'])} | {pct(t['min_recall'])} | {t['ece']:.3f} |")
    (out / "loco.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return results


def report(head: EmotionHead, test: Table, out: Path, title: str) -> dict:
    """Scores of `head` on `test` in both readings; writes out/report.md with confusion PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    labels = label_set(test)
    summary: dict = {"n": len(test), "labels": labels}
    md = [f"# Ear evaluation: {title}", "", f"{len(test)} clips, {len(set(test.speaker.tolist()))} speakers, "
          f"labels: {', '.join(labels)}. Encoder: {head.encoder}; head temperature {head.temperature:.2f}.", ""]
    conflict = test.kind == "conflict"
    rows = []
    for mode in MODES:
        probs = predict(head, test, mode)
        s = score(probs, test.y, labels)
        rows.append((f"{mode}", s))
        summary[mode] = {"all": s.row(), "predicted_share": s.predicted_share}
        if conflict.any():
            c = score(probs[conflict], test.y[conflict], labels)
            rows.append((f"{mode}, conflict rows", c))
            summary[mode]["conflict"] = c.accuracy
        png = plot_confusion(s, f"{title}, {mode}", out / f"confusion-{mode}.png")
        summary[mode]["per_corpus"] = group_accuracy(probs, test.y, test.corpus, labels)
        summary[mode]["per_speaker"] = group_accuracy(probs, test.y, test.speaker, labels)
        has_int = np.isin(test.intensity, ["low", "medium", "high"])
        summary[mode]["per_intensity"] = group_accuracy(probs[has_int], test.y[has_int], test.intensity[has_int], labels) if has_int.any() else {}
        summary[mode]["png"] = png.name
    md += ["## Scores", "", scores_table(rows), ""]
    texts = test.text
    if np.any(texts != ""):
        from training.ear.text_baseline import TextBaseline

        tb = TextBaseline().predict(list(texts))
        st = score(tb, test.y, labels)
        summary["text_all"] = st.accuracy
        md += [f"Text-only baseline (NRC lexicon on the transcript): {pct(st.accuracy)} on all rows"]
        if conflict.any():
            sc = score(tb[conflict], test.y[conflict], labels)
            summary["text_conflict"] = sc.accuracy
            md[-1] += f", {pct(sc.accuracy)} on the {int(conflict.sum())} conflict rows (gold = the voice)."
        md.append("")
    for mode in MODES:
        md += [f"## {mode}", "", f"![confusion {mode}]({summary[mode]['png']})", "",
               group_table("corpus", summary[mode]["per_corpus"]), "", group_table("speaker", summary[mode]["per_speaker"]), ""]
        if summary[mode]["per_intensity"]:
            md += [group_table("intensity", summary[mode]["per_intensity"]), ""]
    (out / "report.md").write_text("\n".join(md))
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    return summary


def evaluate_head(cfg: EarConfig, head_path: Path, data: Path, split: str, out: Path | None) -> dict:
    """`cogaudio-train eval`: a LIME folder (one split), a corpus manifest or a feature table."""
    from training.ear.cli import open_features
    from training.ear.table import build_table, corpus_clips, lime_clips

    head = EmotionHead.load(head_path)
    if data.suffix == ".npz":
        test = Table.load(data)
        test = test.subset(test.augment == "")
        if np.any(test.corpus == "lime"):
            test = test.subset((test.corpus != "lime") | (test.split == split))
    else:
        cache = open_features(cfg, head.stem, head.stem_with_last, extra_stems=head.extra_stems)  # the head's own features, whatever the config says
        clips = corpus_clips(data) if data.suffix == ".jsonl" else (c for c in lime_clips(data) if c.meta["split"] == split)
        test, skipped = build_table(clips, cache)
        if skipped:
            print(f"eval: {len(skipped)} clips skipped (first: {skipped[0]})")
    if len(test) == 0:
        raise SystemExit(f"eval: no clips to score in {data}")
    out = out or Path(cfg.out_dir) / f"eval-{data.stem}"
    summary = report(head, test, out, f"{data.name}" + (f" ({split})" if data.suffix not in (".jsonl", ".npz") else ""))
    for mode in MODES:
        print(f"{mode:8s}: accuracy {pct(summary[mode]['all']['accuracy'])}, macro-F1 {pct(summary[mode]['all']['macro_f1'])}, "
              f"ECE {summary[mode]['all']['ece']:.3f}")
    print(f"report: {out / 'report.md'}")
    return summary
