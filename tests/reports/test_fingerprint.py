"""Input fingerprints: stable for the same content, different for any change."""

from __future__ import annotations

import pandas as pd

from segkit.reports import input_fingerprint, workspace_fingerprint


def _tables():
    return {"events": pd.DataFrame({"id": ["a", "b", "c"], "v": [1.0, None, 3.0],
                                    "props": [{"k": 1}, None, "x"]}),
            "subscribers": pd.DataFrame({"id": ["s"]})}


def test_input_fingerprint_ignores_row_order_but_not_content():
    base = input_fingerprint(_tables())
    shuffled = _tables()
    shuffled["events"] = shuffled["events"].iloc[[2, 0, 1]]
    assert input_fingerprint(shuffled) == base
    changed = _tables()
    changed["events"].loc[1, "v"] = 2.0
    assert input_fingerprint(changed) != base
    renamed = {"orders" if k == "events" else k: v for k, v in _tables().items()}
    assert input_fingerprint(renamed) != base


def test_workspace_fingerprint_matches_same_inputs_and_changes_on_ingest(tmp_path):
    from segkit.io import Workspace

    subscribers = pd.DataFrame({"subscriber_id": ["s1", "s2"], "timezone": ["UTC", "UTC"]})
    events = pd.DataFrame({"subscriber_id": ["s1"], "event_type": ["send"], "ts": ["2024-01-01T00:00:00Z"]})
    prints = []
    for name in ("one", "two"):
        with Workspace(tmp_path / f"{name}.duckdb") as ws:
            ws.ingest("subscribers", subscribers)
            ws.ingest("events", events)
            prints.append(workspace_fingerprint(ws))
    assert prints[0] == prints[1] and len(prints[0]) == 16
    with Workspace(tmp_path / "one.duckdb") as ws:
        ws.ingest("events", events.assign(ts="2024-01-02T00:00:00Z"))
        assert workspace_fingerprint(ws) != prints[0]
