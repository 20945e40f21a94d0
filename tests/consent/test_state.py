"""The consent state read from a workspace: bounce kinds kept apart at ingest, the events selected
in the database decide like all events, and no subscribers table means no export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segkit.consent import consent_tables, eligible, read_consent_events
from segkit.errors import InputError
from segkit.io import Workspace

TYPES = ["hard_bounce", "Soft Bounce", "soft-bounced", "bounced", "resubscribed", "opt_in", "spam_complaint",
         "unsubscribe", "delivered", "open", "click", "send", "purchase"]


def history(seed: int = 4, n: int = 60) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Subscribers and a dense random history of consent events spelled as platforms export them."""
    rng = np.random.default_rng(seed)
    ids = [f"sub-{i:03d}" for i in range(n)]
    subscribers = pd.DataFrame({
        "subscriber_id": ids, "email": [f"{i}@example.org" for i in ids], "consent": rng.random(n) > 0.1,
        "signup_at": "2023-01-01T00:00:00Z",
        "unsubscribed_at": [None if rng.random() > 0.2 else f"2024-0{rng.integers(1, 9)}-01T00:00:00Z"
                            for _ in ids],
    })
    size = 900
    days = rng.integers(0, 60, size)  # a coarse grid: ties are common
    events = pd.DataFrame({
        "event_id": [f"e{i}" for i in range(size)],  # repeats at one instant are distinct events
        "subscriber_id": rng.choice([*ids, "ghost"], size),
        "event_type": rng.choice(TYPES, size, p=[0.01, 0.2, 0.05, 0.005, 0.04, 0.02, 0.005, 0.01, 0.24,
                                                 0.16, 0.06, 0.15, 0.05]),
        "ts": [(pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=int(d))).isoformat() for d in days],
        "value": None,
    })
    events.loc[events["event_type"] == "purchase", "value"] = 10.0
    return subscribers, events


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    subscribers, events = history()
    path = tmp_path_factory.mktemp("consent") / "ws.duckdb"
    with Workspace(path) as ws:
        ws.ingest("subscribers", subscribers)
        report = ws.ingest("events", events)
        assert report.rows_quarantined == 0
    return path


def test_ingest_keeps_hard_and_soft_bounces_apart(workspace) -> None:
    with Workspace(workspace, read_only=True) as ws:
        stored = ws.table("events")["event_type"].value_counts()
    _, events = history()
    raw = events["event_type"].value_counts()
    assert stored["hard_bounce"] == raw["hard_bounce"]
    assert stored["soft_bounce"] == raw["Soft Bounce"] + raw["soft-bounced"]
    assert stored["bounce"] == raw["bounced"]
    assert stored["subscribe"] == raw["resubscribed"] + raw["opt_in"]
    assert stored["complaint"] == raw["spam_complaint"]


def test_workspace_rows_decide_like_every_event(workspace) -> None:
    with Workspace(workspace, read_only=True) as ws:
        every, tables = ws.table("events"), consent_tables(ws)
    ids = [*tables.subscribers["subscriber_id"], "ghost"]
    assert len(tables.events) < len(every) / 2  # only what the gate reads
    for limit in (1, 2, 3, 5):
        full = eligible(ids, tables.subscribers, events=every, soft_bounce_limit=limit)
        read = eligible(ids, tables.subscribers, events=tables.events, soft_bounce_limit=limit)
        pd.testing.assert_frame_equal(full.to_frame(), read.to_frame())
        assert full.counts.sum() == len(full.excluded)
    reasons = set(eligible(ids, tables.subscribers, events=tables.events).excluded["reason"])
    assert reasons >= {"unsubscribed", "no consent", "complained", "hard bounced", "soft bounced",
                       "not in the subscribers table"}


def test_no_subscribers_table_no_consent(tmp_path) -> None:
    _, events = history()
    path = tmp_path / "events-only.duckdb"
    with Workspace(path) as ws:
        ws.ingest("events", events)
    with Workspace(path, read_only=True) as ws:
        with pytest.raises(InputError, match="no subscribers table.*consent cannot be proven"):
            consent_tables(ws)
        assert len(read_consent_events(ws)) > 0  # the events alone are readable
