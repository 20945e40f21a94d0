"""Local time conversion: the quarter-hour offset table agrees with tz_convert, DST included."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.sendtime import _local_time
from segkit.sendtime._local_time import hour_of_day, local_seconds, utc_hour_on, weekday

ZONES = ["America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/London"]


def _reference(utc_s: np.ndarray, codes: np.ndarray) -> np.ndarray:
    out = np.empty(len(utc_s), dtype=np.int64)
    for i, (t, c) in enumerate(zip(utc_s, codes, strict=True)):
        stamp = pd.Timestamp(int(t), unit="s", tz="UTC").tz_convert(ZONES[c])
        out[i] = int(stamp.tz_localize(None).value // 10**9)
    return out


def test_table_and_fallback_paths_match_reference(monkeypatch):
    rng = np.random.default_rng(0)
    utc_s = rng.integers(pd.Timestamp("2023-01-01").value // 10**9, pd.Timestamp("2025-01-01").value // 10**9, 3000)
    codes = rng.integers(0, len(ZONES), len(utc_s))
    expected = _reference(utc_s, codes)
    np.testing.assert_array_equal(local_seconds(utc_s, codes, ZONES), expected)
    monkeypatch.setattr(_local_time, "OFFSET_TABLE_MAX_CELLS", 0)
    np.testing.assert_array_equal(local_seconds(utc_s, codes, ZONES), expected)


def test_new_york_eight_am_both_sides_of_the_change():
    wall = pd.to_datetime(["2024-03-09 08:10", "2024-03-11 08:10"]).tz_localize("America/New_York")
    utc_s = wall.tz_convert("UTC").as_unit("s").asi8
    local = local_seconds(utc_s, np.zeros(2, dtype=np.int64), ["America/New_York"])
    assert list(hour_of_day(local)) == [8, 8]
    assert list(weekday(local)) == [5, 0]  # Saturday, Monday


def test_utc_hour_on_dst_dates():
    zones = pd.Series(["America/New_York"] * 3)
    hours = pd.Series([8, 8, 2])
    assert list(utc_hour_on(pd.Timestamp("2024-01-15"), zones, hours)) == [13, 13, 7]
    assert list(utc_hour_on(pd.Timestamp("2024-07-15"), zones, hours)) == [12, 12, 6]
    # 02:00 does not exist on 2024-03-10 in New York: moved forward to 03:00 EDT = 07:00 UTC
    assert utc_hour_on(pd.Timestamp("2024-03-10"), zones, hours).iloc[2] == 7
