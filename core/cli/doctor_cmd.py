"""`cogaudio doctor [--json]`: what this machine has for CogAudio, and what is wrong.

Reports the audio devices (sounddevice; none is fine for file-based use), the llama.cpp
backend this build runs on (CPU, CUDA, Metal) and how many layers of the language model it
would put on the GPU, every catalogued model with its path, size
and checksum state, the audio model the `auto` engine would load (configured or embedded
under assets/models/) and whether its files pass validation. Exit code 1 when something
the default conversation needs is missing or damaged, else 0.
"""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.common import settings_from

PROG = "cogaudio doctor"


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("doctor", help="check audio devices, llama.cpp backend and models",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="skip hashing the model files (sizes only)")
    p.add_argument("--settings", metavar="FILE", default=None, help="settings JSON (default: the user config file)")
    p.set_defaults(func=run)


def audio_report() -> dict:
    try:
        import sounddevice as sd
    except OSError as exc:  # PortAudio itself is missing
        return {"available": False, "devices": [], "error": f"{exc}; install PortAudio (apt install libportaudio2)"}
    try:
        devices = [
            {"index": i, "name": d["name"], "inputs": d["max_input_channels"], "outputs": d["max_output_channels"],
             "default_samplerate": d["default_samplerate"]}
            for i, d in enumerate(sd.query_devices())
        ]
        default_in, default_out = sd.default.device
    except Exception as exc:
        return {"available": False, "devices": [], "error": f"{type(exc).__name__}: {exc}"}
    return {
        "available": bool(devices),
        "devices": devices,
        "default_input": default_in if default_in is not None and default_in >= 0 else None,
        "default_output": default_out if default_out is not None and default_out >= 0 else None,
        "error": None,
    }


def llama_report() -> dict:
    try:
        import llama_cpp

        from core.engines.llm_runtime import backend_info
    except Exception as exc:
        return {"available": False, "error": f"{exc}; install llama-cpp-python==0.3.36 (see the README)"}
    info = backend_info()
    from llama_cpp import mtmd_cpp

    return {
        "available": True, "version": llama_cpp.__version__, "backend": info.name, "gpu_offload": info.gpu_offload,
        "audio_input": hasattr(mtmd_cpp, "mtmd_bitmap_init_from_audio"), "system_info": info.system_info, "error": None,
    }


def audio_model_report(settings) -> dict:
    from core.engines.factory import audio_model_files
    from core.models.manifest import check_model_files

    try:
        files = audio_model_files(settings)
        if files is None:
            return {"status": "none", "engine": "cascade", "source": None,
                    "detail": "no projector configured or embedded; `auto` uses the cascade engine"}
        check_model_files(files.llm, files.mmproj, files.lora)
    except Exception as exc:
        return {"status": "error", "engine": "cascade", "source": None,
                "detail": f"{exc} (auto falls back to the cascade engine)"}
    return {"status": "ok", "engine": "audio-llm", "source": files.source, "llm": str(files.llm),
            "mmproj": str(files.mmproj), "lora": str(files.lora) if files.lora else None, "detail": None,
            "merged": merged_report(settings, files)}


def merged_report(settings, files) -> dict | None:
    """Where the adapter runs: folded into a cached copy of the LLM (core.models.adapter_merge) or on top."""
    if files.lora is None:
        return None
    if not settings.engine.merge_adapter:
        return {"state": "off", "path": None, "size": None}
    from core.models.adapter_merge import cached_merge, merged_path

    try:
        path = merged_path(files.llm, files.lora, settings.resolved_cache_dir() / "merged", files.lora_scale)
    except OSError as exc:
        return {"state": "error", "path": None, "size": None, "detail": str(exc)}
    found = cached_merge(path)
    return {"state": "cached" if found else "pending", "path": str(path), "size": found["size"] if found else None}


def offload_report(settings, audio_model: dict) -> dict:
    """Layers of the language model the engine would load (the audio model's when it is usable
    and the engine is not the cascade, else engine.llm_path or the bundled one) that llama.cpp
    puts on the GPU."""
    from core.engines.llm_runtime import llm_path, offload_plan

    try:
        audio = audio_model["status"] == "ok" and settings.engine.kind != "cascade"
        path = audio_model["llm"] if audio else llm_path(settings.engine)
        plan = offload_plan(settings.engine, path)
    except Exception as exc:
        return {"model": None, "offloaded": None, "total": None, "reason": f"{type(exc).__name__}: {exc}"}
    return {"model": plan.model, "offloaded": plan.offloaded, "total": plan.total, "reason": plan.reason}


def build_report(settings, verify: bool) -> dict:
    from core.models.registry import ModelRegistry

    registry = ModelRegistry(settings.resolved_data_dir())
    models = [s.as_dict() for s in registry.list(verify=verify)]
    audio_model = audio_model_report(settings)
    llama = llama_report()
    if llama["available"]:
        llama["offload"] = offload_report(settings, audio_model)
    return {
        "audio": audio_report(),
        "llama_cpp": llama,
        "models": models,
        "audio_model": audio_model,
        "data_dir": str(settings.resolved_data_dir()),
    }


def problems(report: dict) -> list[str]:
    out = []
    if not report["llama_cpp"]["available"]:
        out.append(f"llama.cpp: {report['llama_cpp']['error']}")
    for m in report["models"]:
        if m["source"] == "bundled" and m["checksum"] in ("missing", "mismatch"):
            out.append(f"bundled model {m['id']} is {m['checksum']}; reinstall its package")
    return out


def run(args) -> int:
    try:
        settings = settings_from(args.settings)
        report = build_report(settings, verify=not args.quick)
    except Exception as exc:
        print(f"{PROG}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    found = problems(report)
    report["problems"] = found
    if args.json:
        print(json.dumps(report))
    else:
        print(render(report))
    return 1 if found else 0


def _mb(size: int | None) -> str:
    return f"{size / 1e6:8.1f} MB" if size is not None else "        -"


def render(report: dict) -> str:
    lines = ["Audio devices:"]
    audio = report["audio"]
    if audio.get("error"):
        lines.append(f"  unavailable: {audio['error']}")
    elif not audio["devices"]:
        lines.append("  none found (fine: `cogaudio reply` works on files; plug in a microphone to talk)")
    for d in audio["devices"]:
        lines.append(f"  [{d['index']}] {d['name']} (in {d['inputs']}, out {d['outputs']})")
    lc = report["llama_cpp"]
    lines.append("llama.cpp:")
    if lc["available"]:
        lines.append(f"  llama-cpp-python {lc['version']}, backend {lc['backend']}"
                     f"{' (GPU offload)' if lc['gpu_offload'] else ''}, audio input {'yes' if lc['audio_input'] else 'no'}")
        off = lc.get("offload") or {}
        if off.get("total"):
            lines.append(f"  layers on the GPU: {off['offloaded']}/{off['total']} of {off['model']}"
                         + (f" ({off['reason']})" if off["reason"] else ""))
        elif off:
            lines.append(f"  layers on the GPU: unknown ({off['reason']})")
    else:
        lines.append(f"  unavailable: {lc['error']}")
    lines.append("Models:")
    for m in report["models"]:
        size = sum(f["size"] or 0 for f in m["files"]) if m["present"] else None
        lines.append(f"  {m['id']:<28} {m['source']:<8} {_mb(size)}  {m['checksum']}")
    am = report["audio_model"]
    lines.append(f"Audio model: {am['status']} -> engine auto = {am['engine']}")
    if am.get("detail"):
        lines.append(f"  {am['detail']}")
    elif am["status"] == "ok":
        lines.append(f"  {am['source']}: {am['llm']} + {am['mmproj']}" + (f" + {am['lora']}" if am["lora"] else ""))
        merged = am.get("merged")
        if merged:
            lines.append("  adapter: " + {
                "cached": f"merged into a cached copy of the LLM ({_mb(merged['size']).strip()}): {merged['path']}",
                "pending": "will be merged into a cached copy of the LLM on the next start (~5 s once, ~145 MB)",
                "off": "applied on top at every step (engine.merge_adapter is off; slower)",
            }.get(merged["state"], f"cannot be merged ({merged.get('detail')}); applied on top"))
    lines.append(f"Data dir: {report['data_dir']}")
    for p in report.get("problems", []):
        lines.append(f"PROBLEM: {p}")
    return "\n".join(lines)
