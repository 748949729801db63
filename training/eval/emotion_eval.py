"""Evaluation inside training: perceived emotion from the generated Emotion tag, on held-out rows.

The perceived emotion is what the model *says*: greedy generation, then core.emotion.eips.parse_reply
(the app's own parser) reads the tag, so the export engineer can compute the same number
through llama.cpp. Reported on the held-out split (held-out texts and voice):

* accuracy and macro-F1 over the 7 labels, and accuracy on conflict rows (words say one
  emotion, voice another; gold is the voice);
* EIPS format validity on a few rows generated in full (explicit and direct prompts);
* the text-only baseline: the same fine-tuned LLM given the transcript instead of the audio,
  on the same rows; LIME's texts carry no emotion, so it should sit near chance (1/7).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from core.emotion.eips import parse_reply
from core.emotion.labels import EMOTIONS
from training.eval.metrics import accuracy, macro_f1
from training.model.cogaudio import Segmented
from training.model.prompt import text_prompt


def pick_rows(ds, kinds: list[str], max_rows: int, seed: int = 0) -> list[int]:
    """Row indices of `kinds`, spread evenly over (kind, emotion) so a small cap stays balanced."""
    cols = ds.select_columns(["kind", "emotion"]).to_dict()
    cells: dict[tuple[str, str], list[int]] = {}
    for i, (k, e) in enumerate(zip(cols["kind"], cols["emotion"], strict=True)):
        if k in kinds:
            cells.setdefault((k, e), []).append(i)
    rng = np.random.default_rng(seed)
    queues = [list(rng.permutation(v)) for _, v in sorted(cells.items())]
    picked: list[int] = []
    while any(queues) and (max_rows <= 0 or len(picked) < max_rows):
        for q in queues:
            if q and (max_rows <= 0 or len(picked) < max_rows):
                picked.append(int(q.pop()))
    return sorted(picked)


def _tags(model, examples: list[Segmented], tokens: int, batch: int) -> list[str | None]:
    labels = []
    for s in range(0, len(examples), batch):
        for text in model.generate(examples[s:s + batch], max_new_tokens=tokens):
            labels.append(parse_reply(text).label)
    return labels


def _scores(pred: list[str | None], gold: list[str], kinds: list[str]) -> dict:
    conflict = [i for i, k in enumerate(kinds) if k == "conflict"]
    return {
        "accuracy": accuracy(pred, gold),
        "macro_f1": macro_f1(pred, gold, EMOTIONS),
        "conflict_accuracy": accuracy([pred[i] for i in conflict], [gold[i] for i in conflict]) if conflict else None,
        "n_conflict": len(conflict),
        "predicted": dict(Counter(p or "none" for p in pred)),
    }


def evaluate(model, ds, cfg, builder, explicit: bool = False, log=print) -> dict:
    """Scores of `model` on split `ds` (see the module docstring); `cfg` is an EvalConfig.

    `explicit` picks the prompt the tag is read under (stage 1 answers with EIPS steps, stage 2
    directly); the Emotion line comes first in both, so a few tokens are enough to read it."""
    idx = pick_rows(ds, cfg.kinds, cfg.max_rows)
    rows = [ds[i] for i in idx]
    gold = [r["emotion"] for r in rows]
    kinds = [r["kind"] for r in rows]
    prompt = builder.prompts[explicit]
    audio_ex = [_audio_example(builder, prompt, r) for r in rows]
    log(f"eval: {len(rows)} rows of {cfg.kinds} from the held-out split")
    result = {"n_rows": len(rows), "chance": 1 / len(EMOTIONS), "prompt": "explicit" if explicit else "direct",
              "audio": _scores(_tags(model, audio_ex, cfg.tag_tokens, cfg.batch_size), gold, kinds)}
    if cfg.text_baseline:
        tok = builder.tokenizer
        text_ex = [Segmented(text_prompt(tok, r["text"], explicit=explicit), None, [], []) for r in rows]
        result["text_only"] = _scores(_tags(model, text_ex, cfg.tag_tokens, cfg.batch_size), gold, kinds)
    if cfg.format_rows > 0:
        fmt_rows = rows[:: max(1, len(rows) // cfg.format_rows)][: cfg.format_rows]
        valid = {}
        for expl in (True, False):
            p = builder.prompts[expl]
            ex = [_audio_example(builder, p, r) for r in fmt_rows]
            texts = model.generate(ex, max_new_tokens=cfg.format_tokens)
            parsed = [parse_reply(t) for t in texts]
            ok = [q.valid and (q.eips is not None if expl else True) for q in parsed]
            valid["explicit" if expl else "direct"] = sum(ok) / len(ok)
            result.setdefault("samples", {})["explicit" if expl else "direct"] = texts[:2]
        result["format_validity"] = valid
    log("eval: " + ", ".join(f"{k}={v}" for k, v in result.items() if k != "samples"))
    return result



def _audio_example(builder, prompt, row) -> Segmented:
    """An inference example; n_valid lets a trimmed-audio model see only the speech part."""
    return builder.prompt_example(row, prompt)
