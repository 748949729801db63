"""The SQLite session store: round trip, WAL, encryption, search, delete, a full disk."""

from __future__ import annotations

import sqlite3

import pytest

from core.store.session_store import (
    SessionStore,
    SessionStoreError,
    TurnRecord,
    WrongPassphraseError,
)


def _turn(**kw) -> TurnRecord:
    base = dict(
        transcript="I missed the last train home again.",
        label="sad", intensity="medium", confidence=0.71,
        cues={"f0_mean_hz": 112.5, "rate_sps": 3.1},
        eips={"emotion": "sad, medium.", "intent": "wants comfort", "psychology": "tired", "strategy": "validate"},
        reply="That sounds exhausting. I'm here.",
        engine="cascade", model="SmolLM2-135M", timings_ms={"asr": 510.0, "llm": 420.5},
    )
    base.update(kw)
    return TurnRecord(**base)


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        sid = store.new_session("Monday check-in", consent=True)
        original = _turn(safety_triggered=True, interrupted=True, note="first")
        tid = store.add_turn(sid, original)
    with SessionStore(path) as store:  # reopened: the turn was committed, not just cached
        [back] = store.turns(sid)
        info = store.session(sid)
    assert back.id == tid
    assert back == TurnRecord(**{**original.__dict__, "id": tid})
    assert (info.title, info.consent, info.turn_count) == ("Monday check-in", True, 1)


def test_wal_mode_and_schema_version(tmp_path):
    path = tmp_path / "s.sqlite3"
    SessionStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == 1
    db.close()


def test_notes_rename_and_order(tmp_path):
    with SessionStore(tmp_path / "s.sqlite3") as store:
        a = store.new_session("first")
        b = store.new_session("second")
        t1 = store.add_turn(a, _turn(reply="one"))
        store.add_turn(a, _turn(reply="two"))
        store.set_turn_note(t1, "client relaxed here")
        store.set_session_note(b, "follow up next week")
        store.rename_session(b, "  Renamed  ")
        assert [t.reply for t in store.turns(a)] == ["one", "two"]
        assert store.turns(a)[0].note == "client relaxed here"
        assert store.session(b).title == "Renamed"
        assert store.session(b).note == "follow up next week"
        assert [s.id for s in store.sessions()][0] == b  # most recently updated first
        with pytest.raises(ValueError):
            store.rename_session(a, "   ")


def test_search_matches_titles_notes_and_turn_text(tmp_path):
    with SessionStore(tmp_path / "s.sqlite3") as store:
        train = store.new_session("Commute")
        store.add_turn(train, _turn())
        work = store.new_session("Work stress")
        store.add_turn(work, _turn(transcript="My manager shouted", reply="That sounds hard."))
        assert [s.id for s in store.sessions("TRAIN")] == [train]
        assert [s.id for s in store.sessions("stress")] == [work]
        assert [s.id for s in store.sessions("shouted")] == [work]
        assert store.sessions("nothing like this") == []
        assert len(store.sessions()) == 2


def test_delete_removes_session_and_its_turns(tmp_path):
    with SessionStore(tmp_path / "s.sqlite3") as store:
        keep, gone = store.new_session("keep"), store.new_session("gone")
        store.add_turn(keep, _turn())
        store.add_turn(gone, _turn())
        store.delete_session(gone)
        assert [s.id for s in store.sessions()] == [keep]
        assert store.turns(gone) == []
        with pytest.raises(KeyError):
            store.delete_session(gone)


def test_encrypted_store_refuses_wrong_passphrase_and_loses_nothing(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SessionStore(path, passphrase="correct horse") as store:
        assert store.encrypted
        sid = store.new_session("private")
        store.add_turn(sid, _turn(transcript="a secret sentence"))
    raw = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                               if path.with_name(path.name + "-wal").exists() else b"")
    assert b"secret sentence" not in raw and b"private" not in raw
    before = path.read_bytes()
    with pytest.raises(WrongPassphraseError, match="wrong passphrase"):
        SessionStore(path, passphrase="Correct horse")
    with pytest.raises(WrongPassphraseError, match="encrypted"):
        SessionStore(path)
    assert path.read_bytes() == before
    with SessionStore(path, passphrase="correct horse") as store:
        assert store.turns(sid)[0].transcript == "a secret sentence"
        assert [s.title for s in store.sessions("secret")] == ["private"]


def test_set_passphrase_encrypts_then_decrypts_existing_rows(tmp_path):
    path = tmp_path / "s.sqlite3"
    with SessionStore(path) as store:
        sid = store.new_session("plain")
        store.add_turn(sid, _turn())
        store.set_passphrase("pw")
    with pytest.raises(WrongPassphraseError):
        SessionStore(path)
    with SessionStore(path, passphrase="pw") as store:
        assert store.turns(sid)[0].label == "sad"
        store.set_passphrase(None)
    with SessionStore(path) as store:
        assert store.session(sid).title == "plain"


def test_full_disk_is_a_clear_error_and_the_store_keeps_working(tmp_path):
    with SessionStore(tmp_path / "s.sqlite3") as store:
        sid = store.new_session("s")
        store.add_turn(sid, _turn())
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        # SQLite's own "database or disk is full" (SQLITE_FULL), raised exactly where a real full disk would.
        store._db.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(SessionStoreError, match="disk .* is full"):
            store.add_turn(sid, _turn(reply="x" * 20000))
        assert len(store.turns(sid)) == 1  # the failed turn was rolled back, the earlier one kept
        store._db.execute("PRAGMA max_page_count = 1073741823")
        store.add_turn(sid, _turn(reply="after"))
        assert [t.reply for t in store.turns(sid)][-1] == "after"
