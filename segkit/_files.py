"""Writing result files so that a crash, a full disk or a concurrent writer never leaves a
truncated file under the final name: write a uniquely named temporary file beside it, then
rename it into place (atomic on one file system)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_text"]


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


#: Read once at import: ``os.umask`` can only be read by setting it, which is not thread-safe.
_UMASK = _current_umask()


def atomic_write(path: str | Path, write: Callable[[IO[Any]], Any], *, binary: bool = False,
                 mode: int | None = None) -> Path:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it to ``path``.

    The temporary name is unique (``.NAME.XXXX.tmp``), so concurrent writers of the same file do
    not collide: the last rename wins and every reader sees one complete version. On any error
    the temporary file is removed and the error re-raised; ``path`` is then untouched. ``mode``
    defaults to what a plain ``open`` would give (0666 less the umask).
    """
    target = Path(path)
    try:
        handle_fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                                suffix=".tmp")
    except OSError as error:  # name the file the caller asked for, not the temporary one
        raise OSError(error.errno, error.strerror, str(target)) from error
    try:
        text = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(handle_fd, "wb" if binary else "w", **text) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode if mode is not None else 0o666 & ~_UMASK)
        os.replace(temporary, target)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise OSError(error.errno, error.strerror, str(target)) from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | Path, text: str, *, mode: int | None = None) -> Path:
    """:func:`atomic_write` of one string (UTF-8)."""
    return atomic_write(path, lambda handle: handle.write(text), mode=mode)
