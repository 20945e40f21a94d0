"""Machine opens: flagged from properties, or by the documented timing heuristic across ingests."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.io import Workspace

T0 = pd.Timestamp("2024-03-01T09:00:00", tz="UTC")


def event(subscriber: str, kind: str, seconds: float, campaign: str | None = "c1", **props):
    return {
        "subscriber_id": subscriber,
        "event_type": kind,
        "ts": T0 + pd.Timedelta(seconds=seconds),
        "campaign_id": campaign,
        "properties": props or None,
    }


def flags(ws: Workspace) -> dict[tuple[str, str], bool]:
    opens = ws.table("events").query("event_type == 'open'")
    return {
        (row.subscriber_id, row.campaign_id): bool(row.machine_open)
        for row in opens.itertuples()
    }


def test_heuristic_flags_quick_opens_without_clicks(workspace):
    frame = pd.DataFrame([
        event("quick", "send", 0), event("quick", "open", 3),
        event("human", "send", 0), event("human", "open", 60),
        event("clicker", "send", 0), event("clicker", "open", 2), event("clicker", "click", 90),
        event("edge", "delivery", 0), event("edge", "open", 10),
        event("other_campaign", "send", 0, "c2"), event("other_campaign", "open", 1, "c1"),
    ])
    workspace.ingest("events", frame)
    assert flags(workspace) == {
        ("quick", "c1"): True,
        ("human", "c1"): False,
        ("clicker", "c1"): False,
        ("edge", "c1"): True,
        ("other_campaign", "c1"): False,
    }
    events = workspace.table("events")
    assert not events.loc[events["event_type"] != "open", "machine_open"].any()


@pytest.mark.parametrize(
    "props",
    [
        {"machine_open": True},
        {"machine_open": "true"},
        {"user_agent": "Mozilla/5.0 (compatible; Mimecast URL scanner)"},
        {"user_agent": "AppleMailPrivacyProxy"},
    ],
)
def test_properties_flag_an_open_even_late(workspace, props):
    workspace.ingest("events", pd.DataFrame([event("s", "open", 3600, **props)]))
    assert flags(workspace) == {("s", "c1"): True}


def test_ordinary_user_agent_is_human(workspace):
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"
    workspace.ingest("events", pd.DataFrame([event("s", "open", 3600, user_agent=agent)]))
    assert flags(workspace) == {("s", "c1"): False}


def test_flags_are_recomputed_when_sends_and_clicks_arrive_later(workspace):
    workspace.ingest("events", pd.DataFrame([event("s", "open", 4)]))
    assert flags(workspace) == {("s", "c1"): False}  # no send known yet
    workspace.ingest("events", pd.DataFrame([event("s", "send", 0)]))
    assert flags(workspace) == {("s", "c1"): True}
    workspace.ingest("events", pd.DataFrame([event("s", "click", 300)]))
    assert flags(workspace) == {("s", "c1"): False}


def test_window_is_configurable(tmp_path):
    frame = pd.DataFrame([event("s", "send", 0), event("s", "open", 30)])
    with Workspace(tmp_path / "ws.duckdb", machine_open_seconds=45) as ws:
        ws.ingest("events", frame)
        assert flags(ws) == {("s", "c1"): True}


def test_flags_recover_planted_machine_opens_in_synthetic_data(tmp_path):
    """The generator plants machine opens 0-5 s after the send (some with a proxy user agent)
    and human opens no sooner than 60 s: no human open may be flagged, and only machine opens
    of subscribers who also clicked that campaign without a proxy user agent may be missed."""
    from segkit.datasets import synthetic

    data = synthetic(n_subscribers=300, seed=1)
    with Workspace(tmp_path / "ws.duckdb") as ws:
        for name, frame in data.tables().items():
            assert ws.ingest(name, frame).rows_quarantined == 0
        events = ws.table("events")
    opens = events[events["event_type"] == "open"]
    planted = opens["event_id"].isin(data.truth.machine_open_event_ids)
    flagged = opens["machine_open"].astype(bool)
    assert planted.sum() > 100
    assert not (flagged & ~planted).any()
    clicked = set(zip(*events.query("event_type == 'click'")[["subscriber_id", "campaign_id"]]
                      .to_numpy().T, strict=True))
    missed = opens[planted & ~flagged]
    assert all((s, c) in clicked for s, c in zip(missed["subscriber_id"], missed["campaign_id"],
                                                  strict=True))
    assert (planted & flagged).sum() >= 0.9 * planted.sum()


def test_flags_in_hash_slices_equal_one_pass(tmp_path, monkeypatch):
    """Many events are flagged in slices of subscribers (and their ids checked for repeats in
    slices of hashes); slices of a few rows give exactly the one-pass flags, on a first load
    (every subscriber) and on a later one (the affected subscribers)."""
    from segkit.datasets import synthetic
    from segkit.io import _load, _machine

    data = synthetic(n_subscribers=200, seed=2)
    events = data.tables()["events"]
    first, later = events.iloc[: len(events) // 2], events.iloc[len(events) // 2 :]
    stored, calls = {}, []
    partitions = _machine.hash_partitions
    monkeypatch.setattr(_machine, "hash_partitions", lambda rows: calls.append(rows) or partitions(rows))
    for slice_rows in (10**9, 97):
        monkeypatch.setattr(_machine, "PARTITION_ROWS", slice_rows)
        monkeypatch.setattr(_load, "KEY_SLICE_ROWS", slice_rows)
        with Workspace(tmp_path / f"ws{slice_rows}.duckdb") as ws:
            reports = [ws.ingest("events", part) for part in (first, later, events)]
            stored[slice_rows] = ws.table("events").sort_values("event_id").reset_index(drop=True)
        assert [(r.rows_loaded, r.rows_duplicate) for r in reports] == [
            (len(first), 0), (len(later), 0), (0, len(events))]
    assert partitions(max(calls)) > 10  # really in slices
    assert stored[97]["machine_open"].sum() > 50
    pd.testing.assert_frame_equal(stored[10**9], stored[97])
