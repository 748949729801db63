"""`cogaudio doctor`: which llama.cpp backend runs and how many layers it puts on the GPU.

The CPU build here is real; a GPU build is imitated by making llama.cpp's own two answers
(llama_supports_gpu_offload, llama_print_system_info) say CUDA, as on a CUDA machine (the GPU
is the one thing these tests may fake). The expected layer count comes from the model file,
read here with the gguf package: llama.cpp offloads block_count + 1 layers (the output layer
is one) when every layer is asked for.
"""

from __future__ import annotations

import json

import pytest

llama_cpp = pytest.importorskip("llama_cpp")

from core.cli.main import main  # noqa: E402
from core.models.bundled import bundled_path  # noqa: E402


@pytest.fixture(scope="module")
def blocks() -> int:
    from gguf import GGUFReader

    reader = GGUFReader(bundled_path("llm"))
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    field = reader.fields[f"{arch}.block_count"]
    return int(field.parts[-1][0])


def _doctor(capsys, *args: str) -> tuple[int, str]:
    code = main(["doctor", "--quick", *args])
    return code, capsys.readouterr().out


def _fake_cuda(monkeypatch) -> None:
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    monkeypatch.setattr(llama_cpp, "llama_print_system_info",
                        lambda: b"CPU : SSE3 = 1 | CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 |")


def test_cpu_build_says_cpu_and_no_layer_on_the_gpu(capsys, blocks):
    code, out = _doctor(capsys, "--json")
    lc = json.loads(out)["llama_cpp"]
    assert code == 0 and lc["backend"] == "CPU" and lc["gpu_offload"] is False
    off = lc["offload"]
    assert off["model"] == bundled_path("llm").name  # the embedded audio model's base LLM
    assert (off["offloaded"], off["total"]) == (0, blocks + 1)
    assert "no GPU backend" in off["reason"]
    _, text = _doctor(capsys)
    assert "backend CPU" in text and f"layers on the GPU: 0/{blocks + 1} of {off['model']}" in text


def test_cuda_build_offloads_every_layer(capsys, monkeypatch, blocks):
    _fake_cuda(monkeypatch)
    _, out = _doctor(capsys, "--json")
    lc = json.loads(out)["llama_cpp"]
    assert lc["backend"] == "CUDA" and lc["gpu_offload"] is True
    assert (lc["offload"]["offloaded"], lc["offload"]["total"], lc["offload"]["reason"]) == (blocks + 1, blocks + 1, "")
    _, text = _doctor(capsys)
    assert "backend CUDA (GPU offload)" in text and f"layers on the GPU: {blocks + 1}/{blocks + 1} of" in text


def test_gpu_offload_cpu_in_settings_keeps_every_layer_on_the_cpu(capsys, monkeypatch, tmp_path, blocks):
    _fake_cuda(monkeypatch)
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"engine": {"gpu_offload": "cpu"}}))
    _, out = _doctor(capsys, "--json", "--settings", str(settings))
    off = json.loads(out)["llama_cpp"]["offload"]
    assert json.loads(out)["llama_cpp"]["backend"] == "CUDA"
    assert (off["offloaded"], off["total"]) == (0, blocks + 1) and "gpu_offload" in off["reason"]


def test_the_cascade_counts_the_text_model_of_the_settings(capsys, monkeypatch, tmp_path):
    # a 3-block language model: the count follows the file, and the cascade's model is the one counted
    import gguf
    import numpy as np

    path = tmp_path / "three-blocks.gguf"
    writer = gguf.GGUFWriter(str(path), arch="llama")
    writer.add_block_count(3)
    writer.add_embedding_length(8)
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"engine": {"kind": "cascade", "llm_path": str(path)}}))
    _fake_cuda(monkeypatch)
    _, out = _doctor(capsys, "--json", "--settings", str(settings))
    off = json.loads(out)["llama_cpp"]["offload"]
    assert (off["model"], off["offloaded"], off["total"]) == ("three-blocks.gguf", 4, 4)
