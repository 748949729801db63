"""`engine.decoding` reaches llama.cpp's samplers, on the real bundled SmolLM2-135M GGUF (no mocks).

A prompt that already repeats "I'm glad you're happy, too." (the phrase the teacher-trained
stage 2 looped on, docs/training.md section 9) makes plain greedy decoding go on repeating it
to the token cap. The same model with a repeat penalty or DRY breaks out of the loop: checked
for the audio engine's low-level sampler chain (core.engines.decoding.sampler_chain, driven here
token by token on the loaded model) and for the cascade's create_completion (TextLLM.stream),
each built from the settings. Seeded sampling gives the same text for the same seed.
"""

from __future__ import annotations

import threading

import llama_cpp
import numpy as np
import pytest

from core.engines.decoding import sampler_chain
from core.engines.events import Done
from core.engines.llm_runtime import TextLLM
from core.settings import DecodingSettings, EngineSettings, Settings
from tests.helpers.random_gguf import write_random_projector

LOOP = "I'm glad you're happy. I'm glad you're happy, too. I'm glad you're happy, too."
PHRASE = "glad you're happy"
OFF = DecodingSettings(repeat_penalty=1.0, dry_multiplier=0.0)  # no penalty at all


@pytest.fixture(scope="module")
def llm():
    # one thread: llama.cpp's threads busy-wait, and two of them crawl on a shared 2-core machine
    text_llm = TextLLM(EngineSettings(n_ctx=512, n_threads=1, n_threads_batch=1, temperature=0.0))
    yield text_llm
    text_llm.close()


def _chain_continuation(llm: TextLLM, temperature: float, decoding: DecodingSettings, n: int = 40) -> str:
    """`n` tokens after LOOP, picked by the audio engine's sampler chain on the real model."""
    model, ll = llm.llm, llama_cpp
    vocab = model._model.vocab
    model.reset()
    model.eval(model.tokenize(LOOP.encode(), add_bos=True, special=True))
    chain = sampler_chain(ll, vocab, temperature, decoding)
    out: list[int] = []
    try:
        for _ in range(n):
            token = ll.llama_sampler_sample(chain, model.ctx, -1)  # also accepts the token into the chain
            if ll.llama_vocab_is_eog(vocab, token):
                break
            out.append(token)
            model.eval([token])
    finally:
        ll.llama_sampler_free(chain)
    return model.detokenize(out).decode("utf-8", "replace")


def _completion(llm: TextLLM, decoding: DecodingSettings, temperature: float = 0.0) -> str:
    llm.settings = llm.settings.model_copy(update={"decoding": decoding, "temperature": temperature})
    return "".join(llm.stream(LOOP, [], max_tokens=40))


def test_greedy_without_a_penalty_loops_and_the_penalties_break_the_loop(llm):
    looping = _chain_continuation(llm, 0.0, OFF)
    assert looping.count(PHRASE) >= 4  # the failure the settings are for: the phrase to the token cap
    for decoding in (OFF.model_copy(update={"repeat_penalty": 1.3}),
                     OFF.model_copy(update={"dry_multiplier": DecodingSettings().dry_multiplier}),  # the default DRY alone
                     OFF.model_copy(update={"frequency_penalty": 1.0, "presence_penalty": 0.5}),
                     DecodingSettings()):  # the defaults
        text = _chain_continuation(llm, 0.0, decoding)
        assert text.count(PHRASE) <= 2, (decoding, text)  # DRY alone lets it through once more, then stops it
        assert text.strip() and text != looping


def test_the_cascade_completion_takes_the_penalties_from_the_settings(llm):
    looping = _completion(llm, OFF)
    penalised = _completion(llm, OFF.model_copy(update={"repeat_penalty": 1.3}))
    assert looping.count(PHRASE) >= 4
    assert penalised.count(PHRASE) <= 2 and penalised.strip()


def test_seeded_sampling_is_reproducible_and_the_seed_matters(llm):
    first = _chain_continuation(llm, 0.8, DecodingSettings(seed=1))
    assert _chain_continuation(llm, 0.8, DecodingSettings(seed=1)) == first
    others = {_chain_continuation(llm, 0.8, DecodingSettings(seed=s)) for s in (2, 3)}
    assert others - {first}  # another seed, another continuation
    assert _completion(llm, DecodingSettings(seed=1), 0.8) == _completion(llm, DecodingSettings(seed=1), 0.8)


def test_the_audio_engine_samples_with_its_settings(tmp_path):
    """The engine builds its chain from options.engine at every turn: same seed, same reply; the
    settings' seed changes what a sampled turn says."""
    from core.engines.factory import create_engine

    settings = Settings()
    settings.engine.mmproj_path = write_random_projector(tmp_path / "mmproj.gguf", n_embd_text=576, stack_factor=10)
    settings.engine.n_ctx, settings.engine.n_threads, settings.engine.max_tokens = 1024, 1, 32
    settings.engine.temperature = 1.0
    settings.engine.transcribe = False
    engine = create_engine(settings, "audio-llm")
    try:
        def reply(seed: int) -> str:
            engine.options.engine.decoding = DecodingSettings(seed=seed)
            done = [e for e in engine.respond(np.zeros(0, np.float32), [], "Tell me about your day.", threading.Event())
                    if isinstance(e, Done)]
            return done[0].reply

        # the first turn evaluates the whole prompt in one batch, later ones only its last token (the
        # rest is kept, core.engines.audio_llm._reuse_prefix); llama.cpp's logits then differ in the
        # last digits, which a sample at temperature 1 can notice: compare turns after the first
        reply(1)
        first = reply(7)
        assert first and reply(7) == first
        assert {reply(8), reply(9)} - {first}
    finally:
        engine.close()

