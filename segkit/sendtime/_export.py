"""The platform export: one row per subscriber with the send hour in UTC and local time."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from segkit.errors import InputError

if TYPE_CHECKING:
    from segkit.consent import ConsentResult

__all__ = ["EXPORT_COLUMNS", "export_frame", "export_send_times"]

EXPORT_COLUMNS = ("subscriber_id", "recommended_utc_hour", "recommended_local_hour", "timezone")


def export_frame(recs: pd.DataFrame) -> pd.DataFrame:
    """Select and order the export columns of :func:`segkit.sendtime.recommend`'s output.

    No consent gate is applied here: exports that leave segkit use :func:`export_send_times`.

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


def export_send_times(
    recs: pd.DataFrame,
    subscribers: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
    soft_bounce_limit: int = 3,
) -> tuple[pd.DataFrame, ConsentResult]:
    """The send-time export restricted to subscribers who may be emailed today.

    Applies :func:`segkit.consent.eligible` to the recommendations (whatever their as-of date,
    consent is the latest state in ``subscribers`` and ``events``), then :func:`export_frame`.
    Use this for anything that leaves segkit; :func:`export_frame` alone only selects columns.
    ``soft_bounce_limit``: consecutive soft bounces that exclude an address (see ``eligible``).

    Returns
    -------
    (table, consent)
        The export (``EXPORT_COLUMNS``) and the consent decision with exclusion reasons.
    """
    from segkit.consent import eligible

    if "subscriber_id" not in recs.columns:
        raise InputError("recommendations need a subscriber_id column; pass segkit.sendtime.recommend's output")
    consent = eligible(recs["subscriber_id"], subscribers, events=events, suppressed=suppressed,
                       soft_bounce_limit=soft_bounce_limit)
    return export_frame(recs.loc[recs["subscriber_id"].isin(consent.eligible)]), consent
