"""A workspace is read through the engine (needed columns and types, ``ts <= as_of``), and every
send-time result equals the one computed from its whole tables loaded into pandas (the old
``SELECT *`` path, kept as the reference: a mapping of DataFrames)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.sendtime import evaluate_holdout, frequency, recommend
from segkit.sendtime._inputs import read_tables

from ._helpers import duckdb_backend

AS_OF = "2024-12-01"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_workspace):
    from segkit.io import Workspace

    ws = Workspace(synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb", 400, seed=8))
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
    frames = {"events": whole["events"].drop(columns="machine_open"),
              "subscribers": whole["subscribers"]}  # fmt: skip
    backend = duckdb_backend(frames)
    # The same as DataFrames without the flag (the rule runs on the events up to as_of in both).
    pd.testing.assert_frame_equal(recommend(backend, AS_OF), recommend(frames, AS_OF))


def test_recommend_aggregates_in_the_engine(workspace):
    from segkit.sendtime._recommend import fit

    assert fit(workspace, AS_OF, events=False).data is None  # no event arrays were built
    assert fit(workspace, AS_OF).data is not None


def _event(sub, kind, ts, machine=False):
    return {"subscriber_id": sub, "event_type": kind, "ts": pd.Timestamp(ts, tz="UTC"),
            "machine_open": machine, "campaign_id": "c1", "value": None}  # fmt: skip


EDGE_EVENTS = [
    # two sends in the same second (the first has no exposure), an open in that second
    _event("a", "send", "2024-03-09 13:00:00"), _event("a", "send", "2024-03-09 13:00:00"),
    _event("a", "open", "2024-03-09 13:00:00.4"), _event("a", "open", "2024-03-09 13:30"),
    # across the New York DST change; a second send cuts the first one's exposure
    _event("a", "send", "2024-03-10 06:00"), _event("a", "open", "2024-03-10 07:59:59.9"),
    _event("a", "send", "2024-03-10 08:00"), _event("a", "open", "2024-03-13 12:00"),
    _event("a", "open", "2024-03-10 08:00:03", machine=True),
    # blank zone (filled with the dominant zone), an open before any send, a click
    _event("b", "open", "2024-02-01 09:00"), _event("b", "send", "2024-02-02 23:30"),
    _event("b", "open", "2024-02-03 00:10"), _event("b", "click", "2024-02-03 00:11"),
    # only in events (dominant zone), an open after as_of
    _event("ev", "send", "2024-04-01 10:00"), _event("ev", "open", "2024-04-01 11:00"),
    _event("ev", "open", "2024-12-05 11:00"), _event("ev", "unsubscribe", "2024-04-02 11:00"),
    # a send close to as_of: exposure cut by as_of
    _event("c", "send", "2024-11-30 23:10"), _event("c", "open", "2024-11-30 23:50"),
    _event("c", "delivery", "2024-11-30 23:11"),
    # ids absent from subscribers with only a click or only a machine open are subscribers too
    _event("zz", "click", "2024-05-01 10:00"), _event("mm", "open", "2024-05-01 10:00", machine=True),
]  # fmt: skip
EDGE_SUBSCRIBERS = pd.DataFrame({
    "subscriber_id": ["c", "a", "b", "quiet"],
    "timezone": ["Asia/Kolkata", "America/New_York", "  ", "America/New_York"],
})  # fmt: skip


@pytest.mark.parametrize("hours", [72, 2])
def test_engine_equals_numpy_on_edge_cases(hours):
    """Ties in the same second, DST, blank and missing zones, subscribers only in events or
    without events, opens before any send or after as_of, machine opens, exposure cut by the
    next send and by as_of."""
    from segkit.sendtime._recommend import fit

    frames = {"events": pd.DataFrame(EDGE_EVENTS), "subscribers": EDGE_SUBSCRIBERS}
    engine = fit(duckdb_backend(frames), AS_OF, hours, events=False)
    assert engine.data is None
    reference = fit(frames, AS_OF, hours)
    pd.testing.assert_frame_equal(engine.frame, reference.frame)
    for field in ("opens_hour", "expected_hour", "opens_weekday", "expected_weekday", "n_opens",
                  "n_sends", "delay_curve", "global_hour"):  # fmt: skip
        np.testing.assert_allclose(getattr(engine.profiles, field),
                                   getattr(reference.profiles, field), rtol=1e-12, err_msg=field)  # fmt: skip
    assert engine.profiles.opens_hour.sum() > 3


def test_engine_without_sends_equals_numpy():
    from segkit.sendtime._recommend import fit

    opens = [e for e in EDGE_EVENTS if e["event_type"] != "send"]
    frames = {"events": pd.DataFrame(opens), "subscribers": EDGE_SUBSCRIBERS}
    engine = fit(duckdb_backend(frames), AS_OF, events=False)
    reference = fit(frames, AS_OF)
    pd.testing.assert_frame_equal(engine.frame, reference.frame)
    assert engine.profiles.method.startswith("raw open-hour counts")


@pytest.mark.parametrize("room", ["none", "known rows only"])
def test_rows_that_do_not_fit_one_key_are_lexsorted_to_the_same_result(monkeypatch, room):
    """Events spread over centuries leave no room for the row in one int64 key (the columns
    come back unpacked), or no room for the ids only in events (the keys are unpacked)."""
    from segkit.sendtime import _engine
    from segkit.sendtime._recommend import fit

    known = len(EDGE_SUBSCRIBERS)
    fits = _engine._Layout.fits
    monkeypatch.setattr(_engine._Layout, "fits", staticmethod(
        lambda shift, rows: room != "none" and rows <= known and fits(shift, rows)))
    frames = {"events": pd.DataFrame(EDGE_EVENTS), "subscribers": EDGE_SUBSCRIBERS}
    engine = fit(duckdb_backend(frames), AS_OF, events=False)
    pd.testing.assert_frame_equal(engine.frame, fit(frames, AS_OF).frame)


def test_top_two_and_weekday_labels_break_ties_as_a_stable_sort():
    from segkit.sendtime._local_time import WEEKDAY_NAMES
    from segkit.sendtime._recommend import _top_two, _weekday_codes, _weekday_labels

    rng = np.random.default_rng(3)
    rate = rng.integers(0, 3, size=(500, 24)).astype(float)  # many ties
    order = np.argsort(-rate, axis=1, kind="stable")
    best, second = _top_two(rate.copy())
    np.testing.assert_array_equal(best, order[:, 0])
    np.testing.assert_array_equal(second, order[:, 1])
    days = rng.choice([0.5, 1.0, 1.5], size=(500, 7))
    day_order = np.argsort(-days, axis=1, kind="stable")[:, :3]
    expected = [",".join(WEEKDAY_NAMES[d] for d in row if days[i, d] >= 1.0 - 1e-12)
                for i, row in enumerate(day_order)]  # fmt: skip
    assert list(_weekday_labels(_weekday_codes(days))) == expected


@pytest.mark.parametrize("threads", ["true", "false"])
def test_duckdb_allocator_setting_is_restored(threads):
    """The allocator's background threads run during the engine work, then the connection's
    own setting comes back."""
    frames = {"events": pd.DataFrame(EDGE_EVENTS), "subscribers": EDGE_SUBSCRIBERS}
    backend = duckdb_backend(frames)
    backend.con.execute(f"SET allocator_background_threads = {threads}")
    recommend(backend, AS_OF)
    frequency.analyze(backend, AS_OF)
    setting = backend.con.execute("SELECT current_setting('allocator_background_threads')").fetchall()[0][0]
    assert str(setting).lower() == threads
