"""`segkit export recommendations`: product-level interactions from the workspace, consent gate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.consent import eligible
from segkit.io import Workspace
from segkit.recommend import EVENT_WEIGHTS, EXPORT_COLUMNS, export_recommendations, weight_events

AS_OF = "2024-12-01"


def _with_products(events: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Give every product event a product id inside its category (and a name)."""
    rng = np.random.default_rng(seed)
    events = events.copy()
    product = events["event_type"].isin(["purchase", "cart_add", "product_view"])
    props = []
    for is_product, text in zip(product, events["properties"], strict=True):
        if not is_product:
            props.append(text)
            continue
        payload = json.loads(text)
        pid = f"{payload['category']}-{rng.integers(0, 6)}"
        props.append(json.dumps({**payload, "product_id": pid, "name": pid.upper()}))
    events["properties"] = props
    return events


def _build(path: Path, subscribers: pd.DataFrame, events: pd.DataFrame, campaigns: pd.DataFrame) -> Path:
    with Workspace(path) as ws:
        ws.ingest("subscribers", subscribers)
        ws.ingest("campaigns", campaigns)
        ws.ingest("events", events)
    return path


@pytest.fixture(scope="module")
def data():
    from segkit.datasets import synthetic

    return synthetic(300, seed=5)


def _export(ws: Path, out: Path, *extra: str) -> pd.DataFrame:
    result = CliRunner().invoke(app, ["--workspace", str(ws), "export", "recommendations", "--as-of", AS_OF,
                                      "--top", "5", "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    assert "consent is decided" in result.output
    return pd.read_csv(out, dtype={"subscriber_id": str})


def test_export_holds_only_eligible_subscribers(data, tmp_path):
    events = _with_products(data.events)
    ws = _build(tmp_path / "ws.duckdb", data.subscribers, events, data.campaigns)
    table = _export(ws, tmp_path / "recs.csv")
    assert tuple(table.columns) == EXPORT_COLUMNS
    assert table.groupby("subscriber_id")["rank"].apply(list).map(lambda r: r == [1, 2, 3, 4, 5]).all()
    # the gate exactly as the other exports call it (segkit.segments.export_segment)
    gate = eligible(data.subscribers["subscriber_id"], data.subscribers, events=data.events)
    assert set(table["subscriber_id"]) == set(gate.eligible)
    # plant: exported subscribers lose consent / unsubscribe / get suppressed -> never exported again
    chosen = sorted(table["subscriber_id"].unique())[:3]
    subs = data.subscribers.copy()
    subs.loc[subs["subscriber_id"] == chosen[0], "consent"] = False
    subs.loc[subs["subscriber_id"] == chosen[1], "unsubscribed_at"] = pd.Timestamp("2024-06-01", tz="UTC")
    (tmp_path / "suppress.txt").write_text(chosen[2] + "\n")
    planted = _build(tmp_path / "planted.duckdb", subs, events, data.campaigns)
    again = _export(planted, tmp_path / "recs2.csv", "--suppress", str(tmp_path / "suppress.txt"))
    assert not set(chosen) & set(again["subscriber_id"])
    assert len(set(table["subscriber_id"]) - set(again["subscriber_id"])) == 3


def test_export_refuses_a_workspace_without_products(data, tmp_path):
    ws = _build(tmp_path / "plain.duckdb", data.subscribers, data.events, data.campaigns)
    result = CliRunner().invoke(app, ["--workspace", str(ws), "export", "recommendations", "--as-of", AS_OF,
                                      "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and "product_id" in result.output
    bad = CliRunner().invoke(app, ["--workspace", str(ws), "export", "recommendations", "--as-of", AS_OF,
                                   "--model", "als", "--out", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "valid: ease" in bad.output


def test_export_function_and_event_weights():
    subs = pd.DataFrame({"subscriber_id": ["a", "b"], "consent": [True, False], "unsubscribed_at": [None, None]})
    recs = pd.DataFrame({"subscriber_id": ["a", "b"], "rank": [1, 1], "product_id": ["x", "y"],
                         "score": [1.0, 1.0], "model": ["ease", "ease"]})
    table, gate = export_recommendations(recs, subs)
    assert table["subscriber_id"].tolist() == ["a"] and gate.counts["no consent"] == 1
    frame = pd.DataFrame({"event_type": ["purchase", "product_view", "open"]})
    assert weight_events(frame)["weight"].tolist() == [EVENT_WEIGHTS["purchase"], EVENT_WEIGHTS["product_view"]]
