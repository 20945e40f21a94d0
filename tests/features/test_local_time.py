"""The UTC offset table behind local hours, against known IANA transitions."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.features._local_time import PERIOD_SECONDS, offset_table


def ts(text: str) -> int:
    return int(pd.Timestamp(text, tz="UTC").timestamp())


def offset_at(table: pd.DataFrame, zone: str, instant: str) -> list[int]:
    """Offsets of the rows covering ``instant`` (exactly one is expected)."""
    t = ts(instant)
    rows = table[(table["offset_zone"] == zone) & (table["start"] <= t) & (t < table["end"])]
    return list(rows["offset_seconds"])


def test_new_york_2024_transitions():
    table = offset_table(["America/New_York"], 2024, 2024)
    # DST starts 2024-03-10 02:00 EST = 07:00 UTC and ends 2024-11-03 02:00 EDT = 06:00 UTC.
    starts = set(table["start"])
    assert ts("2024-03-10 07:00") in starts and ts("2024-11-03 06:00") in starts
    assert offset_at(table, "America/New_York", "2024-03-10 06:59") == [-5 * 3600]
    assert offset_at(table, "America/New_York", "2024-03-10 07:00") == [-4 * 3600]
    assert offset_at(table, "America/New_York", "2024-11-03 05:59") == [-4 * 3600]
    assert offset_at(table, "America/New_York", "2024-11-03 06:00") == [-5 * 3600]


def test_intervals_tile_the_years_and_match_their_period():
    table = offset_table(["Australia/Adelaide", "Asia/Kolkata", "UTC"], 2023, 2024)
    for _, part in table.groupby("offset_zone"):
        part = part.sort_values("start")
        assert (part["start"].iloc[1:].to_numpy() == part["end"].iloc[:-1].to_numpy()).all()
        assert part["start"].iloc[0] <= ts("2023-01-01")
        assert part["end"].iloc[-1] >= ts("2025-01-01")
    assert (table["start"] // PERIOD_SECONDS == table["period"]).all()
    assert ((table["end"] - 1) // PERIOD_SECONDS == table["period"]).all()


def test_half_hour_zones():
    table = offset_table(["Australia/Adelaide", "Asia/Kolkata"], 2023, 2024)
    assert set(table.loc[table["offset_zone"] == "Asia/Kolkata", "offset_seconds"]) == {19_800}
    # DST ends 2024-04-07 03:00 ACDT = 2024-04-06 16:30 UTC: offset +10:30 -> +9:30.
    assert offset_at(table, "Australia/Adelaide", "2024-04-06 16:29") == [10 * 3600 + 1800]
    assert offset_at(table, "Australia/Adelaide", "2024-04-06 16:30") == [9 * 3600 + 1800]


def test_unknown_zones_are_listed_sorted():
    with pytest.raises(ValidationError, match="Mars/Base, Moon/Crater"):
        offset_table(["UTC", "Moon/Crater", "Mars/Base"], 2024, 2024)
