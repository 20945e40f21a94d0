"""frequency.analyze on a workspace or an Ibis backend aggregates the send cells in the engine
(``_fatigue_engine``); cells and every result frame equal the event-array path's exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.sendtime import frequency
from segkit.sendtime._fatigue import event_cells
from segkit.sendtime._fatigue_engine import engine_inputs
from segkit.sendtime._inputs import prepare

from ._helpers import duckdb_backend

AS_OF = pd.Timestamp("2024-12-01", tz="UTC")
FRAMES = ("rates", "evidence", "caps", "subscribers")


def _cells_by_id(ids, cells) -> pd.DataFrame:
    frame = pd.DataFrame({"subscriber_id": np.asarray(ids, dtype=object)[cells.row],
                          "volume_7d": cells.volume_7d, "volume_30d": cells.volume_30d,
                          "n": cells.n, "open": cells.open, "click": cells.click,
                          "unsubscribe": cells.unsubscribe})  # fmt: skip
    return frame.sort_values(["subscriber_id", "volume_7d", "volume_30d"], ignore_index=True)


def assert_engine_equals_events(backend, frames, as_of, hours):
    """The engine's cells and tallies, then every frame of the result, equal the event path's."""
    engine = engine_inputs(backend, as_of, hours)
    data = prepare(frames, as_of)
    ids = data.subscribers["subscriber_id"].to_numpy()
    reference = _cells_by_id(ids, event_cells(data, hours))
    pd.testing.assert_frame_equal(_cells_by_id(engine.subscriber_id, engine.cells), reference)
    n = len(ids)
    sends, opens = np.bincount(data.send_sub, minlength=n), np.bincount(data.open_sub, minlength=n)
    # rows: the subscribers with sends, in prepare's order
    np.testing.assert_array_equal(engine.subscriber_id, ids[sends > 0])
    np.testing.assert_array_equal(engine.n_sends, sends[sends > 0])
    np.testing.assert_array_equal(engine.n_opens, opens[sends > 0])
    a = frequency.analyze(backend, as_of, attribution_hours=hours)
    b = frequency.analyze(frames, as_of, attribution_hours=hours)
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True, obj=name)
    return reference


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, synthetic_workspace):
    from segkit.io import Workspace

    ws = Workspace(synthetic_workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb", 400, seed=8))
    yield ws
    ws.close()


def test_workspace_cells_and_results_equal_the_event_path(workspace):
    whole = {"events": workspace.table("events"), "subscribers": workspace.table("subscribers")}
    cells = assert_engine_equals_events(workspace.ibis(), whole, AS_OF, 72)
    assert cells["n"].sum() > 5000 and cells["unsubscribe"].sum() > 0


@pytest.mark.parametrize("hours", [72, 1])
def test_synthetic_tables_through_duckdb_equal_the_event_path(tables, hours):
    from segkit.sendtime._inputs import with_machine_flag

    flagged = {**tables, "events": with_machine_flag(tables["events"])}  # the engine needs the flag
    assert_engine_equals_events(duckdb_backend(flagged), flagged, pd.Timestamp("2025-01-01", tz="UTC"), hours)


def _event(sub, kind, ts, machine=False):
    return {"subscriber_id": sub, "event_type": kind, "ts": pd.Timestamp(ts, tz="UTC"),
            "machine_open": machine}  # fmt: skip


def _edge_events() -> list[dict]:
    rows = [
        # three sends in the same second (volumes 1, 2, 3; only the last gets outcomes), an open
        # in that second (earlier by the clock, the same second: attributed) and a click
        _event("a", "send", "2024-03-09 13:00:00.700"), _event("a", "send", "2024-03-09 13:00:00.100"),
        _event("a", "send", "2024-03-09 13:00:00.900"), _event("a", "open", "2024-03-09 13:00:00.050"),
        _event("a", "click", "2024-03-09 13:05"),
        # across the US DST change (times are UTC instants; local clocks do not matter)
        _event("a", "send", "2024-03-10 06:30"), _event("a", "send", "2024-03-10 07:30"),
        # exactly 7 days after the first send (that send drops out of the 7-day window) and
        # exactly 30 days after it
        _event("a", "send", "2024-03-16 13:00:00"), _event("a", "send", "2024-04-08 13:00:00.999"),
        # an open exactly attribution_hours after a send: not attributed; one second before: yes
        _event("b", "send", "2024-05-01 00:00"), _event("b", "open", "2024-05-04 00:00"),
        _event("b", "send", "2024-05-10 00:00"), _event("b", "open", "2024-05-12 23:59:59.999"),
        _event("b", "unsubscribe", "2024-05-12 23:59:59"),
        # a machine open (ignored), an open before any send, an event after as_of
        _event("b", "open", "2024-05-10 00:00:01", machine=True), _event("c", "open", "2024-01-01"),
        _event("c", "send", "2024-02-01 10:00"), _event("c", "open", "2024-12-05 10:00"),
        _event("c", "send", "2024-12-05 09:00"),
        # ids only in events sort after the table's (and among themselves)
        _event("zz", "send", "2024-06-01 08:00"), _event("aa", "send", "2024-06-01 08:00"),
        _event("aa", "send", "2024-06-01 08:00"), _event("aa", "open", "2024-06-01 08:00"),
        _event("only_opens", "open", "2024-06-01 08:00"),
    ]  # fmt: skip
    rng = np.random.default_rng(4)  # a busy subscriber: many volumes, ties, boundaries
    start = pd.Timestamp("2024-01-01", tz="UTC")
    seconds = np.sort(rng.choice(86400 * 200, 400)) // 3600 * 3600
    seconds = np.concatenate([seconds, seconds[::7], seconds[::11] + 86400 * 7, seconds[::13] + 72 * 3600])
    for s in seconds:
        rows.append({"subscriber_id": "d", "event_type": "send", "ts": start + pd.Timedelta(seconds=int(s)),
                     "machine_open": False})  # fmt: skip
    for s, kind in zip(seconds[::3] + rng.integers(0, 80 * 3600, len(seconds[::3])),
                       rng.choice(["open", "click", "unsubscribe"], len(seconds[::3])), strict=True):
        rows.append({"subscriber_id": "d", "event_type": kind, "ts": start + pd.Timedelta(seconds=int(s)),
                     "machine_open": False})  # fmt: skip
    return rows


EDGE_SUBSCRIBERS = pd.DataFrame({"subscriber_id": ["quiet", "d", "c", "b", "a"]})


@pytest.mark.parametrize("hours", [72, 1])
def test_engine_equals_event_path_on_edge_cases(hours):
    frames = {"events": pd.DataFrame(_edge_events()), "subscribers": EDGE_SUBSCRIBERS}
    cells = assert_engine_equals_events(duckdb_backend(frames), frames, AS_OF, hours)
    a = cells[cells["subscriber_id"] == "a"].set_index(["volume_7d", "volume_30d"])
    # the same-second sends have volumes 1, 2, 3; exactly 7 (30) days later the first second is
    # out of the window: 03-16 has 3 sends in 7 days (of 6 in 30), 04-08 one in 7 (4 in 30)
    assert a.loc[(2, 1), "n"] == 1 and a.loc[(3, 1), "n"] == 1 and a.loc[(3, 5), "n"] == 1
    assert a.loc[(1, 1), "n"] == 2 and (1, 5) not in a.index
    assert a.loc[(3, 1), "open"] == 1 and a.loc[(3, 1), "click"] == 1 and a.loc[(1, 1), "open"] == 0
    b = cells[cells["subscriber_id"] == "b"]
    assert b["open"].sum() == (1 if hours == 72 else 0) and b["unsubscribe"].sum() == int(hours == 72)
    assert len(cells[cells["subscriber_id"] == "d"]) > 20


def test_without_sends_the_engine_path_refuses_as_the_event_path_does():
    from segkit.errors import ValidationError

    frames = {"events": pd.DataFrame([_event("a", "open", "2024-03-09 13:00")])}
    with pytest.raises(ValidationError, match="send"):
        frequency.analyze(duckdb_backend(frames), AS_OF)
