"""`cogaudio-train dist-check`: check an accelerate launch config (DDP, FSDP, DeepSpeed) before renting GPUs.

    cogaudio-train dist-check --accelerate-config configs/accelerate-fsdp.yaml --config configs/tiny-cpu.yaml

The YAML is read the way `accelerate launch` reads it (accelerate's own parser, validation
and launch-environment conversion), so an unknown key or a bad value fails here as it would
there. Then the backend's plugin is built from it as the launched processes build it:
* FSDP: the wrap units are resolved against the model the training config builds (the
  trainer fills them from the model's `_no_split_modules`: the LLM's decoder layers and the
  encoder's layers); a policy that would wrap nothing but the whole model is an error.
* DeepSpeed: the package must be importable (`pip install deepspeed` on the GPU machine;
  it compiles its ops against CUDA), and its gradient accumulation must equal the trainer's.
Last, whether one training step can run here: accelerate runs FSDP and DeepSpeed on GPUs
only (with no GPU it falls back to plain DDP, which the trainer refuses), so on a CPU the
step is left to the GPU machine and the command for it is printed.

Exit codes: 0 the config is valid, 1 it is not, 3 its backend is not installed here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys

EXIT_INVALID, EXIT_MISSING = 1, 3


def fsdp_wrap_units(model) -> list[str]:
    """Class names FSDP should shard one by one: every `_no_split_modules` inside the model
    (transformers sets it on each pretrained model: its decoder / encoder layer classes)."""
    names: set[str] = set()
    for module in model.modules():
        names.update(getattr(module, "_no_split_modules", None) or [])
    present = {type(m).__name__ for m in model.modules()}
    return sorted(names & present)


def launch_env(accelerate_config: str) -> tuple[object, dict[str, str]]:
    """(validated launch args, the environment `accelerate launch` gives each process)."""
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env, prepare_multi_gpu_env

    args = launch_command_parser().parse_args(["--config_file", accelerate_config, "-m", "training.cli"])
    args, _, _ = _validate_launch_command(args)
    if args.use_deepspeed:
        args.deepspeed_fields_from_accelerate_config = ""
        _, env = prepare_deepspeed_cmd_env(args)
    else:
        env = prepare_multi_gpu_env(args)
    return args, env


def check(accelerate_config: str, config: str | None, overrides: list[str]) -> dict:
    from accelerate.commands.config.config_args import load_config_from_file

    report: dict = {"accelerate_config": accelerate_config, "checks": [], "ok": True, "step": None}
    try:
        cluster = load_config_from_file(accelerate_config)  # strict: unknown keys raise
    except (FileNotFoundError, ValueError, TypeError) as exc:
        return {**report, "ok": False, "exit": EXIT_INVALID, "error": f"{accelerate_config}: {exc}"}
    kind = str(cluster.distributed_type).split(".")[-1]
    report.update(distributed_type=kind, processes=cluster.num_processes, machines=cluster.num_machines,
                  mixed_precision=str(cluster.mixed_precision))
    if kind == "DEEPSPEED" and importlib.util.find_spec("deepspeed") is None:
        report["checks"].append("accelerate config parsed")
        return {**report, "ok": False, "exit": EXIT_MISSING, "error": (
            "DeepSpeed is not installed here, so its config cannot be built; install it where it runs "
            "(`pip install deepspeed` on the GPU machine, with the CUDA toolkit for its ops), or use "
            "configs/accelerate-fsdp.yaml, which needs nothing beyond torch")}
    try:
        args, env = launch_env(accelerate_config)
    except (ValueError, TypeError, ImportError) as exc:
        return {**report, "ok": False, "exit": EXIT_INVALID, "error": f"accelerate launch would refuse it: {exc}"}
    report["checks"].append(f"accelerate launch accepts it ({args.num_processes} processes)")

    cfg = None
    if config:
        from training.stages.config import load_config

        cfg = load_config(config, overrides)
    if kind == "FSDP":
        from accelerate.utils import FullyShardedDataParallelPlugin

        saved = dict(os.environ)
        os.environ.update({k: v for k, v in env.items() if k.startswith(("FSDP_", "ACCELERATE_USE_FSDP"))})
        try:
            plugin = FullyShardedDataParallelPlugin()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        report["checks"].append(f"FSDP plugin built (version {plugin.fsdp_version})")
        if cfg is not None:
            from training.stages.trainer import build_model

            model = build_model(cfg)
            if not plugin.transformer_cls_names_to_wrap:
                plugin.transformer_cls_names_to_wrap = fsdp_wrap_units(model)
            plugin.set_auto_wrap_policy(model)
            units = plugin.transformer_cls_names_to_wrap or []
            wrapped = sum(type(m).__name__ in units for m in model.modules())
            if not wrapped:
                return {**report, "ok": False, "exit": EXIT_INVALID, "error": (
                    "FSDP would wrap nothing but the whole model (no layer class to shard one by one); set "
                    "fsdp_transformer_layer_cls_to_wrap")}
            report["checks"].append(f"FSDP shards {wrapped} layers one by one ({', '.join(units)})")
    if kind == "DEEPSPEED":
        from accelerate.utils import DeepSpeedPlugin

        plugin = DeepSpeedPlugin(**{k: v for k, v in (cluster.deepspeed_config or {}).items()
                                    if k in ("zero_stage", "gradient_accumulation_steps", "gradient_clipping",
                                             "offload_optimizer_device", "offload_param_device", "zero3_init_flag")})
        ds_accum = plugin.deepspeed_config.get("gradient_accumulation_steps")
        if cfg is not None and ds_accum not in ("auto", cfg.gradient_accumulation_steps):
            return {**report, "ok": False, "exit": EXIT_INVALID, "error": (
                f"deepspeed_config.gradient_accumulation_steps is {ds_accum} but the training config accumulates "
                f"{cfg.gradient_accumulation_steps}: DeepSpeed steps the optimizer on its own count, so make them equal")}
        report["checks"].append(f"DeepSpeed plugin built (ZeRO stage {plugin.zero_stage})")

    import torch

    cmd = (f"accelerate launch --config_file {accelerate_config} -m training.cli sft --config "
           f"{config or 'CONFIG'} --set max_steps=1 --output-dir runs/dist-check")
    if kind in ("FSDP", "DEEPSPEED") and not torch.cuda.is_available():
        report["step"] = (f"not run: accelerate runs {kind} on GPUs only (with no GPU it falls back to plain DDP); "
                          f"on the GPU machine: {cmd}")
    else:
        report["step"] = f"run it with: {cmd}"
    report["exit"] = 0
    return report


def _run(args: argparse.Namespace) -> int:
    report = check(args.accelerate_config, args.config, args.set or [])
    print(json.dumps(report, indent=2))
    if not report["ok"]:
        print(f"dist-check: {report['error']}", file=sys.stderr)
    return report["exit"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("dist-check", help="check an accelerate config (DDP, FSDP, DeepSpeed) before launching",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--accelerate-config", required=True, help="accelerate launch YAML (configs/accelerate-*.yaml)")
    p.add_argument("--config", help="training config whose model FSDP must wrap (a small one runs on a CPU)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a training config field")
    p.set_defaults(func=_run)
