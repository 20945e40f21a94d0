"""How each segment performs against the rest of the list, with intervals and Holm-corrected tests."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from segkit.errors import ValidationError
from segkit.stats import Metric, adjust_p_values, analyze, ratio_estimate

__all__ = ["PERFORMANCE_METRICS", "SegmentPerformance", "segment_performance"]

#: Metric -> (numerator, denominator) feature stems for per-send ratios; ``conversion_rate`` is
#: the share of recipients with a purchase in the window (a proportion).
PERFORMANCE_METRICS: dict[str, tuple[str, str] | None] = {
    "open_rate": ("unique_opens", "sends"),
    "click_rate": ("unique_clicks", "sends"),
    "click_to_open_rate": ("unique_clicks", "unique_opens"),
    "conversion_rate": None,
    "unsubscribe_rate": ("unsubscribes", "sends"),
    "revenue_per_email": ("revenue", "sends"),
}


@dataclass(frozen=True, eq=False)
class SegmentPerformance:
    """Per-segment metrics with intervals and tests against the rest of the recipients."""

    table: pd.DataFrame
    window: int
    alpha: float
    correction: str
    method: str

    def to_frame(self) -> pd.DataFrame:
        """One row per (segment, metric): ``recipients``, ``sends``, ``value``, ``ci_low``,
        ``ci_high``, ``rest_value``, ``abs_diff`` with its CI, ``p_value``, ``p_value_adjusted``,
        ``significant``."""
        return self.table.copy()

    def summary(self) -> str:
        lines = [f"Segment performance over the last {self.window} days vs the rest of the list; "
                 f"{self.correction} correction over {len(self.table)} tests, alpha {self.alpha:g}."]
        for row in self.table.itertuples():
            flag = " *" if row.significant else ""
            lines.append(
                f"  {row.segment} {row.metric}: {row.value:.4g} [{row.ci_low:.4g}, {row.ci_high:.4g}]"
                f" vs rest {row.rest_value:.4g} (adj. p {row.p_value_adjusted:.3g}){flag}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary().splitlines()[0]) + "</pre>" + self.table.to_html(
            index=False, float_format=lambda v: f"{v:.4g}")


def _unit_frame(features: pd.DataFrame, window: int) -> pd.DataFrame:
    stems = {"sends", "unique_opens", "unique_clicks", "unsubscribes", "revenue", "purchase_count"}
    columns = {stem: f"{stem}_{window}d" for stem in sorted(stems)}
    missing = sorted(c for c in columns.values() if c not in features.columns)
    if missing:
        raise ValidationError(f"segment performance needs feature column(s) {', '.join(missing)}")
    units = features[list(columns.values())].set_axis(list(columns), axis=1).astype(float).fillna(0.0)
    units["converted"] = (units["purchase_count"] > 0).astype(float)
    return units


def _memberships(labels: pd.Series | pd.DataFrame, index: pd.Index) -> pd.DataFrame:
    if isinstance(labels, pd.DataFrame):
        return labels.reindex(index).fillna(False).astype(bool)
    aligned = labels.reindex(index)
    if isinstance(aligned.dtype, pd.CategoricalDtype):
        names = list(aligned.cat.categories)
    else:
        names = list(pd.unique(aligned.dropna()))
    return pd.DataFrame({str(name): (aligned == name).to_numpy() for name in names}, index=index)


def _own_interval(metric: str, units: pd.DataFrame, z: float, alpha: float) -> tuple[float, float, float]:
    if PERFORMANCE_METRICS[metric] is None:
        count, n = units["converted"].sum(), len(units)
        low, high = proportion_confint(count, n, alpha=alpha, method="wilson")
        return count / n, float(low), float(high)
    numerator, denominator = PERFORMANCE_METRICS[metric]
    ratio, variance = ratio_estimate(units[numerator].to_numpy(), units[denominator].to_numpy())
    half = z * np.sqrt(variance)
    return ratio, ratio - half, ratio + half


def _metric_specs() -> list[Metric]:
    return [
        Metric(name, kind="proportion", column="converted") if pair is None
        else Metric(name, kind="ratio", numerator=pair[0], denominator=pair[1])
        for name, pair in PERFORMANCE_METRICS.items()
    ]


def segment_performance(
    features: pd.DataFrame,
    segments: pd.Series | pd.DataFrame,
    *,
    window: int = 90,
    alpha: float = 0.05,
    correction: str = "holm",
) -> SegmentPerformance:
    """Each segment's email performance over the last ``window`` days vs the rest of the list.

    Recipients are subscribers with at least one send in the window. Per segment: ``recipients``,
    ``sends`` and the metrics of :data:`PERFORMANCE_METRICS` (open, click and click-to-open rates,
    unsubscribe rate and revenue per email are ratios of sums over recipients; conversion rate is
    the share of recipients with a purchase). Each value has a ``1 - alpha`` interval (delta
    method for ratios, Deng et al. 2018; Wilson for conversion) and is compared with the other
    recipients by :func:`segkit.stats.analyze` (delta-method z-test; pooled two-proportion z-test
    with Newcombe interval). p-values are then adjusted across every (segment, metric) row with
    :func:`segkit.stats.adjust_p_values` (Holm by default). Segments are not randomised: the
    differences describe the segments, they are not causal effects.

    ``segments`` is a label per subscriber (e.g. :func:`engagement_tiers` or a primary segment)
    or a bool membership frame (overlapping segments, each against everyone else).
    """
    units_all = _unit_frame(features, window)
    members = _memberships(segments, features.index)
    recipients = units_all["sends"] > 0
    units, members = units_all[recipients], members[recipients.to_numpy()]
    z = float(norm.ppf(1 - alpha / 2))
    rows = []
    for segment in members.columns:
        inside = members[segment].to_numpy()
        if inside.sum() < 2 or (~inside).sum() < 2:
            continue
        frame = units.assign(arm=np.where(inside, "segment", "rest"))
        result = analyze(frame, arm="arm", control="rest", metrics=_metric_specs(), alpha=alpha,
                         correction="none", mann_whitney=False)
        for test in result.to_frame().itertuples():
            value, low, high = _own_interval(test.metric, units[inside], z, alpha)
            rows.append({
                "segment": segment, "metric": test.metric, "recipients": int(inside.sum()),
                "sends": float(units.loc[inside, "sends"].sum()), "value": value, "ci_low": low,
                "ci_high": high, "rest_value": test.control_mean, "abs_diff": test.abs_lift,
                "abs_diff_ci_low": test.abs_lift_ci_low, "abs_diff_ci_high": test.abs_lift_ci_high,
                "p_value": test.p_value, "method": test.method,
            })
    if not rows:
        raise ValidationError("no segment has at least 2 recipients inside and outside it")
    table = pd.DataFrame(rows)
    table["p_value_adjusted"] = adjust_p_values(table["p_value"].to_numpy(), correction)
    table["significant"] = table["p_value_adjusted"] < alpha
    return SegmentPerformance(table=table, window=window, alpha=alpha, correction=correction,
                              method="segment vs rest of recipients via segkit.stats.analyze")
