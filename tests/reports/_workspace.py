"""A small real workspace for report tests: synthetic data (500 subscribers), a hostile campaign
name, and a few bad rows so the quarantine and the ingest log have something to show."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HOSTILE_NAME = "<script>document.title='x'</script>"


def build_small_workspace(path: Path, n_subscribers: int = 500, seed: int = 1) -> Path:
    from segkit.datasets._synthetic import synthetic
    from segkit.io import Workspace

    data = synthetic(n_subscribers=n_subscribers, seed=seed)
    tables = data.tables() if callable(data.tables) else data.tables
    campaigns = tables["campaigns"].copy()
    campaigns.loc[campaigns["sent_at"].idxmax(), "name"] = HOSTILE_NAME  # shown in "latest campaigns"
    events = tables["events"]
    bad = events.head(3).copy()
    bad["event_id"] = ["bad-1", "bad-2", "bad-3"]
    bad["event_type"] = ["teleport", "open", "click"]  # a negative click value is quarantined
    bad["value"] = [None, None, -5.0]
    bad["ts"] = [bad["ts"].iloc[0], "not a date", bad["ts"].iloc[2]]
    with Workspace(path) as ws:
        ws.ingest("subscribers", tables["subscribers"])
        ws.ingest("campaigns", campaigns)
        ws.ingest("events", pd.concat([events, bad.astype({"ts": object})], ignore_index=True))
        ws.ingest("assignments", tables["assignments"])
    return path
