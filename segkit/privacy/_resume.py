"""Completing an erasure that a crash interrupted.

:func:`segkit.privacy.forget` and :func:`segkit.privacy.prune` record their work in a journal
beside the workspace before they start (:mod:`segkit.io._pending`), and the compaction at their
end removes it. Opening a workspace that still has a journal calls :func:`resume_erasure`:

* a ``forget`` journal holds salted hashes of the requested ids; any id still held in the
  workspace (in a table with a ``subscriber_id`` column, or in a quarantined row) whose hash is
  among them is erased now, exactly as :func:`segkit.privacy.forget` would (the crash came
  before the commit), and every hash is put on the suppression list;
* then the file is compacted (:meth:`segkit.io.Workspace.compact`), which removes the leftover
  ``.compact`` file of a crashed compaction and, at the end, the journal.

Each step can be repeated, so a crash during the completion is completed by the next opening.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

from segkit.io import Workspace
from segkit.io._pending import PendingErasure, read_journal
from segkit.io._sql import ident
from segkit.io._suppression import add_suppression, subject_hash, workspace_salt
from segkit.privacy._forget import _erase
from segkit.privacy._holdings import _values, subject_tables
from segkit.privacy._result import compact_after, write_transaction

__all__ = ["CompletedErasure", "resume_erasure"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompletedErasure:
    """What opening a workspace completed of an interrupted erasure.

    Attributes
    ----------
    action
        ``forget`` or ``prune`` (``unknown`` for an unreadable journal: only compacted).
    at
        The time the interrupted erasure recorded.
    subjects
        How many ids the interrupted ``forget`` asked for.
    rows_removed
        Rows of those subjects still held and erased now (0 when the crash came after the
        commit and only the compaction was missing).
    """

    action: str
    at: pd.Timestamp
    subjects: int
    rows_removed: int

    def summary(self) -> str:
        """One line: what was interrupted and what was done now."""
        who = f" of {self.subjects} subscriber id(s)" if self.subjects else ""
        rows = (f"erased {self.rows_removed:,} row(s) it had not yet removed and "
                if self.rows_removed else "")
        return (f"completed an interrupted {self.action}{who} (started {self.at.isoformat()}): "
                f"{rows}compacted the database file")

    def to_frame(self) -> pd.DataFrame:
        """One row with the fields."""
        return pd.DataFrame([{"action": self.action, "at": self.at, "subjects": self.subjects,
                              "rows_removed": self.rows_removed}])

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def held_ids(con: duckdb.DuckDBPyConnection, salt: str, hashes: tuple[str, ...]) -> list[str]:
    """Ids still held in the workspace whose salted hash is one of ``hashes``: every distinct
    ``subscriber_id`` of the subject tables and every value of a quarantined row is a
    candidate (each hashed once)."""
    candidates: set[str] = set()
    for table in subject_tables(con):
        if table.has_id:
            candidates.update(row[0] for row in con.execute(
                f"SELECT DISTINCT trim(subscriber_id::VARCHAR) FROM {ident(table.name)} "
                "WHERE subscriber_id IS NOT NULL").fetchall())
    for value, raw in con.execute("SELECT value, raw FROM quarantine").fetchall():
        candidates.update(text.strip() for text in [*_values(raw), *([] if value is None else [str(value)])])
    wanted = set(hashes)
    return sorted(c for c in candidates if c and subject_hash(salt, "subscriber_id", c) in wanted)


def _finish_forget(workspace: Workspace, pending: PendingErasure) -> int:
    """Erase what is still held of the journal's subjects and suppress them; rows removed."""
    removed = 0
    with write_transaction(workspace, "completing an interrupted erasure") as con:
        salt = workspace_salt(con, create=False)
        if salt is None:  # forget commits the salt before its journal; nothing can match
            return 0
        ids = held_ids(con, salt, pending.subject_hashes)
        if ids:
            removed = _erase(con, ids, pending.at).total_rows
        add_suppression(con, [(h, "subscriber_id") for h in pending.subject_hashes], pending.at)
    return removed


def resume_erasure(workspace: Workspace) -> CompletedErasure | None:
    """Complete the interrupted erasure recorded beside ``workspace`` (writable), if any.

    Returns ``None`` when there is none. Logs one warning line saying what was completed.
    Raises :class:`~segkit.errors.InputError` when the compaction fails (the journal stays,
    so the next opening tries again).
    """
    pending = read_journal(workspace.path)
    if pending is None:
        return None
    removed = 0
    if pending.action == "forget" and pending.subject_hashes:
        removed = _finish_forget(workspace, pending)
    compact_after(workspace, f"the interrupted {pending.action}")
    done = CompletedErasure(pending.action, pending.at, len(pending.subject_hashes), removed)
    log.warning(done.summary())
    return done
