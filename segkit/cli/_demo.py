"""``segkit demo``: build the demo workspace from the synthetic generator."""

from __future__ import annotations

from typing import Annotated

import typer

from segkit.cli._app import command, state


@command("demo")
def demo(
    ctx: typer.Context,
    n_subscribers: Annotated[int, typer.Option(help="Synthetic subscribers to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed for the generator.")] = 0,
) -> None:
    """Build the demo workspace from synthetic data with planted truth."""
    from segkit.datasets import build_demo_workspace

    cli = state(ctx)
    report = build_demo_workspace(
        cli.workspace, n_subscribers=n_subscribers, seed=seed, show_progress=cli.show_progress
    )
    cli.echo(report)
