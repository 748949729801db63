"""A loopback HTTP server that answers like the Hugging Face Hub's file endpoints.

`HEAD/GET /<repo>/resolve/<revision>/<filename>` with the headers huggingface_hub reads
(ETag = the content's sha256 as for LFS files, X-Repo-Commit, Content-Length) and `Range`
support. `cut_after` makes the next GET drop the connection after that many bytes (an
interrupted download); `served` records each GET's Range header so tests can see a resume.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeHub:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}  # "repo/filename" -> content
        self.etags: dict[str, str] = {}  # override the advertised sha256 (to simulate corruption)
        self.cut_after: int | None = None
        self.served: list[str | None] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _lookup(self) -> tuple[str, bytes] | None:
                parts = self.path.split("/resolve/")
                if len(parts) != 2:
                    return None
                repo = parts[0].strip("/")
                filename = parts[1].split("/", 1)[1]
                key = f"{repo}/{filename}"
                return (key, hub.files[key]) if key in hub.files else None

            def _headers(self, key: str, data: bytes, status: int, length: int, extra: dict | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(length))
                self.send_header("ETag", f'"{hub.etags.get(key) or hashlib.sha256(data).hexdigest()}"')
                self.send_header("X-Repo-Commit", "0" * 40)
                self.send_header("Accept-Ranges", "bytes")
                for k, v in (extra or {}).items():
                    self.send_header(k, v)
                self.end_headers()

            def do_HEAD(self) -> None:
                found = self._lookup()
                if found is None:
                    self.send_response(404)
                    self.send_header("X-Error-Code", "EntryNotFound")
                    self.end_headers()
                    return
                self._headers(found[0], found[1], 200, len(found[1]))

            def do_GET(self) -> None:
                found = self._lookup()
                if found is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                key, data = found
                rng = self.headers.get("Range")
                hub.served.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = data[start:]
                if rng:
                    self._headers(key, data, 206, len(body), {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
                else:
                    self._headers(key, data, 200, len(body))
                if hub.cut_after is not None:
                    cut, hub.cut_after = hub.cut_after, None
                    self.wfile.write(body[:cut])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)


def set_hub_offline(monkeypatch, offline: bool) -> None:
    """Switch huggingface_hub's offline mode for one test.

    The hub library reads HF_HUB_OFFLINE once at import, and the test command sets it (nothing
    may download during tests), so the loopback hub tests flip the library's constant as well.
    """
    import huggingface_hub.constants as hub_constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if offline else "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1" if offline else "0")
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", offline)


BUNDLED_LLM_ENTRY = {
    "id": "smollm2-135m-instruct", "kind": "llm", "description": "bundled", "bundled": "llm",
    "files": [{"role": "llm", "filename": "SmolLM2-135M-Instruct.Q4_1.gguf", "size": None, "sha256": None}],
}


def write_catalog(tmp_path, repo: str, model_id: str, files: list[dict]) -> Path:
    """A registry catalogue with one downloadable model from `repo` plus the bundled LLM."""
    spec = {"version": 1, "models": [
        {"id": model_id, "kind": "audio-llm", "description": "test", "repo": repo, "files": files},
        BUNDLED_LLM_ENTRY,
    ]}
    path = Path(tmp_path) / "catalog.json"
    path.write_text(json.dumps(spec))
    return path
