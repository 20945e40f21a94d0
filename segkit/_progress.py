"""Progress reporting that shows on a terminal and stays silent in CI, in pipes, or with --quiet.

Library code accepts an optional ``progress`` callable (``progress(advance: int)``) or uses
:func:`track`; only the CLI decides whether anything is drawn.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from segkit._config import running_in_ci


class ProgressCallback(Protocol):
    def __call__(self, advance: int = 1) -> None: ...


def _noop(advance: int = 1) -> None:
    return None


def progress_enabled(quiet: bool = False) -> bool:
    """Draw progress only on an interactive stderr, outside CI, without --quiet."""
    return not quiet and not running_in_ci() and sys.stderr.isatty()


@contextmanager
def progress_bar(description: str, total: int | None, *, enabled: bool) -> Iterator[ProgressCallback]:
    """A rich progress bar on stderr when ``enabled``; otherwise a no-op callback."""
    if not enabled:
        yield _noop
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance
