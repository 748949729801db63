"""Rollouts and token log-probabilities of the CogAudio model, audio included (TRL's trainer takes text only).

Both go through CogAudioModel._assemble, the one place that lays out prompt tokens, the
projected audio (trimmed to the speech as at run time) and the target tokens, so stage 3
scores exactly the sequences stages 1-2 trained on and llama.cpp runs.
"""

from __future__ import annotations

import torch

from training.model.cogaudio import IGNORE, CogAudioModel, Segmented


@torch.no_grad()
def sample(model: CogAudioModel, prompts: list[Segmented], n: int, max_new_tokens: int, temperature: float,
           top_p: float, seed: int) -> list[list[list[int]]]:
    """n sampled completions per prompt, each cut after its first end-of-turn token (kept)."""
    torch.manual_seed(seed)
    embeds, mask, _, _ = model._assemble(prompts, left_pad=True)
    tok = model.tokenizer
    out = model.llm.generate(
        inputs_embeds=embeds, attention_mask=mask, max_new_tokens=max_new_tokens, do_sample=True,
        temperature=temperature, top_p=top_p, top_k=0, num_return_sequences=n,
        pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
    )
    groups: list[list[list[int]]] = []
    for i in range(len(prompts)):
        group = []
        for row in out[i * n:(i + 1) * n].tolist():
            ids = row[: row.index(tok.eos_token_id) + 1] if tok.eos_token_id in row else row
            group.append(ids or [tok.eos_token_id])
        groups.append(group)
    return groups


def token_logprobs(model: CogAudioModel, examples: list[Segmented]) -> tuple[torch.Tensor, torch.Tensor]:
    """(logp, mask), both (B, L-1): log-prob of every target token at its position, and where targets are."""
    embeds, attn, labels, _ = model._assemble(examples, left_pad=False)
    logits = model.llm(inputs_embeds=embeds, attention_mask=attn).logits[:, :-1]
    target = labels[:, 1:]
    mask = target != IGNORE
    # only the target positions, and no full log-softmax over the vocabulary: logit - logsumexp
    sel = logits[mask].float()
    picked = sel.gather(1, target[mask].unsqueeze(1)).squeeze(1) - torch.logsumexp(sel, dim=-1)
    logp = torch.zeros(mask.shape, dtype=picked.dtype, device=picked.device)
    logp[mask] = picked
    return logp, mask
