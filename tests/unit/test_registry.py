"""Model registry against a loopback server that answers like the Hugging Face Hub."""

from __future__ import annotations

import hashlib
import threading

import pytest

from core.models.registry import ChecksumError, ModelRegistry, OfflineError, PullCancelled, RegistryError
from tests.helpers.fake_hub import FakeHub, set_hub_offline, write_catalog

REPO = "test-org/tiny-audio-GGUF"
PAYLOAD = bytes(range(256)) * 2048  # 512 KiB, several chunks


def _catalog(tmp_path, sha256=None, size=None):
    return write_catalog(tmp_path, REPO, "tiny",
                         [{"role": "mmproj", "filename": "mmproj.gguf", "size": size, "sha256": sha256}])


@pytest.fixture
def hub(monkeypatch):
    set_hub_offline(monkeypatch, False)
    with FakeHub() as server:
        server.files[f"{REPO}/mmproj.gguf"] = PAYLOAD
        yield server


def test_pull_downloads_verifies_and_lists(tmp_path, hub):
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path), endpoint=hub.endpoint)
    seen = []
    state = reg.pull("tiny", progress=lambda name, done, total: seen.append((done, total)))
    assert state.present and state.checksum == "ok"
    dest = tmp_path / "data" / "models" / "tiny" / "mmproj.gguf"
    assert dest.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 1
    listed = {s.id: s for s in reg.list()}
    assert listed["tiny"].present and listed["smollm2-135m-instruct"].source == "bundled"
    assert reg.verify("tiny")[0].checksum == "ok"
    dest.write_bytes(PAYLOAD[:-1] + b"\x00")  # damage one byte
    assert reg.verify("tiny")[0].checksum == "mismatch"
    assert reg.remove("tiny") == [dest]
    assert not reg.state(reg.get("tiny")).present


def test_interrupted_pull_resumes_with_a_range_request(tmp_path, hub):
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path), endpoint=hub.endpoint)
    hub.cut_after = 100_000
    with pytest.raises(RegistryError, match="run the pull again"):
        reg.pull("tiny")
    part = tmp_path / "data" / "models" / "tiny" / "mmproj.gguf.part"
    assert 0 < part.stat().st_size < len(PAYLOAD)
    kept = part.stat().st_size
    state = reg.pull("tiny")
    assert state.checksum == "ok"
    assert hub.served[-1] == f"bytes={kept}-"  # only the rest was fetched
    assert (tmp_path / "data" / "models" / "tiny" / "mmproj.gguf").read_bytes() == PAYLOAD


def test_cancel_keeps_the_partial_file(tmp_path, hub):
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path), endpoint=hub.endpoint)
    cancel = threading.Event()

    def progress(name, done, total):
        if done > 100_000:
            cancel.set()

    with pytest.raises(PullCancelled):
        reg.pull("tiny", progress=progress, cancel=cancel)
    assert (tmp_path / "data" / "models" / "tiny" / "mmproj.gguf.part").stat().st_size > 0
    assert reg.pull("tiny").checksum == "ok"


def test_checksum_mismatch_is_refused_and_deleted(tmp_path, hub):
    wrong = hashlib.sha256(b"something else").hexdigest()
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path, sha256=wrong), endpoint=hub.endpoint)
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        reg.pull("tiny")
    folder = tmp_path / "data" / "models" / "tiny"
    assert not (folder / "mmproj.gguf").exists() and not (folder / "mmproj.gguf.part").exists()


def test_hub_etag_mismatch_is_refused(tmp_path, hub):
    hub.etags[f"{REPO}/mmproj.gguf"] = "ab" * 32  # the hub advertises another sha256
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path), endpoint=hub.endpoint)
    with pytest.raises(ChecksumError):
        reg.pull("tiny")


def test_offline_says_so_plainly(tmp_path, monkeypatch):
    set_hub_offline(monkeypatch, False)
    with FakeHub() as server:
        endpoint = server.endpoint  # closed when the block ends: nothing listens there any more
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path), endpoint=endpoint)
    with pytest.raises(OfflineError, match="^You appear to be offline"):
        reg.pull("tiny")
    set_hub_offline(monkeypatch, True)
    with pytest.raises(OfflineError, match="^You appear to be offline"):
        reg.pull("tiny")


def test_bundled_models_cannot_be_removed(tmp_path):
    reg = ModelRegistry(tmp_path / "data", _catalog(tmp_path))
    with pytest.raises(RegistryError, match="uninstall"):
        reg.remove("smollm2-135m-instruct")
    with pytest.raises(RegistryError, match="unknown model"):
        reg.get("nope")


def test_full_disk_is_not_reported_as_offline():
    import errno

    from core.models.registry import OfflineError, _classify

    err = _classify(OSError(errno.ENOSPC, "No space left on device"), "https://huggingface.co/x/y")
    assert not isinstance(err, OfflineError)
    assert "disk is full" in str(err) and "resume" in str(err)
    assert isinstance(_classify(ConnectionError("refused"), "https://huggingface.co/x/y"), OfflineError)
