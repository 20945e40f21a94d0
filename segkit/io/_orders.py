"""Order lines: ``Workspace.ingest("orders", ...)`` stores invoice lines in ``order_lines`` and
turns them into ONE event per order.

* An order's value is the sum of its line values (``quantity x unit_price``, or ``value``).
* An order is a ``purchase`` when that sum is >= 0; a cancellation or return (a negative sum, or
  an order id starting with "C" whose lines are all <= 0, as in the UCI Online Retail log) is a
  ``refund`` with a negative value, so every revenue, monetary value and CLV input nets it.
* A refund is linked to the order it undoes, recorded as ``refunds_order`` in its properties:
  the same customer's order ``X`` for a refund ``CX``; else the customer's latest order at or
  before the refund with a line of the same ``product_id`` (the one carrying most of the
  refunded value). Without either it is the customer's refund, not linked to an order.
* Lines are the unit of the ingest counts (N = L + D + Q): a line already stored is a duplicate
  (identical lines within one source are distinct lines, told apart by their occurrence), a
  line without a customer or with a bad field is quarantined with its reason, and a line naming
  another customer than the first line of its order is quarantined. Events of every order that
  gains lines are rebuilt from all its stored lines, so re-ingesting is idempotent and a later
  file may add lines to an order.
"""

from __future__ import annotations

import dataclasses

import duckdb
import numpy as np
import pandas as pd

from segkit._schema import ORDER_LINES
from segkit.errors import InputError
from segkit.io._load import LoadOutcome
from segkit.io._sql import free_json_sql
from segkit.io._validate import MISSING_REASON, Validated

NO_CUSTOMER_REASON = "no customer id: the line cannot be attributed to a subscriber"
NO_VALUE_REASON = "no line value: needs value, or quantity and unit_price"
#: Events made from orders have this id prefix followed by the order id.
ORDER_EVENT_PREFIX = "order-"

_IN = "_segkit_lines_in"
_OWNED = "_segkit_lines_owned"
_NEW = "_segkit_lines_new"
_ORDERS = "_segkit_orders"


def check_order_columns(provided: list[str], source: str) -> None:
    """An order line needs a value: ``value``, or ``quantity`` and ``unit_price``."""
    if "value" in provided or {"quantity", "unit_price"} <= set(provided):
        return
    lacking = sorted({"quantity", "unit_price"} - set(provided))
    raise InputError(
        f"{source}: order lines need a value column or both quantity and unit_price; "
        f"missing: {', '.join(lacking)}; map them with --map quantity=COLUMN "
        "--map unit_price=COLUMN (or --map value=COLUMN for order totals)"
    )


#: Column of the staged lines: the 64-bit hash of a line's canonical fields (see
#: :func:`_line_hashes`); the line id adds its occurrence among identical lines of the source.
LINE_HASH = "_line_hash"
#: Column of the staged lines: the line belongs to a forgotten subscriber (suppression list)
#: and is skipped after the source's order owners and line occurrences are settled.
SUPPRESSED = "_suppressed"


def prepare_order_lines(validated: Validated) -> Validated:
    """Line values, reasons phrased for orders and the hash of each line's canonical fields
    (column :data:`LINE_HASH`), for one chunk of the source: every step looks at one line only,
    so chunks give what the whole file would. What looks across lines (customer conflicts
    within the source, line ids) is settled over all staged lines by :func:`load_orders`."""
    problems = validated.problems.copy()
    missing_customer = (problems["column"] == "subscriber_id") & (problems["reason"] == MISSING_REASON)
    problems.loc[missing_customer, "reason"] = NO_CUSTOMER_REASON
    clean = validated.clean.copy()
    clean["value"] = _line_values(clean)
    no_value = clean["value"].isna()
    rejected = _problem_rows(clean[no_value], "value", NO_VALUE_REASON)
    clean = clean.drop(index=rejected.index)
    clean[LINE_HASH] = _line_hashes(clean)
    return dataclasses.replace(
        validated, clean=clean, problems=pd.concat([problems, rejected]).sort_index(),
        provided=[*dict.fromkeys(["line_id", *validated.provided, "value"])],
    )


def _line_values(lines: pd.DataFrame) -> pd.Series:
    given = lines["value"] if "value" in lines else pd.Series(np.nan, index=lines.index)
    if {"quantity", "unit_price"} <= set(lines.columns):
        return given.fillna(lines["quantity"] * lines["unit_price"]).astype(float)
    return given.astype(float)


def _problem_rows(rows: pd.DataFrame, column: str, reason: str | pd.Series) -> pd.DataFrame:
    values = rows[column].astype(object).where(rows[column].notna()).map(str, na_action="ignore")
    return pd.DataFrame({"column": column, "value": values, "reason": reason}, index=rows.index)


def _line_hashes(lines: pd.DataFrame) -> pd.Series:
    """A 64-bit hash of each line's canonical fields (the same for a line in any chunk)."""
    fields = [c for c in ORDER_LINES.column_names if c in lines.columns and c != "line_id"]
    canonical = pd.DataFrame({
        c: (lines[c].astype("int64") if c == "ts" else lines[c].astype(object))
        for c in fields
    }, index=lines.index)  # fmt: skip
    return pd.util.hash_pandas_object(canonical, index=False)


#: The staged lines of the source with, per line, the first line of its order (the order's
#: owner and that line's row) in source order.
_OWNERS_SQL = """
CREATE TEMP TABLE {owned} AS
SELECT *, first_value(subscriber_id) OVER w AS _owner, first_value(_row) OVER w AS _owner_row
FROM {staged} WINDOW w AS (PARTITION BY order_id ORDER BY _row)
"""

#: Lines naming another customer than the first line of their order (quarantined).
_CONFLICTS_SQL = """
SELECT _row, 'subscriber_id' AS "column", subscriber_id AS value,
       'order ' || order_id || ' belongs to subscriber ' || _owner || ' (first on row '
       || _owner_row || ')' AS reason
FROM {owned} WHERE subscriber_id <> _owner AND NOT {suppressed} ORDER BY _row
"""

#: The other lines, with their ids: ``<16 hex digits of the hash>-<k>``, k the occurrence
#: among identical lines (in source order); lines of forgotten subscribers are counted, then
#: skipped.
_LINES_SQL = """
CREATE TEMP TABLE {lines} AS
SELECT * EXCLUDE ({line_hash}, {suppressed}, _owner, _owner_row, _k),
       printf('%016x', {line_hash}) || '-' || _k AS line_id
FROM (SELECT *, row_number() OVER (PARTITION BY {line_hash} ORDER BY _row) - 1 AS _k
      FROM {owned} WHERE subscriber_id = _owner)
WHERE NOT {suppressed}
"""


def load_orders(
    con: duckdb.DuckDBPyConnection, validated: Validated, ingest_id: int, staged: str
) -> LoadOutcome:
    """Number the staged lines (``staged``: every chunk's lines as
    :func:`prepare_order_lines` left them, with ``_row``), quarantine lines naming another
    customer than their order's first line or than the order's stored lines, insert the new
    lines and rebuild the events of every order that gained lines (caller owns the
    transaction)."""
    names = {"owned": _OWNED, "staged": staged, "lines": _IN, "line_hash": LINE_HASH,
             "suppressed": SUPPRESSED}
    con.execute(_OWNERS_SQL.format(**names))
    try:
        in_source = _problem_frame(con.execute(_CONFLICTS_SQL.format(**names)).df())
        con.execute(_LINES_SQL.format(**names))
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_OWNED}")
    try:
        conflicts = _stored_conflicts(con)
        loaded, duplicates = _insert_lines(con, validated, ingest_id)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_IN}")
    notes = _rebuild_events(con) if loaded else []
    con.execute(f"DROP TABLE IF EXISTS {_NEW}")
    return LoadOutcome(loaded, duplicates, pd.concat([in_source, conflicts]), notes)


def _problem_frame(found: pd.DataFrame) -> pd.DataFrame:
    """Problems as DuckDB gives them (``_row``, column, value, reason), indexed by position."""
    found.index = pd.Index(found.pop("_row").to_numpy(dtype="int64") - 1)
    return found


def _stored_conflicts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    found = con.execute(
        f"""WITH owners AS (
                SELECT order_id, any_value(subscriber_id) AS owner FROM order_lines
                WHERE order_id IN (SELECT order_id FROM {_IN}) GROUP BY order_id
            )
            SELECT i._row, 'subscriber_id' AS "column", i.subscriber_id AS value,
                   'order ' || i.order_id || ' is stored for subscriber ' || o.owner
                   || ' (an earlier ingest)' AS reason
            FROM {_IN} i JOIN owners o ON o.order_id = i.order_id AND o.owner <> i.subscriber_id
            ORDER BY i._row"""
    ).df()
    return _problem_frame(found)


def _insert_lines(
    con: duckdb.DuckDBPyConnection, validated: Validated, ingest_id: int
) -> tuple[int, int]:
    provided = [c for c in ORDER_LINES.column_names
                if c in validated.provided and c not in {"attributes", "ingest_id"}]
    base = '"attributes"' if "attributes" in validated.provided else None
    columns = ", ".join(f'"{c}"' for c in provided)
    con.execute(
        f"""CREATE TEMP TABLE {_NEW} AS
            SELECT {columns}, {free_json_sql(base, validated.extras)} AS attributes,
                   {ingest_id}::BIGINT AS ingest_id
            FROM {_IN} i
            WHERE NOT EXISTS (SELECT 1 FROM order_lines s
                              WHERE s.order_id = i.order_id AND s.subscriber_id <> i.subscriber_id)
              AND NOT EXISTS (SELECT 1 FROM order_lines s WHERE s.line_id = i.line_id)"""
    )
    conflicting = con.execute(
        f"""SELECT count(*) FROM {_IN} i WHERE EXISTS (SELECT 1 FROM order_lines s
            WHERE s.order_id = i.order_id AND s.subscriber_id <> i.subscriber_id)"""
    ).fetchall()[0][0]
    con.execute(f"INSERT INTO order_lines ({columns}, attributes, ingest_id) "
                f"SELECT {columns}, attributes, ingest_id FROM {_NEW}")
    loaded = con.execute(f"SELECT count(*) FROM {_NEW}").fetchall()[0][0]
    lines = con.execute(f"SELECT count(*) FROM {_IN}").fetchall()[0][0]
    return int(loaded), int(lines - loaded - conflicting)


#: One row per order of the customers whose orders gained lines: value, kind, time, size.
_ORDERS_SQL = f"""
CREATE TEMP TABLE {_ORDERS} AS
SELECT order_id, any_value(subscriber_id) AS subscriber_id, min(ts) AS ts,
       sum(value) AS value, count(*) AS lines, sum(quantity) AS quantity,
       order_id IN (SELECT DISTINCT order_id FROM {_NEW}) AS changed,
       (sum(value) < 0 OR (starts_with(order_id, 'C') AND max(value) <= 0)) AS is_refund
FROM order_lines
WHERE subscriber_id IN (SELECT DISTINCT subscriber_id FROM {_NEW})
GROUP BY order_id
"""

#: The order each changed refund undoes: ``CX`` -> the customer's order ``X``; else the order of
#: the latest earlier line of the same product carrying most of the refunded value.
_LINKS_SQL = f"""
WITH refunds AS (SELECT * FROM {_ORDERS} WHERE is_refund AND changed),
purchases AS (SELECT * FROM {_ORDERS} WHERE NOT is_refund),
by_number AS (
    SELECT r.order_id, p.order_id AS refunds_order FROM refunds r JOIN purchases p
    ON p.order_id = substr(r.order_id, 2) AND p.subscriber_id = r.subscriber_id
    WHERE starts_with(r.order_id, 'C')
),
refund_lines AS (
    SELECT l.order_id, l.subscriber_id, l.product_id, l.ts, abs(l.value) AS amount
    FROM order_lines l JOIN refunds r USING (order_id)
    WHERE l.product_id IS NOT NULL AND l.order_id NOT IN (SELECT order_id FROM by_number)
),
bought_lines AS (
    SELECT l.order_id, l.subscriber_id, l.product_id, l.ts FROM order_lines l
    JOIN purchases p USING (order_id) WHERE l.product_id IS NOT NULL AND l.value > 0
),
matched AS (
    SELECT r.order_id, b.order_id AS refunds_order, sum(r.amount) AS amount
    FROM refund_lines r ASOF JOIN bought_lines b
      ON r.subscriber_id = b.subscriber_id AND r.product_id = b.product_id AND r.ts >= b.ts
    GROUP BY ALL
),
by_product AS (
    SELECT order_id, arg_max(refunds_order, amount) AS refunds_order FROM matched GROUP BY ALL
)
SELECT * FROM by_number UNION ALL SELECT * FROM by_product
"""


def _rebuild_events(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Replace the events of the orders that gained lines; one note with what they became."""
    con.execute(f"DROP TABLE IF EXISTS {_ORDERS}")
    con.execute(_ORDERS_SQL)
    links = con.execute(_LINKS_SQL).df()
    con.register("_segkit_links", links)
    try:
        con.execute(
            f"""DELETE FROM events WHERE event_id IN
                (SELECT '{ORDER_EVENT_PREFIX}' || order_id FROM {_ORDERS} WHERE changed)"""
        )
        con.execute(
            f"""
            INSERT INTO events (event_id, subscriber_id, event_type, ts, campaign_id, value,
                                properties, machine_open)
            SELECT '{ORDER_EVENT_PREFIX}' || o.order_id, o.subscriber_id,
                   CASE WHEN o.is_refund THEN 'refund' ELSE 'purchase' END, o.ts, NULL,
                   o.value,
                   json_merge_patch('{{}}', json_object('order_id', o.order_id, 'lines', o.lines,
                       'quantity', o.quantity, 'refunds_order', k.refunds_order)),
                   false
            FROM {_ORDERS} o LEFT JOIN _segkit_links k USING (order_id)
            WHERE o.changed
            """
        )
        counts = con.execute(
            f"""SELECT count(*) FILTER (WHERE NOT is_refund),
                       count(*) FILTER (WHERE is_refund),
                       count(*) FILTER (WHERE is_refund AND order_id IN
                                        (SELECT order_id FROM _segkit_links))
                FROM {_ORDERS} WHERE changed"""
        ).fetchall()[0]
    finally:
        con.unregister("_segkit_links")
        con.execute(f"DROP TABLE IF EXISTS {_ORDERS}")
    purchases, refunds, linked = (int(c) for c in counts)
    return [
        f"orders written as events: {purchases} purchase(s), {refunds} refund(s) "
        f"({linked} linked to the order they undo, {refunds - linked} to the customer only)"
    ]
