"""Token layout of one training example, matching how the app prompts the model through mtmd.

The chat is rendered with the LLM's own chat template:

    system: core.emotion.eips.system_prompt(explicit=...)
    user:   "<__media__>"            (audio) or the transcript (text-only baseline)
    assistant: core.emotion.eips.render_target(...) + end-of-turn token

mtmd splits the rendered prompt at the marker, tokenizes each side separately and puts the
audio embeddings in between (ultravox adds no begin/end text), so `PromptParts` keeps
`before` and `after` as separate token lists and the model inserts the audio between them.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.emotion.eips import system_prompt
from training.model.mel import AUDIO_MARKER


@dataclass(frozen=True)
class PromptParts:
    before: list[int]  # tokens up to the audio marker
    after: list[int]  # tokens after it, through the assistant header


def render_chat(tokenizer, user: str, explicit: bool) -> str:
    messages = [{"role": "system", "content": system_prompt(explicit=explicit)}, {"role": "user", "content": user}]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def audio_prompt(tokenizer, explicit: bool) -> PromptParts:
    text = render_chat(tokenizer, AUDIO_MARKER, explicit)
    before, after = text.split(AUDIO_MARKER)
    enc = lambda s: tokenizer(s, add_special_tokens=False).input_ids  # noqa: E731 - the template has the specials
    return PromptParts(enc(before), enc(after))


def text_prompt(tokenizer, transcript: str, explicit: bool) -> list[int]:
    return tokenizer(render_chat(tokenizer, transcript, explicit), add_special_tokens=False).input_ids


def target_ids(tokenizer, target: str) -> list[int]:
    """Assistant tokens to learn: the rendered target then the end-of-turn token."""
    return tokenizer(target, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
