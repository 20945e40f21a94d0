"""Reading the ``as_of``/``cutoff``/``end`` timestamps every analytic entry point takes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["utc_timestamp"]

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
