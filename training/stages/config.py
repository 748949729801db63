"""SFT stage configuration (stage 1 explicit EIPS, stage 2 implicit internalisation), from YAML.

One dataclass per trainer, every field with help text, parsed once (TRL style). A YAML file
has the fields of `SFTConfig` at the top level and the model under `model:`; command-line
`--set key=value` overrides use the same names (`model.lora_r=4`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from training.config_files import apply_overrides, read_yaml
from training.model.config import ModelConfig


@dataclass
class EvalConfig:
    split: str = field(default="test", metadata={"help": "held-out LIME split (held-out texts and voice)"})
    max_rows: int = field(default=200, metadata={"help": "rows evaluated (spread over emotions and kinds; 0 = all)"})
    kinds: list[str] = field(default_factory=lambda: ["single", "conflict"],
                             metadata={"help": "row kinds evaluated (single, conflict, switch)"})
    tag_tokens: int = field(default=8, metadata={"help": "tokens generated to read the Emotion tag"})
    format_rows: int = field(default=8, metadata={"help": "rows generated in full to measure EIPS format validity"})
    format_tokens: int = field(default=120, metadata={"help": "max new tokens for the format check"})
    text_baseline: bool = field(default=True, metadata={"help": "also score the same LLM given only the transcript"})
    batch_size: int = field(default=8, metadata={"help": "generation batch size"})


@dataclass
class SFTConfig:
    stage: int = field(default=1, metadata={"help": "1: explicit EIPS SFT; 2: implicit internalisation (explicit/direct mixture)"})
    data: str = field(default="data/lime-tiny-eips", metadata={"help": "annotated LIME dataset (output of `eips annotate`)"})
    output_dir: str = field(default="runs/sft", metadata={"help": "checkpoints, TensorBoard logs, final model/ and eval.json"})
    init_from: str | None = field(default=None, metadata={"help": "model folder to start from (stage 2 starts from stage 1's model/)"})
    seed: int = field(default=0, metadata={"help": "seed for init, data order and the stage-2 mixture draws"})
    max_steps: int = field(default=200, metadata={"help": "optimizer steps"})
    batch_size: int = field(default=4, metadata={"help": "examples per device per step"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "micro-batches per optimizer step"})
    learning_rate: float = field(default=2e-4, metadata={"help": "LoRA learning rate"})
    audio_learning_rate: float = field(default=1e-3, metadata={"help": "encoder + projector (+ aux head) learning rate"})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay"})
    warmup_steps: int = field(default=10, metadata={"help": "linear warm-up steps"})
    lr_scheduler: str = field(default="cosine", metadata={"help": "transformers scheduler name (cosine, linear, constant_with_warmup)"})
    max_grad_norm: float = field(default=1.0, metadata={"help": "gradient clipping"})
    mixed_precision: str = field(default="no", metadata={"help": "accelerate mixed precision: no | bf16 | fp16"})
    train_kinds: list[str] = field(default_factory=lambda: ["single", "conflict"],
                                   metadata={"help": "LIME row kinds used for training"})
    contrastive_batches: bool = field(default=False, metadata={"help": (
        "fill each batch with one text in several emotions (acoustic-semantic decoupling: only the voice differs)")})
    encoder_warmup_steps: int = field(default=0, metadata={"help": (
        "first steps train encoder+projector on the aux emotion loss only, skipping the LLM (cheap on a CPU)")})
    warmup_batch_size: int = field(default=16, metadata={"help": "batch size of the encoder warm-up steps"})
    aux_weight: float = field(default=0.0, metadata={"help": "weight of the training-only aux emotion loss (needs model.aux_classifier)"})
    explicit_share_start: float = field(default=1.0, metadata={"help": "share of explicit (EIPS) targets at step 0"})
    explicit_share_end: float = field(default=1.0, metadata={"help": (
        "share of explicit targets at the last step (stage 2 moves it toward 0: direct answers)")})
    logging_steps: int = field(default=5, metadata={"help": "log losses every N steps"})
    save_steps: int = field(default=50, metadata={"help": "checkpoint every N steps (resume continues from the last)"})
    save_total_limit: int = field(default=2, metadata={"help": "checkpoints kept"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "the model (see ModelConfig)"})
    eval: EvalConfig = field(default_factory=EvalConfig, metadata={"help": "evaluation after training"})

    def explicit_share(self, step: int) -> float:
        """The stage-2 schedule: linear from start to end share over max_steps."""
        if self.max_steps <= 1:
            return self.explicit_share_end
        t = min(max(step / (self.max_steps - 1), 0.0), 1.0)
        return self.explicit_share_start + t * (self.explicit_share_end - self.explicit_share_start)


def _build(cls, data: dict[str, Any], where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"unknown {where} field(s) {unknown}; known: {', '.join(sorted(names))}")
    kwargs = {}
    for k, v in data.items():
        sub = {"model": ModelConfig, "eval": EvalConfig}.get(k) if cls is SFTConfig else None
        kwargs[k] = _build(sub, v or {}, f"{where}.{k}") if sub else v
    return cls(**kwargs)


def load_config(path: str | Path | None, overrides: list[str] | None = None, stage: int | None = None) -> SFTConfig:
    """Read a YAML config, pick its `stage1:` / `stage2:` section, apply `key=value` overrides.

    Top-level fields are shared by both stages; a `stageN:` section overrides them (its
    `model:` / `eval:` merge field by field). Dotted override keys reach model./eval.
    """
    data: dict[str, Any] = read_yaml(path) if path is not None else {}
    data.pop("pipeline", None)  # the `cogaudio-train pipeline` section (training/pipeline.py)
    data.pop("stage3", None)  # DR-SAPO's section (training/rl/config.py)
    sections = {k: data.pop(k) or {} for k in ("stage1", "stage2") if k in data}
    if stage is not None:
        data["stage"] = stage
    chosen = sections.get(f"stage{data.get('stage', 1)}", {})
    for k, v in chosen.items():
        data[k] = {**data.get(k, {}), **v} if k in ("model", "eval") and isinstance(v, dict) else v
    apply_overrides(data, overrides, "model.lora_r=4")
    return _build(SFTConfig, data, "config")


def config_dict(cfg: SFTConfig) -> dict[str, Any]:
    return dataclasses.asdict(cfg)
