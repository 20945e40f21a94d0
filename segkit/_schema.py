"""Canonical tables, columns and vocabularies: the contract between ingest and everything after it.

Timestamps are stored as UTC ``TIMESTAMPTZ``; identifiers are strings; ``properties`` and
``attributes`` hold JSON text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from segkit.errors import InputError

__all__ = [
    "EVENT_TYPES",
    "EVENT_TYPE_ALIASES",
    "ORDER_LINES",
    "TABLES",
    "Column",
    "TableSchema",
    "require_columns",
]

#: The event vocabulary, after aliases are applied.
EVENT_TYPES: tuple[str, ...] = (
    "send",
    "delivery",
    "open",
    "click",
    "purchase",
    "unsubscribe",
    "bounce",
    "complaint",
    "web_visit",
    "product_view",
    "cart_add",
    "refund",
    "hard_bounce",
    "soft_bounce",
    "subscribe",
)
"""``hard_bounce`` (a permanent failure: the address does not exist or refuses mail) and
``soft_bounce`` (a temporary one: mailbox full, server down) are kept apart because the consent
gate treats them differently; ``bounce`` is a bounce of unknown kind, which the gate counts as
hard. ``subscribe`` records an opt-in (a re-subscribe after an ``unsubscribe`` lifts it)."""

#: Common spellings from email platforms and web analytics, mapped to the vocabulary
#: (matched case-insensitively after trimming; spaces and hyphens count as underscores).
EVENT_TYPE_ALIASES: dict[str, str] = {
    "sent": "send", "email_sent": "send", "email_send": "send", "sends": "send",
    "delivered": "delivery", "email_delivered": "delivery",
    "opened": "open", "email_open": "open", "email_opened": "open", "opens": "open",
    "clicked": "click", "email_click": "click", "email_clicked": "click", "clicks": "click",
    "link_click": "click",
    "order": "purchase", "ordered": "purchase", "purchased": "purchase", "transaction": "purchase",
    "conversion": "purchase", "order_completed": "purchase", "purchases": "purchase",
    "unsubscribed": "unsubscribe", "unsub": "unsubscribe", "opt_out": "unsubscribe",
    "optout": "unsubscribe",
    "subscribed": "subscribe", "resubscribe": "subscribe", "resubscribed": "subscribe",
    "opt_in": "subscribe", "optin": "subscribe", "opted_in": "subscribe",
    "bounced": "bounce", "bounces": "bounce",
    "hardbounce": "hard_bounce", "hard_bounced": "hard_bounce", "bounce_hard": "hard_bounce",
    "permanent_bounce": "hard_bounce",
    "softbounce": "soft_bounce", "soft_bounced": "soft_bounce", "bounce_soft": "soft_bounce",
    "transient_bounce": "soft_bounce",
    "spam_complaint": "complaint", "spam": "complaint", "spamreport": "complaint",
    "page_view": "web_visit", "pageview": "web_visit", "visit": "web_visit", "session": "web_visit",
    "site_visit": "web_visit", "web_session": "web_visit",
    "viewed_product": "product_view", "view_item": "product_view", "product_viewed": "product_view",
    "add_to_cart": "cart_add", "added_to_cart": "cart_add", "cart_added": "cart_add",
    "addtocart": "cart_add",
    "return": "refund", "returned": "refund", "refunded": "refund", "refunds": "refund",
    "cancellation": "refund", "cancelled": "refund", "canceled": "refund",
    "order_refunded": "refund", "order_cancelled": "refund",
}


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


EVENTS = TableSchema(
    "events",
    (
        Column("event_id", "VARCHAR", description="unique id; derived from a hash of the canonical fields when absent"),
        Column("subscriber_id", "VARCHAR", required=True),
        Column("event_type", "VARCHAR", required=True, description="one of EVENT_TYPES"),
        Column("ts", "TIMESTAMPTZ", required=True, description="event time, stored UTC"),
        Column("campaign_id", "VARCHAR"),
        Column(
            "value",
            "DOUBLE",
            description="revenue: >= 0 for purchases, <= 0 for refunds (netted in every revenue, "
            "monetary value and CLV input)",
        ),
        Column("properties", "JSON"),
        Column(
            "machine_open",
            "BOOLEAN",
            description="derived at ingest: an open made by a machine (Apple Mail Privacy Protection "
            "proxy, security scanner), from properties or the timing heuristic; false otherwise",
        ),
    ),
    key=("event_id",),
)

SUBSCRIBERS = TableSchema(
    "subscribers",
    (
        Column("subscriber_id", "VARCHAR", required=True),
        Column("email", "VARCHAR", description="PII"),
        Column("signup_at", "TIMESTAMPTZ"),
        Column("timezone", "VARCHAR", description="IANA zone name"),
        Column("consent", "BOOLEAN"),
        Column("unsubscribed_at", "TIMESTAMPTZ"),
        Column("attributes", "JSON", description="free attributes (any extra input columns)"),
    ),
    key=("subscriber_id",),
)

CAMPAIGNS = TableSchema(
    "campaigns",
    (
        Column("campaign_id", "VARCHAR", required=True),
        Column("name", "VARCHAR"),
        Column("sent_at", "TIMESTAMPTZ"),
        Column("experiment_id", "VARCHAR"),
        Column("arm", "VARCHAR"),
    ),
    key=("campaign_id",),
)

ASSIGNMENTS = TableSchema(
    "assignments",
    (
        Column("experiment_id", "VARCHAR", required=True),
        Column("subscriber_id", "VARCHAR", required=True),
        Column("arm", "VARCHAR", required=True),
        Column("assigned_at", "TIMESTAMPTZ"),
    ),
    key=("experiment_id", "subscriber_id"),
)

ORDER_LINES = TableSchema(
    "order_lines",
    (
        Column("line_id", "VARCHAR", description="derived: md5 of the line's fields and its "
               "occurrence among identical lines of the source"),
        Column("order_id", "VARCHAR", required=True, description="invoice or order number"),
        Column("subscriber_id", "VARCHAR", required=True, description="the customer"),
        Column("ts", "TIMESTAMPTZ", required=True, description="order time, stored UTC"),
        Column("quantity", "DOUBLE", description="negative on a cancellation or return line"),
        Column("unit_price", "DOUBLE", description="price per unit; value = quantity x unit_price"),
        Column("value", "DOUBLE", description="line (or order) total when there is no quantity "
               "and unit price; negative on a cancellation or return"),
        Column("product_id", "VARCHAR", description="links a cancellation to the order it undoes"),
        Column("product_name", "VARCHAR"),
        Column("category", "VARCHAR"),
        Column("attributes", "JSON", description="extra input columns"),
        Column("ingest_id", "BIGINT", description="derived: the ingest that loaded the line"),
    ),
    key=("line_id",),
)

#: Tables a user can ingest into, by name.
TABLES: dict[str, TableSchema] = {t.name: t for t in (EVENTS, SUBSCRIBERS, CAMPAIGNS, ASSIGNMENTS)}


def require_columns(columns: Iterable[object], name: str, required: Iterable[str]) -> None:
    """Raise :class:`InputError` naming every required column table ``name`` lacks, sorted,
    and the columns it has."""
    present = [str(c) for c in columns]
    missing = sorted(set(required) - set(present))
    if missing:
        raise InputError(
            f"table {name!r} is missing required column(s): {', '.join(missing)}; "
            f"it has: {', '.join(present)}"
        )
