"""Reading the ``as_of``/``cutoff``/``end`` timestamps every analytic entry point takes."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["END_OF_DAY", "decision_time", "instant_text", "is_date_only", "utc_timestamp"]

_TIMESTAMP_TYPES = (str, dt.datetime, dt.date, pd.Timestamp, np.datetime64)


def utc_timestamp(value: object, name: str = "as_of", *, naive_as_utc: bool = False) -> pd.Timestamp:
    """Return ``value`` as a UTC :class:`pandas.Timestamp`.

    A time-zone-naive value is refused by default ("as of midnight" means different instants in
    different places, and an analysis must say which one it used); ``naive_as_utc=True`` reads it
    as UTC instead (the command line, where a bare date is the natural input).
    """
    if value is None:
        raise ValidationError(f"{name} is required: give a time-zone-aware timestamp")
    if not isinstance(value, _TIMESTAMP_TYPES):
        raise ValidationError(
            f"{name} must be a time-zone-aware timestamp (str, datetime or pandas.Timestamp), "
            f"got {type(value).__name__}"
        )
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{name} must be a date or timestamp such as '2024-06-30T00:00Z'; cannot parse {value!r} ({exc})"
        ) from None
    if stamp is pd.NaT:
        raise ValidationError(f"{name} is NaT; give a time-zone-aware timestamp")
    if stamp.tzinfo is None:
        if naive_as_utc:
            return stamp.tz_localize("UTC")
        raise ValidationError(
            f"{name}={value!r} has no time zone (it must be time-zone aware); give one "
            f"explicitly, e.g. pd.Timestamp({str(stamp)!r}, tz='UTC') or '{stamp.isoformat()}+00:00'"
        )
    return stamp.tz_convert("UTC")


#: Added to a date's midnight to reach the last instant of that day (timestamps are stored to
#: the microsecond, and every ``as_of`` comparison is ``ts <= as_of``).
END_OF_DAY = pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
_DATE_ONLY = re.compile(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*")


def is_date_only(value: object) -> bool:
    """True for a date without a time: ``"2011-12-09"`` or a :class:`datetime.date`."""
    if isinstance(value, str):
        return _DATE_ONLY.fullmatch(value) is not None
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def decision_time(value: object, name: str = "as_of", *, naive_as_utc: bool = True) -> pd.Timestamp:
    """An ``as_of`` as a UTC instant, with segkit's one rule for dates: a date without a time
    means the END of that UTC day (``"2011-12-09"`` is ``2011-12-09 23:59:59.999999 UTC``, so
    the events of that day count). Anything else is read by :func:`utc_timestamp`
    (``naive_as_utc``: a time without a zone is UTC, as on the command line)."""
    if is_date_only(value):
        day = utc_timestamp(pd.Timestamp(str(value).strip()), name, naive_as_utc=True)
        return day + END_OF_DAY
    return utc_timestamp(value, name, naive_as_utc=naive_as_utc)


def instant_text(stamp: pd.Timestamp) -> str:
    """``"2011-12-09 23:59:59.999999 UTC"``: the exact instant an analysis used, for outputs."""
    stamp = stamp.tz_convert("UTC")
    text = stamp.strftime("%Y-%m-%d %H:%M:%S")
    if stamp.microsecond or stamp.nanosecond:
        text += f".{stamp.microsecond:06d}"
    return text + " UTC"
