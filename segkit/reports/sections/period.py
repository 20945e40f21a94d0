"""Shared pieces of the report notebooks: the data period, the ``as_of`` parameter, verdicts.

Report notebooks take ``as_of`` as text (a parameter typed by its default ``""``); an empty
value means "the end of the data" (the last event in the workspace), so a report's defaults run
on any workspace without a hidden ``now()``. A date without a time means the end of that day
(``"2011-12-09"`` includes the events of 9 December), as everywhere in segkit; every report
prints the instant it used (:func:`as_of_text`).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import pandas as pd

from segkit._timestamps import decision_time, instant_text, is_date_only, utc_timestamp
from segkit.errors import ValidationError

__all__ = ["Sufficiency", "as_of_text", "data_period", "days_before", "period_text", "resolve_as_of"]


@dataclass(frozen=True)
class Sufficiency:
    """Whether the data support a section's numbers, in plain words (for a method card)."""

    sufficient: bool
    message: str

    def summary(self) -> str:
        return ("Data suffice: " if self.sufficient else "Data do not suffice: ") + self.message

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def data_period(workspace: Any) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """First and last event time (UTC) in a workspace, or None when it has no events.

    Computed in the database (one ``min``/``max`` over ``events.ts``), never in pandas; on
    another engine zone-less timestamps are checked and read as UTC (:mod:`segkit.features`).
    """
    from segkit.features._source import source_table

    events = source_table(workspace, "events")
    if events is None:
        return None
    bounds = events.aggregate(start=events.ts.min(), end=events.ts.max()).to_pandas()
    start, end = bounds["start"].iloc[0], bounds["end"].iloc[0]
    if pd.isna(start) or pd.isna(end):
        return None
    return utc_timestamp(pd.Timestamp(start), naive_as_utc=True), utc_timestamp(pd.Timestamp(end), naive_as_utc=True)


def resolve_as_of(as_of: str | None, period: tuple[pd.Timestamp, pd.Timestamp] | None) -> pd.Timestamp:
    """The report's decision time: ``as_of`` (UTC when it has no zone; a date alone is the end
    of that day), or the end of the data (the last event) when ``as_of`` is empty.

    Raises
    ------
    ValidationError
        The workspace has no events, or ``as_of`` is not a timestamp or falls before the first
        event (nothing would be known at that time).
    """
    if period is None:
        raise ValidationError("the workspace has no events: ingest events before running this report")
    if as_of is None or not str(as_of).strip():
        return period[1]
    stamp = decision_time(str(as_of).strip(), "as_of")
    if stamp < period[0]:
        raise ValidationError(
            f"as_of {stamp.isoformat()} is before the first event ({period[0].isoformat()}); "
            f"choose a time between {period[0]:%Y-%m-%d} and {period[1]:%Y-%m-%d}, or leave it "
            "empty for the end of the data"
        )
    return stamp


def days_before(
    stamp: pd.Timestamp, days: int, period: tuple[pd.Timestamp, pd.Timestamp], name: str
) -> pd.Timestamp:
    """``stamp - days`` days, refused when it falls before the first event (``name`` is the
    report parameter that set ``days``, named in the message)."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"{name} must be a whole number of days >= 1, got {days!r}")
    earlier = stamp - pd.Timedelta(days=days)
    if earlier <= period[0]:
        available = (stamp - period[0]).days
        raise ValidationError(
            f"{name}={days} reaches back to {earlier:%Y-%m-%d}, before the first event "
            f"({period[0]:%Y-%m-%d}); use at most {max(available - 1, 1)} days or a later as_of"
        )
    return earlier


def period_text(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """``"2024-01-01 to 2024-12-31 (UTC)"`` for method cards."""
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} (UTC)"


def as_of_text(as_of: str | None, stamp: pd.Timestamp) -> str:
    """One sentence saying which instant a report used and why (the ``as_of`` parameter as
    given, ``stamp`` what :func:`resolve_as_of` made of it)."""
    given = "" if as_of is None else str(as_of).strip()
    if not given:
        why = "the last event in the workspace (as_of left empty)"
    elif is_date_only(given):
        why = f"the end of {given} (a date without a time means the end of that day, UTC)"
    else:
        why = f"as_of {given}"
    return f"As of {instant_text(stamp)}: {why}; only events up to this instant are used."
