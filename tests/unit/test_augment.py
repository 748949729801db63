"""Each augmentation does what it claims, measured on the output: SNR, level, RT60, length, pitch."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from training.lime.augment import (
    AugmentConfig,
    add_noise,
    add_room,
    augment,
    change_level,
    change_speed,
    colored_noise,
    room_impulse_response,
)

RATE = 16000


def _tone(seconds: float = 1.0, freq: float = 220.0, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _db(a: float, b: float) -> float:
    return 10 * np.log10(a / b)


def _power(x: np.ndarray) -> float:
    return float(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("snr", [0.0, 10.0, 25.0])
@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0])
def test_noise_is_added_at_the_requested_snr(snr, exponent):
    x = _tone()
    y = add_noise(x, snr, np.random.default_rng(1), exponent=exponent)
    assert y.shape == x.shape and y.dtype == np.float32
    assert _db(_power(x), _power(y - x)) == pytest.approx(snr, abs=0.01)


def test_a_short_noise_recording_is_looped_to_the_clip_and_scaled():
    x = _tone(1.0)
    hum = _tone(0.1, freq=50.0, amp=0.5)  # 0.1 s of mains hum for a 1 s clip
    y = add_noise(x, 6.0, np.random.default_rng(2), noise=hum)
    residual = y - x
    assert _db(_power(x), _power(residual)) == pytest.approx(6.0, abs=0.01)
    # the residual is the hum: its spectrum peaks at 50 Hz
    f, p = welch(residual, RATE, nperseg=8000)
    assert f[np.argmax(p)] == pytest.approx(50.0, abs=2.0)


def test_silent_clip_and_silent_noise():
    silent = np.zeros(1000, np.float32)
    assert np.array_equal(add_noise(silent, 10.0, np.random.default_rng(0)), silent)
    with pytest.raises(ValueError, match="silent"):
        add_noise(_tone(), 10.0, np.random.default_rng(0), noise=np.zeros(100, np.float32))


@pytest.mark.parametrize("exponent, slope", [(0.0, 0.0), (1.0, -1.0), (2.0, -2.0)])
def test_colored_noise_has_the_claimed_spectral_slope(exponent, slope):
    n = colored_noise(RATE * 8, np.random.default_rng(3), exponent)
    assert np.sqrt(_power(n)) == pytest.approx(1.0, rel=1e-3)
    f, p = welch(n, RATE, nperseg=4096)
    band = (f >= 50) & (f <= 5000)
    fitted = np.polyfit(np.log10(f[band]), np.log10(p[band]), 1)[0]
    assert fitted == pytest.approx(slope, abs=0.15)


@pytest.mark.parametrize("gain", [-10.0, 6.0])
def test_level_change_is_measured_in_db(gain):
    x = _tone(amp=0.1)
    y = change_level(x, gain)
    assert _db(_power(y), _power(x)) == pytest.approx(gain, abs=0.01)


def test_level_change_stops_before_clipping():
    x = _tone(amp=0.5)
    y = change_level(x, 12.0)  # +12 dB would take the peak to 2.0
    assert np.max(np.abs(y)) == pytest.approx(0.99, abs=1e-4)
    assert _db(_power(y), _power(x)) < 12.0


def _rt60_from_edc(h: np.ndarray) -> float:
    """Schroeder backward integration; RT60 from the -5..-25 dB slope (T20 x 3)."""
    edc = np.cumsum((h.astype(np.float64) ** 2)[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0])
    t = np.arange(len(h)) / RATE
    band = (edc_db <= -5) & (edc_db >= -25)
    slope = np.polyfit(t[band], edc_db[band], 1)[0]  # dB per second
    return -60.0 / slope


@pytest.mark.parametrize("rt60", [0.2, 0.5])
def test_room_impulse_response_decays_60_db_in_rt60(rt60):
    h = room_impulse_response(rt60, RATE, np.random.default_rng(4), drr_db=-10.0)
    assert h[0] == 1.0
    assert _rt60_from_edc(h[1:]) == pytest.approx(rt60, rel=0.1)


def test_direct_to_reverberant_ratio():
    h = room_impulse_response(0.4, RATE, np.random.default_rng(5), drr_db=6.0)
    assert _db(h[0] ** 2, float(np.sum(h[1:].astype(np.float64) ** 2))) == pytest.approx(6.0, abs=0.01)


def test_room_keeps_length_and_rms_and_leaves_a_tail_after_the_sound():
    x = np.zeros(RATE, np.float32)
    x[: RATE // 5] = _tone(0.2, amp=0.3)  # a 0.2 s burst, then 0.8 s of silence
    y = add_room(x, RATE, 0.5, np.random.default_rng(6), drr_db=0.0)
    assert y.shape == x.shape
    assert _power(y) == pytest.approx(_power(x), rel=1e-3)
    tail = y[int(0.25 * RATE): int(0.35 * RATE)]
    assert _power(tail) > 1e-3 * _power(x)  # reverberation heard where the dry clip is silent
    assert np.all(x[int(0.25 * RATE):] == 0)


@pytest.mark.parametrize("factor", [0.9, 0.95, 1.07, 1.1])
def test_speed_change_scales_length_and_pitch(factor):
    x = _tone(2.0, freq=440.0)
    y = change_speed(x, factor)
    assert len(y) == pytest.approx(len(x) / factor, abs=2)
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    peak_hz = np.argmax(spectrum) * RATE / len(y)
    assert peak_hz == pytest.approx(440.0 * factor, rel=0.005)


def test_speed_outside_the_sane_range_is_refused():
    with pytest.raises(ValueError, match="outside"):
        change_speed(_tone(), 3.0)


def test_augment_is_seeded_and_stays_in_its_ranges():
    x = _tone(1.0, amp=0.2)
    cfg = AugmentConfig(p_speed=1.0, p_room=1.0, p_noise=1.0, p_level=1.0)
    a, pa = augment(x, RATE, seed=7, cfg=cfg)
    b, pb = augment(x, RATE, seed=7, cfg=cfg)
    c, _ = augment(x, RATE, seed=8, cfg=cfg)
    assert pa == pb and np.array_equal(a, b)
    assert not (len(a) == len(c) and np.allclose(a, c))
    assert {"speed", "rt60", "drr_db", "snr_db", "noise_exponent", "gain_db"} <= set(pa)
    assert cfg.speed[0] <= pa["speed"] <= cfg.speed[1]
    assert len(a) == pytest.approx(len(x) / pa["speed"], abs=2)
    assert cfg.snr_db[0] <= pa["snr_db"] <= cfg.snr_db[1] and cfg.gain_db[0] <= pa["gain_db"] <= cfg.gain_db[1]
    assert np.isfinite(a).all() and np.max(np.abs(a)) <= 0.99 + 1e-6


def test_augment_with_nothing_enabled_returns_the_clip():
    x = _tone()
    y, applied = augment(x, RATE, 1, AugmentConfig(p_speed=0, p_room=0, p_noise=0, p_level=0))
    assert applied == {"seed": 1} and np.array_equal(x, y)
