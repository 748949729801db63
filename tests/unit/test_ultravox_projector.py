"""The ultravox projector against a hand-computed example, and mtmd's frame stacking."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from training.model.projector import UltravoxProjector, stack_frames  # noqa: E402


def _rms(v, w, eps=1e-6):
    r = math.sqrt(sum(x * x for x in v) / len(v) + eps)
    return [x / r * g for x, g in zip(v, w, strict=True)]


def _silu(x):
    return x / (1 + math.exp(-x))


def test_stack_frames_pads_at_the_end_like_ggml_build_stack():
    x = torch.arange(1.0, 8.0).reshape(1, 7, 1)  # 7 frames of width 1, stack 3 -> pad 2
    out = stack_frames(x, 3)
    assert out.tolist() == [[[1, 2, 3], [4, 5, 6], [7, 0, 0]]]


def test_projector_matches_a_hand_computed_example():
    proj = UltravoxProjector(d_audio=1, stack_factor=2, hidden=4, d_llm=2)
    with torch.no_grad():
        proj.ln_pre.weight.copy_(torch.tensor([1.0, 2.0]))
        proj.linear_1.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.5, 0.0], [0.0, -1.0]]))
        proj.ln_mid.weight.copy_(torch.tensor([1.0, 0.5]))
        proj.linear_2.weight.copy_(torch.tensor([[1.0, 2.0], [-1.0, 1.0]]))
    frames = torch.tensor([[[1.0], [2.0], [3.0]]])  # -> rows [1, 2] and [3, 0 (pad)]
    got = proj(frames)[0].tolist()

    expected = []
    for row in ([1.0, 2.0], [3.0, 0.0]):
        a, b = _rms(row, [1.0, 2.0])
        h = [a, b, 0.5 * a, -b]  # linear_1, no bias
        y = [h[0] * _silu(h[2]), h[1] * _silu(h[3])]  # SiLU on the SECOND half
        m = _rms(y, [1.0, 0.5])
        expected.append([m[0] + 2 * m[1], -m[0] + m[1]])  # linear_2, no bias
    assert sum(got, []) == pytest.approx(sum(expected, []), rel=1e-5, abs=1e-6)
    assert all(p.bias is None for p in (proj.linear_1, proj.linear_2))


def test_projector_layout_names_are_the_ones_llama_cpp_converts():
    proj = UltravoxProjector(d_audio=8, stack_factor=10, hidden=32, d_llm=16)
    assert sorted(proj.state_dict()) == ["linear_1.weight", "linear_2.weight", "ln_mid.weight", "ln_pre.weight"]
    assert proj(torch.zeros(2, 1500, 8)).shape == (2, 150, 16)
