"""A small workspace with one planted, distinctive subscriber in every kind of table.

The planted id and email are long random-looking strings, so a byte search of the DuckDB file
finds them before erasure (the positive control of the "no trace left" test) even though DuckDB
compresses strings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from segkit.io import Workspace

PLANTED_ID = "canary-subscriber-4f9d2c7a1be85e3061d7c9a2"
PLANTED_EMAIL = "erasure.canary.8e1b6f0d93ac4275@forget-me-not.example.org"
#: Another id for the same person (same email, different case): erased with the planted one.
LINKED_ID = "canary-linked-account-0b7e5d3c9a1f"
N_OTHERS = 40


def subscribers_frame() -> pd.DataFrame:
    others = [f"s{i:03d}" for i in range(N_OTHERS)]
    return pd.DataFrame({
        "subscriber_id": [*others, PLANTED_ID, LINKED_ID],
        "email": [f"person{i}@example.com" for i in range(N_OTHERS)]
        + [PLANTED_EMAIL, PLANTED_EMAIL.upper()],
        "signup_at": "2023-01-01T00:00:00Z",
        "timezone": "Europe/Berlin",
        "consent": True,
        "plan": "gold",  # an extra column: goes into attributes
    })


def events_frame() -> pd.DataFrame:
    rows = []
    days = pd.date_range("2022-01-05", "2024-12-25", freq="61D", tz="UTC")
    for i, subscriber in enumerate([*(f"s{i:03d}" for i in range(N_OTHERS)), PLANTED_ID, LINKED_ID]):
        for k, day in enumerate(days):
            kind = ("send", "open", "click", "purchase")[(i + k) % 4]
            rows.append({"subscriber_id": subscriber, "event_type": kind,
                         "ts": (day + pd.Timedelta(hours=i % 24)).isoformat(),
                         "value": 25.0 if kind == "purchase" else None,
                         "campaign_id": f"c{k}"})
    return pd.DataFrame(rows)


def build(path: Path) -> Path:
    """Ingest subscribers, events, assignments, three quarantined rows mentioning the planted
    subscriber (by id; by email under a source column name; by email inside a free-text column
    of another subscriber's row), a cached-features table and an email-only table."""
    with Workspace(path) as ws:
        ws.ingest("subscribers", subscribers_frame())
        ws.ingest("events", events_frame())
        ws.ingest("assignments", pd.DataFrame({
            "experiment_id": "exp1", "subscriber_id": [PLANTED_ID, "s001", "s002"],
            "arm": ["A", "B", "A"], "assigned_at": "2024-03-01T00:00:00Z"}))
        ws.ingest("events", pd.DataFrame({  # quarantined: unknown event type; s004's row
            "subscriber_id": [PLANTED_ID, "s003", "s004"],  # mentions the planted email
            "event_type": "teleport", "ts": "2024-05-01T00:00:00Z",
            "note": [None, None, f"forwarded by {PLANTED_EMAIL.upper()}, see thread"]}))
        ws.ingest("subscribers", pd.DataFrame({  # quarantined: bad zone; email under "E-Mail"
            "subscriber_id": ["new-1", "new-2"], "E-Mail": [PLANTED_EMAIL, "x@example.com"],
            "timezone": ["Mars/Olympus", "Mars/Olympus"]}), mapping={"email": "E-Mail"})
        con = ws.connection
        con.execute("CREATE TABLE feature_cache AS SELECT subscriber_id, 1.5 AS score, "
                    "subscriber_id || '-snapshot' AS note FROM subscribers")
        con.execute(  # a stored invoice line (orders ingest), without its order event
            "INSERT INTO order_lines (line_id, order_id, subscriber_id, ts, quantity, unit_price, "
            "value, product_id) VALUES ('l1', 'o1', ?, '2024-02-01T10:00:00Z', 2, 5.0, 10.0, 'P1')",
            [PLANTED_ID])
        con.execute("CREATE TABLE bounce_list (email VARCHAR, bounced_at TIMESTAMPTZ)")
        con.execute("INSERT INTO bounce_list VALUES (?, '2024-01-01'), ('z@example.com', NULL)",
                    [PLANTED_EMAIL.title()])
    return path


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("privacy") / "template.duckdb")


@pytest.fixture
def ws_path(built_workspace, tmp_path) -> Path:
    """A fresh copy of the planted workspace for each test."""
    path = tmp_path / "ws.duckdb"
    path.write_bytes(built_workspace.read_bytes())
    wal = built_workspace.with_name(built_workspace.name + ".wal")
    if wal.exists():
        path.with_name(path.name + ".wal").write_bytes(wal.read_bytes())
    return path
