"""`cogaudio-train export` and `cogaudio-train quantize`.

    cogaudio-train export --model runs/tiny/stage2/model --out runs/tiny/export [--form adapter|merged]
    cogaudio-train quantize --in runs/tiny/export --out runs/tiny/q8 --type Q8_0 [--projector-type Q8_0]
    cogaudio-train quantize ... --install assets/models     # also copy the pair where the app finds it
    cogaudio-train export-eval --manifest runs/tiny/q8/manifest.json --data data/lime-tiny --rows 70
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path


def run_quantize(src_dir: Path, out_dir: Path, qtype: str, projector_type: str = "Q8_0") -> Path:
    """Quantize the pair a manifest describes into `out_dir`; returns the new manifest path.

    Merged form: the LLM goes through llama.cpp's quantizer. Adapter form: the base GGUF stays
    the one shipped (already Q4_1 for SmolLM2) and the small LoRA is copied unchanged, since
    llama.cpp applies a LoRA in F16/F32 on any base; only the projector is requantized.
    """
    from core.models.manifest import load_manifest, sha256_file
    from training.export.exporter import write_manifest
    from training.export.quantize import quantize_llm, quantize_projector

    manifest = load_manifest(src_dir / "manifest.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    proj_src = src_dir / manifest.projector.file
    proj_dst = out_dir / f"mmproj-{projector_type.lower()}.gguf"
    if projector_type.upper() == manifest.projector.quantization.upper():
        shutil.copy2(proj_src, proj_dst)
    else:
        quantize_projector(proj_src, proj_dst, projector_type)
    manifest.projector.file, manifest.projector.sha256 = proj_dst.name, sha256_file(proj_dst)
    manifest.projector.quantization = projector_type.upper()
    if manifest.form == "merged" and manifest.llm is not None:
        llm_dst = out_dir / f"llm-{qtype.lower()}.gguf"
        quantize_llm(src_dir / manifest.llm.file, llm_dst, qtype)
        manifest.llm.file, manifest.llm.sha256, manifest.llm.quantization = llm_dst.name, sha256_file(llm_dst), qtype.upper()
    elif manifest.adapter is not None:
        if Path(src_dir / manifest.adapter.file).resolve() != (out_dir / Path(manifest.adapter.file).name).resolve():
            shutil.copy2(src_dir / manifest.adapter.file, out_dir / Path(manifest.adapter.file).name)
        manifest.adapter.file = Path(manifest.adapter.file).name
    manifest.training = {**manifest.training, "quantized_from": str(src_dir), "quantization": qtype.upper()}
    return write_manifest(manifest, out_dir / "manifest.json")


def _export(args: argparse.Namespace) -> int:
    from core.models.manifest import resolve_manifest
    from training.export.exporter import ExportOptions, export_model, install

    opts = ExportOptions(Path(args.model), Path(args.out), args.form, args.dtype, args.projector_dtype, args.name,
                         Path(args.llama_cpp_dir) if args.llama_cpp_dir else None)
    try:
        path = export_model(opts)
        files = resolve_manifest(path)  # the same checks the app makes before loading
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"export failed: {exc}", file=sys.stderr)
        return 2
    if args.install:
        path = install(Path(args.out), Path(args.install))
    print(json.dumps({"manifest": str(path), "llm": str(files.llm), "adapter": str(files.adapter) if files.adapter else None,
                      "projector": str(files.projector)}))
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from core.models.manifest import resolve_manifest
    from training.export.exporter import install

    try:
        path = run_quantize(Path(args.input), Path(args.out), args.type, args.projector_type)
        resolve_manifest(path)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"quantize failed: {exc}", file=sys.stderr)
        return 2
    if args.install:
        path = install(Path(args.out), Path(args.install))
    print(json.dumps({"manifest": str(path)}))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from training.export.evaluate import evaluate_pair

    try:
        result = evaluate_pair(Path(args.manifest), Path(args.data), args.split, tuple(args.kinds), args.rows, args.max_tokens)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        print(f"export-eval failed: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("export", help="write the trained model as GGUF (LLM or LoRA) + ultravox mmproj + manifest")
    p.add_argument("--model", required=True, help="trained model folder (the model/ of a stage output)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--form", choices=["adapter", "merged"], default="adapter",
                   help="adapter: LoRA GGUF on the shipped base GGUF; merged: one LLM GGUF with the LoRA folded in")
    p.add_argument("--dtype", choices=["f16", "f32"], default="f16", help="LLM / LoRA tensor type")
    p.add_argument("--projector-dtype", choices=["f16", "f32"], default="f16")
    p.add_argument("--name", default="cogaudio", help="model name in the manifest")
    p.add_argument("--llama-cpp-dir", help="llama.cpp source (for convert_hf_to_gguf.py on non-Llama models)")
    p.add_argument("--install", help="also copy the result to this folder (assets/models for the app's default)")
    p.set_defaults(func=_export)

    q = subparsers.add_parser("quantize", help="quantize an exported pair (LLM via llama.cpp, projector via gguf-py)")
    q.add_argument("--in", dest="input", required=True, help="folder with manifest.json from `export`")
    q.add_argument("--out", required=True, help="output folder")
    q.add_argument("--type", default="Q8_0", help="LLM type: Q8_0, Q4_K_M, Q5_K_M, Q4_0, ... (merged form)")
    q.add_argument("--projector-type", default="Q8_0", help="projector type: Q8_0 (default), F16, Q5_0, Q4_0 ...")
    q.add_argument("--install", help="also copy the result to this folder (assets/models for the app's default)")
    q.set_defaults(func=_quantize)

    e = subparsers.add_parser("export-eval", help="emotion accuracy of an exported pair through `cogaudio reply --engine audio-llm --json`")
    e.add_argument("--manifest", required=True, help="manifest.json of the pair")
    e.add_argument("--data", default="data/lime-tiny", help="LIME dataset folder")
    e.add_argument("--split", default="test", help="held-out split")
    e.add_argument("--kinds", nargs="+", default=["single", "conflict"], help="row kinds (as in training's eval)")
    e.add_argument("--rows", type=int, default=70, help="rows (the same pick as training's eval with this cap)")
    e.add_argument("--max-tokens", type=int, default=48, help="reply length cap (the Emotion tag comes first)")
    e.set_defaults(func=_eval)
