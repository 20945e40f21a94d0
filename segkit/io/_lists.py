"""Small user files the CLI and reports read or write: id lists and CSV exports."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from segkit.errors import InputError

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
    """
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        table.to_csv(partial, index=False)
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the export ({error.strerror})") from error
    return target
