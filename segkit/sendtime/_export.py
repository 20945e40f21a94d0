"""The platform export: one row per subscriber with the send hour in UTC and local time."""

from __future__ import annotations

import pandas as pd

from segkit.errors import InputError

__all__ = ["EXPORT_COLUMNS", "export_frame"]

EXPORT_COLUMNS = ("subscriber_id", "recommended_utc_hour", "recommended_local_hour", "timezone")


def export_frame(recs: pd.DataFrame) -> pd.DataFrame:
    """Select and order the export columns of :func:`segkit.sendtime.recommend`'s output.

    Returns ``subscriber_id, recommended_utc_hour, recommended_local_hour, timezone`` (hours as
    integers 0-23; the UTC hour is for the ``as_of`` date of the recommendations, recorded in
    ``attrs["as_of"]``), sorted by ``subscriber_id``.
    """
    missing = sorted(set(EXPORT_COLUMNS) - set(recs.columns))
    if missing:
        raise InputError(
            f"recommendations are missing column(s): {', '.join(missing)}; pass the output of "
            "segkit.sendtime.recommend"
        )
    out = recs.loc[:, list(EXPORT_COLUMNS)].sort_values("subscriber_id", kind="stable")
    out = out.astype({"recommended_utc_hour": "int64", "recommended_local_hour": "int64"})
    out.attrs = dict(recs.attrs)
    return out.reset_index(drop=True)
