"""Small hand-built event sets for the feature tests (exact expected values live in the tests).

A uniquely named module (not ``conftest``) so ``from feature_data import ...`` cannot collide with
another test area's conftest when the whole suite runs in one process.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import ibis
import pandas as pd

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")
#: The feature benchmark: its random data generator and straightforward pandas features.
FEATURE_BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "features.py"


def load_feature_bench() -> ModuleType:
    """``benchmarks/features.py`` as a module (its directory on the path while it loads)."""
    sys.path.insert(0, str(FEATURE_BENCH.parent))
    try:
        spec = importlib.util.spec_from_file_location("segkit_bench_features", FEATURE_BENCH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(FEATURE_BENCH.parent))
    return module


def utc(text: str | None) -> pd.Timestamp | None:
    return None if text is None else pd.Timestamp(text, tz="UTC")


def make_events(rows: list[tuple]) -> pd.DataFrame:
    """rows: (subscriber_id, event_type, ts, campaign_id, value, machine_open)."""
    frame = pd.DataFrame(
        rows, columns=["subscriber_id", "event_type", "ts", "campaign_id", "value", "machine_open"]
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True, format="ISO8601")
    frame["value"] = frame["value"].astype("float64")
    frame["machine_open"] = frame["machine_open"].astype(bool)
    frame.insert(0, "event_id", [f"e{i}" for i in range(len(frame))])
    frame["properties"] = None
    return frame


def make_subscribers(rows: list[tuple]) -> pd.DataFrame:
    """rows: (subscriber_id, signup_at, timezone, consent, unsubscribed_at)."""
    frame = pd.DataFrame(
        rows, columns=["subscriber_id", "signup_at", "timezone", "consent", "unsubscribed_at"]
    )
    for column in ("signup_at", "unsubscribed_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    frame["consent"] = frame["consent"].astype("boolean")
    frame["email"] = frame["subscriber_id"] + "@example.com"
    return frame


#: The hand-built set: see test_compute.py for what each row is meant to exercise.
EVENT_ROWS = [
    # New York subscriber
    ("ny", "send", "2024-06-10 12:00", "c1", None, False),
    ("ny", "send", "2024-05-10 12:00", "c2", None, False),
    ("ny", "send", "2024-03-05 12:00", "c3", None, False),
    ("ny", "open", "2024-06-10 12:00:05", "c1", None, True),  # machine open at delivery
    ("ny", "open", "2024-06-11 12:00", "c1", None, False),  # 08:00 EDT, Tuesday
    ("ny", "open", "2024-06-12 12:00", "c1", None, False),  # 08:00 EDT, Wednesday (same campaign)
    ("ny", "open", "2024-05-11 12:00", "c2", None, False),  # 08:00 EDT, Saturday
    ("ny", "click", "2024-06-11 12:01", "c1", None, False),
    ("ny", "open", "2024-03-08 13:00", "c3", None, False),  # 08:00 EST, Friday (before DST)
    ("ny", "open", "2024-03-11 12:00", "c3", None, False),  # 08:00 EDT, Monday (after DST)
    ("ny", "purchase", "2024-06-20 10:00", None, 50.0, False),
    ("ny", "purchase", "2024-06-20 15:00", None, 30.0, False),  # same day: one purchase occasion
    ("ny", "purchase", "2024-05-15 10:00", None, 20.0, False),
    ("ny", "purchase", "2024-02-01 10:00", None, 10.0, False),
    ("ny", "cart_add", "2024-06-20 09:00", None, None, False),  # bought 1 h later
    ("ny", "cart_add", "2024-06-25 09:00", None, None, False),  # abandoned
    ("ny", "cart_add", "2024-06-29 12:00", None, None, False),  # deadline after as_of: not judged
    ("ny", "web_visit", "2024-06-29 00:00", None, None, False),
    ("ny", "product_view", "2024-06-29 00:10", None, None, False),
    ("ny", "product_view", "2024-04-15 00:00", None, None, False),
    # Berlin subscriber: an open late on Sunday UTC is Monday 00:30 in Berlin
    ("ber", "send", "2024-06-16 10:00", "c1", None, False),
    ("ber", "open", "2024-06-16 22:30", "c1", None, False),
    ("ber", "unsubscribe", "2024-06-20 08:00", "c1", None, False),
    # No time zone: counted in UTC; a send without opens gives open rate 0, not NaN
    ("quiet", "send", "2024-06-10 09:00", "c1", None, False),
    ("quiet", "open", "2024-06-10 23:00", None, None, False),  # human, but no campaign id
    # Only in events (no subscribers row)
    ("evonly", "web_visit", "2024-06-01 00:00", None, None, False),
]

SUBSCRIBER_ROWS = [
    ("ny", "2024-01-01", "America/New_York", True, None),
    ("ber", "2024-06-15", "Europe/Berlin", False, "2024-06-20 08:00"),
    ("quiet", "2024-06-01", None, True, None),
    ("nosignup", None, "Asia/Tokyo", None, None),  # listed, no events
    ("late", "2024-08-01", "UTC", True, None),  # signs up after as_of: not known yet
]


def duckdb_backend(tables: dict[str, pd.DataFrame]) -> ibis.BaseBackend:
    """An Ibis DuckDB backend holding ``tables`` as real tables (like a workspace file)."""
    con = ibis.duckdb.connect()
    for name, frame in tables.items():
        con.con.register("frame_view", frame)
        con.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM frame_view')
        con.con.unregister("frame_view")
    return con
