"""Loading validated rows inside the ingest transaction: dedupe, conflicts, insert or upsert.

Rules (documented in :meth:`segkit.io.Workspace.ingest`):

* Within one source, rows with the same key and identical content are duplicates (the first is
  kept); rows with the same key and different content are quarantined, naming the first row.
* ``events``: the key is ``event_id`` or, when absent, ``"h" + md5`` of the canonical fields
  (subscriber_id, event_type, ts in epoch microseconds, campaign_id, value, properties). An event
  whose id is already in the workspace is a duplicate.
* ``subscribers``, ``campaigns``: a row identical (on the columns the source provides) to the
  stored row is a duplicate; a changed row is upserted and counts as loaded. Columns the source
  does not provide keep their stored values; ``attributes`` are merged key by key.
* ``assignments``: the subscriber must exist in ``subscribers`` (else quarantined); a stored
  assignment never changes arm (a different arm is quarantined); other changes upsert.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pandas as pd

from segkit._schema import TableSchema
from segkit.io._machine import property_flag_sql
from segkit.io._sql import content_hash_sql, free_json_sql, ident, key_match_sql, literal
from segkit.io._validate import Validated

_IN = "_segkit_in"
_STAGE = "_segkit_stage"
_RANKED = "_segkit_ranked"
#: md5 of an event's canonical fields: its id when the source has none, and its content.
_EVENT_CONTENT = """md5(concat_ws(chr(31), subscriber_id, event_type, epoch_us(ts)::VARCHAR,
    coalesce(campaign_id, ''), coalesce(value::VARCHAR, ''), coalesce(properties::VARCHAR, '')))"""


#: The temporary table :func:`load` leaves for events: subscribers whose machine-open flags may
#: change (see :attr:`LoadOutcome.affected`).
AFFECTED = "_segkit_affected"
_HASHES = "_segkit_key_hashes"
#: Rows per slice when the staged keys are checked for repeats: each slice's hash table of
#: 64-bit hashes (about 40 bytes a key) stays a few hundred MB.
KEY_SLICE_ROWS = 10_000_000


@dataclass
class LoadOutcome:
    loaded: int
    duplicates: int
    problems: pd.DataFrame  # index: row position; columns: column, value, reason
    notes: list[str] = field(default_factory=list)
    #: Events only: the temporary table (:data:`AFFECTED`, one column ``subscriber_id``) listing
    #: the subscribers whose machine-open flags must be recomputed, when the load created it;
    #: None when nothing was loaded or the table had no events before (every subscriber is
    #: affected). The caller drops it.
    affected: str | None = None


def input_frame(validated: Validated) -> pd.DataFrame:
    """``validated.clean`` as the load statements read it: ``_row`` (1-based file row) first,
    extra columns holding Python objects as text."""
    frame = validated.clean.copy()
    for column in validated.extras:
        if frame[column].dtype == object:
            frame[column] = frame[column].map(str, na_action="ignore")
    frame.insert(0, "_row", frame.index.to_numpy() + 1)
    return frame


def load(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, validated: Validated,
    *, staged: str | None = None, staged_rows: int | None = None,
) -> LoadOutcome:
    """Stage, classify and write the clean rows into ``schema.name`` (caller owns the
    transaction): ``validated.clean``, or the DuckDB relation ``staged`` when given (its
    ``staged_rows`` rows as :func:`input_frame` gives them, appended chunk by chunk; see
    :mod:`segkit.io._ingest`)."""
    if staged is None:
        con.register(_IN, input_frame(validated))
        rows = len(validated.clean)
    else:
        assert staged_rows is not None
        rows = staged_rows
    source = staged or _IN
    affected = None
    try:
        if schema.name == "events":
            _stage_events(con, validated, source)
        else:
            _stage_dimension(con, schema, validated, source)
        problems = [_unknown_subscribers(con)] if schema.name == "assignments" else []
        rows -= sum(len(p) for p in problems)
        ranked_kind = _rank(con, schema, rows)
        problems.append(_in_file_conflicts(con, schema))
        if schema.name == "events":
            loaded, duplicates, affected = _write_events(con, rows, ranked_kind == "VIEW")
        else:
            loaded, duplicates, conflicts = _write_dimension(con, schema, validated)
            problems.append(conflicts)
    finally:
        if staged is None:
            _unregister(con, _IN)
    con.execute(f"DROP {ranked_kind} IF EXISTS {_RANKED}")
    con.execute(f"DROP {'VIEW' if schema.name == 'events' else 'TABLE'} IF EXISTS {_STAGE}")
    return LoadOutcome(loaded, duplicates, pd.concat(problems), affected=affected)


def _unregister(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        con.unregister(name)
    except duckdb.Error:  # an aborted transaction refuses; the view is replaced next time
        pass


def _select_column(name: str, sql_type: str, provided: list[str]) -> str:
    if name in provided:
        return f"CAST({ident(name)} AS {sql_type}) AS {ident(name)}"
    return f"CAST(NULL AS {sql_type}) AS {ident(name)}"


def _stage_events(con: duckdb.DuckDBPyConnection, validated: Validated, source: str) -> None:
    """A view, not a copy: each later statement reads only the columns it needs from the
    registered frame (millions of rows; the id hash is recomputed where needed)."""
    provided = validated.provided
    base = ident("properties") if "properties" in provided else None
    columns = ["subscriber_id", "event_type", "ts", "campaign_id", "value"]
    types = {"subscriber_id": "VARCHAR", "event_type": "VARCHAR", "ts": "TIMESTAMPTZ",
             "campaign_id": "VARCHAR", "value": "DOUBLE"}
    selected = ", ".join(_select_column(c, types[c], provided) for c in columns)
    event_id = _select_column("event_id", "VARCHAR", provided)
    con.execute(
        f"""
        CREATE TEMP VIEW {_STAGE} AS
        WITH typed AS (
            SELECT _row, {event_id}, {selected},
                   {free_json_sql(base, validated.extras)} AS properties
            FROM {source}
        ), hashed AS (
            SELECT *, CASE WHEN event_id IS NULL THEN {_EVENT_CONTENT} END AS _content FROM typed
        )
        SELECT * REPLACE (coalesce(event_id, 'h' || _content) AS event_id) FROM hashed
        """
    )


def _stage_dimension(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, validated: Validated, source: str
) -> None:
    provided = list(validated.provided)
    selected = [_select_column(c, t, provided) for c, t in _typed(schema) if c != "attributes"]
    if schema.name == "subscribers" and ("attributes" in provided or validated.extras):
        base = ident("attributes") if "attributes" in provided else None
        selected.append(f"{free_json_sql(base, validated.extras)} AS attributes")
        validated.provided = provided = [*dict.fromkeys([*provided, "attributes"])]
    stored = [c for c in schema.column_names if c in provided]
    con.execute(
        f"""
        CREATE TEMP TABLE {_STAGE} AS
        SELECT *, {content_hash_sql(stored)} AS _content
        FROM (SELECT _row, {", ".join(selected)} FROM {source})
        """
    )


def _typed(schema: TableSchema) -> list[tuple[str, str]]:
    return [(c.name, c.sql_type) for c in schema.columns]


def _rank(con: duckdb.DuckDBPyConnection, schema: TableSchema, rows: int) -> str:
    """Number the rows of each key in source order; the common case (no repeated key among the
    ``rows`` staged rows) skips the window and only views the staged rows."""
    keys = ", ".join(ident(k) for k in schema.key)
    # Distinct 64-bit hashes of the keys first: as many as rows proves every key distinct, and
    # hashes aggregate in far less memory than the key text. Many rows: ONE pass over the
    # staged rows keeps their hashes (8 bytes a row), then the hashes are counted in slices of
    # hash values whose hash tables fit in memory: linear in the rows (a pass over the staged
    # rows per slice was not: it reads and types every staged column again). Fewer hashes than
    # rows (a repeated key, or a hash collision) falls back to comparing the keys themselves.
    parts = max(1, -(-int(rows) // KEY_SLICE_ROWS))
    if parts == 1:
        distinct = con.execute(f"SELECT count(DISTINCT hash({keys})) FROM {_STAGE}").fetchall()[0][0]
    else:
        con.execute(f"CREATE TEMP TABLE {_HASHES} AS SELECT hash({keys}) AS _h FROM {_STAGE}")
        try:
            distinct = sum(
                con.execute(
                    f"SELECT count(DISTINCT _h) FROM {_HASHES} WHERE _h % {parts} = {part}"
                ).fetchall()[0][0]
                for part in range(parts)
            )
        finally:
            con.execute(f"DROP TABLE IF EXISTS {_HASHES}")
    repeated = rows - distinct
    if repeated:
        repeated = rows - con.execute(
            f"SELECT count(*) FROM (SELECT DISTINCT {keys} FROM {_STAGE})"
        ).fetchall()[0][0]
    if not repeated:
        con.execute(
            f"CREATE TEMP VIEW {_RANKED} AS SELECT *, 1::BIGINT AS _n, _content AS _first_content, "
            f"_row AS _first_row FROM {_STAGE}"
        )
        return "VIEW"
    content = _EVENT_CONTENT if schema.name == "events" else "_content"
    con.execute(
        f"""
        CREATE TEMP TABLE {_RANKED} AS
        WITH contents AS (SELECT * REPLACE ({content} AS _content) FROM {_STAGE})
        SELECT *, row_number() OVER w AS _n, first_value(_content) OVER w AS _first_content,
               first_value(_row) OVER w AS _first_row
        FROM contents WINDOW w AS (PARTITION BY {keys} ORDER BY _row)
        """
    )
    return "TABLE"


def _problems(con: duckdb.DuckDBPyConnection, sql: str) -> pd.DataFrame:
    found = con.execute(sql).df()
    if found.empty:
        return pd.DataFrame(columns=["column", "value", "reason"], index=pd.Index([], dtype="int64"))
    found.index = pd.Index(found.pop("_row").to_numpy() - 1)
    return found[["column", "value", "reason"]]


def _unknown_subscribers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    condition = "subscriber_id NOT IN (SELECT subscriber_id FROM subscribers)"
    found = _problems(
        con,
        f"""SELECT _row, 'subscriber_id' AS "column", subscriber_id AS value,
                   'unknown subscriber_id (not in subscribers; ingest subscribers first)' AS reason
            FROM {_STAGE} WHERE {condition}""",
    )
    con.execute(f"DELETE FROM {_STAGE} WHERE {condition}")
    return found


def _in_file_conflicts(con: duckdb.DuckDBPyConnection, schema: TableSchema) -> pd.DataFrame:
    key = schema.key[-1] if schema.name != "assignments" else "subscriber_id"
    names = " + ".join(schema.key)
    return _problems(
        con,
        f"""SELECT _row, {literal(key)} AS "column", {ident(key)}::VARCHAR AS value,
                   'duplicate {names} with different values (first on row ' || _first_row || ')'
                   AS reason
            FROM {_RANKED} WHERE _n > 1 AND _content <> _first_content""",
    )


def _write_events(
    con: duckdb.DuckDBPyConnection, rows: int, distinct: bool
) -> tuple[int, int, str | None]:
    """Insert events whose id is new (of the ``rows`` ranked rows; ``distinct``: no key
    repeats); return ``(loaded, duplicates, affected)``, ``affected`` naming the table of
    subscribers whose machine-open flags may change (:data:`AFFECTED`) when it was created:
    anything was loaded into a table that had events before."""
    before = con.execute("SELECT count(*) FROM events").fetchall()[0][0]
    if distinct:  # every staged row is the first of its key
        in_file, first = 0, rows
    else:
        in_file, first = con.execute(
            f"SELECT count(*) FILTER (WHERE _n > 1 AND _content = _first_content), "
            f"count(*) FILTER (WHERE _n = 1) FROM {_RANKED}"
        ).fetchall()[0]
    new_only = (  # the anti-join is skipped on a first load into an empty table
        "AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = r.event_id)" if before else ""
    )
    con.execute(
        f"""
        INSERT INTO events (event_id, subscriber_id, event_type, ts, campaign_id, value,
                            properties, machine_open)
        SELECT event_id, subscriber_id, event_type, ts, campaign_id, value, properties,
               CASE WHEN event_type = 'open' THEN {property_flag_sql('properties')} ELSE false END
        FROM {_RANKED} r
        WHERE _n = 1 {new_only}
        """
    )
    loaded = con.execute("SELECT count(*) FROM events").fetchall()[0][0] - before
    affected = None
    if loaded and before:  # after a first load every subscriber is affected: no list needed
        con.execute(
            f"""CREATE TEMP TABLE {AFFECTED} AS SELECT DISTINCT subscriber_id FROM {_RANKED}
                WHERE _n = 1 AND event_type IN ('open', 'send', 'delivery', 'click')"""
        )
        affected = AFFECTED
    return int(loaded), int(in_file + first - loaded), affected


def _write_dimension(
    con: duckdb.DuckDBPyConnection, schema: TableSchema, validated: Validated
) -> tuple[int, int, pd.DataFrame]:
    stored = [c for c in schema.column_names if c in validated.provided]
    table = ident(schema.name)
    on = key_match_sql(schema, "t", "r")
    same = " AND ".join(_same_sql(c) for c in stored if c not in schema.key) or "true"
    con.execute(
        f"""
        CREATE TEMP TABLE _segkit_classified AS
        SELECT r.*, CASE
            WHEN NOT EXISTS (SELECT 1 FROM {table} t WHERE {on}) THEN 'insert'
            WHEN EXISTS (SELECT 1 FROM {table} t WHERE {on} AND {same}) THEN 'same'
            ELSE 'update' END AS _action
        FROM {_RANKED} r WHERE _n = 1
        """
    )
    conflicts = _arm_conflicts(con) if schema.name == "assignments" else _problems(
        con, "SELECT NULL::BIGINT AS _row, '' AS \"column\", '' AS value, '' AS reason LIMIT 0"
    )
    counts = dict(con.execute("SELECT _action, count(*) FROM _segkit_classified GROUP BY 1").fetchall())
    in_file = con.execute(
        f"SELECT count(*) FROM {_RANKED} WHERE _n > 1 AND _content = _first_content"
    ).fetchall()[0][0]
    _apply_updates(con, schema, stored)
    columns = ", ".join(ident(c) for c in stored)
    con.execute(
        f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _segkit_classified "
        "WHERE _action = 'insert' ORDER BY _row"
    )
    con.execute("DROP TABLE _segkit_classified")
    loaded = counts.get("insert", 0) + counts.get("update", 0)
    return int(loaded), int(in_file + counts.get("same", 0)), conflicts


def _same_sql(column: str) -> str:
    c = ident(column)
    if column == "attributes":
        merged = f"json(json_merge_patch(coalesce(t.{c}, '{{}}'), coalesce(r.{c}, '{{}}')))"
        return f"{merged} = json(coalesce(t.{c}, '{{}}'))"
    return f"t.{c} IS NOT DISTINCT FROM r.{c}"


def _arm_conflicts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    where = """_action = 'update' AND EXISTS (SELECT 1 FROM assignments t
               WHERE t.experiment_id = c.experiment_id AND t.subscriber_id = c.subscriber_id
                 AND t.arm IS DISTINCT FROM c.arm)"""
    found = _problems(
        con,
        f"""SELECT _row, 'arm' AS "column", arm AS value,
                   'subscriber already assigned to another arm of this experiment; '
                   || 'assignments cannot change' AS reason
            FROM _segkit_classified c WHERE {where}""",
    )
    con.execute(f"DELETE FROM _segkit_classified c WHERE {where}")
    return found


def _apply_updates(con: duckdb.DuckDBPyConnection, schema: TableSchema, stored: list[str]) -> None:
    assignments = []
    for column in stored:
        if column in schema.key:
            continue
        c = ident(column)
        if column == "attributes":
            value = f"nullif(json(json_merge_patch(coalesce(t.{c}, '{{}}'), coalesce(r.{c}, '{{}}')))::VARCHAR, '{{}}')"
        else:
            value = f"r.{c}"
        assignments.append(f"{c} = {value}")
    if not assignments:
        return
    con.execute(
        f"""UPDATE {ident(schema.name)} AS t SET {", ".join(assignments)}
            FROM (SELECT * FROM _segkit_classified WHERE _action = 'update') r
            WHERE {key_match_sql(schema, "t", "r")}"""
    )
