"""The DR-SAPO loop (stage 3): both routes per prompt, rewards, SAPO loss, route weight, resume.

Reads top to bottom. Each step draws `prompts_per_step` rows (a pure function of seed and
step, so a resumed run sees the same prompts), and for each route (explicit, direct) samples
`group_size` completions per prompt from the model *with the audio* (training/rl/policy.py),
scores them (training/rl/rewards.py; a sample whose reward raises gets none and its reason
goes to reward_errors.jsonl), normalises advantages within each (prompt, route) group, and
takes the SAPO loss of both routes mixed by the route weight (training/rl/route.py,
training/rl/sapo.py). Checkpoints hold the trainable weights, optimizer, RNG, step (the
stage-1/2 checkpoint format) and the route averages; re-running resumes at the same step.

Before the first and after the last step the held-out prompts are answered greedily on both
routes and scored with the same rewards (`eval_before` / `eval_after` in result.json, the
"stage 3 beats stage 2" check), and the emotion evaluation of stages 1-2 runs on the result.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import statistics
import time
from pathlib import Path

import torch

from training.model.cogaudio import CogAudioModel, Segmented
from training.rl.config import RLConfig
from training.rl.policy import sample, token_logprobs
from training.rl.rewards import RewardModel, Sample
from training.rl.route import ROUTES, RouteWeight
from training.rl.sapo import group_advantages, sapo_loss
from training.stages.data import BatchPlan, ExampleBuilder, select_rows
from training.stages.trainer import _checkpoints, _trainable, load_checkpoint, save_checkpoint

log_ = logging.getLogger(__name__)


def build_rewards(cfg: RLConfig) -> RewardModel:
    relevance = None
    if cfg.relevance == "minilm":
        from training.eval.relevance import Embedder

        emb = Embedder()
        relevance = lambda a, b: emb.cosine([a], [b])[0]  # noqa: E731
    elif cfg.relevance != "lexical":
        raise ValueError(f"relevance must be minilm or lexical, not {cfg.relevance!r}")
    judge = None
    if cfg.judge_base_url:
        import os

        from training.rl.rewards import JudgeReward

        if not cfg.judge_model:
            raise ValueError("judge_base_url needs judge_model")
        judge = JudgeReward(cfg.judge_base_url, cfg.judge_model, api_key=os.environ.get("OPENAI_API_KEY"))
    return RewardModel(relevance=relevance, judge=judge, judge_weight=cfg.judge_weight)


def _step_seed(seed: int, step: int, route: str) -> int:
    return (seed * 1_000_003 + step * 7919 + ROUTES.index(route)) % (2**31)


def _prompt(builder: ExampleBuilder, row: dict, route: str) -> Segmented:
    return builder.prompt_example(row, builder.prompts[route == "explicit"])


def score_greedy(model: CogAudioModel, builder: ExampleBuilder, rows: list[dict], rewards: RewardModel,
                 max_new: dict[str, int], batch: int = 7) -> dict:
    """Mean reward per route of greedy answers to `rows` (the held-out check)."""
    model.eval()
    out: dict = {}
    for route in ROUTES:
        texts: list[str] = []
        for s in range(0, len(rows), batch):
            texts += model.generate([_prompt(builder, r, route) for r in rows[s:s + batch]], max_new_tokens=max_new[route])
        res = [rewards.score(Sample(route, t, r["text"], r["emotion"], r["intensity"])) for t, r in zip(texts, rows, strict=True)]
        vals = [x.total for x in res if x.total is not None]
        out[route] = {"mean_reward": statistics.fmean(vals) if vals else None, "n": len(vals),
                      "samples": texts[:2]}
    model.train()
    return out


def _save(out: Path, step: int, model, optimizer, scheduler, route: RouteWeight, keep: int) -> None:
    ckpt = save_checkpoint(out, step, model, optimizer, scheduler, keep)
    (ckpt / "route.json").write_text(json.dumps(route.state()))


def train_rl(cfg: RLConfig, rewards: RewardModel | None = None, log=print) -> dict:
    """Run (or resume) stage 3; returns the result written to OUTPUT_DIR/result.json."""
    from accelerate.utils import set_seed
    from transformers import get_scheduler

    from training.eval.emotion_eval import pick_rows
    from training.lime.dataset import load_lime
    from training.model.export_layout import load_model, save_model

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    set_seed(cfg.seed)
    data = load_lime(Path(cfg.data))
    train_ds = data["train"]
    model = load_model(cfg.init_from).train() if cfg.init_from else CogAudioModel.build(cfg.model)
    if not cfg.train_audio:
        model.encoder.requires_grad_(False)
        model.projector.requires_grad_(False)
    if not _trainable(model):
        raise ValueError("nothing to train: stage 3 moves the LoRA (model.lora_r > 0) or the audio path (train_audio)")
    ref = None
    if cfg.kl_beta > 0:
        ref = copy.deepcopy(model).eval().requires_grad_(False)  # the stage-2 model, frozen
    builder = ExampleBuilder.for_model(model)
    rewards = rewards or build_rewards(cfg)
    route = RouteWeight(cfg.route_alpha, cfg.route_tau, cfg.route_min_weight)
    optimizer = torch.optim.AdamW(list(_trainable(model).values()), lr=cfg.learning_rate, weight_decay=0.0)
    scheduler = get_scheduler("constant", optimizer)
    start = 0
    if _checkpoints(out):
        last = _checkpoints(out)[-1]
        start = load_checkpoint(last, model, optimizer, scheduler)
        if (last / "route.json").exists():
            route.load(json.loads((last / "route.json").read_text()))
        log(f"resumed from {last} at step {start}")
    plan = BatchPlan(select_rows(train_ds, cfg.train_kinds), cfg.prompts_per_step, False, cfg.seed)
    max_new = {"explicit": cfg.max_new_tokens, "direct": cfg.direct_max_new_tokens}
    held_out = []
    if cfg.eval_prompts and cfg.eval.split in data:
        ds = data[cfg.eval.split]
        held_out = [ds[i] for i in pick_rows(ds, cfg.eval.kinds, cfg.eval_prompts)]
    before_path = out / "eval_before.json"
    if held_out and not before_path.exists():
        log(f"held-out rewards of the starting model on {len(held_out)} prompts")
        before_path.write_text(json.dumps(score_greedy(model, builder, held_out, rewards, max_new), indent=2))
    metrics = (out / "metrics.jsonl").open("a")
    errors = (out / "reward_errors.jsonl").open("a")
    t0 = time.time()
    for step in range(start, cfg.max_steps):
        rows = [train_ds[i] for i in plan.batch(step)]
        weights = route.weights()
        batches: dict[str, tuple] = {}
        stats: dict[str, float] = {f"weight_{r}": w for r, w in weights.items()}
        means: dict[str, float | None] = {}
        for r in ROUTES:
            prompts = [_prompt(builder, row, r) for row in rows]
            model.eval()
            groups = sample(model, prompts, cfg.group_size, max_new[r], cfg.temperature, cfg.top_p,
                            _step_seed(cfg.seed, step, r))
            model.train()
            examples, totals, parts = [], [], []
            for prompt, row, group in zip(prompts, rows, groups, strict=True):
                for ids in group:
                    text = model.tokenizer.decode(ids, skip_special_tokens=True)
                    res = rewards.score(Sample(r, text, row["text"], row["emotion"], row["intensity"]))
                    if res.total is None:
                        log_.warning("step %d %s: no reward (%s)", step + 1, r, res.error)
                        errors.write(json.dumps({"step": step + 1, "route": r, "error": res.error,
                                                 "completion": text[:200]}) + "\n")
                        errors.flush()
                    else:
                        parts.append(res.parts)
                    totals.append(res.total)
                    # the sampled prompt itself (its mel chunks or its cached encoder frames) with the completion
                    examples.append(dataclasses.replace(prompt, target=list(ids)))
            adv = group_advantages(totals, cfg.group_size)
            scored = [t for t in totals if t is not None]
            means[r] = statistics.fmean(scored) if scored else None
            stats[f"reward_{r}"] = means[r] if means[r] is not None else float("nan")
            stats[f"no_reward_{r}"] = float(len(totals) - len(scored))
            for k in sorted({k for p in parts for k in p}):
                stats[f"{r}/{k}"] = statistics.fmean(p[k] for p in parts if k in p)
            ref_logp = None
            if ref is not None:
                with torch.no_grad():
                    ref_logp = token_logprobs(ref, examples)[0]
            batches[r] = (examples, adv, ref_logp)
        old: dict[str, torch.Tensor] = {}
        for it in range(cfg.num_iterations):
            loss = torch.zeros(())
            for r, (examples, adv, ref_logp) in batches.items():
                logp, mask = token_logprobs(model, examples)
                if it == 0:
                    old[r] = logp.detach()  # on-policy: the rollouts came from these very weights
                lr_, st = sapo_loss(logp, old[r], adv, mask, cfg.sapo_temperature_pos, cfg.sapo_temperature_neg,
                                    ref_logp, cfg.kl_beta, cfg.kl_ratio_correction)
                loss = loss + weights[r] * lr_
                stats[f"loss_{r}"], stats[f"gate_{r}"], stats[f"kl_{r}"] = st.loss, st.gate_mean, st.kl
            loss.backward()
            if cfg.max_grad_norm:
                torch.nn.utils.clip_grad_norm_(list(_trainable(model).values()), cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        route.update(means)
        done = step + 1
        stats["loss"] = float(loss)
        if held_out and cfg.eval_steps and done % cfg.eval_steps == 0 and done < cfg.max_steps:
            ev = score_greedy(model, builder, held_out, rewards, max_new)
            stats.update({f"heldout_{r}": ev[r]["mean_reward"] for r in ROUTES})
        metrics.write(json.dumps({"step": done, **stats, "elapsed_s": round(time.time() - t0, 1)}) + "\n")
        metrics.flush()
        if done % cfg.logging_steps == 0 or done == cfg.max_steps:
            log(f"step {done}/{cfg.max_steps} " + " ".join(
                f"{k}={v:.3g}" for k, v in stats.items() if "/" not in k))
        if done % cfg.save_steps == 0 or done == cfg.max_steps:
            _save(out, done, model, optimizer, scheduler, route, cfg.save_total_limit)
    metrics.close()
    errors.close()
    result: dict = {"steps": cfg.max_steps, "resumed_from": start, "train_seconds": round(time.time() - t0, 1),
                    "route_averages": route.state()["averages"]}
    save_model(model, out / "model")
    if held_out:
        result["eval_before"] = json.loads(before_path.read_text())
        result["eval_after"] = score_greedy(model, builder, held_out, rewards, max_new)
    if cfg.eval.max_rows >= 0 and cfg.eval.split in data:
        from training.eval.emotion_eval import evaluate

        model.eval()
        result["eval"] = evaluate(model, data[cfg.eval.split], cfg.eval, builder, explicit=False, log=log)
    try:
        from training.rl.curve import plot_learning_curve

        result["learning_curve"] = str(plot_learning_curve(out / "metrics.jsonl", out / "learning_curve.png",
                                                           result.get("eval_before"), result.get("eval_after")))
    except ImportError as exc:  # matplotlib is optional
        log(f"no learning curve PNG ({exc})")
    (out / "result.json").write_text(json.dumps(result, indent=2, default=str))
    return result
