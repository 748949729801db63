"""balance_weights: equal mass per label, then per language within a label, then per speaker."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from training.lime.balance import balance_weights


def _rows() -> list[dict]:
    rows = []
    # angry: 6 English clips of one speaker, 2 German clips of another; sad: 1 German clip
    rows += [{"label": "angry", "language": "en", "speaker": "a"}] * 6
    rows += [{"label": "angry", "language": "de", "speaker": "b"}] * 2
    rows += [{"label": "sad", "language": "de", "speaker": "b"}]
    # happy: one language, two speakers with 3 and 1 clips
    rows += [{"label": "happy", "language": "en", "speaker": "a"}] * 3
    rows += [{"label": "happy", "language": "en", "speaker": "c"}]
    return rows


def _mass(rows, w, *keys):
    out = defaultdict(float)
    for r, x in zip(rows, w, strict=True):
        out[tuple(r[k] for k in keys)] += x
    return dict(out)


def test_alpha_zero_gives_every_group_the_same_share_of_its_parent():
    rows = _rows()
    w = balance_weights(rows)
    assert w.sum() == pytest.approx(len(rows))
    labels = _mass(rows, w, "label")
    assert labels == pytest.approx({("angry",): 13 / 3, ("sad",): 13 / 3, ("happy",): 13 / 3})
    lang = _mass(rows, w, "label", "language")
    assert lang[("angry", "en")] == pytest.approx(lang[("angry", "de")])
    spk = _mass(rows, w, "label", "speaker")
    assert spk[("happy", "a")] == pytest.approx(spk[("happy", "c")])
    # the single happy clip of speaker c weighs as much as speaker a's three together
    assert w[-1] == pytest.approx(3 * w[-2])


def test_alpha_one_keeps_the_natural_frequencies():
    assert np.allclose(balance_weights(_rows(), alpha=1.0), 1.0)


def test_alpha_between_moves_towards_balance():
    rows = _rows()
    share = {a: _mass(rows, balance_weights(rows, alpha=a), "label")[("sad",)] for a in (0.0, 0.5, 1.0)}
    assert share[1.0] == pytest.approx(1.0) and share[1.0] < share[0.5] < share[0.0]


def test_bad_arguments():
    with pytest.raises(ValueError, match="alpha"):
        balance_weights(_rows(), alpha=2.0)
    with pytest.raises(ValueError, match="speaker"):
        balance_weights([{"label": "sad", "language": "en"}])
    assert balance_weights([]).shape == (0,)
