"""Erasure: every table, the quarantine, the file's bytes; audit and suppression hold no PII."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from segkit.errors import InputError
from segkit.io import Workspace
from segkit.privacy import ErasureReport, forget

from .conftest import LINKED_ID, N_OTHERS, PLANTED_EMAIL, PLANTED_ID

AT = pd.Timestamp("2025-02-01T12:00:00Z")


def _file_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, if any (lower-cased for a case-blind grep)."""
    wal = path.with_name(path.name + ".wal")
    return (path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")).lower()


def _traces(ws: Workspace) -> dict[str, int]:
    """Rows mentioning the planted id or email, per table, by an independent full-text search
    over every table's rows cast to text."""
    con = ws.connection
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
    needles = (PLANTED_ID.lower(), PLANTED_EMAIL.lower(), LINKED_ID.lower())
    match = " OR ".join(f"contains(lower(x::VARCHAR), '{n}')" for n in needles)
    found = {}
    for table in tables:
        found[table] = con.execute(f'SELECT count(*) FROM "{table}" x WHERE {match}').fetchall()[0][0]
    return found


def test_forget_removes_every_trace_from_tables_and_file(ws_path):
    # positive control: the same searches find the planted subscriber before erasure
    raw = _file_bytes(ws_path)
    assert PLANTED_EMAIL.lower().encode() in raw and PLANTED_ID.encode() in raw
    with Workspace(ws_path) as ws:
        before = _traces(ws)
        assert {t for t, n in before.items() if n} == {
            "events", "subscribers", "assignments", "quarantine", "feature_cache", "bounce_list",
            "order_lines"}
        events_before = len(ws.table("events"))
        report = forget(ws, [PLANTED_ID], at=AT)
        assert sum(_traces(ws).values()) == 0
        assert len(ws.table("events")) == events_before - 2 * 18  # both ids' events, nobody else's
        assert len(ws.table("subscribers")) == N_OTHERS
    assert PLANTED_EMAIL.lower().encode() not in _file_bytes(ws_path)
    assert PLANTED_ID.encode() not in _file_bytes(ws_path)
    assert LINKED_ID.encode() not in _file_bytes(ws_path)
    assert not ws_path.with_name(ws_path.name + ".compact").exists()
    removed = report.to_frame().set_index("table")["rows"]
    assert removed.to_dict() == {"assignments": 1, "bounce_list": 1, "events": 36, "feature_cache": 2,
                                 "order_lines": 1, "subscribers": 2, "quarantine": 3}
    assert report.erased == 1 and report.linked == 1 and report.compacted and not report.unknown


def test_audit_and_suppression_hold_hashes_not_personal_data(ws_path):
    with Workspace(ws_path) as ws:
        report = forget(ws, [f"  {PLANTED_ID} "], at=AT)
        audit = ws.table("privacy_audit")
        suppression = ws.table("suppression")
        salt = ws.table("privacy_salt")["salt"].item()
    assert len(audit) == 2 and set(audit["action"]) == {"forget"}
    assert (audit["at"] == AT).all() and tuple(audit["audit_id"]) == report.audit_ids
    assert audit["subject_hash"].str.fullmatch("[0-9a-f]{64}").all()
    text = audit.to_json(date_format="iso") + suppression.to_json(date_format="iso")
    for secret in (PLANTED_ID, PLANTED_EMAIL.lower(), LINKED_ID, "forget-me-not"):
        assert secret not in text.lower()
    details = [json.loads(d) for d in audit["details"]]
    planted = next(d for d in details if d["requested"])
    assert planted["rows_removed"]["events"] == 18 and planted["rows_removed"]["assignments"] == 1
    # two ids and one email, salted: not the bare sha256 of the id
    assert sorted(suppression["kind"]) == ["email", "subscriber_id", "subscriber_id"]
    import hashlib
    assert hashlib.sha256(PLANTED_ID.encode()).hexdigest() not in set(suppression["subject_hash"])
    assert len(salt) == 64


def test_unknown_ids_are_reported_and_none_held_is_an_error(ws_path):
    with Workspace(ws_path) as ws:
        report = forget(ws, ["s001", "no-such-person"], at=AT, compact=False)
        assert report.unknown == ("no-such-person",) and report.erased == 1 and not report.compacted
        assert "no-such-person" in report.summary() and "NOT compacted" in report.summary()
        assert len(ws.table("suppression")) == 3  # s001 id + email, unknown id
        audit_before = len(ws.table("privacy_audit"))
        events_before = len(ws.table("events"))
        with pytest.raises(InputError, match="none of the 2 subscriber id.*nothing was erased"):
            forget(ws, ["ghost-1", "ghost-2"], at=AT)
        assert len(ws.table("privacy_audit")) == audit_before  # nothing written
        assert len(ws.table("events")) == events_before
        with pytest.raises(InputError, match="no subscriber ids"):
            forget(ws, [" ", ""])
    with Workspace(ws_path, read_only=True) as ws, pytest.raises(InputError, match="read-only"):
        forget(ws, ["s002"])


def test_forget_is_one_transaction(ws_path, monkeypatch):
    import segkit.privacy._forget as module

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    with Workspace(ws_path) as ws:
        before = {name: len(ws.table(name)) for name in ("events", "subscribers", "quarantine")}
        monkeypatch.setattr(module, "_record", fail)  # after every table was deleted from
        with pytest.raises(RuntimeError, match="disk full"):
            forget(ws, [PLANTED_ID], at=AT)
        after = {name: len(ws.table(name)) for name in ("events", "subscribers", "quarantine")}
        assert after == before and ws.table("suppression").empty


def test_report_object(ws_path):
    with Workspace(ws_path) as ws:
        report = forget(ws, ["s005"], at=AT, compact=False)
    assert isinstance(report, ErasureReport)
    assert report.total_rows == int(report.to_frame()["rows"].sum()) > 0
    assert "forgot 1 of 1 subscriber" in report.summary()
    assert "<li>events: 18</li>" in report._repr_html_()


def test_a_failed_compaction_is_reported_not_hidden(ws_path):
    with Workspace(ws_path) as ws, Workspace(ws_path) as other:
        with pytest.raises(InputError, match="erasure committed, but the database file was not"):
            forget(ws, ["s004"], at=AT)
        assert "s004" not in set(other.table("events")["subscriber_id"])
