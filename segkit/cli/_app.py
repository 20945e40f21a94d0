"""The typer application, its global options, and the error handling shared by every command."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from segkit._config import WORKSPACE_ENV, default_workspace_path
from segkit._progress import progress_enabled
from segkit.errors import SegkitError

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


class CommandError(click.ClickException):
    """A SegkitError seen by click: printed as one ``Error: ...`` line, with the error's exit code."""

    def __init__(self, error: SegkitError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code


F = TypeVar("F", bound=Callable[..., Any])


def command(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """``app.command`` that turns :class:`SegkitError` into one clear line and its exit code."""

    def register(func: F) -> F:
        @functools.wraps(func)
        def run(*a: Any, **kw: Any) -> Any:
            try:
                return func(*a, **kw)
            except SegkitError as error:
                raise CommandError(error) from error

        app.command(*args, **kwargs)(run)
        return func

    return register


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)
