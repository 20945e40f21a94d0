"""Right to erasure: remove every trace of subscribers from a workspace, in one transaction."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import InputError
from segkit.io import Workspace
from segkit.io._sql import ident
from segkit.io._suppression import (
    add_suppression,
    subject_hash,
    suppressed_hashes,
    workspace_salt,
    write_audits,
)
from segkit.privacy._holdings import (
    QUARANTINE,
    clean_ids,
    quarantine_matches,
    subject_tables,
    subjects_of,
)
from segkit.privacy._result import (
    RowsRemoved,
    compact_after,
    erasure_transaction,
    removed_frame,
)

__all__ = ["ErasureReport", "forget"]

_SUBJECTS = "_segkit_forget_subjects"
_MATCHED = "_segkit_forget_matched"


@dataclass(frozen=True, eq=False)
class ErasureReport(RowsRemoved):
    """What :func:`forget` removed.

    Attributes
    ----------
    removed
        Rows deleted per table (``table``, ``rows``), every table searched listed (zeros
        included).
    requested
        How many distinct ids were asked for.
    erased
        How many of them were held somewhere in the workspace.
    linked
        Other subscriber ids sharing an email with a requested one, erased with it.
    unknown
        Requested ids held nowhere and never erased before (still added to the suppression
        list).
    audit_ids
        The ``privacy_audit`` entries written (one per erased or suppressed id).
    at
        Time recorded in the audit log.
    compacted
        Whether the database file was rewritten so no deleted bytes remain.
    already_erased
        Requested ids held nowhere because an earlier erasure removed them (their hash is on
        the suppression list), for example a forget that was interrupted and then completed.
    """

    removed: pd.DataFrame
    requested: int
    erased: int
    linked: int
    unknown: tuple[str, ...]
    audit_ids: tuple[int, ...]
    at: pd.Timestamp
    compacted: bool = False
    already_erased: tuple[str, ...] = ()

    def summary(self) -> str:
        """Counts per table, unknown ids, audit entries and whether the file was compacted."""
        if not self.erased and not self.unknown:  # every id was erased before
            return (f"nothing left to erase: {len(self.already_erased)} subscriber id(s) already "
                    f"erased earlier ({', '.join(self.already_erased)}); database file "
                    + ("compacted" if self.compacted else "NOT compacted"))
        lines = [f"forgot {self.erased} of {self.requested} subscriber(s)"
                 + (f" (+{self.linked} sharing their email)" if self.linked else "")
                 + f": {self.total_rows:,} row(s) removed at {self.at.isoformat()}"]
        lines += [f"  {row.table}: {row.rows:,}" for row in self.removed.itertuples()]
        if self.already_erased:
            lines.append(f"  already erased earlier: {', '.join(self.already_erased)}")
        if self.unknown:
            lines.append(f"  not held (suppressed anyway): {', '.join(self.unknown)}")
        lines.append(f"  audit entries: {len(self.audit_ids)}; database file "
                     + ("compacted" if self.compacted else "NOT compacted (deleted bytes may remain)"))
        return "\n".join(lines)


def _erase_tables(con: duckdb.DuckDBPyConnection, subjects: pd.DataFrame) -> tuple[dict, dict]:
    """Delete the subjects' rows everywhere; return rows per table and per (subject, table)."""
    con.register("_segkit_subjects_in", subjects[["subscriber_id", "email"]])
    con.execute(f"CREATE OR REPLACE TEMP TABLE {_SUBJECTS} AS SELECT * FROM _segkit_subjects_in")
    con.unregister("_segkit_subjects_in")
    totals: dict[str, int] = {}
    per_subject: dict[str, dict[str, int]] = {}
    for table in subject_tables(con):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_MATCHED} AS {table.matches_sql(_SUBJECTS)}")
        counts = con.execute(
            f"SELECT subscriber_id, count(*) FROM {_MATCHED} GROUP BY 1").fetchall()
        for subject, n in counts:
            per_subject.setdefault(subject, {})[table.name] = int(n)
        deleted = con.execute(
            f"DELETE FROM {ident(table.name)} WHERE rowid IN (SELECT rid FROM {_MATCHED})")
        totals[table.name] = int(deleted.fetchall()[0][0])
    con.execute(f"DROP TABLE IF EXISTS {_MATCHED}")
    matches = quarantine_matches(con, subjects)
    for subject, n in matches["subscriber_id"].value_counts().items():
        per_subject.setdefault(str(subject), {})[QUARANTINE] = int(n)
    if len(matches):
        rowids = ", ".join(str(int(r)) for r in matches["rowid"])
        con.execute(f"DELETE FROM {QUARANTINE} WHERE rowid IN ({rowids})")
    totals[QUARANTINE] = len(matches)
    con.execute(f"DROP TABLE {_SUBJECTS}")
    return totals, per_subject


def _record(con: duckdb.DuckDBPyConnection, subjects: pd.DataFrame, per_subject: dict,
            at: pd.Timestamp) -> tuple[int, ...]:
    """Suppress the subjects' id and email hashes and write one audit entry per subject."""
    salt = workspace_salt(con, create=True)
    assert salt is not None
    entries = [(subject_hash(salt, "subscriber_id", s), "subscriber_id")
               for s in subjects["subscriber_id"]]
    entries += [(subject_hash(salt, "email", e), "email")
                for e in subjects["email"].dropna().unique()]
    add_suppression(con, entries, at)
    entries = [
        (subject_hash(salt, "subscriber_id", row.subscriber_id),
         {"rows_removed": per_subject.get(row.subscriber_id, {}), "requested": bool(row.requested),
          "email_suppressed": isinstance(row.email, str)})
        for row in subjects.itertuples(index=False)
    ]
    return tuple(write_audits(con, "forget", entries, at))


def _already_erased(con: duckdb.DuckDBPyConnection, ids: list[str]) -> tuple[str, ...]:
    """The ``ids`` whose hash is on the suppression list (erased before)."""
    salt = workspace_salt(con, create=False)
    if salt is None:
        return ()
    suppressed = suppressed_hashes(con)
    return tuple(i for i in ids if subject_hash(salt, "subscriber_id", i) in suppressed)


def _erase(con: duckdb.DuckDBPyConnection, ids: list[str], at: pd.Timestamp) -> ErasureReport:
    subjects = subjects_of(con, ids)
    totals, per_subject = _erase_tables(con, subjects)
    already = _already_erased(con, [i for i in ids if i not in per_subject])
    if not per_subject and not already:
        shown = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
        raise InputError(f"none of the {len(ids)} subscriber id(s) is held in the workspace "
                         f"({shown}); nothing was erased. Check the ids (they are case-sensitive)")
    audit = _record(con, subjects[~subjects["subscriber_id"].isin(already)], per_subject, at)
    unknown = tuple(s for s in ids if s not in per_subject and s not in already)
    return ErasureReport(
        removed=removed_frame(totals),
        requested=len(ids),
        erased=len(ids) - len(unknown) - len(already),
        linked=int((~subjects["requested"] & subjects["subscriber_id"].isin(per_subject)).sum()),
        unknown=unknown,
        audit_ids=audit,
        at=at,
        already_erased=already,
    )


def _subject_hashes(workspace: Workspace, ids: list[str]) -> list[str]:
    """Salted hashes of ``ids`` for the journal; the salt is created (and committed) first, so
    the journal's hashes can be matched after a crash."""
    if workspace.read_only:
        raise InputError(f"{workspace.path}: opened read-only; forgetting needs write access")
    salt = workspace_salt(workspace.connection, create=True)
    assert salt is not None
    return [subject_hash(salt, "subscriber_id", i) for i in ids]


def forget(
    workspace: Workspace,
    ids: Iterable[str],
    *,
    at: object | None = None,
    compact: bool = True,
) -> ErasureReport:
    """Erase subscribers from every workspace table, suppress them, and audit it.

    In ONE transaction: every row of every base table with a ``subscriber_id`` or ``email``
    column that belongs to a subject is deleted (the tables are discovered, so cached features
    or snapshots added later are covered), so are quarantined input rows whose values contain
    a subject's id or email (see :mod:`segkit.privacy._holdings`); then salted hashes of each
    subject's id and email are added to ``suppression`` (so a later ingest skips them, see
    :meth:`segkit.io.Workspace.ingest`) and one ``privacy_audit`` entry per subject records the
    hash, the time and the rows removed per table -- never the id or email. Subjects are the
    requested ids plus any subscriber id sharing an email with one of them (the same person).
    After the commit the database file is rewritten (:meth:`segkit.io.Workspace.compact`) so
    the deleted values are not left in free blocks.

    Crash safety: before the transaction, salted hashes of the requested ids are written to a
    journal beside the database (:mod:`segkit.io._pending`); the compaction removes it. If the
    process dies anywhere in between, the next opening of the workspace (any command, or
    ``segkit forget --resume``) finishes the job: it erases whatever rows of those subjects
    are still held (matched by hash), then compacts (:mod:`segkit.privacy._resume`).

    Parameters
    ----------
    workspace
        An open, writable workspace.
    ids
        Subscriber ids (surrounding spaces ignored; case-sensitive).
    at
        Time recorded in the audit log and suppression list (default: now, UTC).
    compact
        Rewrite the database file afterwards (default). Only skip it when erasing in several
        calls and compacting once at the end (:meth:`segkit.io.Workspace.compact`); the
        journal stays until then, so if the process ends first, the next opening compacts.

    Returns
    -------
    ErasureReport

    Raises
    ------
    InputError
        No ids given, the workspace is read-only, or *none* of the ids is held anywhere (then
        nothing is written; a typo should not silently succeed). Ids not held while others are
        held are reported in ``unknown`` and still suppressed; ids erased before (on the
        suppression list) are reported in ``already_erased`` and are not an error.
    """
    wanted = clean_ids(ids)
    stamp = pd.Timestamp.now(tz="UTC") if at is None else utc_timestamp(at, "at")
    hashes = _subject_hashes(workspace, wanted)
    with erasure_transaction(workspace, "forget", stamp, hashes) as con:
        report = _erase(con, wanted, stamp)
    if compact:
        compact_after(workspace, "erasure")
    return dataclasses.replace(report, compacted=compact)
