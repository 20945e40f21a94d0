"""Charts for value and churn risk by segment (pure: report tables in, altair out).

Inputs are the tables of :func:`segkit.reports.sections.segments.value_by_segment` and
:func:`~segkit.reports.sections.segments.clv_holdout_by_segment`.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

from segkit.charts._sendtime import _check  # one column check for the chart builders

__all__ = ["clv_holdout_segment_chart", "segment_churn_risk_chart", "segment_value_chart"]

_WIDTH = 420


def segment_value_chart(table: pd.DataFrame, *, title: str = "Expected customer value by segment") -> alt.LayerChart:
    """Bars: each segment's total CLV (``clv_total``); black rules: its interval
    (``clv_low`` to ``clv_high``). Segments without modelled customers are left out."""
    frame = _check(table, ["segment", "clv_total", "clv_low", "clv_high", "customers"], "segment_value_chart")
    frame = frame.dropna(subset=["clv_total"])
    base = alt.Chart(frame, title=title, width=_WIDTH)
    y = alt.Y("segment:N", sort="-x", title=None)
    bars = base.mark_bar().encode(
        y=y, x=alt.X("clv_total:Q", title="total CLV (interval: parameter uncertainty)"),
        tooltip=["segment", "customers", alt.Tooltip("clv_total:Q", format=",.0f"),
                 alt.Tooltip("clv_low:Q", format=",.0f"), alt.Tooltip("clv_high:Q", format=",.0f")],
    )
    rules = base.mark_rule(color="black").encode(y=y, x="clv_low:Q", x2="clv_high:Q")
    return bars + rules


def segment_churn_risk_chart(
    table: pd.DataFrame,
    *,
    title: str = "Churn risk by segment",
    count: str = "customers",
    axis_title: str = "mean churn risk of customers",
) -> alt.Chart:
    """Bars: mean churn risk (``churn_risk``, 0-1) per segment; ``count`` names the column with
    how many subscribers the mean is over (shown in the tooltip)."""
    frame = _check(table, ["segment", "churn_risk", count], "segment_churn_risk_chart")
    frame = frame.dropna(subset=["churn_risk"])
    return alt.Chart(frame, title=title, width=_WIDTH).mark_bar().encode(
        y=alt.Y("segment:N", sort="-x", title=None),
        x=alt.X("churn_risk:Q", title=axis_title, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=["segment", count, alt.Tooltip("churn_risk:Q", format=".1%")],
    )


def clv_holdout_segment_chart(table: pd.DataFrame, *, title: str = "Holdout purchases: actual vs predicted") -> alt.Chart:
    """Grouped bars per segment: purchase days that happened in the holdout (``actual``) and
    those the model predicted (``predicted``)."""
    frame = _check(table, ["segment", "actual", "predicted"], "clv_holdout_segment_chart")
    long = frame.melt(id_vars=["segment"], value_vars=["actual", "predicted"], var_name="series",
                      value_name="purchase days")
    return alt.Chart(long, title=title, width=_WIDTH).mark_bar().encode(
        y=alt.Y("segment:N", title=None),
        yOffset=alt.YOffset("series:N"),
        x=alt.X("purchase days:Q"),
        color=alt.Color("series:N", title=None),
        tooltip=["segment", "series", alt.Tooltip("purchase days:Q", format=",.1f")],
    )
