"""Human opens by LOCAL hour of day and weekday, in each subscriber's IANA time zone.

Converting a timestamp to a per-row time zone has no portable Ibis operation (DuckDB has
``timezone(zone, ts)``, Spark ``from_utc_timestamp``, others nothing). So the conversion is done
with a join that any SQL engine runs: :func:`offset_table` asks Python's ``zoneinfo`` (the IANA
database) for the UTC offset of every zone in use over the years the data span, as intervals
``[start, end)`` in epoch seconds, also cut every :data:`PERIOD_SECONDS` so an equality key
(zone, period) leaves at most two candidate intervals per open; each open joins on
(zone, period, start <= epoch < end) and local time is ``epoch seconds + offset``. This is exact
across daylight-saving changes (an 8:00 open in New York is hour 8 in January and in July) and
needs no per-row calendar functions (on DuckDB those go through ICU and are slow).

Subscribers without a time zone (or absent from ``subscribers``) are counted in UTC; the
``timezone`` feature column is then null so callers can tell.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from segkit._timezones import unknown_zones
from segkit.errors import ValidationError
from segkit.features._fetch import fetch
from segkit.features._params import SECONDS_PER_DAY

__all__ = [
    "HOUR_COLUMNS", "WEEKDAY_COLUMNS", "local_open_slots", "local_opens", "local_slot", "offset_table",
    "zones_in_use",
]

HOUR_COLUMNS = tuple(f"opens_hour_{h:02d}" for h in range(24))
WEEKDAY_COLUMNS = tuple(f"opens_weekday_{d}" for d in range(7))
#: 1970-01-01 was a Thursday: Monday=0 weekday of epoch day n is (n + 3) mod 7.
EPOCH_WEEKDAY = 3
FALLBACK_ZONE = "UTC"
#: Length of the join periods of the offset table (30 days).
PERIOD_SECONDS = 30 * SECONDS_PER_DAY


def _offsets_seconds(instants: pd.DatetimeIndex, zone: str) -> np.ndarray:
    local = instants.tz_convert(zone).tz_localize(None)
    return ((local - instants.tz_localize(None)) // pd.Timedelta(seconds=1)).to_numpy()


def _transitions(zone: str, first_year: int, last_year: int) -> list[pd.Timestamp]:
    """UTC instants (to the minute) at which ``zone``'s offset changes within the years."""
    days = pd.date_range(f"{first_year}-01-01", f"{last_year + 1}-01-01", freq="D", tz="UTC")
    offsets = _offsets_seconds(days, zone)
    changes = []
    for i in np.flatnonzero(offsets[1:] != offsets[:-1]):
        minutes = pd.date_range(days[i], days[i + 1], freq="min")
        minute_offsets = _offsets_seconds(minutes, zone)
        changes.append(minutes[int(np.argmax(minute_offsets != minute_offsets[0]))])
    return changes


def offset_table(zones: list[str], first_year: int, last_year: int) -> pd.DataFrame:
    """UTC offsets per zone as epoch-second intervals ``[start, end)`` covering the UTC years
    ``first_year .. last_year``, cut at multiples of :data:`PERIOD_SECONDS` (column ``period``).

    Raises :class:`~segkit.errors.ValidationError` naming any zone the database does not know.
    """
    unknown = unknown_zones(zones)
    if unknown:
        raise ValidationError(
            f"unknown IANA time zone(s) in subscribers.timezone: {', '.join(unknown)}; "
            "use names like 'America/New_York' or 'Europe/Berlin'"
        )
    first = int(pd.Timestamp(f"{first_year}-01-01", tz="UTC").timestamp()) // PERIOD_SECONDS
    last = int(pd.Timestamp(f"{last_year + 1}-01-01", tz="UTC").timestamp()) // PERIOD_SECONDS + 1
    cuts = {p * PERIOD_SECONDS for p in range(first, last + 1)}
    frames = []
    for name in zones:
        changes = {int(t.timestamp()) for t in _transitions(name, first_year, last_year)}
        bounds = np.array(sorted(cuts | changes), dtype=np.int64)
        starts = pd.to_datetime(bounds[:-1], unit="s", utc=True)
        frames.append(
            pd.DataFrame(
                {
                    "offset_zone": name,
                    "period": bounds[:-1] // PERIOD_SECONDS,
                    "start": bounds[:-1],
                    "end": bounds[1:],
                    "offset_seconds": _offsets_seconds(pd.DatetimeIndex(starts), name),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.astype(
        {
            "offset_zone": "string",
            "period": "int64",
            "start": "int64",
            "end": "int64",
            "offset_seconds": "int64",
        }
    )


def _human_opens(events: ir.Table, subscribers: ir.Table | None) -> ir.Table:
    opens = events.filter(events.event_type == "open", ~events.machine_open)
    if subscribers is None:
        return opens.select("subscriber_id", "ts", zone=ibis.literal(FALLBACK_ZONE))
    zones = subscribers.select(zone_owner=subscribers.subscriber_id, zone_name=subscribers.timezone)
    joined = opens.left_join(zones, opens.subscriber_id == zones.zone_owner)
    return joined.select("subscriber_id", "ts", zone=joined.zone_name.fill_null(FALLBACK_ZONE))


def zones_in_use(events: ir.Table, subscribers: ir.Table | None) -> tuple[list[str], int]:
    """Time zones to convert to and the first UTC year of the events (two small queries)."""
    first = fetch(events.aggregate(first=events.ts.min()))["first"].iloc[0]
    first_year = 1970 if first is None or pd.isna(first) else pd.Timestamp(first).year
    if subscribers is None:
        return [FALLBACK_ZONE], first_year
    named = subscribers.filter(subscribers.timezone.notnull()).select("timezone").distinct()
    named = fetch(named)["timezone"]
    return sorted({FALLBACK_ZONE, *named.astype(str)}), first_year


def local_open_slots(events: ir.Table, subscribers: ir.Table | None, offsets: pd.DataFrame) -> ir.Table:
    """One row per human open: ``subscriber_id``, ``ts`` and its local ``slot``, weekday * 24 +
    hour (Monday=0), in the subscriber's time zone (UTC when it has none).

    ``offsets`` comes from :func:`offset_table` for :func:`zones_in_use` and must cover the
    years of the events.
    """
    opens = _human_opens(events, subscribers)
    table = ibis.memtable(offsets)
    opens = opens.mutate(epoch=opens.ts.epoch_seconds())
    opens = opens.mutate(period=(opens.epoch / PERIOD_SECONDS).floor())
    joined = opens.join(
        table,
        [
            opens.zone == table.offset_zone,
            opens.period == table.period,
            opens.epoch >= table.start,
            opens.epoch < table.end,
        ],
    )
    return joined.select("subscriber_id", "ts", slot=local_slot(joined.epoch + joined.offset_seconds).cast("int16"))


def local_slot(local_seconds: ir.NumericValue) -> ir.IntegerValue:
    """``weekday * 24 + hour`` (Monday = 0) of local wall-clock seconds since the epoch."""
    hour = ((local_seconds % SECONDS_PER_DAY) / 3600).floor()
    weekday = ((local_seconds / SECONDS_PER_DAY).floor() + EPOCH_WEEKDAY) % 7
    return (weekday * 24 + hour).cast("int64")


def local_opens(events: ir.Table, subscribers: ir.Table | None, offsets: pd.DataFrame) -> ir.Table:
    """Per subscriber, the list of local ``slots`` of its human opens (see
    :func:`local_open_slots`); ``events`` must already be cut at ``as_of``."""
    local = local_open_slots(events, subscribers, offsets)
    # One row per subscriber with the list of slots: the result then holds each subscriber id
    # once, and ids are the costly part of moving results into pandas.
    return local.group_by("subscriber_id").aggregate(slots=local.slot.collect())
