"""The typer application, its global options, and the error handling shared by every command."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from segkit._config import BACKEND_ENV, WORKSPACE_ENV, default_workspace_path
from segkit._progress import progress_enabled
from segkit.errors import CorruptWorkspaceError, environment_fault

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
    #: ``--backend``: a URL (or ``spark``) of another engine holding the tables; None: the file.
    backend: str | None = None
    assume_utc: bool = False

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

    def read_workspace(self) -> Any:
        """The workspace a read-side command reads: the DuckDB file (read-only), or with
        ``--backend`` the engine holding the tables (``Workspace.connect``)."""
        from segkit.io import Workspace

        if self.backend is None:
            return Workspace(self.workspace, read_only=True)
        return Workspace.connect(self.backend, assume_utc=self.assume_utc)

    def refuse_backend(self, command: str, why: str = "it writes to the DuckDB workspace file") -> None:
        """Stop a command that cannot run on ``--backend`` (writes are DuckDB-only)."""
        if self.backend is not None:
            from segkit.errors import InputError

            raise InputError(
                f"segkit {command} does not take --backend: {why}; --backend serves the "
                "read-side commands (report, batch, export segment, audience, sendtime export); drop --backend "
                "(and load data into the other engine with its own tools)"
            )


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
    backend: Annotated[
        str | None,
        typer.Option(
            "--backend",
            help="Read the tables from another engine through Ibis instead of the workspace "
            "file: a URL such as pyspark:// (or spark), duckdb:///path.duckdb, "
            "postgres://user@host:5432/db. Read-side commands only (report, batch, export "
            "segment, audience, sendtime export); writes stay with the DuckDB file.",
            envvar=BACKEND_ENV,
        ),
    ] = None,
    assume_utc: Annotated[
        bool,
        typer.Option(
            "--assume-utc",
            help="With --backend: read zone-less timestamps as UTC on an engine whose session "
            "time zone segkit cannot query (Spark, DuckDB and Postgres are queried and must be UTC).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print details.")] = False,
) -> None:
    if quiet and verbose:
        raise typer.BadParameter("--quiet and --verbose cannot be used together")
    logging.basicConfig(
        level=logging.DEBUG if verbose else (logging.ERROR if quiet else logging.WARNING),
        format="%(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = CliState(workspace=workspace or default_workspace_path(), quiet=quiet, verbose=verbose,
                       backend=backend or None, assume_utc=assume_utc)


def state(ctx: typer.Context) -> CliState:
    """The global options of the running command."""
    obj = ctx.find_root().obj
    if not isinstance(obj, CliState):  # invoked without the callback (tests calling a command)
        obj = CliState(workspace=default_workspace_path())
        ctx.find_root().obj = obj
    return obj


F = TypeVar("F", bound=Callable[..., Any])


#: Exceptions that are typer's own way of ending a command (exit codes, usage errors).
_CLI_SIGNALS = (typer.Exit, typer.Abort,
                next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"))


def _cli_state(args: tuple[Any, ...], kwargs: dict[str, Any]) -> CliState | None:
    """The global options of the command (from its ``ctx`` argument), if it takes one."""
    contexts = [a for a in (*args, *kwargs.values()) if hasattr(a, "find_root")]
    obj = contexts[0].find_root().obj if contexts else None
    return obj if isinstance(obj, CliState) else None


def _verbose(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether the command runs with ``--verbose``."""
    state = _cli_state(args, kwargs)
    return state is not None and state.verbose


def one_line_errors(func: F) -> F:
    """Wrap a command so any error becomes one ``error: ...`` line on stderr and an exit code.

    The mapping lives in :func:`segkit.errors.environment_fault`: a :class:`SegkitError` keeps
    its own code (2 for bad input); a fault of the machine (disk full, read-only path, corrupt or
    locked workspace) exits 1. Anything else is a bug: one line saying so, exit 1, and the
    traceback only with ``--verbose``. typer bundles its own click, so a
    ``click.ClickException`` subclass is not recognised here.
    """

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _CLI_SIGNALS:
            raise
        except Exception as error:
            known = environment_fault(error)
            if known is None and _verbose(args, kwargs):
                raise
            message = str(known) if known is not None else (
                f"unexpected {type(error).__name__}: {_first_line(error)} (a bug in segkit; rerun "
                "with --verbose for the traceback)")
            cli = _cli_state(args, kwargs)
            if isinstance(known, CorruptWorkspaceError) and cli is not None and cli.backend is None:
                message = str(known.naming(cli.workspace))  # DuckDB's error names no file
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(known.exit_code if known is not None else 1) from error

    return run  # type: ignore[return-value]


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0]


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


def output_file(text: str, example: str, option: str = "--out") -> Path:
    """The file an ``--out`` option names, refusing a directory: text ending in ``/`` or an
    existing directory would otherwise become (or fail as) a file named like the directory.

    ``text`` is the raw option value (typer's ``Path`` drops a trailing slash)."""
    from segkit.errors import ValidationError

    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise ValidationError(
            f"{option} {text} is a directory; give a file name, e.g. {option} {path / example}"
        )
    return path


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
