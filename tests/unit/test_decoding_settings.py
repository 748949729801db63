"""engine.decoding: bounds, the settings file, and what each decoder is given (core.engines.decoding)."""

from __future__ import annotations

import json

import pytest

from core.engines.decoding import completion_kwargs, generate_kwargs
from core.settings import DecodingSettings, SettingsError, load_settings


def test_bad_decoding_values_are_refused_naming_the_field():
    for field, value in (("repeat_penalty", 0.5), ("top_p", 0.0), ("repeat_last_n", -1), ("seed", -3),
                         ("dry_allowed_length", 0), ("frequency_penalty", 3.0)):
        with pytest.raises(ValueError, match=field):
            DecodingSettings(**{field: value})


def test_a_bad_value_in_the_settings_file_names_its_path(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine": {"decoding": {"repeat_penalty": 9}}}))
    with pytest.raises(SettingsError, match=r"engine\.decoding\.repeat_penalty"):
        load_settings(path)
    path.write_text(json.dumps({"engine": {"decoding": {"dry_multiplier": 0.8, "seed": 5}}}))
    d = load_settings(path).engine.decoding
    assert (d.dry_multiplier, d.seed, d.repeat_penalty) == (0.8, 5, DecodingSettings().repeat_penalty)


def test_the_cascade_gets_every_setting_create_completion_takes():
    d = DecodingSettings(repeat_penalty=1.2, frequency_penalty=0.3, presence_penalty=0.4, top_k=7, top_p=0.5, seed=11)
    assert completion_kwargs(0.6, d) == {"temperature": 0.6, "repeat_penalty": 1.2, "frequency_penalty": 0.3,
                                         "presence_penalty": 0.4, "top_k": 7, "top_p": 0.5, "seed": 11}


def test_the_torch_path_is_plain_greedy_without_settings_and_samples_only_above_zero():
    assert generate_kwargs(0.7, None) == {"do_sample": False}
    greedy = generate_kwargs(0.0, DecodingSettings(repeat_penalty=1.2, dry_multiplier=0.8, dry_allowed_length=3))
    assert greedy == {"repetition_penalty": 1.2, "no_repeat_ngram_size": 4, "do_sample": False}
    sampled = generate_kwargs(0.5, DecodingSettings(top_k=9, top_p=0.8, dry_multiplier=0.0))
    assert sampled["do_sample"] and (sampled["temperature"], sampled["top_k"], sampled["top_p"]) == (0.5, 9, 0.8)
    assert "no_repeat_ngram_size" not in sampled  # DRY off
