"""`export`: a trained model folder (docs/training.md layout) -> mmproj + LLM/LoRA GGUF + manifest.

Input layout (training/model/export_layout.py): cogaudio.json, adapter/ (peft), audio/
model.safetensors (Ultravox names) and audio/config.json. Output folder:

    manifest.json           core.models.manifest.ModelManifest (checksums, labels, format version)
    mmproj-<dtype>.gguf     Whisper encoder + ultravox projector (clip arch, projector ultravox)
    adapter-<dtype>.gguf    adapter form: llama.cpp LoRA for the base GGUF, which is not copied
    llm-<dtype>.gguf        merged form: the whole LLM with the LoRA folded in

The adapter form needs no PyTorch model at all (safetensors in, GGUF out), so it takes
seconds; the merged form rebuilds the model once to merge the LoRA.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.emotion.eips import PROMPT_FORMAT_VERSION
from core.emotion.labels import EMOTIONS
from core.models.manifest import (
    BUNDLED_LLM,
    AdapterEntry,
    BaseModelEntry,
    LlmEntry,
    ModelManifest,
    ProjectorEntry,
    check_llm,
    sha256_file,
)


@dataclass(frozen=True)
class ExportOptions:
    model_dir: Path
    out_dir: Path
    form: str = "adapter"  # "adapter" | "merged"
    dtype: str = "f16"  # LLM / LoRA tensors: f16 | f32
    projector_dtype: str = "f16"
    name: str = "cogaudio"
    llama_cpp_dir: Path | None = None


def _read_meta(model_dir: Path) -> tuple[dict, dict]:
    meta_path = model_dir / "cogaudio.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{meta_path} missing: point --model at a folder written by `cogaudio-train sft` (its model/)")
    return json.loads(meta_path.read_text()), json.loads((model_dir / "audio" / "config.json").read_text())


def base_gguf(meta: dict) -> tuple[Path | None, str]:
    """(base GGUF path or None, manifest source) for the LLM named in cogaudio.json."""
    from core.models.bundled import require_bundled

    llm = meta["model"]["llm"]
    if llm == "tiny-random":
        return None, "file"  # a test model: its weights live only in the checkpoint
    if llm == BUNDLED_LLM:
        return require_bundled("llm"), BUNDLED_LLM
    src = meta.get("base_llm", {})
    if src.get("gguf_file"):
        return Path(src["source"]) / src["gguf_file"], "file"
    return None, "file"


def write_projector(model_dir: Path, audio_cfg: dict, out: Path, dtype: str) -> Path:
    from safetensors.torch import load_file

    from training.export.mmproj import EncoderSpec, write_mmproj

    sd = load_file(str(model_dir / "audio" / "model.safetensors"))
    enc = {k[len("audio_tower."):]: v for k, v in sd.items() if k.startswith("audio_tower.")}
    proj = {k[len("multi_modal_projector."):]: v for k, v in sd.items() if k.startswith("multi_modal_projector.")}
    spec = EncoderSpec(audio_cfg["d_model"], audio_cfg["ffn_dim"], audio_cfg["layers"], audio_cfg["heads"],
                       audio_cfg["n_mels"], audio_cfg.get("layer_norm_eps", 1e-5))
    frames_input = None
    if audio_cfg.get("audio_input") == "asr-encoder-frames":  # the app projects the transcript's pass
        from training.stages.data import encoder_name

        frames_input = encoder_name(audio_cfg["encoder_init"])
    return write_mmproj(out, enc, proj, spec, audio_cfg["stack_factor"], audio_cfg["llm_hidden_size"], dtype,
                        audio_tail_tokens=audio_cfg.get("audio_tail_tokens"), frames_encoder=frames_input)


def write_adapter(model_dir: Path, base: Path, out: Path, dtype: str) -> Path:
    from safetensors.torch import load_file

    from training.export.lora_gguf import LlmShape, write_lora_gguf

    cfg = json.loads((model_dir / "adapter" / "adapter_config.json").read_text())
    state = load_file(str(model_dir / "adapter" / "adapter_model.safetensors"))
    return write_lora_gguf(out, state, LlmShape.from_gguf(base), cfg["lora_alpha"], cfg["r"],
                           bool(cfg.get("use_rslora", False)), dtype)


def write_merged(model_dir: Path, tokenizer_gguf: Path | None, out: Path, dtype: str, llama_cpp_dir: Path | None) -> Path:
    from training.export.merged import convert_with_llama_cpp, merge_lora, write_llama_gguf
    from training.model.export_layout import load_model

    model = load_model(model_dir)
    llm = merge_lora(model.llm)
    if tokenizer_gguf is not None and llm.config.model_type == "llama":
        return write_llama_gguf(out, llm, tokenizer_gguf, dtype)
    return convert_with_llama_cpp(out, llm, model.tokenizer, dtype, llama_cpp_dir)


def build_manifest(*, name: str, form: str, base: Path | None, base_source: str, llm: Path | None,
                   adapter: Path | None, adapter_info: dict | None, projector: Path, audio_cfg: dict,
                   out_dir: Path, llm_quant: str, projector_quant: str, training: dict, explicit: bool) -> ModelManifest:
    """The manifest for files already written in `out_dir` (checksums computed here)."""
    def rel(p: Path) -> str:
        return str(Path(p).resolve().relative_to(out_dir.resolve()))

    arch, n_embd = check_llm(llm if llm is not None else base)
    bundled = base_source == BUNDLED_LLM
    base_entry = BaseModelEntry(
        file=None if bundled or base is None else str(base), source=base_source,
        sha256=sha256_file(base) if base is not None else None, name=base.name if base else training.get("llm", "?"),
        architecture=arch, n_embd=n_embd,
    )
    return ModelManifest(
        name=name, form=form, base_model=base_entry,
        adapter=AdapterEntry(file=rel(adapter), sha256=sha256_file(adapter), **(adapter_info or {})) if adapter else None,
        llm=LlmEntry(file=rel(llm), sha256=sha256_file(llm), quantization=llm_quant) if llm else None,
        projector=ProjectorEntry(file=rel(projector), sha256=sha256_file(projector), stack_factor=audio_cfg["stack_factor"],
                                 projection_dim=audio_cfg["llm_hidden_size"], quantization=projector_quant),
        labels=list(EMOTIONS), prompt_format_version=PROMPT_FORMAT_VERSION, explicit_reasoning=explicit,
        training=training,
    )


def write_manifest(manifest: ModelManifest, path: Path) -> Path:
    path.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return path


def export_model(opts: ExportOptions) -> Path:
    """Run the export; returns the manifest path."""
    model_dir, out = Path(opts.model_dir), Path(opts.out_dir)
    meta, audio_cfg = _read_meta(model_dir)
    if meta.get("prompt_format_version", PROMPT_FORMAT_VERSION) != PROMPT_FORMAT_VERSION:
        raise ValueError(f"{model_dir} was trained for prompt format {meta['prompt_format_version']}, "
                         f"this code writes format {PROMPT_FORMAT_VERSION}; re-train it")
    out.mkdir(parents=True, exist_ok=True)
    base, source = base_gguf(meta)
    projector = write_projector(model_dir, audio_cfg, out / f"mmproj-{opts.projector_dtype}.gguf", opts.projector_dtype)
    adapter = llm = None
    adapter_info = None
    if opts.form == "adapter":
        if base is None:
            raise ValueError(f"the adapter form needs a GGUF base model; {meta['model']['llm']!r} has none: use --form merged")
        if not (model_dir / "adapter" / "adapter_model.safetensors").is_file():
            raise FileNotFoundError(f"{model_dir}/adapter has no LoRA (lora_r = 0?); use --form merged")
        adapter = write_adapter(model_dir, base, out / f"adapter-{opts.dtype}.gguf", opts.dtype)
        acfg = json.loads((model_dir / "adapter" / "adapter_config.json").read_text())
        adapter_info = {"rank": acfg["r"], "alpha": float(acfg["lora_alpha"]), "scale": 1.0}
    elif opts.form == "merged":
        llm = write_merged(model_dir, base, out / f"llm-{opts.dtype}.gguf", opts.dtype, opts.llama_cpp_dir)
    else:
        raise ValueError(f"unknown form {opts.form!r}; use adapter or merged")
    training = {"model_dir": str(model_dir), "llm": meta["model"]["llm"],
                "tokens_per_30s_chunk": meta.get("audio_tokens_per_30s_chunk")}
    for key in ("stage", "steps", "eval"):
        if key in meta:
            training[key] = meta[key]
    manifest = build_manifest(
        name=opts.name, form=opts.form, base=base, base_source=source, llm=llm, adapter=adapter,
        adapter_info=adapter_info, projector=projector, audio_cfg=audio_cfg, out_dir=out,
        llm_quant=opts.dtype.upper(), projector_quant=opts.projector_dtype.upper(), training=training,
        explicit=bool(meta.get("explicit_reasoning", False)),
    )
    return write_manifest(manifest, out / "manifest.json")


def install(src_dir: Path, dest_dir: Path) -> Path:
    """Copy a manifest and the files it names to `dest_dir` (e.g. assets/models); returns the new manifest."""
    from core.models.manifest import load_manifest

    manifest = load_manifest(src_dir / "manifest.json")
    dest_dir.mkdir(parents=True, exist_ok=True)
    for entry in (manifest.adapter, manifest.llm, manifest.projector):
        if entry is not None and entry.file:
            shutil.copy2(src_dir / entry.file, dest_dir / Path(entry.file).name)
            entry.file = Path(entry.file).name
    return write_manifest(manifest, dest_dir / "manifest.json")
