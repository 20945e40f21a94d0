"""Retention: delete events (and quarantined input) older than a limit, atomically."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import InputError
from segkit.io import Workspace
from segkit.io._sql import ident
from segkit.io._suppression import write_audit
from segkit.privacy._result import (
    RowsRemoved,
    compact_after,
    erasure_transaction,
    removed_frame,
)

__all__ = ["AGE_UNITS", "PruneReport", "parse_age", "prune"]

#: Units accepted by :func:`parse_age`.
AGE_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_AGE = re.compile(r"^\s*(\d+)\s*([a-zA-Z]+)\s*$")


def parse_age(value: str | dt.timedelta | pd.Timedelta) -> pd.Timedelta:
    """``"730d"``, ``"104w"`` or ``"48h"`` (or a timedelta) as a positive :class:`pandas.Timedelta`.

    Months and years are refused: their length varies, so a retention limit says days.
    """
    if isinstance(value, (dt.timedelta, pd.Timedelta)):
        age = pd.Timedelta(value)
    else:
        match = _AGE.match(str(value))
        unit = match.group(2).lower() if match else ""
        if not match or unit not in AGE_UNITS:
            raise InputError(
                f"cannot read age {value!r}; write a whole number and a unit: "
                f"{', '.join(f'{u} ({n})' for u, n in AGE_UNITS.items())}, e.g. 730d"
            )
        age = pd.Timedelta(**{AGE_UNITS[unit]: int(match.group(1))})
    if age <= pd.Timedelta(0):
        raise InputError(f"age must be positive, got {value!r}")
    return age


@dataclass(frozen=True, eq=False)
class PruneReport(RowsRemoved):
    """What :func:`prune` deleted: rows per table older than ``cutoff = as_of - older_than``."""

    removed: pd.DataFrame
    older_than: pd.Timedelta
    as_of: pd.Timestamp
    cutoff: pd.Timestamp
    audit_id: int
    compacted: bool = False

    def summary(self) -> str:
        """The cutoff and the counts per table."""
        days = self.older_than / pd.Timedelta(days=1)
        lines = [f"pruned {self.total_rows:,} row(s) older than {days:g} days: before "
                 f"{self.cutoff.isoformat()} (as of {self.as_of.isoformat()})"]
        lines += [f"  {row.table}: {row.rows:,}" for row in self.removed.itertuples()]
        lines.append("  database file " + ("compacted" if self.compacted else "NOT compacted"))
        return "\n".join(lines)



#: What is pruned: table and the condition on the cutoff (bound as ``$cutoff``).
PRUNED = (
    ("events", "ts < $cutoff"),
    ("quarantine", "ingest_id IN (SELECT ingest_id FROM ingest_log WHERE finished_at < $cutoff)"),
)


def _delete(con: duckdb.DuckDBPyConnection, table: str, where: str, cutoff: pd.Timestamp) -> int:
    result = con.execute(f"DELETE FROM {ident(table)} WHERE {where}", {"cutoff": cutoff.to_pydatetime()})
    return int(result.fetchall()[0][0])


def prune(
    workspace: Workspace,
    older_than: str | dt.timedelta | pd.Timedelta,
    as_of: object | None = None,
    *,
    compact: bool = True,
) -> PruneReport:
    """Delete events with ``ts < as_of - older_than`` and the quarantined input rows of ingests
    that finished before that cutoff, in one transaction, with a ``prune`` audit entry.

    Parameters
    ----------
    workspace
        An open, writable workspace.
    older_than
        The retention limit: ``"730d"``, ``"104w"``, ``"48h"`` or a timedelta (see
        :func:`parse_age`).
    as_of
        The reference time (time-zone aware). Default: now (UTC) -- retention is about the
        present; pass it explicitly to reproduce a run.
    compact
        Rewrite the database file afterwards so deleted rows leave no bytes
        (:meth:`segkit.io.Workspace.compact`).

    Notes
    -----
    Machine-open flags of the remaining opens are left as computed at ingest. Subscribers,
    campaigns and assignments are not pruned (erase people with :func:`segkit.privacy.forget`).
    Any failure rolls everything back: counts are all-or-nothing.
    """
    age = parse_age(older_than)
    stamp = pd.Timestamp.now(tz="UTC") if as_of is None else utc_timestamp(as_of)
    cutoff = stamp - age
    with erasure_transaction(workspace, "prune", stamp) as con:
        counts = {table: _delete(con, table, where, cutoff) for table, where in PRUNED}
        audit_id = write_audit(con, "prune", None, stamp, {
            "older_than_days": age / pd.Timedelta(days=1), "cutoff": cutoff.isoformat(),
            "rows_removed": counts})
    if compact:
        compact_after(workspace, "pruning")
    report = PruneReport(removed=removed_frame(counts), older_than=age, as_of=stamp,
                         cutoff=cutoff, audit_id=audit_id)
    return dataclasses.replace(report, compacted=compact)
