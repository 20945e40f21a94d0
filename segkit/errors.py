"""Exceptions raised by segkit.

Every error a user can cause is a subclass of :class:`SegkitError`, carries a message that says what
to change, and has an ``exit_code`` the CLI uses when it turns the error into one line on stderr.
"""

from __future__ import annotations

import errno
import os
import re
import sys

__all__ = [
    "ConvergenceError",
    "CorruptWorkspaceError",
    "DataSufficiencyWarning",
    "InputError",
    "NotFittedError",
    "NotebookError",
    "ReportNotApplicable",
    "SegkitError",
    "StorageError",
    "TableNotFoundError",
    "ValidationError",
    "WorkspaceLockedError",
    "environment_fault",
]


class SegkitError(Exception):
    """Base class for errors a user can act on."""

    exit_code: int = 1


class ReportNotApplicable(SegkitError):
    """Raised by a report notebook once it has shown, in one line, why its analysis does not
    apply to the data (an A/B test report on a workspace without experiments, say). The report
    runner stops the notebook there and records the run as ``not_applicable``: a complete
    answer (exit code 0), not a failure."""

    exit_code = 0


class InputError(SegkitError):
    """A structural problem with an input file or table: missing, unreadable, empty, wrong format,
    a required column absent after mapping, an unknown mapping target. Nothing was written."""

    exit_code = 2


class TableNotFoundError(InputError):
    """A workspace (or an engine it was opened on) has no table of that name."""


class ValidationError(SegkitError, ValueError):
    """An argument or a data value breaks a documented rule (bad parameter, invalid domain value)."""

    exit_code = 2


class NotFittedError(SegkitError, AttributeError):
    """An estimator method that needs fitted state was called before ``fit``."""


class ConvergenceError(SegkitError, RuntimeError):
    """An optimiser did not converge; the message says what was tried."""


class StorageError(SegkitError, OSError):
    """The disk refused a read or write: full, read-only, no permission, an I/O error.

    Not the user's input (exit code 1, not 2); the message carries the system's own words
    (``No space left on device``) and what was left unchanged."""


class CorruptWorkspaceError(SegkitError):
    """The workspace file is damaged (a block fails its checksum); restore it from a backup.

    Built from its parts, so that whoever knows the file can name it (:meth:`naming`): DuckDB's
    own error does not say which file failed. ``context`` is what was being done ("ingest of
    ... failed, nothing was loaded: ")."""

    def __init__(self, detail: str, *, path: str | os.PathLike[str] | None = None,
                 context: str = "") -> None:
        self.detail, self.path, self.context = detail, path, context
        where = "the workspace file" if path is None else f"the workspace file {os.fspath(path)}"
        super().__init__(f"{context}{where} is damaged ({detail}); restore it from a backup or "
                         "rebuild it by ingesting the source files again")

    def naming(self, path: str | os.PathLike[str]) -> CorruptWorkspaceError:
        """The same fault naming ``path`` (unchanged when it names a file already)."""
        if self.path is not None:
            return self
        return CorruptWorkspaceError(self.detail, path=path, context=self.context)

    def during(self, context: str) -> CorruptWorkspaceError:
        """The same fault, its message starting with ``context``."""
        return CorruptWorkspaceError(self.detail, path=self.path, context=context + self.context)


class WorkspaceLockedError(SegkitError):
    """Another process holds the workspace (DuckDB allows one writer, or many readers)."""


class NotebookError(SegkitError):
    """A report notebook cannot be read (not valid JSON, unreadable)."""


class DataSufficiencyWarning(UserWarning):
    """The data are too thin for a confident answer (too few repeat buyers, too short a period...)."""


#: errno values meaning "the disk is full" (quota and file-size limits included).
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
#: errno values meaning the path itself is wrong: bad input (exit 2), not a fault of the machine.
_WRONG_PATH = {errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG}
_FULL_TEXT = ("No space left on device", "Disk quota exceeded", "File too large")
#: Words of DuckDB errors that come from the operating system, not from the query or the file.
_OS_TEXT = (*_FULL_TEXT, "Read-only file system", "Permission denied", "Input/output error",
            "Could not write file", "Could not read from file", "Could not fsync")
_DUCKDB_PREFIX = re.compile(r"^(?:\w+ Error: )+(?:Failed to commit: )?")
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]


def _storage_error(detail: str, full: bool) -> StorageError:
    advice = "free some space and try again" if full else "check the path and its permissions"
    return StorageError(f"{detail}; {advice}")


def _os_fault(error: OSError) -> SegkitError:
    where = f"{error.filename}: " if error.filename else ""
    if error.errno in _WRONG_PATH:  # a path given by the user names nothing usable
        return InputError(f"{where}{error.strerror or error}")
    return _storage_error(f"{where}{error.strerror or error}", error.errno in _FULL)


def _duckdb_fault(error: Exception) -> SegkitError | None:
    text = _first_line(str(error))
    detail = _DUCKDB_PREFIX.sub("", text)
    if "Corrupt database file" in text or ("checksum" in text and "block" in text):
        return CorruptWorkspaceError(detail)
    if holder := _LOCK_HOLDER.search(text):
        path = re.search(r'lock on file "([^"]+)"', text)
        return WorkspaceLockedError(
            f"workspace {path.group(1) if path else ''} is in use by process {holder.group(2)} "
            f"({holder.group(1)}); wait for it to finish or stop it"
        )
    if any(words in text for words in _OS_TEXT):
        return _storage_error(detail, any(words in text for words in _FULL_TEXT))
    return None


def environment_fault(error: BaseException) -> SegkitError | None:
    """The :class:`SegkitError` an exception stands for, or None for an unexpected one (a bug).

    The one place that turns faults of the machine (disk full, read-only or unwritable paths,
    a corrupt or locked DuckDB file) into errors with one clear line and exit code 1; the CLI
    and the report runner both use it.
    """
    if isinstance(error, SegkitError):
        return error
    if isinstance(error, OSError):
        return _os_fault(error)
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(error, duckdb.Error):
        return _duckdb_fault(error)
    return None
