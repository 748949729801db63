"""Step time of a DR-SAPO step against TRL's GRPOTrainer(loss_type="sapo") on the same tiny text model.

    python bench/sapo_step.py --steps 6 --completions 8 --tokens 16

Both sides use the `tiny-random` LLM (2-layer Llama, SmolLM2 tokenizer), the same prompts,
`--completions` sampled completions per step (TRL: completions/G prompts x G; ours: the same
number split over the explicit and direct routes, or one route with --one-route), the same
completion length, the same reward (a function of the completion's length) and AdamW. A step
is: sample, reward, group-normalised advantages, per-token log-probs, SAPO loss, backward,
optimizer step. Prints median seconds per step (the first step is warm-up and dropped) and
the ratio ours / TRL, both from this run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPTS = ["How was your day?", "I missed the bus again.", "We won the match!", "My cat is ill."]


def reward_len(completions, **_):
    return [float(len(c if isinstance(c, str) else str(c)) % 13) / 13 for c in completions]


def trl_steps(n: int, completions: int, group: int, tokens: int, threads: int) -> list[float]:
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from training.model.llm import load_llm, load_tokenizer

    torch.set_num_threads(threads)
    tok = load_tokenizer("tiny-random")
    llm = load_llm("tiny-random", vocab_size=len(tok))
    times: list[float] = []

    class Clock(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw):
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kw):
            times.append(time.perf_counter() - self.t0)

    with tempfile.TemporaryDirectory() as tmp:
        args = GRPOConfig(output_dir=tmp, loss_type="sapo", beta=0.0, per_device_train_batch_size=completions,
                          num_generations=group, max_completion_length=tokens, use_cpu=True, report_to=[],
                          save_strategy="no", max_steps=n, learning_rate=1e-4, logging_steps=1000,
                          generation_kwargs={"min_new_tokens": tokens}, disable_tqdm=True, bf16=False)
        ds = Dataset.from_dict({"prompt": PROMPTS * 64})
        GRPOTrainer(model=llm, reward_funcs=reward_len, args=args, train_dataset=ds, processing_class=tok,
                    callbacks=[Clock()]).train()
    return times


def ours_steps(n: int, completions: int, group: int, tokens: int, threads: int, one_route: bool) -> list[float]:
    import torch

    from training.model.cogaudio import CogAudioModel, Segmented
    from training.model.config import ModelConfig
    from training.model.prompt import text_prompt
    from training.rl.policy import sample, token_logprobs
    from training.rl.route import ROUTES, RouteWeight
    from training.rl.sapo import group_advantages, sapo_loss

    torch.set_num_threads(threads)
    model = CogAudioModel.build(ModelConfig(llm="tiny-random", lora_r=0, encoder_layers=1, encoder_d_model=32,
                                            encoder_heads=2, encoder_ffn_dim=64, projector_hidden=64))
    model.llm.requires_grad_(True)  # the whole text model trains, as in TRL
    opt = torch.optim.AdamW([p for p in model.llm.parameters()], lr=1e-4)
    routes = ROUTES[1:] if one_route else ROUTES
    per_route = completions // len(routes) // group
    rw = RouteWeight()
    times = []
    for step in range(n):
        t0 = time.perf_counter()
        weights = rw.weights()
        loss = torch.zeros(())
        means = {}
        for r in routes:
            prompts = [Segmented(text_prompt(model.tokenizer, PROMPTS[(step + i) % 4], r == "explicit"), None, [], [])
                       for i in range(per_route)]
            groups = sample(model, prompts, group, tokens, 1.0, 1.0, seed=step)
            ex, rewards = [], []
            for p, g in zip(prompts, groups, strict=True):
                for ids in g:
                    rewards.append(reward_len([model.tokenizer.decode(ids, skip_special_tokens=True)])[0])
                    ex.append(Segmented(p.before, None, [], ids))
            adv = group_advantages(rewards, group)
            logp, mask = token_logprobs(model, ex)
            lr_, _ = sapo_loss(logp, logp.detach(), adv, mask)
            loss = loss + weights[r] * lr_
            means[r] = sum(rewards) / len(rewards)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        rw.update(means)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--completions", type=int, default=8, help="completions per step (both sides)")
    p.add_argument("--group", type=int, default=2, help="samples per prompt (and route)")
    p.add_argument("--tokens", type=int, default=16, help="completion length (min = max, so both generate as much)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    rows = {
        "TRL GRPOTrainer (loss_type=sapo)": trl_steps(args.steps, args.completions, args.group, args.tokens, args.threads),
        "DR-SAPO, both routes": ours_steps(args.steps, args.completions, args.group, args.tokens, args.threads, False),
        "DR-SAPO, one route": ours_steps(args.steps, args.completions, args.group, args.tokens, args.threads, True),
    }
    base = statistics.median(rows["TRL GRPOTrainer (loss_type=sapo)"][1:])
    print(f"\n{args.completions} completions x {args.tokens} tokens per step, tiny-random LLM, "
          f"{args.threads} thread(s), median of {args.steps - 1} steps after one warm-up\n")
    print("| trainer | s/step (median) | ratio vs TRL |")
    print("|---|---:|---:|")
    for name, t in rows.items():
        m = statistics.median(t[1:])
        print(f"| {name} | {m:.3f} | {m / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
