"""Charts for send time (pure: frames from :mod:`segkit.sendtime` in, altair out)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["sendtime_evaluation_chart", "sendtime_heatmap_chart"]


def _check(frame: Any, required: list[str], what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"{what} needs a DataFrame, got {type(frame).__name__}")
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise ValidationError(f"{what}: missing column(s) {', '.join(missing)}; has {', '.join(map(str, frame.columns))}")
    return frame


def sendtime_heatmap_chart(opens: pd.DataFrame, *, value: str = "opens") -> alt.FacetChart:
    """Weekday x local-hour heatmap, one panel per segment.

    ``opens`` has columns ``segment``, ``weekday`` (``Mon``..``Sun``), ``local_hour`` (0-23) and
    ``value`` (for example human opens, or an exposure-adjusted rate computed upstream).
    """
    frame = _check(opens, ["segment", "weekday", "local_hour", value], "sendtime_heatmap_chart")
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    return (
        alt.Chart(frame)
        .mark_rect()
        .encode(
            x=alt.X("local_hour:O", title="local hour"),
            y=alt.Y("weekday:O", sort=days, title=None),
            color=alt.Color(f"{value}:Q", title=value, scale=alt.Scale(scheme="blues")),
            tooltip=["segment", "weekday", "local_hour", alt.Tooltip(f"{value}:Q", format=",.3~g")],
        )
        .properties(width=360, height=140)
        .facet(row=alt.Row("segment:N", title=None))
    )


def sendtime_evaluation_chart(evaluation: Any) -> alt.LayerChart:
    """Hit rates (+-1 h and +-2 h) per method with their intervals, from
    :func:`segkit.sendtime.evaluate_holdout` (or its ``rates`` frame)."""
    rates = getattr(evaluation, "rates", evaluation)
    frame = _check(rates, ["method", "window_hours", "hit_rate", "ci_low", "ci_high"],
                   "sendtime_evaluation_chart").copy()
    frame["window"] = "±" + frame["window_hours"].astype(str) + " h"
    base = alt.Chart(frame).encode(
        y=alt.Y("method:N", title=None),
        yOffset=alt.YOffset("window:N"),
        color=alt.Color("window:N", title="next open within"),
    )
    bars = base.mark_bar().encode(
        x=alt.X("hit_rate:Q", title="share of next opens hit", axis=alt.Axis(format="%")),
        tooltip=["method", "window", alt.Tooltip("hit_rate:Q", format=".1%"),
                 alt.Tooltip("ci_low:Q", format=".1%"), alt.Tooltip("ci_high:Q", format=".1%")],
    )
    whiskers = base.mark_rule(color="black").encode(x="ci_low:Q", x2="ci_high:Q")
    return (bars + whiskers).properties(width=380, height=160)
