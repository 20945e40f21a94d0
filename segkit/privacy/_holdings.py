"""Where a subscriber's data lives in a workspace: found generically, not from a fixed list.

Every base table with a ``subscriber_id`` or ``email`` column holds subscriber rows (events,
subscribers, assignments, and any table a later feature adds, such as cached features or
segment snapshots). The ``quarantine`` table holds rejected input rows as JSON with the source's
own column names, so it is searched by value: a quarantined row belongs to a subscriber when its
offending ``value`` or any value of its ``raw`` JSON equals their id (after stripping) or email
(ignoring case).

The *subjects* of a request are the requested ids plus every subscriber id sharing an email
with one of them (the same person under another account).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from segkit.errors import InputError
from segkit.io._sql import ident
from segkit.io._suppression import PRIVACY_TABLES

QUARANTINE = "quarantine"
_SKIP = frozenset({QUARANTINE, *PRIVACY_TABLES})


@dataclass(frozen=True)
class SubjectTable:
    """A base table holding subscriber rows and which identifying columns it has."""

    name: str
    has_id: bool
    has_email: bool

    def matches_sql(self, subjects: str) -> str:
        """SQL listing ``rid`` (the row's ``rowid``) and the ``subscriber_id`` of the subject it
        belongs to, for the subjects in relation ``subjects`` (columns ``subscriber_id`` and
        lower-cased ``email``). A UNION of equi-joins, which DuckDB runs as hash joins (an
        ``OR`` join condition would fall back to a nested loop)."""
        table = ident(self.name)
        parts = []
        if self.has_id:
            parts.append(f"SELECT t.rowid AS rid, s.subscriber_id FROM {table} t JOIN {subjects} s "
                         "ON trim(t.subscriber_id) = s.subscriber_id")
        if self.has_email:
            parts.append(f"SELECT t.rowid AS rid, s.subscriber_id FROM {table} t JOIN {subjects} s "
                         "ON lower(trim(t.email)) = s.email")
        return " UNION ".join(parts)


def subject_tables(con: duckdb.DuckDBPyConnection) -> list[SubjectTable]:
    """Base tables of the workspace's main database with a ``subscriber_id`` or ``email`` column
    (quarantine and the privacy tables excluded), sorted by name."""
    rows = con.execute(
        """
        SELECT c.table_name, bool_or(c.column_name = 'subscriber_id'),
               bool_or(c.column_name = 'email')
        FROM duckdb_columns() c
        JOIN duckdb_tables() t ON t.table_oid = c.table_oid
        WHERE c.database_name = current_database() AND c.schema_name = 'main'
          AND NOT t.temporary AND c.column_name IN ('subscriber_id', 'email')
        GROUP BY c.table_name ORDER BY c.table_name
        """
    ).fetchall()
    return [SubjectTable(name, bool(has_id), bool(has_email))
            for name, has_id, has_email in rows if name not in _SKIP]


def _values(raw: object) -> list[str]:
    if raw is None:
        return []
    try:
        parsed = json.loads(str(raw))
    except ValueError:
        return [str(raw)]
    if isinstance(parsed, dict):
        return [str(v) for v in parsed.values() if v is not None]
    return [str(parsed)]


def _email_pattern(emails: Iterable[str]) -> re.Pattern[str] | None:
    """Any of ``emails`` as a whole address inside a longer text (case-insensitive)."""
    alternatives = "|".join(re.escape(e) for e in sorted(emails, key=len, reverse=True))
    if not alternatives:
        return None
    return re.compile(rf"(?<![\w.%+\-])({alternatives})(?![\w\-]|\.\w)", re.IGNORECASE)


def _owner(texts: list[str], wanted: set[str], emails: dict[str, str],
           pattern: re.Pattern[str] | None) -> str | None:
    for text in texts:
        text = text.strip()
        if text in wanted:
            return text
        found = pattern.search(text) if pattern is not None else None
        if found is not None:
            return emails[found.group(1).lower()]
    return None


def quarantine_matches(con: duckdb.DuckDBPyConnection, subjects: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows belonging to the ``subjects`` (``subscriber_id`` and ``email``, missing
    when unknown): ``rowid`` and the ``subscriber_id`` they belong to.

    A row belongs to a subject when a value of its raw row, or its offending value, equals the
    subject's id, or contains the subject's email as a whole address (so an email inside a
    ``properties`` JSON text counts too)."""
    emails = {e: s for s, e in subjects[["subscriber_id", "email"]].itertuples(index=False)
              if isinstance(e, str)}
    wanted, pattern = set(subjects["subscriber_id"]), _email_pattern(emails)
    found: list[tuple[int, str]] = []
    for rowid, value, raw in con.execute("SELECT rowid, value, raw FROM quarantine").fetchall():
        owner = _owner([*_values(raw), *([] if value is None else [str(value)])], wanted, emails,
                       pattern)
        if owner is not None:
            found.append((int(rowid), owner))
    return pd.DataFrame(found, columns=["rowid", "subscriber_id"]).astype({"rowid": "int64"})


def clean_ids(ids: Iterable[object]) -> list[str]:
    """Ids stripped, blanks dropped, duplicates removed (first kept); none left is an error."""
    if isinstance(ids, str):
        ids = [ids]
    cleaned = [str(value).strip() for value in ids]
    cleaned = list(dict.fromkeys(value for value in cleaned if value))
    if not cleaned:
        raise InputError("no subscriber ids given; pass one or more ids")
    return cleaned


def subjects_of(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pd.DataFrame:
    """The requested ids plus ids sharing an email with them: ``subscriber_id``, lower-cased
    ``email`` (or missing), ``requested``."""
    wanted = pd.DataFrame({"subscriber_id": ids})
    con.register("_segkit_forget_ids", wanted)
    try:
        rows = con.execute(
            """
            WITH mail AS (
                SELECT DISTINCT lower(trim(email)) AS email FROM subscribers
                WHERE trim(subscriber_id) IN (SELECT subscriber_id FROM _segkit_forget_ids)
                  AND email IS NOT NULL)
            SELECT DISTINCT trim(subscriber_id), lower(trim(email)) FROM subscribers
            WHERE trim(subscriber_id) IN (SELECT subscriber_id FROM _segkit_forget_ids)
               OR lower(trim(email)) IN (SELECT email FROM mail)
            """
        ).fetchall()
    finally:
        con.unregister("_segkit_forget_ids")
    held = pd.DataFrame(rows, columns=["subscriber_id", "email"], dtype=object)
    frame = pd.concat([held, wanted[~wanted["subscriber_id"].isin(held["subscriber_id"])]],
                      ignore_index=True)
    frame["requested"] = frame["subscriber_id"].isin(ids)
    return frame
