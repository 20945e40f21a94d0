"""Retention: counts match an independent computation; failures leave data unchanged."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from segkit.errors import InputError, ValidationError
from segkit.io import Workspace
from segkit.privacy import PruneReport, parse_age, prune

AS_OF = pd.Timestamp("2025-01-01T00:00:00Z")


def test_prune_deletes_exactly_the_old_events(ws_path):
    with Workspace(ws_path) as ws:
        events = ws.table("events")
        log = ws.table("ingest_log")
        quarantine = ws.table("quarantine")
        report = prune(ws, "730d", AS_OF)
        kept = ws.table("events")
        audit = ws.table("privacy_audit")
    cutoff = AS_OF - pd.Timedelta(days=730)
    old = events["ts"] < cutoff
    assert 0 < old.sum() < len(events)
    assert report.to_frame().set_index("table")["rows"].to_dict() == {
        "events": int(old.sum()), "quarantine": 0}
    assert set(kept["event_id"]) == set(events.loc[~old, "event_id"])
    assert report.cutoff == cutoff and report.compacted and report.total_rows == old.sum()
    assert audit["action"].tolist() == ["prune"] and audit["subject_hash"].isna().all()
    assert "730 days" in report.summary() and "<li>events:" in report._repr_html_()
    assert len(quarantine) == 5 and (log["finished_at"] > cutoff).all()


def test_prune_of_quarantine_follows_the_ingest_time(ws_path):
    with Workspace(ws_path) as ws:
        finished = ws.table("ingest_log")["finished_at"].max()
        report = prune(ws, "1h", finished + pd.Timedelta(hours=2), compact=False)
        assert ws.table("quarantine").empty and ws.table("events").empty
    assert dict(zip(report.removed["table"], report.removed["rows"], strict=True))["quarantine"] == 5
    assert isinstance(report, PruneReport) and not report.compacted


def test_prune_is_atomic(ws_path, monkeypatch):
    import segkit.privacy._prune as module

    real = module._delete
    calls = []

    def fail_on_second(con, table, where, cutoff):
        calls.append(table)
        if len(calls) == 2:
            raise RuntimeError("killed mid-way")
        return real(con, table, where, cutoff)

    with Workspace(ws_path) as ws:
        before = {t: len(ws.table(t)) for t in ("events", "quarantine", "privacy_audit")}
        monkeypatch.setattr(module, "_delete", fail_on_second)
        with pytest.raises(RuntimeError, match="mid-way"):
            prune(ws, "1d", pd.Timestamp("2030-01-01", tz="UTC"))
        assert calls == ["events", "quarantine"]  # events were deleted before the failure ...
        after = {t: len(ws.table(t)) for t in ("events", "quarantine", "privacy_audit")}
    assert after == before  # ... and rolled back


def test_parse_age():
    assert parse_age("730d") == pd.Timedelta(days=730)
    assert parse_age(" 12W ") == pd.Timedelta(weeks=12)
    assert parse_age("48h") == pd.Timedelta(hours=48)
    assert parse_age(dt.timedelta(days=3)) == pd.Timedelta(days=3)
    for bad in ("2y", "730", "d", "-5d", "1.5d", "6 months"):
        with pytest.raises(InputError, match="cannot read age"):
            parse_age(bad)
    with pytest.raises(InputError, match="positive"):
        parse_age("0d")


def test_prune_needs_an_aware_reference_and_write_access(ws_path):
    with Workspace(ws_path) as ws, pytest.raises(ValidationError, match="time zone"):
        prune(ws, "30d", "2025-01-01")
    with Workspace(ws_path, read_only=True) as ws, pytest.raises(InputError, match="read-only"):
        prune(ws, "30d", AS_OF)
