"""Behavioural triggers evaluated as of a date, turned into audiences through today's consent."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit._suggest import did_you_mean
from segkit._timestamps import utc_timestamp
from segkit.consent import DEFAULT_SOFT_BOUNCE_LIMIT, ConsentResult, eligible
from segkit.errors import InputError, ValidationError

__all__ = ["TRIGGERS", "TriggerAudience", "check_triggers", "trigger_audience", "trigger_events"]

#: Trigger -> recommended action.
TRIGGERS: dict[str, str] = {
    "cart_abandonment": "cart reminder",
    "inactivity": "re-engagement",
    "high_value_falling_engagement": "retention offer",
    "new_subscriber": "welcome series",
}

def trigger_events(
    workspace: Any,
    as_of: object,
    *,
    cart_hours: float = 24,
    cart_lookback_days: float = 7,
    assume_utc: bool = False,
) -> pd.DataFrame:
    """The events :func:`trigger_audience` (with the same ``cart_hours`` and
    ``cart_lookback_days``) needs, selected in the database rather than loading every event:
    ``subscriber_id, event_type, ts`` of the cart adds and purchases of the cart lookback plus
    ``cart_hours`` up to ``as_of`` (older ones cannot change a trigger), and every event the
    consent gate reads, at any date (:func:`segkit.consent.read_consent_events`: consent is
    today's).

    ``workspace`` is a segkit Workspace (also one opened on Spark or a warehouse with
    ``Workspace.connect``), an Ibis backend or a mapping of Ibis tables / DataFrames with an
    ``events`` table; ``assume_utc`` as for :func:`segkit.features.compute`."""
    import ibis

    from segkit.consent import read_consent_events
    from segkit.features._source import source_table

    stamp = utc_timestamp(as_of)
    since = stamp - pd.Timedelta(days=cart_lookback_days, hours=cart_hours)
    literal = lambda value: ibis.literal(value, type="timestamp('UTC')")  # noqa: E731
    events = source_table(workspace, "events", assume_utc=assume_utc)
    if events is None:
        raise InputError("no 'events' table in the source: triggers need events")
    carts = (events.event_type.isin(["cart_add", "purchase"]) & (events.ts > literal(since))
             & (events.ts <= literal(stamp)))
    frame = events.filter(carts).select("subscriber_id", "event_type", "ts").to_pyarrow().to_pandas()
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return pd.concat([frame, read_consent_events({"events": events})], ignore_index=True)


@dataclass(frozen=True, eq=False)
class TriggerAudience:
    """Who should get which triggered message, after the consent gate."""

    table: pd.DataFrame
    consent: ConsentResult
    as_of: pd.Timestamp

    def to_frame(self) -> pd.DataFrame:
        """``subscriber_id``, ``trigger``, ``trigger_time``, ``action`` (eligible only)."""
        return self.table.copy()

    def summary(self) -> str:
        counts = self.table["trigger"].value_counts()
        listed = ", ".join(f"{n:,} {t}" for t, n in counts.items()) or "nobody"
        return f"triggers as of {self.as_of.isoformat()}: {listed}; consent: {self.consent.summary()}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def _cart_abandonment(events: pd.DataFrame, as_of: pd.Timestamp, hours: float, lookback_days: float) -> pd.DataFrame:
    """The latest cart add per subscriber in the lookback whose ``hours`` deadline passed by
    ``as_of`` without a purchase in [add, add + hours]; trigger time = the deadline."""
    deadline = pd.Timedelta(hours=hours)
    adds = events[(events["event_type"] == "cart_add") & (events["ts"] <= as_of - deadline)
                  & (events["ts"] > as_of - pd.Timedelta(days=lookback_days))]
    adds = adds.sort_values("ts").groupby("subscriber_id", as_index=False).last()[["subscriber_id", "ts"]]
    buys = events.loc[(events["event_type"] == "purchase") & (events["ts"] <= as_of), ["subscriber_id", "ts"]]
    pairs = adds.merge(buys, on="subscriber_id", how="left", suffixes=("", "_buy"))
    bought = (pairs["ts_buy"] >= pairs["ts"]) & (pairs["ts_buy"] <= pairs["ts"] + deadline)
    converted = set(pairs.loc[bought, "subscriber_id"])
    left = adds[~adds["subscriber_id"].isin(converted)]
    return pd.DataFrame({"subscriber_id": left["subscriber_id"], "trigger_time": left["ts"] + deadline})


def _from_features(features: pd.DataFrame, as_of: pd.Timestamp, inactive_days: float,
                   new_days: float, value_quantile: float) -> list[pd.DataFrame]:
    frames = []
    since_open = features["days_since_last_open"].to_numpy(dtype=float, na_value=np.nan)
    tenure = features["tenure_days"].to_numpy(dtype=float, na_value=np.nan)
    inactive = (since_open >= inactive_days) | (np.isnan(since_open) & (tenure >= inactive_days))
    day = pd.Timedelta(days=1)
    opened_at = as_of - pd.to_timedelta(since_open, unit="D")
    joined_at = as_of - pd.to_timedelta(tenure, unit="D")
    inactive_since = np.where(np.isnan(since_open), joined_at, opened_at) + inactive_days * day
    frames.append(pd.DataFrame({"subscriber_id": features.index[inactive], "trigger": "inactivity",
                                "trigger_time": inactive_since[inactive]}))
    new = tenure < new_days
    frames.append(pd.DataFrame({"subscriber_id": features.index[new], "trigger": "new_subscriber",
                                "trigger_time": joined_at[new]}))
    revenue = features["revenue_365d"].to_numpy(dtype=float, na_value=0.0)
    buyers = revenue > 0
    threshold = np.quantile(revenue[buyers], value_quantile) if buyers.any() else np.inf
    recent = features["open_rate_30d"].to_numpy(dtype=float, na_value=0.0)
    usual = features["open_rate_365d"].to_numpy(dtype=float, na_value=0.0)
    falling = buyers & (revenue >= threshold) & (usual > 0) & (recent < 0.5 * usual) & ~inactive
    frames.append(pd.DataFrame({"subscriber_id": features.index[falling],
                                "trigger": "high_value_falling_engagement", "trigger_time": as_of}))
    return frames


def check_triggers(names: Sequence[str] | None) -> list[str]:
    """The trigger names (all of :data:`TRIGGERS` for None); an unknown one raises listing the
    valid names."""
    if names is None:
        return list(TRIGGERS)
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name not in TRIGGERS:
            raise ValidationError(
                f"unknown trigger {name!r}{did_you_mean(name, TRIGGERS)} valid: {', '.join(TRIGGERS)}"
            )
    if not names:
        raise ValidationError(f"no trigger chosen; valid: {', '.join(TRIGGERS)}")
    return names


def trigger_audience(
    features: pd.DataFrame,
    events: pd.DataFrame,
    subscribers: pd.DataFrame,
    as_of: object,
    *,
    cart_hours: float = 24,
    cart_lookback_days: float = 7,
    inactive_days: float = 90,
    new_days: float = 7,
    value_quantile: float = 0.8,
    suppressed: Iterable[str] = (),
    triggers: Sequence[str] | None = None,
    soft_bounce_limit: int = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> TriggerAudience:
    """Evaluate the behavioural triggers as of ``as_of`` and keep only who may be emailed.

    * ``cart_abandonment``: a cart add in the last ``cart_lookback_days`` days with no purchase
      within ``cart_hours`` hours (trigger time: the add + ``cart_hours``) -> cart reminder;
    * ``inactivity``: no human open for ``inactive_days`` days (never-openers once their tenure
      reaches it; trigger time: when the gap reached ``inactive_days``) -> re-engagement;
    * ``high_value_falling_engagement``: 365-day revenue in the top ``1 - value_quantile`` of
      buyers and a 30-day open rate below half the 365-day one (not already inactive; trigger
      time ``as_of``) -> retention offer;
    * ``new_subscriber``: tenure under ``new_days`` days (trigger time: signup) -> welcome series.

    A subscriber can have several triggers (one row each). ``triggers`` limits the evaluation to
    those names (default: all; an unknown name raises listing the valid ones), so the consent
    decision counts only their candidates. Everyone passes through
    :func:`segkit.consent.eligible`, which reads the latest state in ``subscribers`` and
    ``events`` (events after ``as_of`` included: consent is today's, whatever the trigger date).
    """
    chosen = check_triggers(triggers)
    stamp = utc_timestamp(as_of)
    needed = {"days_since_last_open", "tenure_days", "revenue_365d", "open_rate_30d", "open_rate_365d"}
    missing = sorted(needed - set(features.columns))
    if missing:
        raise ValidationError(f"triggers need feature column(s) {', '.join(missing)}")
    events = events.assign(ts=pd.to_datetime(events["ts"], utc=True))
    cart = _cart_abandonment(events, stamp, cart_hours, cart_lookback_days).assign(trigger="cart_abandonment")
    table = pd.concat([cart, *_from_features(features, stamp, inactive_days, new_days, value_quantile)],
                      ignore_index=True)
    table = table[table["trigger"].isin(chosen)]
    decision = eligible(table["subscriber_id"], subscribers, events=events, suppressed=suppressed,
                        soft_bounce_limit=soft_bounce_limit)
    table = table[table["subscriber_id"].isin(decision.eligible)]
    table = table.assign(action=table["trigger"].map(TRIGGERS))
    table = table[["subscriber_id", "trigger", "trigger_time", "action"]].sort_values(
        ["trigger", "subscriber_id"], ignore_index=True)
    return TriggerAudience(table=table, consent=decision, as_of=stamp)
