"""The on-disk model layout that the export step (issue 6) reads. Documented in docs/training.md.

    DIR/cogaudio.json                  ModelConfig + base LLM + prompt format version
    DIR/adapter/                       peft save_pretrained: adapter_config.json, adapter_model.safetensors
    DIR/audio/model.safetensors        encoder + projector, Hugging Face Ultravox names:
                                         audio_tower.*            (transformers WhisperEncoder)
                                         multi_modal_projector.{ln_pre,linear_1,ln_mid,linear_2}.weight
    DIR/audio/config.json              Ultravox-style config (audio_config = WhisperConfig dict,
                                         stack_factor, hidden_size, text_hidden_size) plus plain
                                         fields n_mels, d_model, layers, heads, llm_hidden_size

The Ultravox names are what llama.cpp's convert_hf_to_gguf.py maps to an ultravox mmproj.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from core.emotion.eips import PROMPT_FORMAT_VERSION
from core.models.audio_tokens import tokens_per_chunk
from training.model.cogaudio import CogAudioModel
from training.model.config import ModelConfig
from training.model.llm import llm_source
from training.model.mel import AUDIO_MARKER


def audio_state_dict(model: CogAudioModel) -> dict[str, torch.Tensor]:
    sd = {f"audio_tower.{k}": v for k, v in model.encoder.state_dict().items()}
    sd.update({f"multi_modal_projector.{k}": v for k, v in model.projector.state_dict().items()})
    return {k: v.detach().float().cpu().contiguous() for k, v in sd.items()}


def save_model(model: CogAudioModel, out_dir: str | Path) -> Path:
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    cfg = model.cfg
    src, gguf = llm_source(cfg.llm, cfg.llm_gguf_file)
    enc = model.encoder.config
    d_llm = model.projector.linear_2.weight.shape[0]
    meta = {
        "model": asdict(cfg), "base_llm": {"source": src, "gguf_file": gguf},
        "prompt_format_version": PROMPT_FORMAT_VERSION, "audio_marker": AUDIO_MARKER,
        "audio_tokens_per_30s_chunk": tokens_per_chunk(cfg.stack_factor),
    }
    (out / "cogaudio.json").write_text(json.dumps(meta, indent=2))
    audio_cfg = {
        "architectures": ["UltravoxModel"], "model_type": "ultravox",
        "audio_config": enc.to_dict(), "text_config": {"hidden_size": d_llm},
        "stack_factor": cfg.stack_factor, "hidden_size": cfg.projector_hidden, "projector_act": "swiglu",
        "n_mels": enc.num_mel_bins, "d_model": enc.d_model, "layers": enc.encoder_layers,
        "heads": enc.encoder_attention_heads, "ffn_dim": enc.encoder_ffn_dim, "llm_hidden_size": d_llm,
        "layer_norm_eps": 1e-5, "projector_rms_eps": 1e-6, "audio_tail_tokens": cfg.audio_tail_tokens,
        "audio_input": cfg.audio_input, "encoder_init": cfg.encoder_init,
    }
    (out / "audio" / "config.json").write_text(json.dumps(audio_cfg, indent=2, default=str))
    save_file(audio_state_dict(model), str(out / "audio" / "model.safetensors"))
    if cfg.lora_r > 0:
        model.llm.save_pretrained(str(out / "adapter"))
    return out


def load_model(model_dir: str | Path, device: str = "cpu") -> CogAudioModel:
    """Rebuild a saved CogAudioModel (base LLM from its source, then adapter and audio weights)."""
    d = Path(model_dir)
    meta_path = d / "cogaudio.json"
    if not meta_path.exists():
        raise FileNotFoundError(f"{meta_path} missing: point at a folder written by `cogaudio-train sft` (its model/)")
    meta = json.loads(meta_path.read_text())
    cfg = ModelConfig(**{**meta["model"], "encoder_init": "scratch"})  # weights come from the file below
    audio_cfg = json.loads((d / "audio" / "config.json").read_text())
    cfg.encoder_d_model, cfg.encoder_layers = audio_cfg["d_model"], audio_cfg["layers"]
    cfg.encoder_heads, cfg.encoder_ffn_dim, cfg.n_mels = audio_cfg["heads"], audio_cfg["ffn_dim"], audio_cfg["n_mels"]
    model = CogAudioModel.build(cfg)
    load_weights_into(model, d)
    # built from scratch only to skip loading weights twice; the model still names its encoder, which a
    # frames model needs to find the frozen encoder pass (training.stages.data.frames_cache) and which
    # save_model writes into the next stage's folder for the exporter
    model.cfg.encoder_init = meta["model"].get("encoder_init", "scratch")
    return model.to(device).eval()


def load_weights_into(model: CogAudioModel, d: Path) -> None:
    sd = load_file(str(d / "audio" / "model.safetensors"))
    model.encoder.load_state_dict({k[len("audio_tower."):]: v for k, v in sd.items() if k.startswith("audio_tower.")})
    model.projector.load_state_dict(
        {k[len("multi_modal_projector."):]: v for k, v in sd.items() if k.startswith("multi_modal_projector.")})
    if (d / "adapter" / "adapter_model.safetensors").exists():
        from peft import set_peft_model_state_dict

        res = set_peft_model_state_dict(model.llm, load_file(str(d / "adapter" / "adapter_model.safetensors")))
        if getattr(res, "unexpected_keys", None):
            raise ValueError(f"adapter keys do not match the model: {res.unexpected_keys[:3]}")
