"""``segkit export recommendations``: top-N products per subscriber as a CSV for dynamic blocks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from segkit.cli._app import SuppressOption, command, parse_as_of, read_suppression_list, state
from segkit.cli._segments import export_app
from segkit.errors import InputError

#: --model choices -> recommender class name in segkit.recommend
MODELS = {"ease": "EASE", "cooccurrence": "Cooccurrence", "buy_again": "BuyAgain", "popularity": "Popularity"}


@command("recommendations", group=export_app)
def export_recommendations_command(
    ctx: typer.Context,
    as_of: Annotated[str, typer.Option("--as-of", help="Learn from interactions up to this time (UTC if no "
                                       "zone); consent is always today's.")],
    out: Annotated[Path, typer.Option("--out", help="CSV file to write "
                                      "(subscriber_id,rank,product_id,name,score,model).")],
    top: Annotated[int, typer.Option("--top", min=1, help="Items per subscriber.")] = 5,
    model: Annotated[str, typer.Option("--model", help=f"One of {', '.join(MODELS)}.")] = "ease",
    exclude_bought: Annotated[bool, typer.Option("--exclude-bought/--include-bought",
                                                 help="Leave out items the subscriber already has.")] = False,
    recent_days: Annotated[float | None, typer.Option(
        "--recent-days", help="Only items sold in the last N days (drops discontinued ones).")] = None,
    suppress: SuppressOption = None,
) -> None:
    """Write the top items per subscriber who may be emailed; print who was excluded and why."""
    import segkit.recommend as recommend
    from segkit.consent import consent_tables
    from segkit.io import Workspace, read_interactions, write_export_csv

    if model not in MODELS:
        raise InputError(f"unknown model {model!r}; valid: {', '.join(MODELS)}")
    cli = state(ctx)
    cli.refuse_backend("export recommendations", "it reads order lines with DuckDB SQL")
    stamp = parse_as_of(as_of)
    suppressed = read_suppression_list(suppress)
    with Workspace(cli.workspace, read_only=True) as workspace:
        interactions = read_interactions(workspace)
        gate_tables = consent_tables(workspace)  # the latest consent state, as the other exports read it
        subscribers = gate_tables.subscribers
    estimator = getattr(recommend, MODELS[model])(exclude_bought=exclude_bought, recent_days=recent_days)
    recs = estimator.fit(recommend.weight_events(interactions), stamp).recommend(subscribers["subscriber_id"],
                                                                                 k=top)
    table, gate = recommend.export_recommendations(recs, subscribers, events=gate_tables.events,
                                                         suppressed=suppressed)
    write_export_csv(table, out)
    fallback = int((table["model"] == recommend.FALLBACK_MODEL).sum())
    cli.echo(f"wrote {len(table):,} recommendations for {table['subscriber_id'].nunique():,} subscribers to "
             f"{out} ({model}, learnt up to {stamp.isoformat()}; {fallback:,} rows from the popularity fallback)")
    cli.echo(gate.summary())
