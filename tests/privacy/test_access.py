"""Access: every row held about a subscriber, across tables, as JSON."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segkit.errors import InputError
from segkit.io import Workspace
from segkit.privacy import access, forget

from .conftest import LINKED_ID, PLANTED_EMAIL, PLANTED_ID


def test_access_returns_every_row_in_every_table(ws_path):
    with Workspace(ws_path, read_only=True) as ws:
        held = access(ws, PLANTED_ID)
        # independent expectations, table by table
        ids = {PLANTED_ID, LINKED_ID}
        expected = {
            "events": int(ws.table("events")["subscriber_id"].isin(ids).sum()),
            "subscribers": 2,
            "assignments": 1,
            "feature_cache": 2,
            "bounce_list": ws.connection.execute(
                "SELECT count(*) FROM bounce_list WHERE lower(email) = ?", [PLANTED_EMAIL]).fetchall()[0][0],
            "quarantine": 3,
            "order_lines": 1,
        }
        event_ids = set(ws.table("events").query("subscriber_id in @ids")["event_id"])
    assert held["row_counts"] == expected and held["total_rows"] == sum(expected.values())
    assert list(held["tables"])[-1] == "quarantine"
    assert {row["event_id"] for row in held["tables"]["events"]} == event_ids
    subscriber = next(r for r in held["tables"]["subscribers"] if r["subscriber_id"] == PLANTED_ID)
    assert subscriber["email"] == PLANTED_EMAIL and subscriber["attributes"] == {"plan": "gold"}
    assert subscriber["signup_at"].startswith("2023-01-01T00:00:00")
    quarantined = {q["raw"].get("E-Mail") or q["raw"].get("subscriber_id") for q in held["tables"]["quarantine"]}
    assert quarantined == {PLANTED_EMAIL, PLANTED_ID, "s004"}
    assert held["suppressed"] is False and held["audit"] == []
    assert json.loads(json.dumps(held)) == held


def test_access_for_others_and_unknown(ws_path):
    with Workspace(ws_path) as ws:
        other = access(ws, " s003 ")
        assert other["row_counts"]["quarantine"] == 1 and other["row_counts"]["assignments"] == 0
        assert other["row_counts"]["events"] == 18 and other["subscriber_id"] == "s003"
        assert access(ws, "nobody")["total_rows"] == 0
        with pytest.raises(InputError, match="no subscriber id"):
            access(ws, "  ")
        forget(ws, ["s003"], at=pd.Timestamp("2025-01-01", tz="UTC"), compact=False)
        after = access(ws, "s003")
    assert after["total_rows"] == 0 and after["suppressed"] is True
    assert [a["action"] for a in after["audit"]] == ["forget"]
    assert after["audit"][0]["details"]["rows_removed"]["events"] == 18


def test_access_on_a_workspace_from_before_the_privacy_tables(ws_path):
    with Workspace(ws_path) as ws:
        for table in ("privacy_salt", "suppression", "privacy_audit"):
            ws.connection.execute(f"DROP TABLE {table}")
    with Workspace(ws_path, read_only=True) as ws:
        held = access(ws, "s003")
    assert held["row_counts"]["events"] == 18 and held["suppressed"] is False
