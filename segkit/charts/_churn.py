"""Churn charts: ROC and precision-recall curves, gains and lift by decile, calibration,
permutation importance. Each takes a ``ChurnEvaluation`` (or a ``ChurnBacktest``, whose last
evaluation is drawn) and only reshapes its tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from segkit.churn import ChurnBacktest, ChurnEvaluation

__all__ = [
    "churn_calibration_chart",
    "churn_gains_chart",
    "churn_importance_chart",
    "churn_lift_chart",
    "churn_pr_chart",
    "churn_roc_chart",
]

#: Most points drawn per curve (altair embeds the data; evenly spaced points, ends kept).
MAX_CURVE_POINTS = 400


def _evaluation(result: ChurnEvaluation | ChurnBacktest) -> ChurnEvaluation:
    return getattr(result, "evaluation", result)


def _thin(curve: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for _, rows in curve.groupby("model", sort=False):
        if len(rows) > MAX_CURVE_POINTS:
            keep = np.unique(np.linspace(0, len(rows) - 1, MAX_CURVE_POINTS).round().astype(int))
            rows = rows.iloc[keep]
        parts.append(rows)
    return pd.concat(parts, ignore_index=True)


def _diagonal(x: str, y: str) -> alt.Chart:
    line = pd.DataFrame({x: [0.0, 1.0], y: [0.0, 1.0]})
    return alt.Chart(line).mark_line(strokeDash=[4, 4], color="gray").encode(x=f"{x}:Q", y=f"{y}:Q")


def _lines(
    table: pd.DataFrame, title: str, x: alt.X, y: alt.Y, color: str, fmt: str, **mark: object
) -> alt.Chart:
    """One line per ``color`` group; the tooltip shows the model and both coordinates."""
    return (
        alt.Chart(table, title=title)
        .mark_line(**mark)
        .encode(
            x=x,
            y=y,
            color=alt.Color(f"{color}:N", title=None),
            tooltip=[
                "model",
                alt.Tooltip(x.shorthand, format=fmt),
                alt.Tooltip(y.shorthand, format=fmt),
            ],
        )
    )


def _labelled(curve: pd.DataFrame, metrics: pd.DataFrame, metric: str, label: str) -> pd.DataFrame:
    """``curve`` thinned, with a ``series`` column "model (label value)" for the legend."""
    value = dict(zip(metrics["model"], metrics[metric], strict=True))
    curve = _thin(curve)
    curve["series"] = [f"{m} ({label} {value[m]:.3f})" for m in curve["model"]]
    return curve


def churn_roc_chart(result: ChurnEvaluation | ChurnBacktest) -> alt.LayerChart:
    """ROC curve per model and baseline, with the chance diagonal; ROC-AUC in the legend."""
    evaluation = _evaluation(result)
    curve = _labelled(evaluation.roc, evaluation.metrics, "roc_auc", "AUC")
    x = alt.X("fpr:Q", title="false positive rate")
    y = alt.Y("tpr:Q", title="true positive rate (churners caught)")
    lines = _lines(curve, "ROC curve by model", x, y, "series", ".3f", interpolate="step-after")
    return lines + _diagonal("fpr", "tpr")


def churn_pr_chart(result: ChurnEvaluation | ChurnBacktest) -> alt.LayerChart:
    """Precision-recall curve per model and baseline; the churn base rate as a dashed rule."""
    evaluation = _evaluation(result)
    curve = _labelled(evaluation.pr, evaluation.metrics, "pr_auc", "AP")
    x = alt.X("recall:Q", title="recall (share of churners caught)")
    y = alt.Y("precision:Q", title="precision", scale=alt.Scale(domain=[0, 1]))
    title = "Precision-recall curve by model"
    lines = _lines(curve, title, x, y, "series", ".3f", interpolate="step-after")
    base = pd.DataFrame({"base rate": [evaluation.base_rate]})
    rule = alt.Chart(base).mark_rule(strokeDash=[4, 4], color="gray").encode(y="base rate:Q")
    return lines + rule


def churn_gains_chart(result: ChurnEvaluation | ChurnBacktest) -> alt.LayerChart:
    """Cumulative gains: share of churners in the top x% of scores, with the random diagonal."""
    deciles = _evaluation(result).deciles
    columns = ["model", "population_share", "cumulative_gain"]
    start = pd.DataFrame({"model": deciles["model"].unique(), columns[1]: 0.0, columns[2]: 0.0})
    table = pd.concat([start, deciles[columns]], ignore_index=True)
    x = alt.X(
        "population_share:Q",
        title="share of subscribers contacted (highest risk first)",
        axis=alt.Axis(format="%"),
    )
    y = alt.Y("cumulative_gain:Q", title="share of churners reached", axis=alt.Axis(format="%"))
    lines = _lines(table, "Cumulative gains by score decile", x, y, "model", ".1%", point=True)
    return lines + _diagonal("population_share", "cumulative_gain")


def churn_lift_chart(result: ChurnEvaluation | ChurnBacktest) -> alt.LayerChart:
    """Lift per score decile (churn rate in the decile / overall churn rate); 1 = random."""
    deciles = _evaluation(result).deciles
    bars = (
        alt.Chart(deciles, title="Lift by score decile (1 = highest scores)")
        .mark_bar()
        .encode(
            x=alt.X("decile:O", title="score decile"),
            xOffset="model:N",
            y=alt.Y("lift:Q", title="lift over the base rate"),
            color=alt.Color("model:N", title=None),
            tooltip=[
                "model",
                "decile",
                alt.Tooltip("lift:Q", format=".2f"),
                alt.Tooltip("churn_rate:Q", format=".1%"),
            ],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"lift": [1.0]}))
        .mark_rule(strokeDash=[4, 4], color="gray")
        .encode(y="lift:Q")
    )
    return bars + rule


def churn_calibration_chart(result: ChurnEvaluation | ChurnBacktest) -> alt.LayerChart:
    """Observed churn rate vs mean predicted probability in quantile bins, per model."""
    table = _evaluation(result).calibration
    unit = alt.Scale(domain=[0, 1])
    x = alt.X("mean_predicted:Q", title="mean predicted churn probability", scale=unit)
    y = alt.Y("observed_rate:Q", title="observed churn rate", scale=unit)
    title = "Calibration: predicted vs observed churn"
    lines = _lines(table, title, x, y, "model", ".3f", point=True)
    return lines + _diagonal("mean_predicted", "observed_rate")


def churn_importance_chart(
    importance: pd.DataFrame | ChurnBacktest, top: int = 15
) -> alt.LayerChart:
    """Permutation importance (drop in ROC-AUC when a feature is shuffled), top features, with
    a +/- one standard deviation error bar."""
    table = getattr(importance, "importance", importance)
    table = table.sort_values("importance_mean", ascending=False, kind="stable").head(top).copy()
    table["low"] = table["importance_mean"] - table["importance_std"]
    table["high"] = table["importance_mean"] + table["importance_std"]
    order = list(table["feature"])
    model = ", ".join(map(str, table["model"].unique())) if "model" in table else "model"
    base = alt.Chart(table, title=f"Permutation importance ({model}): drop in ROC-AUC")
    bars = base.mark_bar().encode(
        x=alt.X("importance_mean:Q", title="mean drop in ROC-AUC"),
        y=alt.Y("feature:N", sort=order, title=None),
        tooltip=[
            "feature",
            alt.Tooltip("importance_mean:Q", format=".4f"),
            alt.Tooltip("importance_std:Q", format=".4f"),
        ],
    )
    errors = base.mark_rule(color="black").encode(
        x="low:Q", x2="high:Q", y=alt.Y("feature:N", sort=order)
    )
    return bars + errors
