"""Product-level interactions from a workspace, for :mod:`segkit.recommend`: product events
(``properties.product_id``) and the purchase lines of ``segkit ingest orders`` (``order_lines``)."""

from __future__ import annotations

import pandas as pd

from segkit.errors import InputError

__all__ = ["INTERACTION_EVENT_TYPES", "read_interactions"]

#: Event types that name a product (in ``properties.product_id``).
INTERACTION_EVENT_TYPES = ("purchase", "cart_add", "product_view")

_FROM_EVENTS = """
SELECT subscriber_id, json_extract_string(properties, '$.product_id') AS product_id, ts, event_type,
       json_extract_string(properties, '$.category') AS category,
       json_extract_string(properties, '$.name') AS name
FROM events
WHERE event_type IN ('purchase', 'cart_add', 'product_view')
  AND json_extract_string(properties, '$.product_id') IS NOT NULL
"""

#: Purchase lines of ingested orders: a positive line value, a product id, and an order that is a
#: purchase (not a cancellation or return, whose event is a ``refund``).
_FROM_ORDER_LINES = """
SELECT l.subscriber_id, l.product_id, l.ts, 'purchase' AS event_type, l.category,
       l.product_name AS name
FROM order_lines l
WHERE l.product_id IS NOT NULL AND l.value > 0
  AND NOT EXISTS (SELECT 1 FROM events e
                  WHERE e.event_id = 'order-' || l.order_id AND e.event_type = 'refund')
"""


def read_interactions(workspace: object) -> pd.DataFrame:
    """``subscriber_id``, ``product_id``, ``ts`` (UTC), ``event_type``, ``category``, ``name`` of
    every purchase, cart add and product view whose ``properties`` name a ``product_id``, and of
    every purchase line of ingested orders (``segkit ingest orders`` with ``--map
    product_id=...``): one ``purchase`` per line with a positive value, named by
    ``product_name``, with the line's ``category``. Lines of cancelled or returned orders
    (refunds) and lines without a product are left out.

    ``category`` and ``name`` columns are dropped when no row has one (so a model that needs a
    category says so instead of seeing an empty one).
    """
    connection = workspace.connection  # type: ignore[attr-defined]
    query = f"{_FROM_EVENTS} UNION ALL {_FROM_ORDER_LINES} ORDER BY ts, subscriber_id, product_id"
    frame = connection.sql(query).to_arrow_table().to_pandas()
    if frame.empty:
        raise InputError(
            "the workspace holds no product-level interactions: no purchase, cart_add or product_view "
            "event has properties.product_id and no order line has a product_id; ingest events with "
            "product ids, or order lines with --map product_id=COLUMN (segkit ingest orders)"
        )
    return frame.drop(columns=[c for c in ("category", "name") if frame[c].isna().all()])
