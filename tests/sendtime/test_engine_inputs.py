"""A workspace is read through the engine (needed columns and types, ``ts <= as_of``), and every
send-time result equals the one computed from its whole tables loaded into pandas (the old
``SELECT *`` path, kept as the reference: a mapping of DataFrames)."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.sendtime import evaluate_holdout, frequency, recommend
from segkit.sendtime._inputs import read_tables

AS_OF = "2024-12-01"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    from segkit.datasets import synthetic
    from segkit.io import Workspace

    data = synthetic(400, seed=8)
    path = tmp_path_factory.mktemp("ws") / "ws.duckdb"
    ws = Workspace(path)
    ws.ingest("subscribers", data.subscribers)
    ws.ingest("campaigns", data.campaigns)
    ws.ingest("events", data.events)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def whole(workspace):
    """What the send-time path loaded before: every column of both tables."""
    return {"events": workspace.table("events"), "subscribers": workspace.table("subscribers")}


def test_only_needed_columns_types_and_times_are_read(workspace, whole):
    as_of = pd.Timestamp(AS_OF, tz="UTC")
    read = read_tables(workspace, as_of)
    events = read["events"]
    assert list(events.columns) == ["subscriber_id", "event_type", "ts", "machine_open"]
    assert set(events["event_type"]) <= {"send", "open", "click", "unsubscribe"}
    assert events["ts"].max() <= as_of
    assert list(read["subscribers"].columns) == ["subscriber_id", "timezone"]
    everything = whole["events"]
    used = everything[everything["event_type"].isin(["send", "open", "click", "unsubscribe"])
                      & (everything["ts"] <= as_of)]  # fmt: skip
    assert len(events) == len(used) < len(everything)


def test_recommend_equals_the_whole_table_path(workspace, whole):
    pd.testing.assert_frame_equal(recommend(workspace, AS_OF), recommend(whole, AS_OF))


def test_frequency_and_holdout_equal_the_whole_table_path(workspace, whole):
    engine, pandas_path = frequency.analyze(workspace, AS_OF), frequency.analyze(whole, AS_OF)
    pd.testing.assert_frame_equal(engine.to_frame(), pandas_path.to_frame())
    a = evaluate_holdout(workspace, "2024-09-01", "2024-12-01")
    b = evaluate_holdout(whole, "2024-09-01", "2024-12-01")
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())


def test_an_ibis_backend_without_machine_flags_gets_them_by_the_ingest_rule(workspace, whole):
    import ibis

    backend = ibis.duckdb.connect()
    frames = {"events": whole["events"].drop(columns="machine_open"),
              "subscribers": whole["subscribers"]}  # fmt: skip
    for name, frame in frames.items():
        backend.con.register("frame_view", frame)
        backend.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame_view')
        backend.con.unregister("frame_view")
    # The same as DataFrames without the flag (the rule runs on the events up to as_of in both).
    pd.testing.assert_frame_equal(recommend(backend, AS_OF), recommend(frames, AS_OF))
