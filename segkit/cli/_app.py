"""The typer application, its global options, and the error handling shared by every command."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from segkit._config import WORKSPACE_ENV, default_workspace_path
from segkit._progress import progress_enabled
from segkit.errors import SegkitError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

app = typer.Typer(
    name="segkit",
    help="segkit: analytics workbench for email programs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class CliState:
    """Global options, available to every command as ``ctx.obj``."""

    workspace: Path
    quiet: bool = False
    verbose: bool = False

    @property
    def show_progress(self) -> bool:
        return progress_enabled(self.quiet)

    def echo(self, message: str) -> None:
        """Normal output (suppressed by --quiet)."""
        if not self.quiet:
            typer.echo(message)

    def detail(self, message: str) -> None:
        """Extra output shown only with --verbose."""
        if self.verbose and not self.quiet:
            typer.echo(message, err=True)


@app.callback()
def _global_options(
    ctx: typer.Context,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace DuckDB file (default: data/workspace.duckdb).",
            envvar=WORKSPACE_ENV,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print details.")] = False,
) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose cannot be used together")
    logging.basicConfig(
        level=logging.DEBUG if verbose else (logging.ERROR if quiet else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliState(workspace=workspace or default_workspace_path(), quiet=quiet, verbose=verbose)


def state(ctx: typer.Context) -> CliState:
    """The global options of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):  # invoked without the callback (tests calling a command)
        obj = CliState(workspace=default_workspace_path())
        ctx.find_root().obj = obj
    return obj


F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Wrap a command so a :class:`SegkitError` becomes one ``error: ...`` line and its exit code.

    typer bundles its own click, so a ``click.ClickException`` subclass is not recognised here.
    """

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SegkitError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(error.exit_code) from error

    return run  # type: ignore[return-value]


def command(*args: Any, group: typer.Typer | None = None, **kwargs: Any) -> Callable[[F], F]:
    """``group.command`` (default: the top-level ``app``) with :func:`one_line_errors`."""

    def register(func: F) -> F:
        (group or app).command(*args, **kwargs)(one_line_errors(func))
        return func

    return register


def parse_as_of(text: str, option: str = "--as-of") -> pd.Timestamp:
    """A date or timestamp from the command line, as a UTC timestamp (UTC when no zone is given;
    a date without a time is the end of that day, :func:`segkit._timestamps.decision_time`)."""
    from segkit._timestamps import decision_time

    return decision_time(text, option)


SuppressOption = Annotated[
    Path | None, typer.Option("--suppress", help="File of ids or emails never to email, one a line.")
]


SoftBounceOption = Annotated[
    int, typer.Option("--soft-bounce-limit", min=1,
                      help="Consecutive soft bounces (no delivery, open or click between) that exclude "
                           "an address.")
]


def read_suppression_list(path: Path | None) -> list[str]:
    """Ids or emails from a ``--suppress`` file (see :func:`segkit.io.read_id_list`)."""
    from segkit.io import read_id_list

    return [] if path is None else read_id_list(path, "suppression list")


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
