"""Calibration / holdout split: features up to a cutoff, outcomes in ``(cutoff, end]``.

The split follows lifetimes' ``calibration_and_holdout_data`` (purchase occasions are UTC days;
``duration_holdout`` is the number of days, or weeks, from the cutoff's day to the end's day).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir
import pandas as pd

from segkit._config import DEFAULT_WINDOWS_DAYS
from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.features._compute import compute
from segkit.features._fetch import fetch
from segkit.features._params import SECONDS_PER_DAY, check_unit, unit_days
from segkit.features._rfm import utc_day
from segkit.features._source import Source, Tables, resolve

__all__ = ["OUTCOME_COLUMNS", "CalibrationHoldout", "calibration_holdout"]

#: Outcome columns, per subscriber, over ``(cutoff, end]``.
OUTCOME_COLUMNS = (
    "holdout_purchases",
    "holdout_purchase_events",
    "holdout_revenue",
    "holdout_opens",
    "holdout_clicks",
    "holdout_unsubscribed",
    "holdout_active",
)
ACTIVE_TYPES = ("open", "click", "purchase", "web_visit", "product_view", "cart_add")


@dataclass(frozen=True, eq=False)
class CalibrationHoldout:
    """Features as of ``cutoff`` and outcomes in ``(cutoff, end]`` for the same subscribers.

    Attributes
    ----------
    features
        :func:`segkit.features.compute` as of ``cutoff``.
    outcomes
        Indexed like ``features``: ``holdout_purchases`` (distinct UTC purchase days, i.e.
        lifetimes' ``frequency_holdout``), ``holdout_purchase_events``, ``holdout_revenue`` (net of
        the refunds made in the holdout), ``holdout_opens`` (human), ``holdout_clicks``, ``holdout_unsubscribed`` (an unsubscribe
        event or ``unsubscribed_at`` in the holdout) and ``holdout_active`` (any human open,
        click, purchase, web visit, product view or cart add in the holdout).
    duration_holdout
        Length of the holdout in ``unit``.
    """

    features: pd.DataFrame
    outcomes: pd.DataFrame
    cutoff: pd.Timestamp
    end: pd.Timestamp
    unit: str
    duration_holdout: float
    windows: tuple[int, ...] = field(default=DEFAULT_WINDOWS_DAYS)
    method: str = "calibration/holdout split (lifetimes calibration_and_holdout_data convention)"

    def to_frame(self) -> pd.DataFrame:
        """Features joined with outcomes (one row per subscriber) plus ``duration_holdout``."""
        # one concat, no column insert: inserting into the ~100-column join fragmented it and
        # pandas warned (PerformanceWarning) on every call (issue 18)
        outcomes = self.outcomes.reindex(self.features.index).assign(duration_holdout=self.duration_holdout)
        frame = pd.concat([self.features, outcomes], axis=1)
        frame.attrs.update(self.features.attrs, end=self.end.isoformat())
        return frame

    def _summary_rows(self) -> list[tuple[str, str]]:
        outcomes = self.outcomes
        buyers = int((self.features["frequency"].notna()).sum())
        unit_name = "days" if self.unit == "D" else "weeks"
        return [
            ("calibration end (cutoff)", str(self.cutoff)),
            ("holdout end", str(self.end)),
            ("holdout duration", f"{self.duration_holdout:g} {unit_name}"),
            ("subscribers", f"{len(outcomes):,}"),
            ("buyers in calibration", f"{buyers:,}"),
            ("holdout purchase days", f"{int(outcomes['holdout_purchases'].sum()):,}"),
            ("holdout revenue", f"{outcomes['holdout_revenue'].sum():,.2f}"),
            (
                "active in holdout",
                f"{outcomes['holdout_active'].mean():.1%}" if len(outcomes) else "n/a",
            ),
            ("unsubscribed in holdout", f"{int(outcomes['holdout_unsubscribed'].sum()):,}"),
        ]

    def summary(self) -> str:
        """A short plain-text description of the split."""
        rows = self._summary_rows()
        width = max(len(k) for k, _ in rows)
        lines = [f"{key:<{width}}  {value}" for key, value in rows]
        return "\n".join(["Calibration / holdout", *lines, f"method: {self.method}"])

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
            for k, v in self._summary_rows()
        )
        return f"<table><caption>Calibration / holdout</caption>{cells}</table>"


def _outcome_expr(events: ir.Table, cutoff: pd.Timestamp, end: pd.Timestamp) -> ir.Table:
    kind = events.event_type
    held = events.filter(
        events.ts > ibis.literal(cutoff, type="timestamp('UTC')"),
        events.ts <= ibis.literal(end, type="timestamp('UTC')"),
    )
    kind = held.event_type
    is_purchase = kind == "purchase"
    human_open = (kind == "open") & ~held.machine_open
    active = kind.isin([t for t in ACTIVE_TYPES if t != "open"]) | human_open
    return held.group_by("subscriber_id").aggregate(
        holdout_purchases=utc_day(held.ts).nunique(where=is_purchase),
        holdout_purchase_events=kind.count(where=is_purchase),
        holdout_revenue=held.value.sum(where=is_purchase | (kind == "refund")),  # net
        holdout_opens=kind.count(where=human_open),
        holdout_clicks=kind.count(where=kind == "click"),
        unsubscribe_events=kind.count(where=kind == "unsubscribe"),
        active_events=kind.count(where=active),
    )


def _outcomes(
    tables: Tables, index: pd.Index, cutoff: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    frame = fetch(_outcome_expr(tables.events, cutoff, end)).set_index("subscriber_id")
    frame = frame.reindex(index)
    out = pd.DataFrame(index=index)
    for column in (
        "holdout_purchases",
        "holdout_purchase_events",
        "holdout_opens",
        "holdout_clicks",
    ):
        out[column] = frame[column].fillna(0).astype("int64")
    out["holdout_revenue"] = frame["holdout_revenue"].fillna(0.0).astype("float64")
    unsubscribed = frame["unsubscribe_events"].fillna(0) > 0
    if tables.subscribers is not None:
        subs = tables.subscribers
        left = fetch(
            subs.filter(
                subs.unsubscribed_at > ibis.literal(cutoff, type="timestamp('UTC')"),
                subs.unsubscribed_at <= ibis.literal(end, type="timestamp('UTC')"),
            ).select("subscriber_id")
        )
        unsubscribed |= index.isin(left["subscriber_id"])
    out["holdout_unsubscribed"] = unsubscribed.astype("bool")
    out["holdout_active"] = (frame["active_events"].fillna(0) > 0).astype("bool")
    return out[list(OUTCOME_COLUMNS)]


def calibration_holdout(
    source: Source,
    cutoff: object,
    end: object,
    *,
    windows: Iterable[int] = DEFAULT_WINDOWS_DAYS,
    unit: str = "D",
    cart_abandon_hours: float = 24,
    assume_utc: bool = False,
) -> CalibrationHoldout:
    """Features as of ``cutoff`` and outcomes in ``(cutoff, end]``, for model calibration and
    out-of-time evaluation (Fader, Hardie & Lee 2005, section 4: calibration and holdout periods).

    Parameters
    ----------
    source
        As for :func:`segkit.features.compute`.
    cutoff, end
        Time-zone-aware timestamps with ``cutoff < end``.
    windows, cart_abandon_hours
        Passed to :func:`segkit.features.compute`.
    unit
        ``"D"`` or ``"W"``: the unit of ``recency``, ``T`` and ``duration_holdout``.
    assume_utc
        As for :func:`segkit.features.compute`.

    Returns
    -------
    CalibrationHoldout
        Subscribers are those known at ``cutoff`` (later sign-ups are not in the holdout).
    """
    cutoff_ts = utc_timestamp(cutoff, "cutoff")
    end_ts = utc_timestamp(end, "end")
    unit = check_unit(unit, "unit")
    if not end_ts > cutoff_ts:
        raise ValidationError(f"end ({end_ts}) must be after cutoff ({cutoff_ts})")
    tables = resolve(source, assume_utc=assume_utc)
    features = compute(
        tables, cutoff_ts, windows=windows, rfm_unit=unit, cart_abandon_hours=cart_abandon_hours
    )
    outcomes = _outcomes(tables, features.index, cutoff_ts, end_ts)
    days = end_ts.timestamp() // SECONDS_PER_DAY - cutoff_ts.timestamp() // SECONDS_PER_DAY
    return CalibrationHoldout(
        features=features,
        outcomes=outcomes,
        cutoff=cutoff_ts,
        end=end_ts,
        unit=unit,
        duration_holdout=float(days) / unit_days(unit),
        windows=features.attrs["windows"],
    )
