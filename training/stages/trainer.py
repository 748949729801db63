"""The SFT loop shared by stage 1 (explicit EIPS) and stage 2 (implicit internalisation).

Reads top to bottom: build or load the model, plan batches, then for each optimizer step
draw the step's rows, decide per example whether its target is explicit (EIPS steps then
the response) or direct (tag then response) from the config's schedule, and take a step.
accelerate owns devices, mixed precision, distributed data parallelism and TensorBoard.

Checkpoints hold only what training changes (trainable weights, optimizer, scheduler,
step), never the frozen base LLM, so they stay small at 7B too. A run restarted with the
same output_dir resumes from its latest checkpoint and continues the same step count,
with the same batches (the batch plan is a pure function of seed and step).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from training.model.cogaudio import CogAudioModel
from training.stages.config import SFTConfig, config_dict
from training.stages.data import BatchPlan, ExampleBuilder, check_annotated, select_rows


def _checkpoints(out: Path) -> list[Path]:
    found = [p for p in (out / "checkpoints").glob("step-*") if (p / "state.json").exists()]
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def _trainable(model: CogAudioModel) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(out: Path, step: int, model: CogAudioModel, optimizer, scheduler, keep: int) -> Path:
    final = out / "checkpoints" / f"step-{step}"
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({n: p.detach().cpu().contiguous() for n, p in _trainable(model).items()}, str(tmp / "trainable.safetensors"))
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "torch_rng": torch.get_rng_state()}, tmp / "optim.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)  # a kill mid-save leaves only a .tmp folder, never a half checkpoint
    for old in _checkpoints(out)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(ckpt: Path, model: CogAudioModel, optimizer, scheduler) -> int:
    weights = load_file(str(ckpt / "trainable.safetensors"))
    params = _trainable(model)
    missing = set(params) - set(weights)
    if missing:
        raise ValueError(f"checkpoint {ckpt} lacks {sorted(missing)[:3]}: was it written with another config?")
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n])
    state = torch.load(ckpt / "optim.pt", weights_only=False)  # our own file, written above
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    return json.loads((ckpt / "state.json").read_text())["step"]


def _param_groups(model: CogAudioModel, cfg: SFTConfig) -> list[dict]:
    llm, audio = [], []
    for n, p in _trainable(model).items():
        (llm if n.startswith("llm.") else audio).append(p)
    groups = [{"params": audio, "lr": cfg.audio_learning_rate}]
    if llm:
        groups.append({"params": llm, "lr": cfg.learning_rate})
    return groups


def build_model(cfg: SFTConfig) -> CogAudioModel:
    if cfg.init_from:
        from training.model.export_layout import load_model

        return load_model(cfg.init_from).train()
    return CogAudioModel.build(cfg.model)


def _cpu_only() -> bool:
    """No CUDA, XPU or MPS device here. accelerate must then be told cpu=True, or processes that
    torchrun / `accelerate launch` started would not form a (gloo) process group."""
    xpu = getattr(torch, "xpu", None)
    return not (torch.cuda.is_available() or torch.backends.mps.is_available() or (xpu is not None and xpu.is_available()))


def train(cfg: SFTConfig, log=print) -> dict:
    """Run (or resume) the stage; returns the final metrics (eval included when a split exists)."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from transformers import get_scheduler

    from training.lime.dataset import load_lime

    if cfg.encoder_warmup_steps and not cfg.model.aux_classifier and not cfg.init_from:
        raise ValueError("encoder_warmup_steps needs model.aux_classifier: true (the warm-up trains on the aux loss)")
    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    from accelerate.utils import DistributedDataParallelKwargs, DistributedType

    # the encoder warm-up steps leave the LoRA without a gradient; DDP must be told it may happen
    ddp = DistributedDataParallelKwargs(find_unused_parameters=cfg.encoder_warmup_steps > 0)
    acc = Accelerator(cpu=_cpu_only(), mixed_precision=cfg.mixed_precision, log_with="tensorboard",
                      project_dir=str(out), kwargs_handlers=[ddp])
    if acc.num_processes == 1 and int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise RuntimeError(f"launched as {os.environ['WORLD_SIZE']} processes but accelerate sees one: each would "
                           "train alone; check the accelerate config (docs/training.md, several processes)")
    for flag, kind in (("ACCELERATE_USE_FSDP", DistributedType.FSDP), ("ACCELERATE_USE_DEEPSPEED", DistributedType.DEEPSPEED)):
        if os.environ.get(flag, "").lower() == "true" and acc.distributed_type != kind:
            raise RuntimeError(f"the accelerate config asks for {kind.value}, which accelerate runs on GPUs only; here it "
                               f"would fall back to {acc.distributed_type.value}. Check the config with "
                               "`cogaudio-train dist-check` and launch it on the GPU machine")
    set_seed(cfg.seed)
    data = load_lime(Path(cfg.data))
    train_ds = data["train"]
    check_annotated(train_ds)
    model = build_model(cfg)
    if cfg.init_from:
        cfg.model = model.cfg  # the model is what init_from says it is
    builder = ExampleBuilder.for_model(model)
    rows = select_rows(train_ds, cfg.train_kinds)
    plan = BatchPlan(rows, cfg.batch_size, cfg.contrastive_batches, cfg.seed)
    warm_plan = BatchPlan(rows, cfg.warmup_batch_size, False, cfg.seed + 1)
    optimizer = torch.optim.AdamW(_param_groups(model, cfg), weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(cfg.lr_scheduler, optimizer, num_warmup_steps=cfg.warmup_steps,
                              num_training_steps=cfg.max_steps)
    sharded = acc.distributed_type in (DistributedType.DEEPSPEED, DistributedType.FSDP)
    deepspeed = acc.distributed_type == DistributedType.DEEPSPEED
    if deepspeed:
        # no dataloader goes through prepare(), so DeepSpeed learns the micro-batch size here
        acc.state.deepspeed_plugin.deepspeed_config["train_micro_batch_size_per_gpu"] = cfg.batch_size
    if acc.distributed_type == DistributedType.FSDP and not acc.state.fsdp_plugin.transformer_cls_names_to_wrap:
        from training.stages.dist_check import fsdp_wrap_units

        # CogAudioModel is no transformers model: name its layer classes, or FSDP shards only the whole
        acc.state.fsdp_plugin.transformer_cls_names_to_wrap = fsdp_wrap_units(model)
    start = 0
    if _checkpoints(out) and not sharded:
        start = load_checkpoint(_checkpoints(out)[-1], model, optimizer, scheduler)
        log(f"resumed from {_checkpoints(out)[-1]} at step {start}")
    pmodel, optimizer, scheduler = acc.prepare(model, optimizer, scheduler)
    if _checkpoints(out) and sharded:
        acc.load_state(str(_checkpoints(out)[-1]))
        start = json.loads((_checkpoints(out)[-1] / "state.json").read_text())["step"]
        log(f"resumed from {_checkpoints(out)[-1]} at step {start}")
    acc.init_trackers("tb", config={k: str(v) for k, v in config_dict(cfg).items()})
    (out / "config.json").write_text(json.dumps(config_dict(cfg), indent=2))
    metrics_log = (out / "metrics.jsonl").open("a")
    world, rank = acc.num_processes, acc.process_index
    t0 = time.time()
    for step in range(start, cfg.max_steps):
        warm = step < cfg.encoder_warmup_steps
        share = cfg.explicit_share(step)
        stats: dict[str, float] = {}
        for micro in range(cfg.gradient_accumulation_steps):
            slot = (step * cfg.gradient_accumulation_steps + micro) * world + rank
            idx = (warm_plan if warm else plan).batch(slot)
            batch = [train_ds[i] for i in idx]
            draws = np.random.default_rng([cfg.seed, step, micro, rank]).random(len(batch))
            if warm:
                examples = [builder.audio_only(r) for r in batch]
            else:
                examples = [builder.train_example(r, explicit=bool(d < share)) for r, d in zip(batch, draws, strict=True)]
            res = pmodel(examples, builder.emotion_ids(batch), aux_weight=cfg.aux_weight if not warm else 1.0,
                         lm_weight=0.0 if warm else 1.0)
            # DeepSpeed divides by its own gradient_accumulation_steps (dist-check: equal to ours)
            acc.backward(res["loss"] / (1 if deepspeed else cfg.gradient_accumulation_steps))
            for k, v in res.items():
                stats[k] = stats.get(k, 0.0) + float(v.detach()) / cfg.gradient_accumulation_steps
        if world > 1:  # log the mean over the processes, as one process logs the mean over its micro-batches
            keys = sorted(stats)
            means = acc.reduce(torch.tensor([stats[k] for k in keys], device=acc.device), reduction="mean")
            stats = dict(zip(keys, means.tolist(), strict=True))
        if cfg.max_grad_norm:
            acc.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        done = step + 1
        stats.update({"explicit_share": share, "lr": scheduler.get_last_lr()[-1], "phase_warmup": float(warm)})
        acc.log(stats, step=done)
        if acc.is_main_process:
            metrics_log.write(json.dumps({"step": done, **stats, "elapsed_s": round(time.time() - t0, 1)}) + "\n")
            metrics_log.flush()
            if done % cfg.logging_steps == 0 or done == cfg.max_steps:
                log(f"step {done}/{cfg.max_steps} " + " ".join(f"{k}={v:.4g}" for k, v in stats.items()))
        if done % cfg.save_steps == 0 or done == cfg.max_steps:
            if sharded:  # ZeRO shards optimizer state across ranks: let accelerate gather it
                acc.save_state(str(out / "checkpoints" / f"step-{done}"))
                if acc.is_main_process:
                    (out / "checkpoints" / f"step-{done}" / "state.json").write_text(json.dumps({"step": done}))
            elif acc.is_main_process:
                save_checkpoint(out, done, acc.unwrap_model(pmodel), optimizer, scheduler, cfg.save_total_limit)
    metrics_log.close()
    acc.wait_for_everyone()
    result: dict = {"steps": cfg.max_steps, "resumed_from": start, "train_seconds": round(time.time() - t0, 1),
                    "processes": world, "distributed_type": acc.distributed_type.value, "engine": type(pmodel).__name__}
    if acc.is_main_process:
        from training.model.export_layout import save_model

        final = acc.unwrap_model(pmodel)
        save_model(final, out / "model")
        if cfg.eval.split in data and cfg.eval.max_rows >= 0:
            from training.eval.emotion_eval import evaluate

            final.eval()
            result["eval"] = evaluate(final, data[cfg.eval.split], cfg.eval, builder, explicit=cfg.stage == 1, log=log)
        (out / "result.json").write_text(json.dumps(result, indent=2))
    acc.end_training()
    return result
