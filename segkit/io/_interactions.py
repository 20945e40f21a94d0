"""Product-level interactions from a workspace, for :mod:`segkit.recommend`."""

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


def read_interactions(workspace: object) -> pd.DataFrame:
    """``subscriber_id``, ``product_id``, ``ts`` (UTC), ``event_type``, ``category``, ``name`` of
    every purchase, cart add and product view whose ``properties`` name a ``product_id``.

    ``category`` and ``name`` columns are dropped when no row has one (so a model that needs a
    category says so instead of seeing an empty one).
    """
    connection = workspace.connection  # type: ignore[attr-defined]
    frame = connection.sql(_FROM_EVENTS).to_arrow_table().to_pandas()
    if frame.empty:
        raise InputError(
            "the workspace holds no product-level interactions: no purchase, cart_add or product_view "
            "event has properties.product_id; ingest events or order lines that carry product ids"
        )
    return frame.drop(columns=[c for c in ("category", "name") if frame[c].isna().all()])
