"""A forgotten subscriber stays out of later ingests unless re-ingest is allowed."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

from segkit.io import Workspace
from segkit.privacy import forget

from .conftest import LINKED_ID, PLANTED_EMAIL, PLANTED_ID, events_frame, subscribers_frame

AT = pd.Timestamp("2025-02-01T12:00:00Z")


def _held(ws: Workspace, subscriber_id: str) -> dict[str, int]:
    return {t: int((ws.table(t)["subscriber_id"] == subscriber_id).sum())
            for t in ("subscribers", "events", "assignments")}


def test_reingest_of_old_files_skips_forgotten_subscribers(ws_path, tmp_path):
    old_subscribers = tmp_path / "subscribers.csv"
    subscribers_frame().to_csv(old_subscribers, index=False)
    events = events_frame()
    with Workspace(ws_path) as ws:
        forget(ws, [PLANTED_ID], at=AT, compact=False)
        subs = ws.ingest("subscribers", old_subscribers)
        # the planted id and the linked id (same email) are skipped; everyone else is a duplicate
        assert (subs.rows_read, subs.rows_suppressed, subs.rows_duplicate) == (42, 2, 40)
        assert "forgotten subscribers skipped" in " ".join(subs.notes)
        assert "suppressed (forgotten) 2" in str(subs)
        ev = ws.ingest("events", events)
        expected = events["subscriber_id"].isin([PLANTED_ID, LINKED_ID]).sum()
        assert ev.rows_suppressed == expected == 36 and ev.rows_loaded == 0
        # a NEW id with the forgotten email (any case, spaces) is the same person: skipped
        same_person = ws.ingest("subscribers", pd.DataFrame({
            "subscriber_id": ["brand-new-id"], "email": [f"  {PLANTED_EMAIL.upper()} "]}))
        assert same_person.rows_suppressed == 1 and same_person.rows_loaded == 0
        # rows of forgotten subscribers that would be quarantined are not stored either
        bad = ws.ingest("events", pd.DataFrame({"subscriber_id": [PLANTED_ID, "s001"],
                                                "event_type": "teleport", "ts": "2024-01-01T00:00Z"}))
        assert (bad.rows_suppressed, bad.rows_quarantined) == (1, 1)
        assert not ws.table("quarantine")["raw"].str.contains(PLANTED_ID).any()
        assert _held(ws, PLANTED_ID) == {"subscribers": 0, "events": 0, "assignments": 0}
        log = ws.table("ingest_log")
        assert (log["rows_read"] == log["rows_loaded"] + log["rows_duplicate"]
                + log["rows_quarantined"] + log["rows_suppressed"]).all()
        assert log["rows_suppressed"].tolist()[-4:] == [2, 36, 1, 1]


def test_allow_reingest_brings_them_back_and_lifts_suppression(ws_path):
    with Workspace(ws_path) as ws:
        forget(ws, [PLANTED_ID], at=AT, compact=False)
        subs = ws.ingest("subscribers", subscribers_frame(), allow_reingest=True)
        assert subs.rows_suppressed == 0 and subs.rows_loaded == 2
        assert "re-admitted" in " ".join(subs.notes)
        assert ws.table("suppression").empty  # both ids and the email lifted
        events = ws.ingest("events", events_frame())  # no flag needed any more
        assert events.rows_loaded == 36 and events.rows_suppressed == 0
        assert _held(ws, PLANTED_ID)["events"] == 18
        audit = ws.table("privacy_audit")
        assert audit["action"].tolist() == ["forget", "forget", "reingest", "reingest", "reingest"]
        options = json.loads(ws.table("ingest_log")["options"].iloc[-2])
        assert options["allow_reingest"] is True


def test_only_the_forgotten_are_suppressed(ws_path):
    with Workspace(ws_path) as ws:
        forget(ws, ["s010"], at=AT, compact=False)
        report = ws.ingest("events", pd.DataFrame({
            "subscriber_id": ["s010", "s011", "s0100", "S010"], "event_type": "open",
            "ts": "2025-01-10T00:00Z"}))
    assert report.rows_suppressed == 1 and report.rows_loaded == 3  # exact, case-sensitive ids


def test_older_workspaces_gain_the_suppressed_count_column(tmp_path):
    path = tmp_path / "old.duckdb"
    with Workspace(path) as ws:
        ws.ingest("events", events_frame().head(5))
        ws.connection.execute("ALTER TABLE ingest_log DROP COLUMN rows_suppressed")
    with Workspace(path) as ws:
        report = ws.ingest("events", events_frame().head(8))
        log = ws.table("ingest_log")
    assert report.rows_loaded == 3 and log["rows_suppressed"].tolist() == [0, 0]
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM suppression").fetchall() == [(0,)]


@pytest.mark.parametrize("flag", [False, True])
def test_ingest_without_suppression_is_unchanged(tmp_path, flag):
    with Workspace(tmp_path / "ws.duckdb") as ws:
        report = ws.ingest("subscribers", subscribers_frame(), allow_reingest=flag)
    assert report.rows_suppressed == 0 and report.rows_loaded == 42 and not any("forgotten" in n for n in report.notes)
