"""Charts for experiment results (pure: frames from :mod:`segkit.stats` in, altair out)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["cumulative_lift_chart", "lift_forest_chart"]

_WIDTH = 420
_SIGNIFICANCE_COLORS = alt.Scale(domain=["significant", "not significant"],
                                 range=["#1f5f8b", "#8a8a8a"])


def _frame(result: Any, required: list[str], what: str) -> pd.DataFrame:
    frame = result.to_frame() if hasattr(result, "to_frame") else result
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(f"{what} needs a DataFrame or a result with to_frame()")
    missing = sorted(set(required) - set(frame.columns))
    if missing:
        raise ValidationError(f"{what}: missing column(s) {', '.join(missing)}")
    return frame


def _finite(values: pd.Series) -> pd.Series:
    return values.astype(float).abs().lt(float("inf"))


def lift_forest_chart(result: Any, *, relative: bool = True) -> alt.FacetChart:
    """Forest plot: each treatment arm's lift with its interval, one row of panels per metric.

    ``result`` is an :class:`~segkit.stats.ExperimentResult` (or its ``to_frame()``, or a
    segment breakdown's frame, whose segments join the arm label). ``relative`` plots the relative
    lift (shared percent axis); otherwise the absolute lift with an independent axis per metric.
    Rows without a finite lift (not tested, or a relative lift over a zero control) are left out;
    one-sided bounds are drawn from the bound to the lift.
    """
    prefix = "rel_lift" if relative else "abs_lift"
    cols = ["arm", "metric", "significant", prefix, f"{prefix}_ci_low", f"{prefix}_ci_high"]
    frame = _frame(result, cols, "lift_forest_chart").copy()
    frame = frame[_finite(frame[prefix])]
    label = frame["arm"].astype(str)
    if "segment" in frame.columns:
        label = frame["segment"].astype(str) + " · " + label
    low, high = frame[f"{prefix}_ci_low"], frame[f"{prefix}_ci_high"]
    bound = "two-sided" if (_finite(low) | low.isna()).all() and (_finite(high) | high.isna()).all() \
        else "one-sided"
    plot = pd.DataFrame({
        "label": label, "metric": frame["metric"].astype(str),
        # a one-sided bound's open end is drawn up to the lift (JSON has no infinity)
        "lift": frame[prefix], "low": low.where(_finite(low), frame[prefix]),
        "high": high.where(_finite(high), frame[prefix]),
        "result": frame["significant"].map({True: "significant", False: "not significant"}),
        "p_adjusted": frame.get("p_value_adjusted", pd.Series(float("nan"), index=frame.index)),
    })
    axis_format = "+.0%" if relative else "+.3~g"
    title = "relative lift vs control" if relative else "absolute lift vs control"
    x = alt.X("low:Q", title=title, axis=alt.Axis(format=axis_format))
    tooltip = ["label:N", "metric:N", alt.Tooltip("lift:Q", format=axis_format),
               alt.Tooltip("low:Q", format=axis_format), alt.Tooltip("high:Q", format=axis_format),
               alt.Tooltip("p_adjusted:Q", format=".3g"), "result:N"]
    base = alt.Chart(plot).encode(y=alt.Y("label:N", title=None), tooltip=tooltip)
    bars = base.mark_rule(strokeWidth=2).encode(
        x=x, x2="high:Q", color=alt.Color("result:N", scale=_SIGNIFICANCE_COLORS, title=None))
    points = base.mark_point(filled=True, size=60).encode(
        x="lift:Q", color=alt.Color("result:N", scale=_SIGNIFICANCE_COLORS, title=None))
    zero = alt.Chart(plot).mark_rule(strokeDash=[4, 3], color="#444").encode(x=alt.datum(0))
    layered = alt.layer(zero, bars, points).properties(width=_WIDTH, height=alt.Step(22))
    chart = layered.facet(row=alt.Row("metric:N", title=None, header=alt.Header(labelAngle=0,
                                                                               labelAlign="left")))
    if not relative:
        chart = chart.resolve_scale(x="independent")
    return chart.properties(
        title=f"Lift with {title.split()[0]} {bound} intervals by arm and metric")


def cumulative_lift_chart(result: Any, *, band: str = "sequence") -> alt.LayerChart:
    """Cumulative absolute lift over time per arm, with its interval band.

    ``result`` is a :class:`~segkit.stats.SequentialResult` (or its ``to_frame()``: columns
    ``date, arm, abs_lift`` and the bounds). ``band="sequence"`` shades the confidence sequence
    (valid at every look); ``band="fixed"`` the fixed-horizon interval, which is only valid at a
    single pre-planned look.
    """
    bounds = {"sequence": ("cs_low", "cs_high"), "fixed": ("ci_low", "ci_high")}
    if band not in bounds:
        raise ValidationError(f"unknown band {band!r}; valid: {', '.join(bounds)}")
    low, high = bounds[band]
    frame = _frame(result, ["date", "arm", "abs_lift", low, high], "cumulative_lift_chart")
    plot = frame[["date", "arm", "abs_lift", low, high]].rename(columns={low: "low", high: "high"})
    finite = plot["low"].abs().lt(float("inf")) & plot["high"].abs().lt(float("inf"))
    plot = plot[finite]
    color = alt.Color("arm:N", title="arm")
    x = alt.X("date:T", title="date")
    area = alt.Chart(plot).mark_area(opacity=0.2).encode(x=x, y="low:Q", y2="high:Q", color=color)
    line = alt.Chart(plot).mark_line(point=True).encode(
        x=x, y=alt.Y("abs_lift:Q", title="cumulative lift vs control"), color=color,
        tooltip=["date:T", "arm:N", alt.Tooltip("abs_lift:Q", format="+.4g"),
                 alt.Tooltip("low:Q", format="+.4g"), alt.Tooltip("high:Q", format="+.4g")],
    )
    zero = alt.Chart(plot).mark_rule(strokeDash=[4, 3], color="#444").encode(y=alt.datum(0))
    name = "confidence sequence" if band == "sequence" else "fixed-horizon interval"
    return alt.layer(area, zero, line).properties(
        width=_WIDTH + 220, height=240, title=f"Cumulative lift over time ({name} shaded)")
