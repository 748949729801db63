"""`cogaudio doctor --json` and `cogaudio models ...` as a user runs them (subprocesses)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from core.models.registry import CATALOG_PATH
from tests.helpers.fake_hub import FakeHub


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.launcher", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def test_doctor_json_parses_and_names_backend_and_models():
    out = _cli("doctor", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["llama_cpp"]["backend"] in ("CPU", "CUDA", "Metal", "Vulkan", "ROCm", "SYCL", "GPU")
    assert isinstance(report["audio"]["devices"], list)  # none is fine on a headless machine
    models = {m["id"]: m for m in report["models"]}
    assert models["smollm2-135m-instruct"]["checksum"] == "ok"
    assert models["smollm2-135m-instruct"]["files"][0]["size"] > 1_000_000
    assert report["audio_model"]["engine"] in ("audio-llm", "cascade")
    text = _cli("doctor", "--quick")
    assert "llama.cpp:" in text.stdout and "Models:" in text.stdout


def test_models_pull_list_remove_through_a_loopback_hub(tmp_path):
    catalog = json.loads(CATALOG_PATH.read_text())
    ultravox = next(m for m in catalog["models"] if m["id"] == "ultravox-v0.5-llama-3.2-1b")
    with FakeHub() as hub:
        for f in ultravox["files"]:
            hub.files[f"{ultravox['repo']}/{f['filename']}"] = os.urandom(50_000)
        env = {"HF_ENDPOINT": hub.endpoint, "HF_HUB_OFFLINE": "0"}
        pulled = _cli("models", "pull", "ultravox-v0.5-llama-3.2-1b", env=env)
        assert pulled.returncode == 0, pulled.stderr
        assert "ok" in pulled.stdout
    listed = json.loads(_cli("models", "list", "--json").stdout)
    state = next(m for m in listed if m["id"] == "ultravox-v0.5-llama-3.2-1b")
    assert state["present"] and all(f["size"] == 50_000 for f in state["files"])
    verified = _cli("models", "verify", "ultravox-v0.5-llama-3.2-1b", "--json")
    assert json.loads(verified.stdout)[0]["checksum"] == "ok"  # the hub's sha256 was recorded at pull
    removed = _cli("models", "remove", "ultravox-v0.5-llama-3.2-1b")
    assert removed.returncode == 0 and "removed 2 file(s)" in removed.stdout


def test_models_pull_offline_is_one_plain_line():
    out = _cli("models", "pull", "ultravox-v0.5-llama-3.2-1b", env={"HF_HUB_OFFLINE": "1"})
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [out.stderr.strip()]  # one line, no traceback
    assert "You appear to be offline" in out.stderr


def test_doctor_says_whether_the_adapter_is_merged_yet(tmp_path):
    from core.models.adapter_merge import merged_model
    from core.models.manifest import DEFAULT_MANIFEST, resolve_manifest

    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    before = json.loads(_cli("doctor", "--json", "--quick", env=env).stdout)["audio_model"]["merged"]
    assert before["state"] == "pending" and before["size"] is None
    files = resolve_manifest(DEFAULT_MANIFEST)
    built = merged_model(files.llm, files.adapter, tmp_path / "cache" / "cogaudio" / "merged", files.adapter_scale)
    after = json.loads(_cli("doctor", "--json", "--quick", env=env).stdout)["audio_model"]["merged"]
    assert after["state"] == "cached" and after["path"] == str(built.path)
    assert after["size"] == built.path.stat().st_size
    assert "adapter: merged into a cached copy" in _cli("doctor", "--quick", env=env).stdout
