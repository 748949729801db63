"""training's PyTorch generate (CogAudioModel.generate) decodes with the app's engine.decoding when given it.

The bundled SmolLM2-135M (dequantized from its GGUF, no adapter, text only) given a prompt that
already repeats "I'm glad you're happy, too." goes on repeating it under plain greedy decoding;
with the settings (repeat penalty, and DRY, which the torch path turns into a ban on repeated
n-grams: core.engines.decoding.generate_kwargs) it does not; seeded sampling repeats itself for
the same seed. (A random tiny Llama does not loop, so it could not show the difference.)
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from core.settings import DecodingSettings  # noqa: E402

LOOP = "I'm glad you're happy. I'm glad you're happy, too. I'm glad you're happy, too."
PHRASE = "glad you're happy"


@pytest.fixture(scope="module")
def model_and_prompt():
    from training.model.cogaudio import CogAudioModel, Segmented
    from training.model.config import ModelConfig

    torch.manual_seed(0)
    model = CogAudioModel.build(ModelConfig(lora_r=0)).eval()
    ids = model.tokenizer(LOOP, add_special_tokens=False).input_ids
    return model, [Segmented(ids, None, [], [])]


def _ngrams(model, text: str, n: int) -> list[tuple[int, ...]]:
    ids = model.tokenizer(text, add_special_tokens=False).input_ids
    return [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]


def test_plain_greedy_repeats_and_the_settings_stop_it(model_and_prompt):
    model, prompt = model_and_prompt
    n = DecodingSettings().dry_allowed_length + 1
    plain = model.generate(prompt, 32)[0]
    assert plain.count(PHRASE) >= 3  # the loop the settings are for
    decoded = model.generate(prompt, 32, DecodingSettings())[0]
    grams = _ngrams(model, decoded, n)
    assert decoded.count(PHRASE) <= 1 and grams and len(set(grams)) == len(grams)


def test_seeded_sampling_is_reproducible(model_and_prompt):
    model, prompt = model_and_prompt
    state = torch.random.get_rng_state()
    first = model.generate(prompt, 12, DecodingSettings(seed=3), temperature=1.0)
    assert model.generate(prompt, 12, DecodingSettings(seed=3), temperature=1.0) == first
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's random state is left alone
    assert {model.generate(prompt, 12, DecodingSettings(seed=s), temperature=1.0)[0] for s in (4, 5)} - {first[0]}
