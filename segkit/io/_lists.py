"""Small user files the CLI and reports read or write: id lists and CSV exports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from segkit._files import atomic_write
from segkit.errors import InputError, StorageError, environment_fault

__all__ = ["read_id_list", "write_export_csv"]


def read_id_list(path: str | Path, what: str = "id list") -> list[str]:
    """Ids or emails from a text file, one a line; blank lines and ``#`` comments are skipped.

    Raises
    ------
    InputError
        The file cannot be read or is not UTF-8 (the message names the file and ``what``).
    """
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"{source}: cannot read the {what} ({reason})") from error
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def write_export_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write an export as CSV atomically (a temporary file renamed into place), creating folders.

    A crash mid-write never leaves a truncated audience file for a sending platform to pick up.
    A disk that refuses the write raises :class:`~segkit.errors.StorageError`.
    """
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputError(f"{target}: is a directory; give a file name for the export")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda handle: table.to_csv(handle, index=False))
    except OSError as error:  # full disk, read-only or unwritable folder: not the input's fault
        raise StorageError(f"cannot write the export: {environment_fault(error)}") from error
    return target
