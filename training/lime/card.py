"""The dataset card (README.md in the output folder): what is in it, counted several ways."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from training.lime.config import LimeConfig


def _table(title: str, counts: Counter, total: int) -> str:
    lines = [f"### {title}", "", "| value | rows | share |", "|---|---:|---:|"]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        lines.append(f"| {key} | {n} | {100 * n / max(1, total):.1f} % |")
    return "\n".join(lines) + "\n"


def _voice_rows(cfg: LimeConfig, metas: list[dict]) -> str:
    by_voice = Counter(m["voice"] for m in metas)
    splits: dict[str, set[str]] = {}
    for m in metas:
        splits.setdefault(m["voice"], set()).add(m["split"])
    lines = ["| voice | engine | what it is | splits | rows |", "|---|---|---|---|---:|"]
    for v in cfg.voices:
        if v.engine == "piper" and not v.synthetic_variant:
            what = "real Piper voice" + ("" if v.model == "bundled" else f" ({Path(v.model).name})")
        elif v.engine == "piper":
            what = f"synthetic variant of Piper (Praat Change gender: formant x{v.formant_shift}, pitch x{v.pitch_shift})"
        elif v.engine == "espeak":
            what = f"espeak-ng voice `{v.model}` (formant synthesis)"
        else:
            what = f"{v.engine} speaker `{v.model}`"
        held = " **held out (test only)**" if v.test_only else ""
        lines.append(f"| {v.name} | {v.engine} | {what}{held} | {', '.join(sorted(splits.get(v.name, [])))} | {by_voice[v.name]} |")
    for voice in sorted(set(by_voice) - {v.name for v in cfg.voices}):
        lines.append(f"| {voice} | corpus | recorded speaker | {', '.join(sorted(splits[voice]))} | {by_voice[voice]} |")
    return "\n".join(lines) + "\n"


def write_card(cfg: LimeConfig, out: Path, metas: list[dict], filter_summary: dict, stats: dict) -> None:
    total = len(metas)
    hours = sum(m["duration"] for m in metas) / 3600
    parts = [
        "---\nlicense: other\ntask_categories:\n- audio-classification\nlanguage:\n- en\n---\n",
        "# LIME (lexically-identical, multi-emotion) build\n",
        f"{total} utterances, {hours:.2f} h of 16-bit FLAC at {cfg.sample_rate} Hz, built by "
        f"`cogaudio-train lime build` with backend `{cfg.backend}` and seed {cfg.seed}. Every text is spoken in "
        "all 7 emotions x 3 intensities (neutral once) by each of its voices, so the words never give the "
        "emotion away. Emotions are synthetic: a neutral rendering transformed by the docs/emotions.md prosody "
        "profile. Load with `datasets.load_from_disk(DIR)`; schema in docs/lime.md.\n",
        "## Text filter (semantic decoupling)\n",
        f"Pool {filter_summary['pool']} texts, kept {filter_summary['kept']}, dropped {filter_summary['dropped']} "
        f"(reasons: {filter_summary['drop_reasons']}); VADER |compound| <= {cfg.filter.vader_threshold}, "
        f"at most {cfg.filter.nrc_max_emotion_words} NRC emotion words. Details in build_report.json.\n",
        "## Voices\n",
        _voice_rows(cfg, metas),
        "## Counts\n",
        _table("Split", Counter(m["split"] for m in metas), total),
        _table("Emotion", Counter(m["emotion"] for m in metas), total),
        _table("Intensity", Counter(m["intensity"] for m in metas), total),
        _table("Emotion x intensity", Counter(f"{m['emotion']}/{m['intensity']}" for m in metas), total),
        _table("Row kind", Counter(m["kind"] for m in metas), total),
        _table("Voice", Counter(m["voice"] for m in metas), total),
        _table("Source", Counter(m["source"] for m in metas), total),
        _table("Distinct texts per split", Counter({s: len({m["text"] for m in metas if m["split"] == s})
                                                    for s in {m["split"] for m in metas}}), sum(
            len({m["text"] for m in metas if m["split"] == s}) for s in {m["split"] for m in metas})),
        "## Build\n",
        "\n".join(f"- {k}: {v}" for k, v in stats.items()) + "\n",
    ]
    (Path(out) / "README.md").write_text("\n".join(parts))
