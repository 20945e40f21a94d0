"""Exponentially time-decayed event counts per subscriber, from the events themselves."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from segkit._schema import require_columns
from segkit._suggest import did_you_mean
from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError

__all__ = ["DECAY_STEMS", "decayed_event_counts"]

#: Feature stem -> the event type it counts (``human_opens``: opens not flagged ``machine_open``).
DECAY_STEMS: dict[str, str] = {
    "human_opens": "open",
    "clicks": "click",
    "web_visits": "web_visit",
    "product_views": "product_view",
    "cart_adds": "cart_add",
    "purchase_count": "purchase",
}


def _check_stems(stems: Iterable[str]) -> list[str]:
    stems = list(stems)
    for stem in stems:
        if stem not in DECAY_STEMS:
            raise ValidationError(
                f"unknown event stem {stem!r}{did_you_mean(stem, DECAY_STEMS)} "
                f"valid: {', '.join(DECAY_STEMS)}"
            )
    return stems


def decayed_event_counts(
    events: pd.DataFrame,
    as_of: object,
    *,
    half_life_days: float,
    stems: Iterable[str] = tuple(DECAY_STEMS),
) -> pd.DataFrame:
    """Per subscriber and stem, ``D = sum_i 0.5 ** (age_i / half_life_days)`` over the events
    with ``ts <= as_of`` (``age_i`` = ``as_of - ts_i`` in fractional days).

    Every event counts with its own age: exponential decay with half-life ``half_life_days``
    (an event ``half_life_days`` old weighs 1/2, twice that 1/4), with no window cut-off. Opens
    count as human unless a ``machine_open`` column flags them (without the column every open
    is human, as in :func:`segkit.features.compute`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``subscriber_id`` (those with at least one counted event), one float column
        per stem, in ``stems`` order.
    """
    if not half_life_days > 0:
        raise ValidationError(f"half_life_days must be > 0; got {half_life_days}")
    stems = _check_stems(stems)
    require_columns(events.columns, "events", ("subscriber_id", "event_type", "ts"))
    stamp = utc_timestamp(as_of)
    ts = pd.to_datetime(events["ts"], utc=True)
    age_days = ((stamp - ts) / pd.Timedelta(days=1)).to_numpy(float)
    kind = events["event_type"].to_numpy(object)
    machine = (events["machine_open"].fillna(False).to_numpy(bool)
               if "machine_open" in events.columns else np.zeros(len(events), bool))
    relevant = (age_days >= 0) & np.isin(kind, [DECAY_STEMS[s] for s in stems])
    codes, ids = pd.factorize(events["subscriber_id"].astype(str).to_numpy()[relevant], sort=True)
    weight = np.exp2(-age_days[relevant] / half_life_days)
    kind, machine = kind[relevant], machine[relevant]
    columns = {}
    for stem in stems:
        counted = kind == DECAY_STEMS[stem]
        if stem == "human_opens":
            counted &= ~machine
        columns[stem] = np.bincount(codes[counted], weights=weight[counted], minlength=len(ids))
    return pd.DataFrame(columns, index=pd.Index(ids, name="subscriber_id", dtype="str"))
