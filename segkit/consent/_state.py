"""The latest consent state of a workspace: the tables :func:`segkit.consent.eligible` reads,
selected in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from segkit.consent._gate import CONSENT_EVENT_TYPES, NO_SUBSCRIBERS, RESET_EVENT_TYPES
from segkit.errors import InputError, TableNotFoundError

__all__ = ["ConsentTables", "consent_tables", "read_consent_events"]


@dataclass(frozen=True, eq=False)
class ConsentTables:
    """``subscribers`` (the whole table) and ``events`` (only the rows the gate reads, all
    dates: see :func:`segkit.consent.consent_events`)."""

    subscribers: pd.DataFrame
    events: pd.DataFrame


def _consent_event_rows(events: Any) -> Any:
    """An ibis expression with the rows of :func:`segkit.consent.consent_events`."""
    kept = events.filter(events.event_type.isin(list(CONSENT_EVENT_TYPES))).select(
        "subscriber_id", "event_type", "ts")
    bouncing = events.filter(events.event_type == "soft_bounce").select("subscriber_id").distinct()
    resets = events.filter(events.event_type.isin(list(RESET_EVENT_TYPES))
                           & events.subscriber_id.isin(bouncing.subscriber_id))
    latest = resets.group_by("subscriber_id").aggregate(
        event_type=resets.event_type.argmax(resets.ts), ts=resets.ts.max())
    return kept.union(latest.select("subscriber_id", "event_type", "ts"))


def read_consent_events(workspace: Any) -> pd.DataFrame:
    """The events of ``workspace`` the consent gate reads, at any date (the rows
    :func:`segkit.consent.consent_events` keeps), selected in the database (also a workspace
    opened on another engine, or an Ibis backend: zone-less timestamps are checked as
    :func:`segkit.features.compute` checks them)."""
    from segkit.features._source import source_table

    table = source_table(workspace, "events")
    if table is None:  # a workspace file made elsewhere, without events
        events = pd.DataFrame({"subscriber_id": [], "event_type": [], "ts": []})
    else:
        events = _consent_event_rows(table).to_pyarrow().to_pandas()
    events["ts"] = pd.to_datetime(events["ts"], utc=True)
    return events


def consent_tables(workspace: Any) -> ConsentTables:
    """Read what the consent gate needs from ``workspace``, whatever the as-of date of the
    analysis: the ``subscribers`` table and every consent event (unsubscribe, subscribe,
    complaint, bounces) with, for soft bouncers, their latest delivery, open or click.

    Raises
    ------
    InputError
        The workspace has no subscribers (no table, or an empty one): consent cannot be proven,
        so nothing may be exported.
    """
    import duckdb

    try:
        subscribers = workspace.table("subscribers")
    except (duckdb.CatalogException, TableNotFoundError) as error:
        raise InputError(NO_SUBSCRIBERS) from error
    if subscribers.empty:
        raise InputError(NO_SUBSCRIBERS)
    return ConsentTables(subscribers=subscribers, events=read_consent_events(workspace))
