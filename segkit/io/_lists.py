"""Small user files the CLI and reports read or write: id lists and CSV exports."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pandas as pd

from segkit.errors import InputError

__all__ = ["personal_data_note", "read_id_list", "write_export_csv", "write_private_file"]


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


def personal_data_note(holds: str) -> str:
    """What an export file written by :func:`write_export_csv` holds and how it is protected,
    for the message that names the file."""
    return f"it holds personal data ({holds}) and is readable by its owner only (mode 600)"


def write_private_file(path: str | Path, write: Callable[[TextIO], object], what: str = "export") -> Path:
    """Create ``path`` (folders too) readable and writable by its owner only (mode 0600) from the
    first byte, filled by ``write(handle)`` (UTF-8 text), atomically.

    The temporary file is made with that mode (:func:`tempfile.mkstemp`: a unique name beside
    the target, so two writers never share it), synced, and renamed over the target, which
    therefore never has wider permissions, even if an older file with them was there. A crash
    mid-write never leaves a truncated file behind for a sending platform to pick up.

    Raises
    ------
    InputError
        The folder or file cannot be written (the message names the path and the reason).
    """
    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                            dir=target.parent)
    except OSError as error:
        raise InputError(f"{target}: cannot write the {what} ({error.strerror})") from error
    partial = Path(name)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the {what} ({error.strerror})") from error
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def write_export_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write an export as CSV with :func:`write_private_file`: owner-only (mode 0600) from the
    first byte, atomic; exports hold personal data (ids, email addresses)."""
    return write_private_file(path, lambda handle: table.to_csv(handle, index=False))
