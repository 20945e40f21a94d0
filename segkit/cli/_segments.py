"""``segkit export segment NAME``: a segment's consent-checked audience as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from segkit.cli._app import app, command, parse_as_of, state
from segkit.errors import InputError

export_app = typer.Typer(help="Export audiences (always filtered by the consent gate).",
                         no_args_is_help=True)
app.add_typer(export_app, name="export")


def _read_rules(path: Path | None) -> Any:
    from segkit.segments import parse_rules

    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError(f"{path}: cannot read the rules file ({error.strerror})") from error
    return parse_rules(text)


def _read_suppressed(path: Path | None) -> list[str]:
    if path is None:
        return []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise InputError(f"{path}: cannot read the suppression list ({error.strerror})") from error
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@command("segment", group=export_app)
def export_segment_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Rule name, or scheme:segment such as engagement:inactive.")],
    as_of: Annotated[str, typer.Option("--as-of", help="Decision date (UTC if no zone given).")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (subscriber_id,email).")],
    rules: Annotated[Path | None, typer.Option("--rules", help="segments.yaml with rule segments.")] = None,
    suppress: Annotated[
        Path | None, typer.Option("--suppress", help="File of ids or emails never to email, one a line.")
    ] = None,
) -> None:
    """Write the members of segment NAME who may be emailed; print who was excluded and why."""
    from segkit.features import compute
    from segkit.io import Workspace
    from segkit.segments import check_segment_name, export_segment

    cli = state(ctx)
    stamp = parse_as_of(as_of)
    rule_set = _read_rules(rules)
    suppressed = _read_suppressed(suppress)
    check_segment_name(name, rule_set)
    with Workspace(cli.workspace, read_only=True) as workspace:
        features = compute(workspace, stamp)
        subscribers = workspace.table("subscribers")
        events = (
            workspace.ibis().table("events").filter(lambda t: t.event_type == "unsubscribe")
            .select("subscriber_id", "event_type", "ts").to_pandas()
        )
    result = export_segment(name, features, subscribers, stamp, rules=rule_set, events=events,
                            suppressed=suppressed)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.audience.to_csv(out, index=False)
    cli.echo(f"wrote {len(result.audience):,} subscribers to {out}")
    cli.echo(result.summary())
