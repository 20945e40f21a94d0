"""Time zones: validation, the dominant-zone fallback, and DST-correct UTC -> local conversion.

Local wall time is computed per zone with pandas' ``tz_convert`` (the IANA database through
``zoneinfo``/``dateutil`` transition tables), so an 08:00 open in New York is hour 8 both before
and after the March daylight-saving change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit._timezones import unknown_zones
from segkit.errors import ValidationError

__all__: list[str] = []

SECONDS_PER_HOUR = 3600
SECONDS_PER_DAY = 86_400
#: 1970-01-01 was a Thursday; Monday = 0.
EPOCH_WEEKDAY = 3
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def check_zones(zones: pd.Series) -> None:
    """Raise :class:`ValidationError` naming every time-zone string the IANA database lacks."""
    unknown = unknown_zones(pd.unique(zones.dropna().astype(str)))
    if unknown:
        counts = zones.astype("string").isin(unknown).sum()
        raise ValidationError(
            f"unknown IANA time zone(s) in subscribers.timezone: {', '.join(map(repr, unknown))} "
            f"({counts} subscriber(s)); use names like 'America/New_York' or 'Europe/Berlin'"
        )


def resolve_zones(zones: pd.Series) -> tuple[pd.Series, pd.Series, str]:
    """Fill missing zones with the list's dominant zone.

    Returns the filled zones, a boolean ``timezone_fallback`` flag and the dominant zone (the
    most common non-missing zone; ``"UTC"`` when no subscriber has one).
    """
    raw = zones.astype("string").str.strip()
    raw = raw.mask(raw == "")
    check_zones(raw)
    counts = raw.value_counts()
    dominant = str(counts.index[0]) if len(counts) else "UTC"
    missing = raw.isna()
    return raw.fillna(dominant).astype(str), pd.Series(missing.to_numpy(), index=zones.index), dominant


#: Offsets are looked up per quarter hour (every IANA transition falls on one) when the table
#: of (zones x quarter hours spanned) stays below this many cells; else tz_convert per zone.
OFFSET_TABLE_MAX_CELLS = 20_000_000
QUARTER_HOUR = 900


def _offset_table(zones: list[str], first: int, count: int) -> np.ndarray:
    """UTC offset in seconds per zone and quarter hour starting at quarter ``first``."""
    starts = pd.DatetimeIndex(((first + np.arange(count)) * QUARTER_HOUR).astype("datetime64[s]"))
    starts = starts.tz_localize("UTC")
    table = np.empty((len(zones), count), dtype=np.int64)
    for code, zone in enumerate(zones):
        table[code] = starts.tz_convert(zone).tz_localize(None).as_unit("s").asi8 - starts.as_unit("s").asi8
    return table


def local_seconds(utc_seconds: np.ndarray, zone_code: np.ndarray, zones: list[str]) -> np.ndarray:
    """Local wall-clock seconds since the epoch for UTC epoch seconds, zone given by code."""
    if len(utc_seconds) == 0:
        return np.empty(0, dtype=np.int64)
    quarter = utc_seconds // QUARTER_HOUR
    first, last = int(quarter.min()), int(quarter.max())
    if len(zones) * (last - first + 1) <= OFFSET_TABLE_MAX_CELLS:
        table = _offset_table(zones, first, last - first + 1)
        return utc_seconds + table[zone_code, quarter - first]
    out = np.empty(len(utc_seconds), dtype=np.int64)
    for code, zone in enumerate(zones):
        rows = np.flatnonzero(zone_code == code)
        if len(rows) == 0:
            continue
        stamps = pd.DatetimeIndex(utc_seconds[rows].astype("datetime64[s]")).tz_localize("UTC")
        wall = stamps.tz_convert(zone).tz_localize(None)
        out[rows] = wall.as_unit("s").asi8
    return out


def hour_of_day(local: np.ndarray) -> np.ndarray:
    return ((local % SECONDS_PER_DAY) // SECONDS_PER_HOUR).astype(np.int64)


def weekday(local: np.ndarray) -> np.ndarray:
    return ((local // SECONDS_PER_DAY + EPOCH_WEEKDAY) % 7).astype(np.int64)


def utc_hour_on(date: pd.Timestamp, zones: pd.Series, local_hour: pd.Series) -> pd.Series:
    """The UTC hour at which local wall time ``local_hour``:00 falls on ``date`` in each zone.

    A wall time skipped by a spring-forward change moves forward to the first valid instant; an
    ambiguous one (autumn) takes the first occurrence (daylight time).
    """
    day = pd.Timestamp(date.date())
    frame = pd.DataFrame({"zone": zones.to_numpy(), "hour": local_hour.to_numpy()})
    pairs = frame.drop_duplicates().reset_index(drop=True)
    utc = []
    for zone, hour in zip(pairs["zone"], pairs["hour"], strict=True):
        wall = pd.DatetimeIndex([day + pd.Timedelta(hours=int(hour))])
        stamp = wall.tz_localize(zone, ambiguous=np.array([True]), nonexistent="shift_forward")
        utc.append(int(stamp.tz_convert("UTC")[0].hour))
    pairs["utc"] = utc
    merged = frame.merge(pairs, on=["zone", "hour"], how="left")
    return pd.Series(merged["utc"].to_numpy(dtype=np.int64), index=local_hour.index)
