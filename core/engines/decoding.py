"""How the language model picks each token: `engine.decoding` (core.settings.DecodingSettings) for every path.

One settings object feeds three decoders, so the app, the cascade baseline and training's
evaluation decode alike:

* `sampler_chain`: the llama.cpp sampler chain of the audio engine (low-level bindings);
* `completion_kwargs`: llama-cpp-python's `create_completion` arguments (the cascade);
* `generate_kwargs`: transformers' `generate` arguments (training.model.cogaudio.CogAudioModel.generate).

Why: the shipped 135M pair answers many turns with one looping phrase ("I'm glad you're happy.
I'm glad you're happy, too. ...") when decoded greedily with only a mild repeat penalty
(docs/training.md section 9). The order of the chain follows llama.cpp's common sampler:
penalties first (they read the raw logits), then DRY, then top-k / top-p / temperature, then the
pick. DRY ("don't repeat yourself", llama.cpp's `llama_sampler_init_dry`) penalises a token that
would extend a sequence already in the recent text, the more the longer the repeat; transformers
has no DRY, so the torch path uses its nearest built-in, `no_repeat_ngram_size` (a hard ban on
repeating an n-gram of dry_allowed_length + 1 tokens) and has no frequency or presence penalty
(left out there), and llama-cpp-python's `create_completion` exposes no DRY at all (the cascade
gets the penalties only). Sampling is seeded: the same turn gives the same reply, so tests and
evaluations are reproducible. On the shipped pair none of this changes much (its replies are a
lookup table, not loops: docs/training.md section 9); it is there for models that loop.
"""

from __future__ import annotations

import ctypes

from core.settings import DecodingSettings

# llama.cpp's default DRY sequence breakers: a repeat is never counted across a line, a
# format header ("Response:") or a quotation, so the EIPS format itself is not penalised.
DRY_BREAKERS = ("\n", ":", '"', "*")


def sampler_chain(ll, vocab, temperature: float, decoding: DecodingSettings):
    """A new llama.cpp sampler chain for one turn (the caller frees it with llama_sampler_free)."""
    d = decoding
    chain = ll.llama_sampler_chain_init(ll.llama_sampler_chain_default_params())
    n_vocab = ll.llama_vocab_n_tokens(vocab)
    if d.repeat_last_n and (d.repeat_penalty != 1.0 or d.frequency_penalty or d.presence_penalty):
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_penalties(
            n_vocab, d.repeat_last_n, d.repeat_penalty, d.frequency_penalty, d.presence_penalty))
    if d.dry_multiplier > 0.0:
        breakers = (ctypes.c_char_p * len(DRY_BREAKERS))(*(b.encode() for b in DRY_BREAKERS))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dry(  # copies the breakers
            vocab, d.dry_multiplier, d.dry_base, d.dry_allowed_length, d.repeat_last_n, breakers, len(DRY_BREAKERS)))
    if temperature <= 0.0:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_greedy())
    else:
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_k(d.top_k))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_top_p(d.top_p, 1))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_temp(temperature))
        ll.llama_sampler_chain_add(chain, ll.llama_sampler_init_dist(d.seed))
    return chain


def completion_kwargs(temperature: float, decoding: DecodingSettings) -> dict:
    """`Llama.create_completion` arguments (the penalty window is the Llama's last_n_tokens_size,
    set from `repeat_last_n` when the model is loaded: core.engines.llm_runtime.TextLLM)."""
    d = decoding
    return {
        "temperature": temperature, "repeat_penalty": d.repeat_penalty, "frequency_penalty": d.frequency_penalty,
        "presence_penalty": d.presence_penalty, "top_k": d.top_k, "top_p": d.top_p, "seed": d.seed,
    }


def generate_kwargs(temperature: float, decoding: DecodingSettings | None) -> dict:
    """transformers `generate` arguments; None: plain greedy decoding (what training's emotion
    evaluation has always used, so its figures stay comparable). The caller seeds torch."""
    if decoding is None:
        return {"do_sample": False}
    d = decoding
    out: dict = {"repetition_penalty": d.repeat_penalty}
    if d.dry_multiplier > 0.0:
        out["no_repeat_ngram_size"] = d.dry_allowed_length + 1
    if temperature > 0.0:
        out.update(do_sample=True, temperature=temperature, top_k=d.top_k, top_p=d.top_p)
    else:
        out["do_sample"] = False
    return out
