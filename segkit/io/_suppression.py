"""The workspace's privacy tables and the ingest-side suppression of forgotten subscribers.

``segkit.privacy.forget`` erases a subscriber and adds *salted hashes* of their id and email to
``suppression``; no raw identifier is kept. An ingest then drops every input row whose
``subscriber_id`` or ``email`` hashes to a suppressed value, unless the caller allows
re-ingest (which re-admits them and lifts their suppression, with an audit entry).

Hash: ``sha256(salt + "\\x1f" + kind + "\\x1f" + normalized)`` in hex, where ``kind`` is
``subscriber_id`` (value stripped) or ``email`` (stripped, lower-cased) and ``salt`` is 32 random
bytes (hex) stored once in ``privacy_salt``. Without the salt the hashes cannot be matched against
a list of known emails.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from segkit._schema import Column, TableSchema

SUPPRESSION = TableSchema(
    "suppression",
    (
        Column("subject_hash", "VARCHAR", required=True, description="salted sha256 (hex)"),
        Column("kind", "VARCHAR", required=True, description="'subscriber_id' or 'email'"),
        Column("suppressed_at", "TIMESTAMPTZ"),
    ),
    key=("subject_hash",),
)

PRIVACY_AUDIT = TableSchema(
    "privacy_audit",
    (
        Column("audit_id", "BIGINT", required=True),
        Column("action", "VARCHAR", required=True, description="'forget', 'reingest' or 'prune'"),
        Column("subject_hash", "VARCHAR", description="salted sha256 of the subscriber id"),
        Column("at", "TIMESTAMPTZ", required=True),
        Column("details", "JSON", description="rows removed per table; never personal data"),
    ),
    key=("audit_id",),
)

PRIVACY_SALT = TableSchema(
    "privacy_salt",
    (Column("salt", "VARCHAR", required=True, description="random, hex; created on first use"),),
    key=("salt",),
)

#: The privacy tables (created with the workspace).
PRIVACY_TABLES: dict[str, TableSchema] = {
    t.name: t for t in (SUPPRESSION, PRIVACY_AUDIT, PRIVACY_SALT)
}
SUBJECT_KINDS = ("subscriber_id", "email")


def normalize(kind: str, value: object) -> str:
    """The text a hash is taken of: stripped, and lower-cased for emails."""
    text = str(value).strip()
    return text.lower() if kind == "email" else text


def subject_hash(salt: str, kind: str, value: object) -> str:
    """``sha256(salt + US + kind + US + normalize(kind, value))`` as hex (US = ``\\x1f``)."""
    payload = f"{salt}\x1f{kind}\x1f{normalize(kind, value)}"
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def workspace_salt(con: duckdb.DuckDBPyConnection, *, create: bool) -> str | None:
    """The workspace's salt; created (random) when ``create`` and absent, else ``None`` (also
    for a workspace from before the privacy tables, opened read-only)."""
    try:
        found = con.execute("SELECT salt FROM privacy_salt LIMIT 1").fetchall()
    except duckdb.CatalogException:
        if create:
            raise
        return None
    if found:
        return str(found[0][0])
    if not create:
        return None
    salt = secrets.token_hex(32)
    con.execute("INSERT INTO privacy_salt VALUES (?)", [salt])
    return salt


def suppressed_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every hash in ``suppression`` (empty when the table is empty)."""
    return {row[0] for row in con.execute("SELECT subject_hash FROM suppression").fetchall()}


def add_suppression(
    con: duckdb.DuckDBPyConnection, entries: Iterable[tuple[str, str]], at: pd.Timestamp
) -> int:
    """Insert ``(hash, kind)`` pairs not yet suppressed; return how many were new."""
    frame = pd.DataFrame(list(dict.fromkeys(entries)), columns=["subject_hash", "kind"])
    if frame.empty:
        return 0
    frame["suppressed_at"] = at
    con.register("_segkit_suppress_in", frame)
    try:
        before = con.execute("SELECT count(*) FROM suppression").fetchall()[0][0]
        con.execute(
            "INSERT INTO suppression SELECT subject_hash, kind, suppressed_at FROM "
            "_segkit_suppress_in i WHERE NOT EXISTS "
            "(SELECT 1 FROM suppression s WHERE s.subject_hash = i.subject_hash)"
        )
        return int(con.execute("SELECT count(*) FROM suppression").fetchall()[0][0] - before)
    finally:
        con.unregister("_segkit_suppress_in")


def write_audit(
    con: duckdb.DuckDBPyConnection,
    action: str,
    subject: str | None,
    at: pd.Timestamp,
    details: Mapping[str, Any],
) -> int:
    """Append one audit entry; return its ``audit_id``."""
    return write_audits(con, action, [(subject, details)], at)[0]


def write_audits(
    con: duckdb.DuckDBPyConnection,
    action: str,
    entries: list[tuple[str | None, Mapping[str, Any]]],
    at: pd.Timestamp,
) -> list[int]:
    """Append one audit entry per ``(subject_hash, details)`` in one statement; return their
    ``audit_id`` values (consecutive)."""
    first = con.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM privacy_audit").fetchall()[0][0]
    ids = list(range(int(first), int(first) + len(entries)))
    frame = pd.DataFrame({
        "audit_id": pd.Series(ids, dtype="int64"),
        "action": action,
        "subject_hash": pd.Series([subject for subject, _ in entries], dtype=object),
        "at": at,
        "details": [json.dumps(dict(details), default=str) for _, details in entries],
    })
    con.register("_segkit_audit_in", frame)
    try:
        con.execute("INSERT INTO privacy_audit SELECT audit_id, action, subject_hash, \"at\", "
                    "details::JSON FROM _segkit_audit_in")
    finally:
        con.unregister("_segkit_audit_in")
    return ids


@dataclass(frozen=True)
class SuppressedRows:
    """Input rows belonging to suppressed subscribers: their positions and matching hashes."""

    positions: pd.Index
    hashes: frozenset[str]


def find_suppressed_rows(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> SuppressedRows:
    """Rows of ``frame`` (canonical column names, before validation) whose ``subscriber_id`` or
    ``email`` hashes to a suppressed value. Each distinct value is hashed once."""
    none = SuppressedRows(pd.Index([], dtype="int64"), frozenset())
    salt = workspace_salt(con, create=False)
    if salt is None or frame.empty:
        return none
    hashes = suppressed_hashes(con)
    if not hashes:
        return none
    hit = np.zeros(len(frame), dtype=bool)
    matched: set[str] = set()
    for kind in SUBJECT_KINDS:
        if kind not in frame.columns:
            continue
        values = frame[kind].astype("string")
        lookup = {
            value: subject_hash(salt, kind, value) for value in values.dropna().unique()
        }
        found = {value: h for value, h in lookup.items() if h in hashes}
        if found:
            hit |= values.isin(list(found)).fillna(False).to_numpy(dtype=bool)
            matched.update(found.values())
    return SuppressedRows(frame.index[hit], frozenset(matched))


def lift_suppression(
    con: duckdb.DuckDBPyConnection, hashes: Iterable[str], at: pd.Timestamp, table: str
) -> int:
    """Remove ``hashes`` from ``suppression`` (re-admitted subjects) with one ``reingest`` audit
    entry each; return how many were lifted."""
    frame = pd.DataFrame({"subject_hash": sorted(hashes)}, dtype=object)
    con.register("_segkit_lift_in", frame)
    try:
        lifted = con.execute(
            "DELETE FROM suppression WHERE subject_hash IN (SELECT subject_hash FROM "
            "_segkit_lift_in) RETURNING subject_hash, kind"
        ).fetchall()
    finally:
        con.unregister("_segkit_lift_in")
    if lifted:
        write_audits(con, "reingest",
                     [(value, {"kind": kind, "table": table}) for value, kind in sorted(lifted)], at)
    return len(lifted)
