"""The pending-erasure journal: a small JSON file beside the workspace (``ws.duckdb.erasure``)
that makes an erasure survive a crash.

:func:`segkit.privacy.forget` (and :func:`segkit.privacy.prune`) write it, durably, *before*
their transaction, and :meth:`Workspace.compact` removes it once the compacted file has
replaced the old one. A journal found when a workspace is opened therefore means an erasure
was interrupted (before its commit, after it, or during the compaction), and the opening
completes it (see :mod:`segkit.privacy._resume`). The journal holds salted hashes of the
requested ids (the hash of :mod:`segkit.io._suppression`, whose salt lives in the database),
the time and the action: never an id or an email.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from segkit.errors import InputError

JOURNAL_SUFFIX = ".erasure"
#: Files a crashed compaction leaves beside the workspace (suffixes of its name).
COMPACT_SUFFIXES = (".compact", ".compact.wal")


@dataclass(frozen=True)
class PendingErasure:
    """An erasure recorded in the journal and not yet known to be complete."""

    action: str
    at: pd.Timestamp
    subject_hashes: tuple[str, ...]


def journal_path(database: Path) -> Path:
    """Where the journal of ``database`` lives."""
    return database.with_name(database.name + JOURNAL_SUFFIX)


def sibling(database: Path, suffix: str) -> Path:
    """``database`` with ``suffix`` appended to its file name."""
    return database.with_name(database.name + suffix)


def fsync_path(path: Path) -> None:
    """Flush a file's (or a directory's) data and metadata to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_journal(database: Path, action: str, at: pd.Timestamp, hashes: Sequence[str]) -> None:
    """Record an erasure about to start: written to a unique temporary file (owner-only),
    flushed, renamed over the journal and the directory flushed, so the journal is either
    absent or complete."""
    target = journal_path(database)
    record = {"version": 1, "action": action, "at": at.isoformat(),
              "subject_hashes": sorted(set(hashes))}
    temp = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        fsync_path(target.parent)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot record the erasure before starting it "
                         f"({error.strerror}); nothing was erased") from error


def read_journal(database: Path) -> PendingErasure | None:
    """The pending erasure of ``database``, or ``None``. An unreadable journal (it is written
    atomically, so only a hand edit makes one) still means a compaction is owed."""
    path = journal_path(database)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return PendingErasure(str(record["action"]), pd.Timestamp(record["at"]),
                              tuple(str(h) for h in record["subject_hashes"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return PendingErasure("unknown", pd.Timestamp.now(tz="UTC"), ())


def clear_journal(database: Path) -> None:
    """Remove the journal (the erasure is complete) and flush the directory."""
    path = journal_path(database)
    if path.exists():
        path.unlink()
        with contextlib.suppress(OSError):
            fsync_path(path.parent)


def remove_compact_leftovers(database: Path) -> None:
    """Delete the files an interrupted compaction left beside ``database``."""
    for suffix in COMPACT_SUFFIXES:
        sibling(database, suffix).unlink(missing_ok=True)
