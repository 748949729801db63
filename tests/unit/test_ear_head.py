"""The emotion head file: round trip through GGUF, clear errors, and the ear's reading."""

import numpy as np
import pytest

from core.ear.baseline import VoiceBaseline
from core.ear.ear import Ear
from core.ear.head import EmotionHead, HeadError
from core.ear.pooling import stats_pool
from core.emotion.labels import EMOTIONS
from core.speech.encoder_pass import EncoderOutput
from training.ear.head_train import fit_temperature
from training.ear.metrics import expected_calibration_error, restrict


def _head(d=6, seed=0, temperature=1.5):
    rng = np.random.default_rng(seed)
    return EmotionHead("whisper-test", np.zeros(d, np.float32), np.ones(d, np.float32),
                       rng.normal(size=(7, d)).astype(np.float32), rng.normal(size=7).astype(np.float32),
                       rng.normal(size=(3, d)).astype(np.float32), np.zeros(3, np.float32), temperature, 2.0)


def test_round_trip(tmp_path):
    head = _head()
    back = EmotionHead.load(head.save(tmp_path / "emotion-head.gguf"))
    assert back.encoder == "whisper-test" and back.temperature == pytest.approx(1.5) and back.prior_turns == 2.0
    z = np.random.default_rng(3).normal(size=(5, 6)).astype(np.float32)
    np.testing.assert_allclose(back.probabilities(z), head.probabilities(z), rtol=1e-6)
    logits = (z @ head.w.T + head.b) / 1.5
    want = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(head.probabilities(z), want / want.sum(1, keepdims=True), rtol=1e-5)


def test_truncated_and_missing_files_name_the_file(tmp_path):
    path = _head().save(tmp_path / "h.gguf")
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(path.read_bytes()[:200])
    with pytest.raises(HeadError, match="cut.gguf"):
        EmotionHead.load(cut)
    with pytest.raises(HeadError, match="nope.gguf"):
        EmotionHead.load(tmp_path / "nope.gguf")


def test_ear_reads_against_the_baseline():
    head = _head(d=4)
    frames = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    out = EncoderOutput(frames, 30)
    base = VoiceBaseline(np.zeros(4), np.ones(4), k=2)
    hearing = Ear(head).hear(out, base)
    z = VoiceBaseline(np.zeros(4), np.ones(4), k=2).observe(stats_pool(frames[:30]))
    probs = head.probabilities(z)
    assert hearing.label == EMOTIONS[int(np.argmax(probs))]
    assert hearing.confidence == pytest.approx(float(probs.max()), rel=1e-5)
    assert base.n == 1 and hearing.session_turns == 1
    assert sum(hearing.probabilities.values()) == pytest.approx(1.0, abs=1e-3)


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    y = np.array([0, 1, 1, 1])
    # bins: 0.6 -> (0.5,0.6] wrong (acc 0, conf .6); 0.7 -> (0.6,0.7] right (1 vs .7);
    # 0.8 -> (0.7,0.8] right (1 vs .8); 0.9 -> (0.8,0.9] right (1 vs .9)
    want = 0.25 * (0.6 + 0.3 + 0.2 + 0.1)
    assert expected_calibration_error(probs, y) == pytest.approx(want)


def test_restrict_renormalises_over_a_corpus_labels():
    p = np.array([[0.1, 0.2, 0.3, 0.1, 0.1, 0.1, 0.1]])
    r = restrict(p, ["happy", "sad"])
    np.testing.assert_allclose(r[0, 1:3], [0.4, 0.6])
    assert r[0, 0] == 0 and r.sum() == pytest.approx(1)


def test_temperature_fit_softens_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 2000)
    logits = rng.normal(size=(2000, 3))
    logits[np.arange(2000), y] += 1.0
    t = fit_temperature(logits * 5, y)  # the same logits made 5x overconfident
    assert 3.5 < t < 6.5


def _corpus_table(seed: int, corpora=("a", "b", "c", "d"), n=120, d=8):
    """Real-corpus-like rows: every corpus puts the same 4 emotions in a partly different place
    (the class means move by a corpus-specific offset), 3 speakers each."""
    from training.ear.table import STR_COLUMNS, Table

    rng = np.random.default_rng(seed)
    labels = ["neutral", "happy", "sad", "angry"]
    means = rng.normal(scale=2.0, size=(len(labels), d))
    xs, cols = [], {k: [] for k in STR_COLUMNS}
    for c in corpora:
        shift = rng.normal(scale=1.6, size=(len(labels), d))
        for i in range(n):
            k = i % len(labels)
            xs.append(means[k] + shift[k] + rng.normal(size=d))
            meta = {"id": f"{c}/{i}", "corpus": c, "speaker": f"{c}-{i % 3}", "label": labels[k], "intensity": "",
                    "language": "", "split": "corpus", "kind": "real", "text": "", "text_emotion": "", "augment": ""}
            for key in STR_COLUMNS:
                cols[key].append(meta[key])
    return Table(np.array(xs, np.float32), {k: np.array(v) for k, v in cols.items()})


def test_cross_corpus_calibration_tempers_a_head_for_an_unseen_corpus():
    from training.ear.head_train import HeadConfig, predict, train_head

    table = _corpus_table(0)
    train, unseen = table.subset(table.corpus != "d"), table.subset(table.corpus == "d")
    val = train.subset(np.isin(train.speaker, ["a-0", "b-0", "c-0"]))  # held-out speakers of seen corpora
    fit = train.subset(~np.isin(train.speaker, ["a-0", "b-0", "c-0"]))
    heads = {how: train_head(fit, val, HeadConfig(C=1.0, calibration=how, session_orders=0), "x")
             for how in ("validation", "cross-corpus")}
    # seen corpora's voices are easy; a corpus never heard is not: the cross-corpus fit is softer ...
    assert heads["cross-corpus"].temperature > 1.3 * heads["validation"].temperature
    # ... and its confidence closer to its accuracy on the unseen corpus
    ece = {how: expected_calibration_error(restrict(predict(h, unseen, "single"), ["neutral", "happy", "sad", "angry"]),
                                           unseen.y) for how, h in heads.items()}
    assert ece["cross-corpus"] < ece["validation"]
    with pytest.raises(ValueError, match="calibration"):
        train_head(fit, val, HeadConfig(calibration="magic"), "x")


def test_the_shipped_head_is_checked_against_the_manifest_sha256(tmp_path):
    import hashlib
    import json

    from core.ear.listener import _checked_default_head
    from core.models.manifest import DEFAULT_MANIFEST

    head = _head().save(tmp_path / "emotion-head.gguf")
    raw = json.loads(DEFAULT_MANIFEST.read_text())
    raw["ear"] = {"file": "emotion-head.gguf", "sha256": hashlib.sha256(head.read_bytes()).hexdigest()}
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(raw))
    assert _checked_default_head(manifest) == head.resolve()
    head.write_bytes(head.read_bytes()[:-4])  # damaged (cut short) after install
    with pytest.raises(HeadError, match="checksum mismatch.*emotion-head.gguf"):
        _checked_default_head(manifest)
    head.unlink()
    with pytest.raises(HeadError, match="emotion-head.gguf.*missing"):
        _checked_default_head(manifest)
