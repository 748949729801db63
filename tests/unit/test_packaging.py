"""The packaging scripts' logic, without building anything (the bundle build itself is
tests/bundle/, opt-in with `-m bundle`): what the spec puts in exists, llama.cpp's backend
flags live in one place that the docs repeat, the GPU check says "no GPU here" with its own
exit code, and the scripts refuse bad usage plainly."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "packaging"))
import bundle_contents as bc  # noqa: E402

EXIT_NO_GPU = 3


def test_the_frozen_program_is_the_console_script():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[bc.NAME] == bc.CONSOLE_SCRIPT
    module, func = bc.CONSOLE_SCRIPT.split(":")
    tree = ast.parse(bc.ENTRY_SCRIPT.read_text())
    imports = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert (module, func) in imports


def test_everything_the_spec_names_exists_in_this_checkout():
    assert bc.missing_assets() == []
    for pkg in bc.OWN_PACKAGES + bc.MODEL_PACKAGES + bc.DATA_PACKAGES + bc.DYNAMIC_LIB_PACKAGES:
        assert importlib.util.find_spec(pkg) is not None, f"{pkg} is not installed"
    for dist in bc.METADATA_PACKAGES:
        importlib.metadata.distribution(dist)  # raises PackageNotFoundError
    # llama_cpp loads its libraries from llama_cpp/lib with ctypes: they must be there to collect
    lib = Path(importlib.util.find_spec("llama_cpp").origin).parent / "lib"
    assert any(p.suffix in (".so", ".dylib", ".dll") or ".so." in p.name for p in lib.iterdir())


def test_assets_land_where_core_looks_for_them():
    from core.models import bundled
    from core.models.manifest import DEFAULT_MANIFEST, load_manifest

    pairs = {(Path(src).relative_to(REPO).as_posix(), dest) for src, dest in bc.asset_files()}
    # core.models.bundled.ASSETS is <root>/assets; in the bundle <root> is the folder of the frozen packages
    assert bundled.ASSETS == REPO / "assets"
    manifest = load_manifest(DEFAULT_MANIFEST)
    needed = ["assets/models/manifest.json", "assets/models/catalog.json", "assets/samples/tired.wav",
              f"assets/models/{manifest.projector.file}", f"assets/models/{manifest.adapter.file}",
              "assets/safety/resources.json"]
    for rel in needed:
        assert (rel, str(Path(rel).parent)) in pairs, rel
    assert not any(src.endswith("make_samples.sh") for src, _ in pairs)
    # every file under assets/ is in, so a folder added later needs no change to the spec
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / "assets").rglob("*")
               if p.is_file() and p.name != "make_samples.sh" and "__pycache__" not in p.parts}
    assert {src for src, _ in pairs} == on_disk


def _guarded(handler: ast.ExceptHandler) -> bool:
    names = [handler.type] if not isinstance(handler.type, ast.Tuple) else list(handler.type.elts)
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError") for n in names)


def _unguarded_imports(folder: Path) -> dict[str, str]:
    """Top-level package of every import that is not inside `try: ... except ImportError`
    (a guarded import is an optional feature that says what to install), with where it is."""
    found: dict[str, str] = {}

    def visit(node: ast.AST, path: Path, guarded: bool) -> None:
        if isinstance(node, ast.Try) and any(_guarded(h) for h in node.handlers):
            for child in node.body:
                visit(child, path, True)
            for child in node.handlers + node.orelse + node.finalbody:
                visit(child, path, guarded)
            return
        if not guarded:
            if isinstance(node, ast.Import):
                for a in node.names:
                    found.setdefault(a.name.split(".")[0], f"{path}:{node.lineno}")
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.setdefault(node.module.split(".")[0], f"{path}:{node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child, path, guarded)

    for path in folder.rglob("*.py"):
        visit(ast.parse(path.read_text(encoding="utf-8")), path.relative_to(REPO), False)
    return found


def test_no_run_time_code_imports_what_the_bundle_leaves_out():
    used = {**_unguarded_imports(REPO / "core"), **_unguarded_imports(REPO / "app")}
    left_out = {name: where for name, where in used.items() if name in bc.EXCLUDES}
    assert left_out == {}, f"imported by run-time code but excluded from the bundle: {left_out}"


def _bash(script: str, *args: str, path: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if path is not None:
        env["PATH"] = path
    return subprocess.run(["bash", script, *args], cwd=cwd, capture_output=True, text=True, timeout=60, env=env)


def _backend_args(backend: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", f"source packaging/llama_backends.sh && llama_cmake_args {backend}"],
                          cwd=REPO, capture_output=True, text=True, timeout=30)


def test_backend_flags_live_in_one_place_and_the_readme_shows_the_same():
    readme = (REPO / "packaging" / "README.md").read_text()
    rows = {b: f.strip("`") if f != "none" else ""
            for b, f in re.findall(r"^\| `(\w+)` \| (`[^`]*`|none) \|", readme, flags=re.M)}
    assert set(rows) == {"cpu", "portable", "cuda", "metal"}
    for backend, flags in rows.items():
        out = _backend_args(backend)
        assert out.returncode == 0 and out.stdout.strip() == flags, (backend, out.stdout)
    assert "-DGGML_CUDA=on" in rows["cuda"] and "-DGGML_METAL=on" in rows["metal"]
    bad = _backend_args("vulkan")
    assert bad.returncode == 2 and "unknown backend 'vulkan'" in bad.stderr


def test_scripts_that_cannot_source_bash_read_the_same_flags():
    import backend_flags  # packaging/backend_flags.py, used by build_windows.ps1

    for backend in ("cpu", "portable", "cuda", "metal"):
        assert backend_flags.flags(backend, env={}) == _backend_args(backend).stdout.strip()
    arches = subprocess.run(["bash", "-c", "source packaging/llama_backends.sh && llama_cmake_args cuda"], cwd=REPO,
                            capture_output=True, text=True, env={**os.environ, "CUDA_ARCHS": "80;90"}).stdout.strip()
    assert backend_flags.flags("cuda", env={"CUDA_ARCHS": "80;90"}) == arches == "-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=80;90"
    assert "backend_flags.py cuda" in (REPO / "packaging" / "build_windows.ps1").read_text()


def test_the_llama_version_of_the_scripts_is_the_pinned_one():
    pin = re.search(r'"llama-cpp-python==([0-9.]+)"', (REPO / "pyproject.toml").read_text()).group(1)
    out = subprocess.run(["bash", "-c", "source packaging/llama_backends.sh && llama_version"],
                         cwd=REPO, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == pin


def _tools_bin(tmp_path: Path, *extra: tuple[str, str]) -> str:
    """A PATH with the few tools the script uses and, unlike a GPU machine, no nvidia-smi."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "sed", "grep", "head", "cat", "env"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    for name, body in extra:
        (bin_dir / name).write_text(f"#!{shutil.which('bash')}\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return str(bin_dir)


def test_gpu_check_without_a_driver_says_no_gpu_here(tmp_path):
    out = _bash("packaging/gpu_check.sh", "--llm", "any.gguf", path=_tools_bin(tmp_path))
    assert out.returncode == EXIT_NO_GPU, out.stderr
    assert "no GPU here" in out.stderr and "nvidia-smi not found" in out.stderr
    assert "Nothing was built or run" in out.stderr


def test_gpu_check_with_a_driver_but_no_card_says_no_gpu_here(tmp_path):
    smi = ("nvidia-smi", 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9')
    out = _bash("packaging/gpu_check.sh", path=_tools_bin(tmp_path, smi))
    assert out.returncode == EXIT_NO_GPU, out.stderr
    assert "no GPU here" in out.stderr and "couldn't communicate with the NVIDIA driver" in out.stderr


def test_gpu_check_with_a_gpu_goes_on_to_its_checks(tmp_path):
    # with a card listed, the script passes detection and asks for the 7B-class model it needs
    smi = ("nvidia-smi", 'echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)"')
    out = _bash("packaging/gpu_check.sh", path=_tools_bin(tmp_path, smi))
    assert out.returncode == 2, out.stderr
    assert "GPU 0: NVIDIA H100" in out.stdout and "--llm MODEL.gguf is required" in out.stderr


def test_scripts_refuse_bad_usage_with_exit_code_2(tmp_path):
    assert _bash("packaging/gpu_check.sh", "--bogus").returncode == 2
    assert _bash("packaging/build_linux.sh", "--bogus").returncode == 2
    assert _bash("packaging/build_llama.sh", "vulkan").returncode == 2
    missing = _bash("packaging/smoke_bundle.sh", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "build it: bash packaging/build_linux.sh" in missing.stderr
    helps = [_bash(s, "--help") for s in ("packaging/gpu_check.sh", "packaging/build_linux.sh")]
    assert all(h.returncode == 0 and "Exit codes" in h.stdout for h in helps)


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="a GPU machine: gpu_check.sh would build for real")
def test_gpu_check_on_this_machine_says_no_gpu_here():
    out = _bash("packaging/gpu_check.sh", "--llm", "any.gguf")
    assert out.returncode == EXIT_NO_GPU and "no GPU here" in out.stderr
