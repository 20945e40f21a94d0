"""Charts for the workspace overview (pure: frames from :mod:`segkit.overview` in, altair out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

__all__ = [
    "events_per_week_chart",
    "machine_opens_chart",
    "quarantine_reasons_chart",
    "timezone_chart",
]

_WIDTH = 640


def events_per_week_chart(weekly_events: pd.DataFrame, *, columns: int = 3) -> alt.FacetChart:
    """Small multiples: events per week for each event type, each with its own y scale
    (sends dwarf purchases; a shared scale would flatten the rare types)."""
    base = alt.Chart(weekly_events).mark_line(point=False, strokeWidth=1.6).encode(
        x=alt.X("week:T", title=None, axis=alt.Axis(format="%b %y", labelAngle=0, tickCount=4)),
        y=alt.Y("events:Q", title="events / week", axis=alt.Axis(format="~s")),
        tooltip=[alt.Tooltip("event_type:N", title="type"), alt.Tooltip("week:T", title="week of"),
                 alt.Tooltip("events:Q", format=",")],
    ).properties(width=190, height=90)
    return base.facet(
        facet=alt.Facet("event_type:N", title=None, header=alt.Header(labelFontWeight="bold")),
        columns=columns,
    ).resolve_scale(y="independent").properties(title="Events per week by type (weeks start Monday, UTC)")


def machine_opens_chart(weekly_opens: pd.DataFrame) -> alt.Chart:
    """Stacked weekly opens: by people versus by machines (privacy proxies, scanners)."""
    long = weekly_opens.melt(id_vars="week", value_vars=["human_opens", "machine_opens"],
                             var_name="kind", value_name="opens")
    long["kind"] = long["kind"].map({"human_opens": "person", "machine_opens": "machine"})
    return alt.Chart(long).mark_area(opacity=0.9).encode(
        x=alt.X("week:T", title="week (Monday, UTC)"),
        y=alt.Y("opens:Q", title="opens", stack="zero", axis=alt.Axis(format="~s")),
        color=alt.Color("kind:N", title="opened by",
                        scale=alt.Scale(domain=["person", "machine"], range=["#1f5f8b", "#f0a202"])),
        tooltip=["week:T", "kind:N", alt.Tooltip("opens:Q", format=",")],
    ).properties(width=_WIDTH, height=220, title="Opens per week: people and machines")


def quarantine_reasons_chart(reasons: pd.DataFrame, *, top: int = 15) -> alt.Chart:
    """Horizontal bars: quarantined rows per table, column and reason (largest first)."""
    frame = reasons.head(top).assign(
        label=lambda d: d["table_name"] + "." + d["column_name"] + ": " + d["reason"].str.slice(0, 60))
    return alt.Chart(frame).mark_bar(color="#b42318").encode(
        x=alt.X("rows:Q", title="quarantined rows", axis=alt.Axis(tickMinStep=1, format=",d")),
        y=alt.Y("label:N", sort="-x", title=None, axis=alt.Axis(labelLimit=420)),
        tooltip=["table_name:N", "column_name:N", "reason:N", alt.Tooltip("rows:Q", format=",")],
    ).properties(width=360, title="Quarantined rows by column and reason")


def timezone_chart(by_timezone: pd.DataFrame, *, top: int = 15) -> alt.Chart:
    """Horizontal bars: subscribers in the largest time zones."""
    return alt.Chart(by_timezone.head(top)).mark_bar(color="#1f5f8b").encode(
        x=alt.X("subscribers:Q", title="subscribers"),
        y=alt.Y("timezone:N", sort="-x", title=None, axis=alt.Axis(labelLimit=300)),
        tooltip=["timezone:N", alt.Tooltip("subscribers:Q", format=","),
                 alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=420, title=f"Subscribers by time zone (top {top})")
