"""Input fingerprint: a short hash that changes whenever any workspace table's content changes."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["input_fingerprint", "workspace_fingerprint"]


def _table_digest(frame: pd.DataFrame) -> str:
    """Order-independent digest: column names, row count, and the wrapping sum of row hashes.

    DuckDB returns rows in no guaranteed order, so the rows' hashes are summed (mod 2**64)
    rather than hashed in sequence; any changed, added or removed row changes the sum.
    """
    if len(frame) == 0:
        total = 0
    else:
        rows = pd.util.hash_pandas_object(frame, index=False)
        total = int(rows.to_numpy(dtype=np.uint64).sum(dtype=np.uint64))
    return f"{','.join(map(str, frame.columns))}|{len(frame)}|{total}"


def _has_unhashable(frame: pd.DataFrame) -> bool:
    return any(
        frame[c].dtype == object and frame[c].map(lambda v: isinstance(v, (dict, list))).any()
        for c in frame.columns
    )


def _plain(value: object) -> object:
    return repr(value) if isinstance(value, (dict, list)) else value


def input_fingerprint(tables: Mapping[str, pd.DataFrame]) -> str:
    """SHA-256 (first 16 hex digits) over every table's name and content digest.

    Parameters
    ----------
    tables
        Table name → DataFrame, e.g. the workspace's ``events``, ``subscribers``, ``campaigns``,
        ``assignments`` and ``ingest_log``. Row order does not matter.
    """
    digest = hashlib.sha256()
    for name in sorted(tables):
        frame = tables[name]
        if _has_unhashable(frame):
            frame = frame.apply(lambda col: col.map(_plain))
        digest.update(f"{name}:{_table_digest(frame)}\n".encode())
    return digest.hexdigest()[:16]


#: ingest_log columns that describe content (not when or from which path it was loaded).
_LOG_CONTENT = ("ingest_id", "table_name", "sha256", "rows_read", "rows_loaded", "rows_duplicate",
                "rows_quarantined")


def workspace_fingerprint(ws: Any, tables: tuple[str, ...] = ("assignments", "campaigns", "events",
                                                               "quarantine", "subscribers")) -> str:
    """Fingerprint of a workspace without reading its big tables: the ingest log's content
    columns (each ingest's source SHA-256 and counts, in order) plus every table's row count.

    Data only enter a workspace through ingest, which records the SHA-256 of each input, so the
    log identifies what was loaded; the row counts catch deletions (erasure, retention).
    Load times and file paths are left out: two workspaces built from the same inputs match.

    A workspace on another engine (``Workspace.connect``) usually has no ingest log: its
    fingerprint then covers, computed in the engine, each table's row count (or its absence) and
    the events' first and last instant, distinct subscribers and value total, so it changes when
    rows are added or removed there, but (unlike the log's hashes) not when a value is edited in place.
    """
    from segkit.features._source import source_table

    log_table = source_table(ws, "ingest_log")
    if log_table is None:
        digest = hashlib.sha256(_events_digest(source_table(ws, "events")).encode())
    else:
        log = ws.table("ingest_log")
        log = log[[c for c in _LOG_CONTENT if c in log.columns]].sort_values("ingest_id", ignore_index=True)
        digest = hashlib.sha256(log.to_csv(index=False).encode())
    for name in sorted(tables):
        table = source_table(ws, name)
        count = "absent" if table is None else int(table.count().execute())
        digest.update(f"{name}:{count}\n".encode())
    return digest.hexdigest()[:16]


def _events_digest(events: Any) -> str:
    """The events' extent, in the engine: first/last instant, subscribers, value total."""
    if events is None:
        return "events:absent"
    row = events.aggregate(first=events.ts.min(), last=events.ts.max(),
                           subscribers=events.subscriber_id.nunique(),
                           value=events.value.cast("float64").sum()).to_pandas().iloc[0]
    value = row["value"]
    return (f"events:{row['first']}|{row['last']}|{int(row['subscribers'])}|"
            f"{'' if pd.isna(value) else round(float(value), 6)}")
