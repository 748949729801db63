"""Our SAPO loss (training/rl/sapo.py + policy.token_logprobs) equals TRL's GRPOTrainer(loss_type="sapo").

Same tiny text-only LLM object, same batch (prompts, completions of different lengths, advantages
of both signs, old and reference log-probs away from the current ones so the soft gate and the
KL term both matter): the two losses and their gradients on every LLM weight must agree.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
trl = pytest.importorskip("trl")

from training.model.cogaudio import CogAudioModel, Segmented, build_encoder  # noqa: E402
from training.model.config import ModelConfig  # noqa: E402
from training.model.llm import load_llm, load_tokenizer  # noqa: E402
from training.rl.policy import token_logprobs  # noqa: E402
from training.rl.sapo import sapo_loss  # noqa: E402


def _trainer(llm, tok, tmp, beta: float):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(output_dir=str(tmp), loss_type="sapo", sapo_temperature_pos=1.0, sapo_temperature_neg=1.05,
                      beta=beta, per_device_train_batch_size=4, num_generations=2, max_completion_length=6,
                      use_cpu=True, report_to=[], save_strategy="no", bf16=False)
    ds = Dataset.from_dict({"prompt": ["How are you today?"] * 4})
    return GRPOTrainer(model=llm, reward_funcs=lambda completions, **_: [0.0] * len(completions), args=args,
                       train_dataset=ds, processing_class=tok)


@pytest.mark.parametrize("beta", [0.0, 0.04])  # 0.04: with TRL's default ratio-corrected KL
def test_same_loss_and_gradients_as_trl_sapo_on_the_same_batch(tmp_path, beta):
    tok = load_tokenizer("tiny-random")
    llm = load_llm("tiny-random", vocab_size=len(tok))
    cfg = ModelConfig(llm="tiny-random", lora_r=0, encoder_layers=1, encoder_d_model=32, encoder_heads=2,
                      encoder_ffn_dim=64, projector_hidden=64)
    ours = CogAudioModel(cfg, llm, tok, build_encoder(cfg))
    llm.requires_grad_(True)  # lora_r=0 freezes the LLM; here every weight is compared
    if beta:  # TRL builds its reference model from the policy's path: give it a local one, no hub
        llm.save_pretrained(tmp_path / "tiny")
        llm.config._name_or_path = str(tmp_path / "tiny")
    trainer = _trainer(llm, tok, tmp_path, beta)
    assert trainer.model is llm or getattr(trainer.model, "base_model", None) is llm or trainer.model.model is llm.model

    g = torch.Generator().manual_seed(0)
    B, P, T = 4, 5, 4
    prompt_ids = torch.randint(10, 1000, (B, P), generator=g)
    lengths = [4, 2, 3, 1]
    completion_mask = torch.tensor([[1 if t < n else 0 for t in range(T)] for n in lengths])
    completion_ids = torch.randint(10, 1000, (B, T), generator=g).masked_fill(completion_mask == 0, tok.pad_token_id)
    advantages = torch.tensor([0.9, -0.4, 1.3, -1.1])
    examples = [Segmented(prompt_ids[i].tolist(), None, [], completion_ids[i, :lengths[i]].tolist()) for i in range(B)]

    with torch.no_grad():
        current, our_mask = token_logprobs(ours, examples)
    noise = torch.randn(int(completion_mask.sum()), generator=g)
    cur_flat = current[our_mask]
    old_flat, ref_flat = cur_flat + 0.3 * noise, cur_flat - 0.2 * noise.flip(0)

    def trl_layout(flat):
        out = torch.zeros(B, T)
        out[completion_mask.bool()] = flat
        return out

    def our_layout(flat):
        out = torch.zeros_like(current)
        out[our_mask] = flat
        return out

    inputs = {"prompt_ids": prompt_ids, "prompt_mask": torch.ones(B, P, dtype=torch.long),
              "completion_ids": completion_ids, "completion_mask": completion_mask, "advantages": advantages,
              "old_per_token_logps": trl_layout(old_flat), "ref_per_token_logps": trl_layout(ref_flat),
              "num_items_in_batch": completion_mask.sum()}
    llm.eval()  # TRL's eval mode: no gradient-accumulation divisor; the tiny model has no dropout
    trl_loss = trainer._compute_loss(trainer.model, inputs)
    trl_loss.backward()
    trl_grads = {n: p.grad.clone() for n, p in llm.named_parameters() if p.grad is not None}
    llm.zero_grad(set_to_none=True)

    logp, mask = token_logprobs(ours, examples)
    our_loss, stats = sapo_loss(logp, our_layout(old_flat), advantages, mask, 1.0, 1.05,
                                our_layout(ref_flat) if beta else None, beta,
                                kl_ratio_correction=trainer.args.use_bias_correction_kl)
    our_loss.backward()
    assert float(our_loss.detach()) == pytest.approx(float(trl_loss.detach()), rel=1e-5, abs=1e-7)
    assert stats.ratio_mean != pytest.approx(1.0, abs=1e-3)  # off-policy: the soft gate is exercised
    assert trl_grads and set(trl_grads) == {n for n, p in llm.named_parameters() if p.grad is not None}
    for n, p in llm.named_parameters():
        # float32, different summation orders (TRL's selective log-softmax): equal to 1e-4 of the largest entry
        scale = float(trl_grads[n].abs().max())
        assert float((p.grad - trl_grads[n]).abs().max()) <= 1e-4 * scale + 1e-8, n
