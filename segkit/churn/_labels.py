"""Leakage-free churn labels: who was engaged before ``as_of`` and went quiet after it.

For a cutoff ``as_of`` and horizon H days the population is every subscriber with an engagement
event in the lookback window ``(as_of - lookback, as_of]``; a subscriber is *churned* when they
have no engagement event in ``(as_of, as_of + H]``. Engagement is an event of the chosen types
(default open, click, purchase); machine opens (``machine_open`` true, e.g. Apple Mail Privacy
Protection proxies) are never engagement. Features for the same cutoff come from events
``<= as_of`` only (:func:`segkit.churn.churn_features`), so label and features never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from segkit._schema import EVENT_TYPES, require_columns
from segkit._timestamps import utc_timestamp
from segkit.errors import InputError, ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

__all__ = ["DEFAULT_ENGAGEMENT_TYPES", "churn_labels", "engagement_events", "observed_range"]

#: Event types that count as engagement unless the caller says otherwise.
DEFAULT_ENGAGEMENT_TYPES: tuple[str, ...] = ("open", "click", "purchase")
LABEL_EVENT_COLUMNS = ("subscriber_id", "event_type", "ts")


def check_days(value: object, name: str) -> int:
    """A positive whole number of days."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValidationError(f"{name} must be a positive whole number of days, got {value!r}")
    return int(value)


def check_event_types(event_types: Iterable[str]) -> tuple[str, ...]:
    """Distinct engagement types, each one of the canonical event vocabulary."""
    if isinstance(event_types, str):
        event_types = (event_types,)
    types = tuple(dict.fromkeys(event_types))
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown or not types:
        raise ValidationError(
            f"unknown engagement event type(s) {unknown or 'none given'}; valid: {', '.join(EVENT_TYPES)}"
        )
    return types


def _check_events(events: pd.DataFrame) -> None:
    if not isinstance(events, pd.DataFrame):
        raise ValidationError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    require_columns(events.columns, "events", LABEL_EVENT_COLUMNS)
    if len(events) == 0:
        raise InputError("events is empty: no data to label")
    ts = events["ts"]
    if not isinstance(ts.dtype, pd.DatetimeTZDtype):
        raise ValidationError(
            f"column events.ts must be a time-zone-aware timestamp, got {ts.dtype}; localize it "
            "(e.g. df['ts'].dt.tz_localize('UTC')) so instants are unambiguous"
        )


def observed_range(events: pd.DataFrame) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last event time (any type) in UTC: the period the data observe."""
    _check_events(events)
    ts = events["ts"].dt.tz_convert("UTC")
    return ts.min(), ts.max()


def engagement_events(events: pd.DataFrame, event_types: Iterable[str]) -> pd.DataFrame:
    """``subscriber_id`` and ``ts`` of engagement events: the chosen types, machine opens removed."""
    _check_events(events)
    types = check_event_types(event_types)
    keep = events["event_type"].isin(types).to_numpy(dtype=bool, copy=True)
    if "machine_open" in events.columns:
        machine = events["machine_open"].astype("boolean").fillna(False).to_numpy(bool)
        keep &= ~((events["event_type"] == "open").to_numpy() & machine)
    picked = events.loc[keep, ["subscriber_id", "ts"]]
    return pd.DataFrame(
        {
            "subscriber_id": picked["subscriber_id"].astype("str"),
            "ts": picked["ts"].dt.tz_convert("UTC"),
        }
    ).reset_index(drop=True)


def check_label_window(
    events: pd.DataFrame | tuple[pd.Timestamp, pd.Timestamp], as_of: pd.Timestamp, horizon_days: int
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Refuse an ``as_of`` outside the data or a label window the data do not cover.

    ``events`` is the events DataFrame or their already computed ``(first, last)`` times."""
    first, last = events if isinstance(events, tuple) else observed_range(events)
    if as_of < first:
        raise ValidationError(
            f"as_of {as_of.isoformat()} is before the first event ({first.isoformat()}): there is "
            "no history to learn from; choose an as_of inside the data range "
            f"[{first.isoformat()}, {last.isoformat()}]"
        )
    end = as_of + pd.Timedelta(days=horizon_days)
    if end > last:
        latest = last - pd.Timedelta(days=horizon_days)
        raise ValidationError(
            f"the label window (as_of, as_of + {horizon_days} days] ends {end.isoformat()}, after "
            f"the last event ({last.isoformat()}), so churn cannot be observed; choose an as_of "
            f"<= {latest.isoformat()} or a shorter horizon_days"
        )
    return first, last


def _engine_events(source: Any) -> ir.Table | None:
    """The events table behind a workspace, an Ibis backend or an Ibis table (else None), its
    timestamps UTC: zone-less ones are checked and cast as the features do
    (:func:`segkit.features._source.source_table`: a UTC session, or ``assume_utc``)."""
    import ibis
    import ibis.expr.types as ir

    from segkit.features._source import source_table

    if isinstance(source, ir.Table):
        return source_table({"events": source}, "events")
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if not isinstance(backend, ibis.BaseBackend):
        return None
    table = source_table(source, "events")
    if table is None:
        raise InputError(f"no 'events' table in {getattr(source, 'path', None) or backend.name}")
    return table


def _engine_labels(
    table: ir.Table, as_of: pd.Timestamp, horizon: int, lookback: int, types: tuple[str, ...]
) -> pd.DataFrame:
    """The labels aggregated in the engine: one row per subscriber comes back, not the events."""
    import ibis

    require_columns(table.columns, "events", LABEL_EVENT_COLUMNS)
    dtype = table.ts.type()  # a zone-less timestamp was made UTC (or refused) by _engine_events
    if not dtype.is_timestamp():
        raise ValidationError(
            f"column events.ts must be a time-zone-aware timestamp, got {dtype}; store instants "
            "with their time zone (a workspace stores UTC)"
        )
    span = table.aggregate(first=table.ts.min(), last=table.ts.max(), n=table.count())
    bounds = span.to_pyarrow().to_pylist()[0]
    if bounds["n"] == 0:
        raise InputError("events is empty: no data to label")
    utc = [pd.Timestamp(bounds[k]).tz_convert("UTC") for k in ("first", "last")]
    check_label_window((utc[0], utc[1]), as_of, horizon)
    cut, end, start = (ibis.literal(t, type="timestamp('UTC')") for t in (
        as_of, as_of + pd.Timedelta(days=horizon), as_of - pd.Timedelta(days=lookback)))  # fmt: skip
    kind = table.event_type.cast("string")
    keep = kind.isin(types)
    if "machine_open" in table.columns:
        keep &= ~((kind == "open") & table.machine_open.cast("boolean").fill_null(False))
    engaged = table.filter(keep, table.ts <= end, table.subscriber_id.notnull())
    ts = engaged.ts
    per = engaged.group_by(subscriber_id=engaged.subscriber_id.cast("string")).aggregate(
        past=engaged.count(where=ts <= cut),
        recent=engaged.count(where=(ts > start) & (ts <= cut)),
        future=engaged.count(where=ts > cut),
    )
    got = per.filter(per.past > 0).to_pyarrow().to_pandas()
    got = got.sort_values("subscriber_id", kind="stable", ignore_index=True)
    active = got["recent"].to_numpy() > 0
    churned = pd.array(got["future"].to_numpy() == 0, dtype="boolean")
    churned[~active] = pd.NA
    return pd.DataFrame({"subscriber_id": got["subscriber_id"].astype("str"),
                         "active_in_lookback": active, "churned": churned})  # fmt: skip


def _pandas_labels(
    events: pd.DataFrame, as_of_ts: pd.Timestamp, horizon: int, lookback: int,
    types: tuple[str, ...],
) -> pd.DataFrame:
    check_label_window(events, as_of_ts, horizon)
    engaged = engagement_events(events, types)
    end = as_of_ts + pd.Timedelta(days=horizon)
    start = as_of_ts - pd.Timedelta(days=lookback)
    ts = engaged["ts"]
    past = engaged.loc[ts <= as_of_ts]
    # Hash-based set membership (pandas); np.isin on strings compares element by element.
    ever = pd.Index(past["subscriber_id"].unique(), dtype="str").sort_values()
    recent = past.loc[past["ts"] > start, "subscriber_id"].unique()
    future = engaged.loc[(ts > as_of_ts) & (ts <= end), "subscriber_id"].unique()
    active = ever.isin(recent)
    churned = pd.array(~ever.isin(future), dtype="boolean")
    churned[~active] = pd.NA
    frame = pd.DataFrame(
        {
            "subscriber_id": pd.Series(ever, dtype="str").reset_index(drop=True),
            "active_in_lookback": active,
            "churned": churned,
        }
    )
    return frame


def churn_labels(
    events: pd.DataFrame | Any,
    as_of: object,
    *,
    horizon_days: int = 90,
    lookback_days: int = 180,
    event_types: Iterable[str] = DEFAULT_ENGAGEMENT_TYPES,
) -> pd.DataFrame:
    """Churn labels at ``as_of``: engaged in the lookback, then silent for ``horizon_days``.

    Parameters
    ----------
    events
        Canonical events (``subscriber_id``, ``event_type``, time-zone-aware ``ts``; optional
        ``machine_open``, whose true rows never count as engagement): a DataFrame, or a segkit
        ``Workspace``, an Ibis backend with an ``events`` table or an Ibis table, which are
        aggregated in the engine (one row per subscriber comes back, never the events; the same
        labels).
    as_of
        Time-zone-aware cutoff. Must lie in the data, and ``as_of + horizon_days`` must not pass
        the last event (otherwise the label window is not observed).
    horizon_days
        H: the label window is ``(as_of, as_of + H days]``.
    lookback_days
        The population window ``(as_of - lookback, as_of]``.
    event_types
        Event types that count as engagement (canonical names; default open, click, purchase).

    Returns
    -------
    pandas.DataFrame
        One row per subscriber with an engagement event at or before ``as_of``, sorted by
        ``subscriber_id``: ``active_in_lookback`` (bool: an engagement event in the lookback
        window) and ``churned`` (nullable boolean: no engagement event in the label window;
        ``<NA>`` for subscribers not active in the lookback, who are outside the population and
        are skipped by :meth:`ChurnModel.fit <segkit.churn.ChurnModel.fit>`). ``attrs`` records
        ``as_of``, ``horizon_days``, ``lookback_days``, ``event_types``, ``label_end``.
    """
    as_of_ts = utc_timestamp(as_of)
    horizon = check_days(horizon_days, "horizon_days")
    lookback = check_days(lookback_days, "lookback_days")
    types = check_event_types(event_types)
    end = as_of_ts + pd.Timedelta(days=horizon)
    table = None if isinstance(events, pd.DataFrame) else _engine_events(events)
    frame = (_pandas_labels(events, as_of_ts, horizon, lookback, types) if table is None
             else _engine_labels(table, as_of_ts, horizon, lookback, types))  # fmt: skip
    frame.attrs.update(
        as_of=as_of_ts.isoformat(),
        horizon_days=horizon,
        lookback_days=lookback,
        event_types=types,
        label_end=end.isoformat(),
    )
    return frame
