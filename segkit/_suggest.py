"""The "did you mean ...?" hint of error messages about unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean"]


def did_you_mean(value: object, choices: Iterable[object], *, cutoff: float = 0.5) -> str:
    """``"; did you mean 'x'?"`` for the closest choice (difflib ratio >= ``cutoff``), or ``""``."""
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""
