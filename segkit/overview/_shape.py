"""What kind of data a workspace holds, so reports and the explorer show only what applies.

A purchase log (orders from a shop, no email platform) and an email program's event stream
support different analyses: without sends, opens and clicks there are no open or click rates,
no engagement tiers and no send times; without a subscribers table there is no consent, no time
zone and no signup date; when every customer bought once there is no repeat-purchase model.
:class:`DataShape` records these facts (counted in the database) and says, in one line each,
why a section is absent (:meth:`DataShape.missing`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from segkit.errors import InputError

__all__ = ["DataShape", "EMAIL_EVENT_TYPES", "SCHEME_NEEDS", "data_shape"]

#: Event types an email platform records (sends and what recipients did with them).
EMAIL_EVENT_TYPES: tuple[str, ...] = ("send", "delivery", "open", "click", "unsubscribe", "bounce", "complaint")

#: What each built-in segment scheme needs from the data (see :meth:`DataShape.missing`): the
#: engagement tiers read opens and clicks (without them everyone is "inactive"), RFM a purchase
#: frequency that varies, the value scheme a repeat-purchase model.
SCHEME_NEEDS: dict[str, tuple[str, ...]] = {
    "engagement": ("email",),
    "lifecycle": (),
    "rfm": ("purchases", "repeat_purchases"),
    "buyer": ("purchases",),
    "value": ("repeat_purchases",),
}

#: What each requirement needs, and the sentence that says it is missing.
_NEEDS: dict[str, str] = {
    "email": "the data hold no email events (no sends, opens or clicks)",
    "opens": "the data hold no opens",
    "clicks": "the data hold no clicks",
    "sends": "the data hold no sends",
    "subscribers": "the workspace has no subscribers table (no consent, time zone or signup date)",
    "purchases": "the data hold no purchases",
    "repeat_purchases": "no customer bought on more than one day",
    "cart_adds": "the data hold no cart_add events",
}


@dataclass(frozen=True)
class DataShape:
    """Facts about a workspace's data (see :func:`data_shape`).

    Attributes
    ----------
    event_counts
        Events per ``event_type`` (types absent from the data are 0).
    subscribers
        Rows of the subscribers table.
    customers
        Subscribers with at least one purchase.
    repeat_customers
        Customers with purchases on at least two different days (UTC), the repeat buyers the
        repeat-purchase models learn from.
    """

    event_counts: Mapping[str, int] = field(default_factory=dict)
    subscribers: int = 0
    customers: int = 0
    repeat_customers: int = 0

    def count(self, event_type: str) -> int:
        return int(self.event_counts.get(event_type, 0))

    @property
    def has_email_events(self) -> bool:
        return any(self.count(kind) for kind in ("send", "open", "click"))

    @property
    def has_subscribers(self) -> bool:
        return self.subscribers > 0

    @property
    def has_repeat_purchases(self) -> bool:
        return self.repeat_customers > 0

    @property
    def purchase_only(self) -> bool:
        """Purchases but no email events: an order log."""
        return self.count("purchase") > 0 and not self.has_email_events

    def _has(self, need: str) -> bool:
        return {
            "email": self.has_email_events, "opens": self.count("open") > 0,
            "clicks": self.count("click") > 0, "sends": self.count("send") > 0,
            "subscribers": self.has_subscribers, "purchases": self.count("purchase") > 0,
            "repeat_purchases": self.has_repeat_purchases, "cart_adds": self.count("cart_add") > 0,
        }[need]

    def missing(self, *needs: str) -> str | None:
        """Why a section needing ``needs`` cannot be shown (the first unmet need, as a clause
        such as "the data hold no email events (...)"), or None when all are met.

        Needs: ``email``, ``opens``, ``clicks``, ``sends``, ``subscribers``, ``purchases``,
        ``repeat_purchases``, ``cart_adds``.
        """
        unknown = sorted(set(needs) - set(_NEEDS))
        if unknown:
            from segkit.errors import ValidationError

            raise ValidationError(f"unknown data need(s) {', '.join(unknown)}; valid: {', '.join(_NEEDS)}")
        for need in needs:
            if not self._has(need):
                return _NEEDS[need]
        return None

    def describe(self) -> str:
        """One sentence: what the data hold."""
        parts = [f"{self.count('purchase'):,} purchases by {self.customers:,} customers "
                 f"({self.repeat_customers:,} bought on more than one day)"]
        if self.has_email_events:
            parts.append(f"{self.count('send'):,} sends, {self.count('open'):,} opens and "
                         f"{self.count('click'):,} clicks")
        else:
            parts.append("no email events")
        parts.append(f"{self.subscribers:,} subscribers" if self.has_subscribers else "no subscribers table")
        return "The data hold " + "; ".join(parts) + "."

    def to_frame(self) -> pd.DataFrame:
        rows = {**{f"events: {k}": int(v) for k, v in sorted(self.event_counts.items())},
                "subscribers": self.subscribers, "customers": self.customers,
                "repeat customers": self.repeat_customers}
        return pd.DataFrame({"item": list(rows), "value": list(rows.values())})

    def summary(self) -> str:
        return self.describe()

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.describe())}</p>"

    @classmethod
    def from_features(cls, features: pd.DataFrame) -> DataShape:
        """The shape as far as a feature table (:func:`segkit.features.compute`) tells it:
        email activity from ``sends_*``/``opens_*``/``clicks_*`` and the days since the last
        open or click, purchases from ``purchase_count_*`` and ``frequency`` (repeat buyers: a
        repeat purchase day before the as-of day). A feature table does not say whether a
        subscribers table exists: ``subscribers`` is ``features.attrs["subscribers"]`` or 0."""
        def total(prefix: str) -> int:
            columns = [c for c in features.columns if c.startswith(prefix)]
            return int(features[columns].fillna(0).to_numpy(dtype=float).max(axis=1).sum()) if columns else 0

        def seen(column: str) -> int:
            return int(features[column].notna().sum()) if column in features.columns else 0

        counts = {"send": total("sends_"), "open": max(total("opens_"), seen("days_since_last_open")),
                  "click": max(total("clicks_"), seen("days_since_last_click")),
                  "purchase": max(total("purchase_count_"), seen("days_since_last_purchase"))}
        customers = seen("days_since_last_purchase")
        repeat = int((features["frequency"].fillna(0) > 0).sum()) if "frequency" in features.columns else 0
        subscribers = int(features.attrs.get("subscribers", 0))
        return cls(counts, subscribers, customers, repeat)


def data_shape(workspace: Any, as_of: pd.Timestamp | None = None) -> DataShape:
    """Count what a workspace holds (events up to ``as_of`` when given), in the database.

    ``workspace`` is a :class:`segkit.io.Workspace` (or anything with ``ibis()``, such as a
    workspace on another engine: zone-less timestamps are read as :mod:`segkit.features` reads them).
    """
    import ibis

    from segkit.features._source import source_table

    events = source_table(workspace, "events")
    if events is None:
        raise InputError(f"no 'events' table in {getattr(workspace, 'path', 'the source')}")
    if as_of is not None:
        events = events.filter(events.ts <= ibis.literal(as_of, type="timestamp('UTC')"))
    counts = events.group_by("event_type").aggregate(n=events.count()).to_pandas()
    purchases = events.filter(events.event_type == "purchase")
    days = purchases.select("subscriber_id", day=purchases.ts.date()).distinct()
    per_customer = days.group_by("subscriber_id").aggregate(days=days.count())
    buyers = per_customer.aggregate(customers=per_customer.count(),
                                    repeat=(per_customer.days >= 2).sum()).to_pandas()
    table = source_table(workspace, "subscribers")  # the file always has it; another engine may not
    subscribers = 0 if table is None else int(table.count().to_pandas())
    return DataShape(
        event_counts={str(k): int(v) for k, v in zip(counts["event_type"], counts["n"], strict=True)},
        subscribers=subscribers,
        customers=int(buyers["customers"].iloc[0] or 0),
        repeat_customers=int(buyers["repeat"].fillna(0).iloc[0] or 0),
    )
