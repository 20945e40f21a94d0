"""``segkit export segment NAME`` and ``segkit audience TRIGGER``: consent-checked audiences as CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from segkit.cli._app import (
    SoftBounceOption,
    SuppressOption,
    app,
    command,
    output_file,
    parse_as_of,
    read_suppression_list,
    state,
)
from segkit.consent import DEFAULT_SOFT_BOUNCE_LIMIT
from segkit.errors import InputError

export_app = typer.Typer(help="Export audiences (always filtered by today's consent, whatever the as-of date).",
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


def _with_rule_columns(features: Any, rule_set: Any, workspace: Any) -> Any:
    """Add the columns rules may read beyond the feature table: ``next_category`` (learnt from
    the workspace's product interactions up to the as-of date) when a rule names it."""
    from segkit.recommend import NEXT_CATEGORY

    if rule_set is None or NEXT_CATEGORY not in rule_set.features():
        return features
    from segkit.io import read_interactions
    from segkit.recommend import add_next_category, weight_events

    return add_next_category(features, weight_events(read_interactions(workspace)))


@command("segment", group=export_app)
def export_segment_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Rule name, or scheme:segment such as engagement:inactive.")],
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Date the segment is computed for (UTC if no zone given); consent is always today's.")],
    out: Annotated[str, typer.Option("--out", help="CSV file to write (subscriber_id,email).")],
    rules: Annotated[Path | None, typer.Option("--rules", help="segments.yaml with rule segments.")] = None,
    suppress: SuppressOption = None,
    soft_bounce_limit: SoftBounceOption = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> None:
    """Write the members of segment NAME (as of a date) who may be emailed today; print who was
    excluded and why."""
    from segkit.consent import consent_tables
    from segkit.features import compute
    from segkit.io import personal_data_note, write_export_csv
    from segkit.segments import check_segment_name, export_segment

    cli = state(ctx)
    output_file(out, f"{name.replace(':', '_')}.csv")  # refuse a directory before any work
    stamp = parse_as_of(as_of)
    rule_set = _read_rules(rules)
    suppressed = read_suppression_list(suppress)
    check_segment_name(name, rule_set)
    with cli.read_workspace() as workspace:
        gate = consent_tables(workspace)  # before anything else: no subscribers, no export
        features = compute(workspace, stamp)
        features = _with_rule_columns(features, rule_set, workspace)
    result = export_segment(name, features, gate.subscribers, rules=rule_set, events=gate.events,
                            suppressed=suppressed, soft_bounce_limit=soft_bounce_limit)
    target = write_export_csv(result.audience, output_file(out, f"{name.replace(':', '_')}.csv"))
    cli.echo(f"wrote {len(result.audience):,} subscribers to {target.resolve()}; "
             + personal_data_note("email addresses"))
    cli.echo(result.summary())


@command("audience")
def audience_command(
    ctx: typer.Context,
    trigger: Annotated[str, typer.Argument(
        help="Trigger: cart_abandonment, inactivity, high_value_falling_engagement, new_subscriber.")],
    as_of: Annotated[str, typer.Option(
        "--as-of", help="Date the triggers are evaluated for (UTC if no zone given); consent is always today's.")],
    out: Annotated[str, typer.Option(
        "--out", help="CSV file to write (subscriber_id,email,trigger,trigger_time,action).")],
    suppress: SuppressOption = None,
    cart_hours: Annotated[float, typer.Option(
        "--cart-hours", help="Hours after a cart add without purchase before it is abandoned.")] = 24,
    inactive_days: Annotated[float, typer.Option(
        "--inactive-days", help="Days without a human open that make a subscriber inactive.")] = 90,
    soft_bounce_limit: SoftBounceOption = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> None:
    """Write who should get the TRIGGER message (triggers as of a date, consent today); print who
    was excluded and why."""
    from segkit.consent import consent_tables
    from segkit.features import compute
    from segkit.io import personal_data_note, write_export_csv
    from segkit.segments import TRIGGERS, check_triggers, trigger_audience, trigger_events

    cli = state(ctx)
    output_file(out, f"{trigger}.csv")  # refuse a directory before any work
    check_triggers([trigger])
    stamp = parse_as_of(as_of)
    suppressed = read_suppression_list(suppress)
    lookback_days = 7.0
    with cli.read_workspace() as workspace:
        subscribers = consent_tables(workspace).subscribers  # first: no subscribers, no audience
        features = compute(workspace, stamp)
        events = trigger_events(workspace, stamp, cart_hours=cart_hours, cart_lookback_days=lookback_days)
    if "email" not in subscribers.columns:
        raise InputError("subscribers table lacks column 'email' needed for an audience")
    result = trigger_audience(
        features, events, subscribers, stamp, cart_hours=cart_hours, cart_lookback_days=lookback_days,
        inactive_days=inactive_days, suppressed=suppressed, triggers=[trigger],
        soft_bounce_limit=soft_bounce_limit,
    )
    emails = subscribers.set_index(subscribers["subscriber_id"].astype(str))["email"]
    table = result.to_frame()
    table.insert(1, "email", emails.reindex(table["subscriber_id"]).to_numpy())
    target = write_export_csv(table, output_file(out, f"{trigger}.csv"))
    cli.echo(f"wrote {len(table):,} subscribers ({trigger} -> {TRIGGERS[trigger]}) to {target.resolve()}; "
             + personal_data_note("email addresses"))
    cli.echo(f"consent: {result.consent.summary()}")

