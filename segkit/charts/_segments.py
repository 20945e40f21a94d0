"""Charts for segments (pure: frames from :mod:`segkit.segments` in, altair out)."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd

from segkit.errors import ValidationError

__all__ = [
    "cluster_profile_chart",
    "score_distribution_chart",
    "segment_performance_chart",
    "segment_sizes_chart",
    "segment_transition_chart",
]

_WIDTH = 420


def segment_sizes_chart(labels: pd.Series, *, title: str = "Segment sizes") -> alt.Chart:
    """Horizontal bars: subscribers per segment (``labels``: one label per subscriber)."""
    if not isinstance(labels, pd.Series):
        raise ValidationError("segment_sizes_chart needs a Series of segment labels")
    counts = labels.astype(str).value_counts().rename_axis("segment").reset_index(name="subscribers")
    counts["share"] = counts["subscribers"] / counts["subscribers"].sum()
    return alt.Chart(counts, title=title, width=_WIDTH).mark_bar().encode(
        y=alt.Y("segment:N", sort="-x", title=None),
        x=alt.X("subscribers:Q", title="subscribers"),
        tooltip=["segment", "subscribers", alt.Tooltip("share:Q", format=".1%")],
    )


def segment_performance_chart(performance: Any, *, metric: str = "click_rate") -> alt.LayerChart:
    """Each segment's ``metric`` with its interval, and the rest of the list as a tick.

    ``performance`` is a :class:`~segkit.segments.SegmentPerformance` or its ``to_frame()``.
    """
    frame = performance.to_frame() if hasattr(performance, "to_frame") else performance
    required = {"segment", "metric", "value", "ci_low", "ci_high", "rest_value", "significant"}
    missing = sorted(required - set(frame.columns))
    if missing:
        raise ValidationError(f"segment_performance_chart: missing column(s) {', '.join(missing)}")
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        raise ValidationError(
            f"segment_performance_chart: no rows for metric {metric!r}; "
            f"available: {', '.join(sorted(frame['metric'].unique()))}"
        )
    rows = rows.assign(difference=rows["significant"].map({True: "significant", False: "not significant"}))
    base = alt.Chart(rows, title=f"{metric} by segment (bars: interval; tick: rest of list)", width=_WIDTH)
    y = alt.Y("segment:N", title=None)
    rule = base.mark_rule().encode(y=y, x=alt.X("ci_low:Q", title=metric), x2="ci_high:Q")
    point = base.mark_point(filled=True, size=60).encode(
        y=y, x="value:Q", color=alt.Color("difference:N", title="vs rest (adjusted)"),
        tooltip=["segment", "value", "ci_low", "ci_high", "rest_value", "p_value_adjusted"],
    )
    tick = base.mark_tick(color="#8a8a8a").encode(y=y, x="rest_value:Q")
    return rule + point + tick


def segment_transition_chart(transitions: pd.DataFrame, *, title: str = "Segment transitions") -> alt.Chart:
    """Heatmap of a transition matrix (rows: from, columns: to), e.g.
    :meth:`~segkit.segments.MembershipHistory.transitions`; colour is the share of each row."""
    if not isinstance(transitions, pd.DataFrame) or transitions.empty:
        raise ValidationError("segment_transition_chart needs a non-empty transition matrix")
    long = transitions.rename_axis(index="from", columns="to").stack().rename("subscribers").reset_index()
    long["share_of_from"] = long["subscribers"] / long.groupby("from")["subscribers"].transform("sum")
    base = alt.Chart(long, title=title)
    heat = base.mark_rect().encode(
        x=alt.X("to:N"), y=alt.Y("from:N"),
        color=alt.Color("share_of_from:Q", title="share of row", scale=alt.Scale(scheme="blues")),
        tooltip=["from", "to", "subscribers", alt.Tooltip("share_of_from:Q", format=".1%")],
    )
    text = base.mark_text(baseline="middle").encode(x="to:N", y="from:N", text="subscribers:Q")
    return heat + text


def cluster_profile_chart(profiles: pd.DataFrame, names: pd.Series | None = None) -> alt.LayerChart:
    """Heatmap of cluster z-scores (cluster means vs the whole list) per feature, from
    :attr:`~segkit.segments.SegmentClusterer.profiles_` (and its ``names_`` as row labels)."""
    if not isinstance(profiles, pd.DataFrame) or "z" not in profiles.columns.get_level_values(0):
        raise ValidationError("cluster_profile_chart needs SegmentClusterer.profiles_ (with 'z' columns)")
    z = profiles["z"].copy()
    z.index = [f"{c}: {names[c]}" if names is not None else str(c) for c in z.index]
    long = z.rename_axis(index="cluster", columns="feature").stack().rename("z").reset_index()
    base = alt.Chart(long, title="Cluster profiles (z-score of the cluster mean)")
    heat = base.mark_rect().encode(
        x=alt.X("feature:N", title=None), y=alt.Y("cluster:N", title=None),
        color=alt.Color("z:Q", scale=alt.Scale(scheme="redblue", domainMid=0, reverse=True)),
        tooltip=["cluster", "feature", alt.Tooltip("z:Q", format=".2f")],
    )
    return heat + base.mark_text().encode(x="feature:N", y="cluster:N", text=alt.Text("z:Q", format=".1f"))


def score_distribution_chart(score: pd.Series, *, bins: int = 20) -> alt.Chart:
    """Histogram of a 0-100 behavioural score (engagement or purchase intent)."""
    if not isinstance(score, pd.Series):
        raise ValidationError("score_distribution_chart needs a Series of scores")
    name = str(score.name or "score")
    frame = pd.DataFrame({name: score.to_numpy(dtype=float)})
    return alt.Chart(frame, title=f"Distribution of {name}", width=_WIDTH).mark_bar().encode(
        x=alt.X(f"{name}:Q", bin=alt.Bin(maxbins=bins, extent=[0, 100]), title=name),
        y=alt.Y("count():Q", title="subscribers"),
    )
