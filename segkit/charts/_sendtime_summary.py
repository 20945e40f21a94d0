"""Send-time summary charts: recommended hours by source, engagement by weekly email volume.

Pure: frames from :mod:`segkit.sendtime` (or the report tables built from them) in, altair out.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from segkit.charts._sendtime import _check  # one column check for the chart builders
from segkit.errors import ValidationError

__all__ = ["frequency_response_chart", "recommended_hours_chart"]

_SOURCES = ["personal", "segment", "global"]


def recommended_hours_chart(distribution: pd.DataFrame) -> alt.Chart:
    """Stacked bars: subscribers per recommended local hour, coloured by where the
    recommendation came from (``local_hour``, ``source``, ``subscribers``)."""
    frame = _check(distribution, ["local_hour", "source", "subscribers"], "recommended_hours_chart")
    return alt.Chart(frame, title="Recommended local send hour").mark_bar().encode(
        x=alt.X("local_hour:O", title="local hour"),
        y=alt.Y("subscribers:Q", title="subscribers"),
        color=alt.Color("source:N", sort=_SOURCES, title="based on"),
        order=alt.Order("source_order:Q"),
        tooltip=["local_hour", "source", alt.Tooltip("subscribers:Q", format=",")],
    ).transform_calculate(
        source_order="indexof(['personal', 'segment', 'global'], datum.source)"
    ).properties(width=460, height=200)


def frequency_response_chart(rates: pd.DataFrame, *, metric: str = "open", window_days: int = 7) -> alt.LayerChart:
    """Engagement-standardized ``metric`` rate by emails received in the last ``window_days``
    days, one line per segment with its interval band (``rates`` of
    :class:`segkit.sendtime.frequency.FrequencyResult`)."""
    frame = _check(rates, {"segment", "window_days", "volume_from", "metric", "rate", "ci_low", "ci_high",
                           "n_sends"}, "frequency_response_chart")
    rows = frame[(frame["metric"] == metric) & (frame["window_days"] == window_days)]
    if rows.empty:
        raise ValidationError(
            f"frequency_response_chart: no rows for metric {metric!r} and window {window_days}; "
            f"metrics: {', '.join(sorted(frame['metric'].unique()))}; "
            f"windows: {', '.join(map(str, sorted(frame['window_days'].unique())))}")
    base = alt.Chart(rows, title=f"{metric} rate by emails in the last {window_days} days "
                                 "(standardized over engagement)").encode(
        x=alt.X("volume_from:O", title=f"emails in the last {window_days} days (last bin: or more)"),
        color=alt.Color("segment:N", title="segment"),
    )
    band = base.mark_area(opacity=0.2).encode(y=alt.Y("ci_low:Q", title=f"{metric} rate",
                                                      axis=alt.Axis(format="%")), y2="ci_high:Q")
    line = base.mark_line(point=True).encode(
        y="rate:Q",
        tooltip=["segment", "volume_from", alt.Tooltip("rate:Q", format=".2%"),
                 alt.Tooltip("ci_low:Q", format=".2%"), alt.Tooltip("ci_high:Q", format=".2%"),
                 alt.Tooltip("n_sends:Q", format=",")],
    )
    return (band + line).properties(width=460, height=220)
