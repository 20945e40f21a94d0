"""Lifetime-value distribution chart (pure: a decile table in, altair out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from segkit.charts._sendtime import _check  # one column check for the chart builders

__all__ = ["clv_decile_chart"]


def clv_decile_chart(table: pd.DataFrame, *, currency: str = "") -> alt.LayerChart:
    """Mean CLV per CLV decile (bars) with the mean interval bounds (error rules).

    ``table`` has ``decile``, ``customers``, ``clv_mean``, ``lower_mean``, ``upper_mean`` and
    ``share_of_clv`` (see :func:`segkit.reports.sections.ltv.clv_deciles`).
    """
    needed = ["decile", "customers", "clv_mean", "lower_mean", "upper_mean", "share_of_clv"]
    plot = _check(table, needed, "clv_decile_chart")[needed].assign(decile=table["decile"].astype(str))
    x = alt.X("decile:N", sort=list(plot["decile"]), title="CLV decile (10 = most valuable)")
    title = f"mean CLV per customer{f' ({currency})' if currency else ''}"
    tooltip = ["decile:N", alt.Tooltip("customers:Q", format=","),
               alt.Tooltip("clv_mean:Q", format=",.2f"), alt.Tooltip("lower_mean:Q", format=",.2f"),
               alt.Tooltip("upper_mean:Q", format=",.2f"), alt.Tooltip("share_of_clv:Q", format=".1%")]
    bars = alt.Chart(plot).mark_bar(color="#1f5f8b").encode(
        x=x, y=alt.Y("clv_mean:Q", title=title), tooltip=tooltip)
    rules = alt.Chart(plot).mark_rule(color="#444", strokeWidth=2).encode(
        x=x, y="lower_mean:Q", y2="upper_mean:Q")
    return alt.layer(bars, rules).properties(
        width=520, height=240, title="Customer lifetime value by decile, with interval bounds")
