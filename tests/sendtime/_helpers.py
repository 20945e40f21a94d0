"""Helpers that build small event tables for hand-made scenarios, and a DuckDB backend of them."""

from __future__ import annotations

import numpy as np
import pandas as pd


def make_events(rows: list[tuple[str, str, pd.Timestamp]]) -> pd.DataFrame:
    """Events frame from (subscriber_id, event_type, ts) triples."""
    frame = pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame["machine_open"] = False
    return frame


def simulate_opens(
    rng: np.random.Generator,
    sub_id: str,
    send_times: pd.DatetimeIndex,
    preferred_hour: int,
    immediate_share: float,
    open_prob: float = 0.8,
) -> list[tuple[str, str, pd.Timestamp]]:
    """UTC-zone subscriber: each send is opened with ``open_prob``; a share of opens comes within
    30 minutes of the send, the rest at the next ``preferred_hour``:00-:59 after it."""
    rows = []
    for sent in send_times:
        rows.append((sub_id, "send", sent))
        if rng.random() >= open_prob:
            continue
        if rng.random() < immediate_share:
            when = sent + pd.Timedelta(minutes=float(rng.uniform(2, 30)))
        else:
            day = sent.normalize() + pd.Timedelta(hours=preferred_hour)
            if day <= sent:
                day += pd.Timedelta(days=1)
            when = day + pd.Timedelta(minutes=float(rng.uniform(0, 59)))
        rows.append((sub_id, "open", when))
    return rows


def duckdb_backend(frames: dict[str, pd.DataFrame]):
    """An in-memory Ibis DuckDB backend holding ``frames`` as real tables (like a workspace)."""
    import ibis

    backend = ibis.duckdb.connect()
    for name, frame in frames.items():
        backend.con.register("frame_view", frame)
        backend.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame_view')
        backend.con.unregister("frame_view")
    return backend
