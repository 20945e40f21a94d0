"""Right of access: everything a workspace holds about one subscriber, as JSON-ready data."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from segkit.io import Workspace
from segkit.io._sql import ident, literal
from segkit.io._suppression import subject_hash, workspace_salt
from segkit.privacy._holdings import (
    QUARANTINE,
    clean_ids,
    quarantine_matches,
    subject_tables,
    subjects_of,
)

__all__ = ["access"]

_SUBJECTS = "_segkit_access_subjects"


def _records(con: duckdb.DuckDBPyConnection, table: str, where: str) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: timestamps in ISO 8601 (UTC), JSON columns parsed."""
    json_columns = {row[0] for row in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = ? AND data_type = 'JSON'", [table]).fetchall()}
    frame = con.sql(f"SELECT * FROM {ident(table)} t WHERE {where}").to_arrow_table().to_pandas()
    rows = json.loads(frame.to_json(orient="records", date_format="iso", date_unit="us"))
    for row in rows:
        for column in json_columns & set(row):
            if isinstance(row[column], str):
                row[column] = json.loads(row[column])
    return rows


def _audit(con: duckdb.DuckDBPyConnection, subscriber_id: str) -> tuple[bool, list[dict]]:
    salt = workspace_salt(con, create=False)
    if salt is None:
        return False, []
    digest = subject_hash(salt, "subscriber_id", subscriber_id)
    suppressed = bool(con.execute(
        "SELECT count(*) FROM suppression WHERE subject_hash = ?", [digest]).fetchall()[0][0])
    where = f"subject_hash = {literal(digest)}"
    return suppressed, _records(con, "privacy_audit", where)


def access(workspace: Workspace, subscriber_id: str) -> dict[str, Any]:
    """Everything the workspace holds about ``subscriber_id`` (a data subject access request).

    The same rows :func:`segkit.privacy.forget` would erase: every row of every table with a
    ``subscriber_id`` or ``email`` column matching the subscriber's id or email (including
    other ids sharing that email), and the quarantined input rows mentioning either.

    Raises
    ------
    InputError
        An empty id.

    Returns
    -------
    dict
        ``subscriber_id``; ``tables``: ``{table: [row, ...]}`` for every table searched (empty
        lists included; ``quarantine`` last), rows with ISO 8601 UTC timestamps and JSON
        columns parsed; ``row_counts``: ``{table: n}``; ``total_rows``; ``suppressed``: whether
        the id is on the suppression list; ``audit``: privacy audit entries about the id.
        Serialize with :func:`json.dumps`. An id held nowhere gives empty tables and
        ``total_rows == 0`` (not an error: "we hold nothing" is a valid answer).
    """
    wanted = clean_ids([subscriber_id])[0]
    con = workspace.connection
    subjects = subjects_of(con, [wanted])
    con.register(_SUBJECTS, subjects[["subscriber_id", "email"]])
    try:
        tables = {t.name: _records(con, t.name, f"rowid IN (SELECT rid FROM ({t.matches_sql(_SUBJECTS)}))")
                  for t in subject_tables(con)}
    finally:
        con.unregister(_SUBJECTS)
    rowids = quarantine_matches(con, subjects)["rowid"]
    listed = ", ".join(str(int(r)) for r in rowids) or "NULL"
    tables[QUARANTINE] = _records(con, QUARANTINE, f"rowid IN ({listed})")
    suppressed, audit = _audit(con, wanted)
    counts = {name: len(rows) for name, rows in tables.items()}
    return {
        "subscriber_id": wanted,
        "tables": tables,
        "row_counts": counts,
        "total_rows": int(sum(counts.values())),
        "suppressed": suppressed,
        "audit": audit,
    }
