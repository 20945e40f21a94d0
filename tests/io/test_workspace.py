"""The workspace file: tables, types, the ibis backend, the public surface."""

from __future__ import annotations

import pandas as pd
import pytest

import segkit
from segkit._schema import TABLES
from segkit.errors import ValidationError
from segkit.io import WORKSPACE_TABLES, IngestReport, Workspace


def test_creates_every_table_with_schema_columns(tmp_path):
    path = tmp_path / "nested" / "ws.duckdb"
    with Workspace(path) as ws:
        assert ws.path == path and path.exists()
        for name, schema in WORKSPACE_TABLES.items():
            assert list(ws.table(name).columns) == schema.column_names
    assert set(TABLES) <= set(WORKSPACE_TABLES)
    assert {"ingest_log", "quarantine"} <= set(WORKSPACE_TABLES)


def test_reopening_keeps_data_and_timestamps_are_utc(tmp_path):
    path = tmp_path / "ws.duckdb"
    frame = pd.DataFrame(
        {"subscriber_id": ["s1"], "event_type": ["open"], "ts": ["2024-05-01T12:00:00+02:00"]}
    )
    with Workspace(path) as ws:
        ws.ingest("events", frame)
    with Workspace(path) as ws:
        events = ws.table("events")
    assert str(events["ts"].dtype).endswith("UTC]")
    assert events["ts"].iloc[0] == pd.Timestamp("2024-05-01T10:00:00", tz="UTC")


def test_unknown_table_lists_valid_names(workspace):
    with pytest.raises(ValidationError, match="unknown table 'event'; valid: assignments"):
        workspace.table("event")
    with pytest.raises(ValidationError, match="valid: assignments, campaigns, events, orders, subscribers"):
        workspace.ingest("event", pd.DataFrame())


def test_ibis_backend_sees_the_same_tables(workspace):
    workspace.ingest(
        "events",
        pd.DataFrame({"subscriber_id": ["a", "b"], "event_type": ["open", "click"],
                      "ts": ["2024-01-01T00:00:00Z"] * 2}),
    )
    backend = workspace.ibis()
    assert backend.table("events").count().execute() == 2
    assert backend.table("ingest_log").count().execute() == 1


def test_close_is_idempotent_and_closed_workspace_refuses_work(tmp_path):
    ws = Workspace(tmp_path / "ws.duckdb")
    ws.close()
    ws.close()
    with pytest.raises(ValidationError, match="is closed"):
        ws.table("events")
    assert "closed" in repr(ws)


def test_top_level_names_resolve_to_io():
    assert segkit.Workspace is Workspace and segkit.IngestReport is IngestReport


def test_negative_heuristic_window_is_rejected(tmp_path):
    with pytest.raises(ValidationError, match="machine_open_seconds"):
        Workspace(tmp_path / "ws.duckdb", machine_open_seconds=-1)
