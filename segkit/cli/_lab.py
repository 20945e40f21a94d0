"""``segkit lab``: JupyterLab on a folder with a copy of the segment explorer, the segkit kernel."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from segkit.cli._app import command, state
from segkit.errors import ValidationError
from segkit.lab import KERNEL_NAME


def _ensure_kernel(echo: Callable[[str], None]) -> None:
    """Install the ``segkit`` kernelspec for this interpreter (``--sys-prefix``) if absent."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL_NAME)
        return
    except NoSuchKernel:
        pass
    echo(f"installing the '{KERNEL_NAME}' Jupyter kernel for {sys.executable} (--sys-prefix)")
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name",
                    KERNEL_NAME, "--display-name", "Python (segkit)"], check=True,
                   stdout=subprocess.DEVNULL)


@command("lab")
def lab(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="Folder JupyterLab serves; explore.ipynb is copied "
                                                "into it unless one is there.")] = Path("."),
    port: Annotated[int | None, typer.Option(help="Port (default: JupyterLab's, 8888 or the next free).")] = None,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a web browser.")] = True,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only copy and print the command.")] = False,
) -> None:
    """Open the segment explorer in JupyterLab: copy explore.ipynb into FOLDER (never over an
    existing one) and start JupyterLab there with the segkit kernel.

    Build a workspace first (`segkit demo` writes data/workspace.duckdb in this folder). Tracked
    notebooks (segkit's own notebooks/ folder) are saved without outputs; copies keep theirs.
    As root, JupyterLab is started with --allow-root (it refuses root otherwise).
    """
    from segkit.lab import copy_explorer, lab_command
    from segkit.lab._lab import running_as_root

    cli = state(ctx)
    cli.refuse_backend("lab", "the explorer opens the DuckDB workspace file")
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise ValidationError(f"{folder} is not a folder; create it or pass an existing one")
    notebook, copied = copy_explorer(folder)
    cli.echo(f"{'copied the explorer to' if copied else 'opening your'} {notebook}")
    if not cli.workspace.is_file() and not (folder / cli.workspace).is_file():
        cli.echo(f"no workspace at {cli.workspace} yet: run `segkit demo` (or `segkit ingest ...`) "
                 "first, or set the notebook's workspace parameter")
    if running_as_root():
        cli.echo("running as root: starting JupyterLab with --allow-root (it refuses root otherwise)")
    command_line = lab_command(folder, notebook, port=port, open_browser=browser)
    if dry_run:
        cli.echo(" ".join(command_line))
        return
    _ensure_kernel(cli.echo)
    os.chdir(folder)
    if os.name == "posix":  # JupyterLab replaces this process: signals and exit code are its own
        os.execv(command_line[0], command_line)
    raise typer.Exit(subprocess.call(command_line))
