"""The session record: conversations and their turns in one SQLite file, optionally encrypted.

Each turn is committed the moment it completes (WAL mode, so a crash loses at most the turn
in flight and readers never block the writer). A `schema_version` table lets later versions
migrate the file forward.

Layout: the searchable, sensitive content of a session (title, note) and of a turn (texts,
emotion, reasoning, notes) lives in one JSON `payload` column per row; only ids, ordering and
timestamps are plain columns. With a passphrase the payloads are Fernet tokens (AES-128-CBC +
HMAC) under a key derived with scrypt from the passphrase and a random salt kept in the file.
We chose field encryption with `cryptography` over SQLCipher because it installs everywhere
from one wheel and keeps the file an ordinary SQLite database; the price is that search
decrypts in Python, which is fine at the size of a person's session history.

A wrong passphrase is refused at open time (a known token is checked) and the file is never
written before that check passes, so nothing is lost.
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_CHECK_PLAINTEXT = b"cogaudio-session-store"
# scrypt cost: ~50 ms on a laptop core; high enough to slow guessing, low enough for tests.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    consent INTEGER NOT NULL DEFAULT 0,
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at REAL NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_by_session ON turns(session_id, id);
"""


class SessionStoreError(RuntimeError):
    """The store could not be opened or written; the message says what to do."""


class WrongPassphraseError(SessionStoreError):
    """The passphrase does not open this store (or one is missing). Nothing was changed."""


@dataclass(frozen=True)
class TurnRecord:
    """One completed exchange: what the person said and how they sounded, and what we answered."""

    user_text: str | None = None  # typed text, when the person typed instead of speaking
    transcript: str | None = None  # ASR transcript of the spoken turn, when there is one
    label: str | None = None
    intensity: str | None = None
    confidence: float | None = None
    cues: dict[str, float] = field(default_factory=dict)
    eips: dict[str, str] | None = None  # emotion/intent/psychology/strategy texts
    reply: str = ""
    interrupted: bool = False
    engine: str | None = None
    model: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    safety_triggered: bool = False
    # what the crisis check found when it fired: source (transcript/reply), category, layer
    # (pattern/model), rule or model, score, matched words; shown in therapist exports
    safety: dict | None = None
    turn_taking: dict | None = None  # the end-of-turn decision: silence, wait, p(complete), mood, reasons
    created_at: float = field(default_factory=time.time)
    note: str | None = None
    words_vs_voice: str | None = None  # "words sound positive, voice sounds sad" (core.emotion.words_vs_voice)
    corrected_label: str | None = None  # what the person says they felt, when they corrected the chip
    id: int | None = None

    @property
    def said(self) -> str:
        """What the person said, typed or transcribed (empty if neither is known)."""
        return self.user_text or self.transcript or ""


@dataclass(frozen=True)
class SessionInfo:
    """A row of the history sidebar."""

    id: int
    title: str
    created_at: float
    updated_at: float
    consent: bool
    note: str | None
    turn_count: int


class _Cipher:
    """Turns payload dicts into stored bytes and back; plain JSON without a key."""

    def __init__(self, key: bytes | None) -> None:
        self._fernet = None
        if key is not None:
            from cryptography.fernet import Fernet

            self._fernet = Fernet(key)

    @property
    def encrypted(self) -> bool:
        return self._fernet is not None

    def seal(self, data: dict[str, Any]) -> bytes:
        raw = json.dumps(data, ensure_ascii=False).encode("utf-8")
        return self._fernet.encrypt(raw) if self._fernet else raw

    def open(self, blob: bytes) -> dict[str, Any]:
        raw = self._fernet.decrypt(bytes(blob)) if self._fernet else bytes(blob)
        return json.loads(raw.decode("utf-8"))


def _derive_key(passphrase: str, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    kdf = Scrypt(salt=salt, length=32, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    return base64.urlsafe_b64encode(kdf.derive(passphrase.encode("utf-8")))


class SessionStore:
    """Sessions and turns in SQLite. Safe to share between threads (one connection, one lock)."""

    def __init__(self, path: Path, passphrase: str | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise SessionStoreError(f"cannot open the session store {self.path}: {exc}. "
                                    "Check that the data folder exists and is writable.") from exc
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # with WAL: durable at each commit's checkpoint
            self._migrate()
            self._cipher = self._unlock(passphrase)
        except BaseException:
            self._db.close()
            raise

    # -- opening -----------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._tx():
            for stmt in filter(str.strip, _SCHEMA.split(";")):
                self._db.execute(stmt)
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise SessionStoreError(f"{self.path} was written by a newer CogAudio (schema {row[0]}); "
                                        "update the app to open it.")
            # Older schemas migrate forward here, one step per version.

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _has_content(self) -> bool:
        return self._db.execute("SELECT EXISTS(SELECT 1 FROM sessions)").fetchone()[0] == 1

    def _unlock(self, passphrase: str | None) -> _Cipher:
        salt = self._meta("kdf_salt")
        if salt is None:
            if passphrase and not self._has_content():
                with self._tx():
                    return self._install_key(passphrase)  # a new store, encrypted from the start
            if passphrase:
                raise SessionStoreError(
                    f"{self.path} is not encrypted. Open it without a passphrase and call "
                    "set_passphrase() (Settings > Privacy > Encrypt sessions) to encrypt it.")
            return _Cipher(None)
        if not passphrase:
            raise WrongPassphraseError(f"{self.path} is encrypted: enter its passphrase to open it.")
        cipher = _Cipher(_derive_key(passphrase, base64.b64decode(salt)))
        from cryptography.fernet import InvalidToken

        try:
            ok = cipher.open(self._meta("check").encode()) == {"check": _CHECK_PLAINTEXT.decode()}
        except InvalidToken:
            ok = False
        if not ok:
            raise WrongPassphraseError(f"wrong passphrase for {self.path}; nothing was changed. "
                                       "Try again (passphrases are case-sensitive).")
        return cipher

    def _install_key(self, passphrase: str) -> _Cipher:
        salt = os.urandom(16)
        cipher = _Cipher(_derive_key(passphrase, salt))
        check = cipher.seal({"check": _CHECK_PLAINTEXT.decode()}).decode()
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('kdf_salt', ?)", (base64.b64encode(salt).decode(),))
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('check', ?)", (check,))
        return cipher

    @property
    def encrypted(self) -> bool:
        return self._cipher.encrypted

    def set_passphrase(self, passphrase: str | None) -> None:
        """Encrypt, re-key or decrypt every row in one transaction (None removes encryption)."""
        with self._lock, self._tx():
            rows = {t: [(rid, self._cipher.open(p)) for rid, p in self._db.execute(f"SELECT id, payload FROM {t}")]
                    for t in ("sessions", "turns")}
            self._db.execute("DELETE FROM meta WHERE key IN ('kdf_salt', 'check')")
            self._cipher = self._install_key(passphrase) if passphrase else _Cipher(None)
            for table, items in rows.items():
                for rid, data in items:
                    self._db.execute(f"UPDATE {table} SET payload = ? WHERE id = ?", (self._cipher.seal(data), rid))

    # -- writing -----------------------------------------------------------------------------

    class _Tx:
        def __init__(self, db: sqlite3.Connection, path: Path) -> None:
            self.db, self.path = db, path

        def __enter__(self) -> None:
            self.db.execute("BEGIN IMMEDIATE")

        def __exit__(self, etype, exc, tb) -> bool:
            if etype is None:
                try:
                    self.db.execute("COMMIT")
                    return False
                except sqlite3.Error as commit_exc:
                    exc = commit_exc
            self.db.execute("ROLLBACK") if self.db.in_transaction else None
            if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
                raise SessionStoreError(f"the disk holding {self.path} is full; this turn was not saved. "
                                        "Free some space (or choose another data folder in Settings).") from exc
            if isinstance(exc, sqlite3.Error):
                raise SessionStoreError(f"could not write to {self.path}: {exc}") from exc
            return False

    def _tx(self) -> SessionStore._Tx:
        return SessionStore._Tx(self._db, self.path)

    def new_session(self, title: str | None = None, consent: bool = False) -> int:
        now = time.time()
        title = title or time.strftime("Session %Y-%m-%d %H:%M", time.localtime(now))
        with self._lock, self._tx():
            cur = self._db.execute(
                "INSERT INTO sessions (created_at, updated_at, consent, payload) VALUES (?, ?, ?, ?)",
                (now, now, int(consent), self._cipher.seal({"title": title, "note": None})))
            return int(cur.lastrowid)

    def add_turn(self, session_id: int, turn: TurnRecord) -> int:
        """Store a completed turn and commit at once; returns its id."""
        data = asdict(turn)
        data.pop("id")
        with self._lock, self._tx():
            self._require_session(session_id)
            cur = self._db.execute("INSERT INTO turns (session_id, created_at, payload) VALUES (?, ?, ?)",
                                   (session_id, turn.created_at, self._cipher.seal(data)))
            self._db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (time.time(), session_id))
            return int(cur.lastrowid)

    def rename_session(self, session_id: int, title: str) -> None:
        if not title.strip():
            raise ValueError("a session title cannot be empty")
        self._update_session(session_id, title=title.strip())

    def set_session_note(self, session_id: int, note: str | None) -> None:
        self._update_session(session_id, note=note or None)

    def set_consent(self, session_id: int, consent: bool) -> None:
        with self._lock, self._tx():
            self._require_session(session_id)
            self._db.execute("UPDATE sessions SET consent = ? WHERE id = ?", (int(consent), session_id))

    def set_turn_note(self, turn_id: int, note: str | None) -> None:
        with self._lock, self._tx():
            row = self._db.execute("SELECT payload FROM turns WHERE id = ?", (turn_id,)).fetchone()
            if row is None:
                raise KeyError(f"no turn with id {turn_id}")
            data = self._cipher.open(row[0])
            data["note"] = note or None
            self._db.execute("UPDATE turns SET payload = ? WHERE id = ?", (self._cipher.seal(data), turn_id))

    def set_turn_correction(self, turn_id: int, label: str | None) -> None:
        """Keep the person's correction of the perceived emotion beside what was heard (None clears it)."""
        if label is not None:
            from core.emotion.labels import check_label

            check_label(label)
        with self._lock, self._tx():
            row = self._db.execute("SELECT payload FROM turns WHERE id = ?", (turn_id,)).fetchone()
            if row is None:
                raise KeyError(f"no turn with id {turn_id}")
            data = self._cipher.open(row[0])
            data["corrected_label"] = label
            self._db.execute("UPDATE turns SET payload = ? WHERE id = ?", (self._cipher.seal(data), turn_id))

    def delete_session(self, session_id: int) -> None:
        with self._lock, self._tx():
            self._require_session(session_id)
            self._db.execute("DELETE FROM turns WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def _update_session(self, session_id: int, **changes: Any) -> None:
        with self._lock, self._tx():
            row = self._require_session(session_id)
            data = self._cipher.open(row[0])
            data.update(changes)
            self._db.execute("UPDATE sessions SET payload = ?, updated_at = ? WHERE id = ?",
                             (self._cipher.seal(data), time.time(), session_id))

    def _require_session(self, session_id: int) -> tuple:
        row = self._db.execute("SELECT payload FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise KeyError(f"no session with id {session_id}")
        return row

    # -- reading -----------------------------------------------------------------------------

    def turns(self, session_id: int) -> list[TurnRecord]:
        with self._lock:
            rows = self._db.execute("SELECT id, payload FROM turns WHERE session_id = ? ORDER BY id",
                                    (session_id,)).fetchall()
        return [TurnRecord(**self._cipher.open(p), id=rid) for rid, p in rows]

    def session(self, session_id: int) -> SessionInfo:
        for info in self.sessions():
            if info.id == session_id:
                return info
        raise KeyError(f"no session with id {session_id}")

    def sessions(self, search: str | None = None) -> list[SessionInfo]:
        """All sessions, newest first; `search` matches (case-insensitively) titles, notes and turn texts."""
        with self._lock:
            rows = self._db.execute(
                "SELECT s.id, s.created_at, s.updated_at, s.consent, s.payload, COUNT(t.id) "
                "FROM sessions s LEFT JOIN turns t ON t.session_id = s.id "
                "GROUP BY s.id ORDER BY s.updated_at DESC, s.id DESC").fetchall()
        infos = []
        for sid, created, updated, consent, payload, count in rows:
            data = self._cipher.open(payload)
            infos.append(SessionInfo(sid, data["title"], created, updated, bool(consent), data.get("note"), count))
        if not search:
            return infos
        needle = search.casefold()
        return [i for i in infos if self._matches(i, needle)]

    def _matches(self, info: SessionInfo, needle: str) -> bool:
        if needle in info.title.casefold() or needle in (info.note or "").casefold():
            return True
        for t in self.turns(info.id):
            texts = (t.user_text, t.transcript, t.reply, t.note, t.label)
            if any(needle in (x or "").casefold() for x in texts):
                return True
        return False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_store_path(data_dir: Path) -> Path:
    return data_dir / "sessions.sqlite3"
