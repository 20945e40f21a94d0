"""What erasure and retention share: one write transaction, and results listing rows removed
per table."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pandas as pd

from segkit._pause import pause_point
from segkit.errors import InputError
from segkit.io import Workspace
from segkit.io._pending import clear_journal, write_journal


class RowsRemoved:
    """Mixin for frozen result dataclasses with a ``removed`` frame (``table``, ``rows``) and a
    ``summary()`` whose first line is a headline and the rest one item each."""

    removed: pd.DataFrame

    def summary(self) -> str:  # pragma: no cover - provided by the dataclass
        raise NotImplementedError

    @property
    def total_rows(self) -> int:
        """Rows deleted across all tables."""
        return int(self.removed["rows"].sum())

    def to_frame(self) -> pd.DataFrame:
        """Rows deleted per table."""
        return self.removed.copy()

    def _repr_html_(self) -> str:
        head, *rest = self.summary().splitlines()
        items = "".join(f"<li>{html.escape(line.strip())}</li>" for line in rest)
        return f"<div><p>{html.escape(head)}</p><ul>{items}</ul></div>"


def removed_frame(counts: dict[str, int]) -> pd.DataFrame:
    """``{table: rows}`` as the ``removed`` frame."""
    return pd.DataFrame({"table": pd.Series(list(counts), dtype=object),
                         "rows": pd.Series(list(counts.values()), dtype="int64")})


@contextmanager
def write_transaction(workspace: Workspace, action: str, *,
                      after_rollback: Callable[[], None] | None = None,
                      ) -> Iterator[duckdb.DuckDBPyConnection]:
    """One DuckDB transaction on a writable workspace: committed when the block ends, rolled
    back (then ``after_rollback`` called, and the error re-raised) on any exception."""
    if workspace.read_only:
        raise InputError(f"{workspace.path}: opened read-only; {action} needs write access")
    con = workspace.connection
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        if after_rollback is not None:
            after_rollback()
        raise


@contextmanager
def erasure_transaction(workspace: Workspace, action: str, at: pd.Timestamp,
                        subject_hashes: Sequence[str] = ()) -> Iterator[duckdb.DuckDBPyConnection]:
    """:func:`write_transaction` for a deletion that must end in a compaction, recorded first
    in the pending-erasure journal (:mod:`segkit.io._pending`; ``action`` is ``forget`` or
    ``prune``). A rolled-back transaction erased nothing and removes the journal; a crash (or
    a failed rollback) leaves it, and the next opening of the workspace completes the erasure.
    :meth:`Workspace.compact` removes it when done."""
    if workspace.read_only:
        raise InputError(f"{workspace.path}: opened read-only; {action} needs write access")
    write_journal(workspace.path, action, at, subject_hashes)
    with write_transaction(workspace, action,
                           after_rollback=lambda: clear_journal(workspace.path)) as con:
        yield con
        pause_point(f"{action}-erased")
    pause_point(f"{action}-committed")


def compact_after(workspace: Workspace, what: str) -> None:
    """:meth:`Workspace.compact` after a committed deletion, saying so if compaction fails."""
    try:
        workspace.compact()
    except InputError as error:
        raise InputError(f"{what} committed, but the database file was not compacted (deleted "
                         f"values may remain in its free blocks; the next opening of the "
                         f"workspace tries again): {error}") from error
