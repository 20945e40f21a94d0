"""The numbers behind the segment-analysis report (``notebooks/segment_analysis.ipynb``).

Each function composes existing segkit analytics into the table a report section shows, with a
data-sufficiency verdict where a model or a test is involved:

* :func:`size_table` and :func:`performance_overview` / :func:`performance_verdict` over
  :func:`segkit.segments.segment_performance`;
* :func:`transition_table`: between two membership snapshots, who stayed, moved in, joined the
  list, moved out or left it, per segment;
* :func:`fit_clusters`, :func:`cluster_table` and :func:`cluster_verdict` over
  :class:`segkit.segments.SegmentClusterer`;
* :func:`value_by_segment`: BG/NBD + Gamma-Gamma CLV per customer (:mod:`segkit.clv`) summed
  by segment with parameter-uncertainty intervals, and churn risk as ``1 - P(alive)``;
  :func:`clv_holdout_by_segment` validates the BG/NBD on the last period out of time;
* :func:`trigger_table` over :func:`segkit.segments.trigger_audience`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segkit.clv import (
    BetaGeo,
    CalibrationHoldoutResult,
    GammaGamma,
    assess_data_sufficiency,
    calibration_vs_holdout,
    clv_intervals,
    customer_lifetime_value,
)
from segkit.errors import ConvergenceError, SegkitError, ValidationError
from segkit.reports.sections.ltv import clv_customers
from segkit.reports.sections.period import Sufficiency
from segkit.segments import CLUSTER_FEATURES, SegmentClusterer

__all__ = [
    "SegmentValue",
    "cluster_table",
    "cluster_verdict",
    "clv_holdout_by_segment",
    "fit_clusters",
    "performance_overview",
    "performance_verdict",
    "significant_differences",
    "size_table",
    "transition_table",
    "trigger_table",
    "value_by_segment",
    "varying_inputs",
]

#: Segments with fewer recipients than this get a "data do not suffice" verdict.
MIN_RECIPIENTS = 100
#: Silhouette bands of Kaufman & Rousseeuw (1990), "Finding Groups in Data", ch. 2.
SILHOUETTE_BANDS = ((0.70, "strong"), (0.50, "reasonable"), (0.25, "weak"))
NO_SEGMENT = "(none)"


def _labels(labels: pd.Series) -> pd.Series:
    return labels.astype(object).where(labels.notna(), NO_SEGMENT).astype(str)


def size_table(labels: pd.Series) -> pd.DataFrame:
    """Subscribers and share per segment, largest first (a missing label counts as ``(none)``)."""
    counts = _labels(labels).value_counts().rename_axis("segment").reset_index(name="subscribers")
    counts["share"] = counts["subscribers"] / max(int(counts["subscribers"].sum()), 1)
    return counts


# --------------------------------------------------------------------------- performance
def _interval(low: pd.Series, high: pd.Series) -> list[str]:
    return [f"{lo:.3g} to {hi:.3g}" for lo, hi in zip(low, high, strict=True)]


def _p_text(p: pd.Series) -> list[str]:
    return ["< 0.0001" if value < 1e-4 else f"{value:.4f}" for value in p]


def performance_overview(performance: Any, metric: str) -> pd.DataFrame:
    """One row per segment for ``metric`` of a :class:`~segkit.segments.SegmentPerformance`:
    recipients, value and interval, the rest of the list, the difference with its interval,
    the Holm-adjusted p-value (as text, ``< 0.0001`` below that) and whether the difference is
    significant after the correction."""
    frame = performance.to_frame()
    rows = frame[frame["metric"] == metric]
    if rows.empty:
        raise ValidationError(
            f"no performance rows for metric {metric!r}; valid: {', '.join(sorted(frame['metric'].unique()))}"
        )
    level = f"{1 - performance.alpha:.0%}"
    return pd.DataFrame({
        "segment": rows["segment"].astype(str),
        "recipients": rows["recipients"].astype(int),
        metric: rows["value"],
        f"{level} interval": _interval(rows["ci_low"], rows["ci_high"]),
        "rest of list": rows["rest_value"],
        "difference": rows["abs_diff"],
        f"difference {level} interval": _interval(rows["abs_diff_ci_low"], rows["abs_diff_ci_high"]),
        "adjusted p": _p_text(rows["p_value_adjusted"]),
        "significant": rows["significant"].astype(bool),
    }).sort_values("recipients", ascending=False, ignore_index=True)


def significant_differences(performance: Any) -> pd.DataFrame:
    """Every (segment, metric) difference that is significant after the correction."""
    frame = performance.to_frame()
    rows = frame[frame["significant"]]
    return pd.DataFrame({
        "segment": rows["segment"].astype(str), "metric": rows["metric"], "segment value": rows["value"],
        "rest of list": rows["rest_value"], "difference": rows["abs_diff"],
        "adjusted p": _p_text(rows["p_value_adjusted"]),
    }).reset_index(drop=True)


def performance_verdict(performance: Any, min_recipients: int = MIN_RECIPIENTS) -> Sufficiency:
    """Sufficient when every tested segment has at least ``min_recipients`` recipients."""
    frame = performance.to_frame()
    sizes = frame.groupby("segment")["recipients"].first()
    small = sorted(sizes[sizes < min_recipients].index.astype(str))
    tests = len(frame)
    if small:
        return Sufficiency(False, (
            f"segment(s) {', '.join(small)} have fewer than {min_recipients} recipients in the "
            "window: their intervals are wide and their tests have little power; do not read a "
            "missing difference there as 'no difference'."))
    return Sufficiency(True, (
        f"every segment has at least {min_recipients} recipients (smallest: {int(sizes.min()):,}); "
        f"{tests} tests corrected together ({performance.correction})."))


# --------------------------------------------------------------------------- transitions
def transition_table(history: Any, start: object | None = None, end: object | None = None) -> pd.DataFrame:
    """Per segment between two snapshots of a :class:`~segkit.segments.MembershipHistory`.

    Columns: ``before`` and ``after`` (members at ``start`` and ``end``), ``stayed``,
    ``moved_in`` (from another segment), ``new`` (not listed at ``start``, e.g. signed up since),
    ``moved_out`` (to another segment), ``gone`` (listed at ``start`` but not at ``end``, e.g.
    erased) and ``net_change``. For every segment ``after = before - moved_out - gone + moved_in
    + new``. Defaults: the last two snapshots.
    """
    start_ts, end_ts = history.pair(start, end)
    before, after = history.labels[start_ts], history.labels[end_ts]
    was, now = before.notna(), after.notna()
    b, a = before.astype(object).astype(str), after.astype(object).astype(str)
    names = sorted(set(b[was]) | set(a[now]))
    rows = []
    for name in names:
        in_before, in_after = was & (b == name), now & (a == name)
        rows.append({
            "segment": name,
            "before": int(in_before.sum()),
            "after": int(in_after.sum()),
            "stayed": int((in_before & in_after).sum()),
            "moved_in": int((in_after & was & ~in_before).sum()),
            "new": int((in_after & ~was).sum()),
            "moved_out": int((in_before & now & ~in_after).sum()),
            "gone": int((in_before & ~now).sum()),
        })
    table = pd.DataFrame(rows, columns=["segment", "before", "after", "stayed", "moved_in", "new",
                                        "moved_out", "gone"])
    table["net_change"] = table["after"] - table["before"]
    return table


# --------------------------------------------------------------------------- clusters
def fit_clusters(
    features: pd.DataFrame, *, max_clusters: int = 5, sample: int = 5000, random_state: int = 0
) -> tuple[SegmentClusterer, pd.DataFrame]:
    """Fit :class:`SegmentClusterer` (k in 2..``max_clusters`` by silhouette) on a seeded random
    sample of at most ``sample`` subscribers; returns the clusterer and the sampled features.

    KMeans with ten starts per k on every subscriber costs seconds per k at demo size; a random
    sample of a few thousand gives the same profiles within sampling error. The fit runs on one
    thread: reports run side by side, and OpenMP threads competing for busy cores made the same
    fit about ten times slower (measured: 0.7 s single-threaded vs 7.5 s on a loaded 2-core
    machine for 2,000 rows).
    """
    from threadpoolctl import threadpool_limits

    if max_clusters < 2:
        raise ValidationError(f"max_clusters must be >= 2, got {max_clusters}")
    if sample < 2 * max_clusters:
        raise ValidationError(f"cluster sample must be at least {2 * max_clusters}, got {sample}")
    rows = features if len(features) <= sample else features.sample(sample, random_state=random_state)
    inputs = varying_inputs(rows)
    if len(inputs) < 2:
        raise ValidationError(
            f"only {len(inputs)} of the clustering inputs ({', '.join(CLUSTER_FEATURES)}) vary between "
            "subscribers; clusters need at least 2")
    with threadpool_limits(limits=1):
        clusterer = SegmentClusterer(k_range=(2, max_clusters), features=inputs,
                                     random_state=random_state).fit(rows)
    return clusterer, rows


def varying_inputs(features: pd.DataFrame, candidates: Sequence[str] = CLUSTER_FEATURES) -> list[str]:
    """The clustering inputs that take more than one value (a purchase log has no open or click
    rates: clustering on a constant only names clusters after it, e.g. "recent open")."""
    return [c for c in candidates if c in features.columns and features[c].nunique(dropna=True) > 1]


def cluster_table(clusterer: SegmentClusterer, rows: pd.DataFrame) -> pd.DataFrame:
    """Per cluster: its descriptive name, size, share and the median of each clustering input
    on its natural scale (rates, counts, days; columns named after the input with spaces), so a
    reader can see what the cluster is."""
    labels = clusterer.labels_
    medians = rows[list(clusterer.features)].astype(float).groupby(labels.to_numpy()).median()
    sizes = labels.value_counts().sort_index()
    table = pd.DataFrame({
        "cluster": sizes.index.astype(int),
        "name": clusterer.names_.reindex(sizes.index).to_numpy(),
        "subscribers": sizes.to_numpy(),
        "share": sizes.to_numpy() / sizes.sum(),
    })
    medians.columns = [_readable(c) for c in medians.columns]
    return table.join(medians.reset_index(drop=True))


def _readable(feature: str) -> str:
    """``open_rate_365d`` -> ``open rate 365d``, for table headers."""
    return feature.replace("_", " ")


def cluster_verdict(clusterer: SegmentClusterer) -> Sufficiency:
    """Plain-words verdict from the silhouette of the chosen k (Kaufman & Rousseeuw 1990)."""
    score = float(clusterer.silhouette_scores_[clusterer.k_])
    band = next((name for low, name in SILHOUETTE_BANDS if score > low), "none")
    if band == "none":
        return Sufficiency(False, (
            f"silhouette {score:.2f} (<= 0.25): no substantial cluster structure; the clusters "
            "are arbitrary cuts of a continuum, do not treat them as real groups."))
    extra = " the groups may partly be cuts of a continuum." if band == "weak" else ""
    return Sufficiency(True, f"silhouette {score:.2f}: {band} cluster structure (k={clusterer.k_}).{extra}")


# --------------------------------------------------------------------------- value and churn risk
@dataclass(frozen=True, eq=False)
class SegmentValue:
    """CLV and churn risk by segment from BG/NBD + Gamma-Gamma (see :func:`value_by_segment`).

    ``table``: one row per segment: ``subscribers``, ``customers`` (modelled: at least one
    purchase day before the as_of day), ``repeat_buyers``, ``clv_total`` with ``clv_low`` /
    ``clv_high`` (interval of the segment total), ``clv_per_customer``, ``churn_risk`` (mean
    ``1 - P(alive)`` over customers) and ``likely_lapsed`` (customers with P(alive) < 0.5).
    Model columns are NaN when ``verdict.sufficient`` is False.
    ``per_customer``: ``segment``, ``clv``, ``p_alive`` per modelled customer.
    """

    table: pd.DataFrame
    per_customer: pd.DataFrame
    verdict: Sufficiency
    transaction_model: BetaGeo | None
    spend_model: GammaGamma | None
    months: int
    discount_rate: float
    level: float
    n_draws: int
    method: str
    notes: tuple[str, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return f"{self.method}\n{self.verdict.summary()}\n" + self.table.to_string(index=False)


def _count_table(labels: pd.Series, customers: pd.DataFrame) -> pd.DataFrame:
    seg = _labels(labels)
    table = seg.value_counts().rename("subscribers").rename_axis("segment").to_frame()
    cust_seg = seg.reindex(customers.index)
    table["customers"] = cust_seg.value_counts().reindex(table.index, fill_value=0)
    table["repeat_buyers"] = cust_seg[customers["frequency"] > 0].value_counts().reindex(table.index, fill_value=0)
    return table


def _fit_models(customers: pd.DataFrame) -> tuple[BetaGeo, GammaGamma, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bg = BetaGeo().fit(customers["frequency"], customers["recency"], customers["T"], time_unit="D")
        gg = GammaGamma().fit(customers["frequency"], customers["monetary_value"])
    return bg, gg, [str(w.message) for w in caught]


def _segment_bounds(bg: BetaGeo, gg: GammaGamma, customers: pd.DataFrame, segment: pd.Series,
                    **options: Any) -> pd.DataFrame:
    """Interval of each segment's CLV total: the same parameter draws (same seed) per segment."""
    bounds = {}
    for name, members in segment.groupby(segment).groups.items():
        rows = customers.loc[members]
        draw = clv_intervals(bg, gg, rows["frequency"], rows["recency"], rows["T"],
                             rows["monetary_value"], periods=options["months"],
                             discount_rate=options["discount_rate"], level=options["level"],
                             n_draws=options["n_draws"], random_state=options["random_state"])
        bounds[name] = (draw.total_lower, draw.total_upper)
    return pd.DataFrame.from_dict(bounds, orient="index", columns=["clv_low", "clv_high"])


def value_by_segment(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    months: int = 12,
    discount_rate: float = 0.01,
    level: float = 0.95,
    n_draws: int = 100,
    random_state: int = 0,
) -> SegmentValue:
    """CLV over ``months`` months and churn risk per segment.

    Customers are subscribers with at least one purchase day strictly before the as_of day
    (``T > 0`` in the feature table's RFM columns, Fader, Hardie & Lee 2005 definitions); the
    others have no purchase history to model and count only in ``subscribers``. BG/NBD (purchase
    days) and Gamma-Gamma (spend per repeat purchase day) are fitted on every customer, then
    :func:`segkit.clv.customer_lifetime_value` gives each customer's discounted CLV (monthly
    periods at ``discount_rate`` per month) and :func:`segkit.clv.clv_intervals` the intervals
    (parameter uncertainty only). The interval of a segment's total comes from the same
    parameter draws (same ``random_state``) restricted to the segment's customers, so it is the
    quantile of the per-draw segment total, not a sum of customer bounds. Churn risk is
    ``1 - P(alive)`` at the as_of day (BG/NBD, FHL 2005 appendix): the model's probability that
    the customer has already stopped buying, not a classifier's prediction.

    When :func:`segkit.clv.assess_data_sufficiency` finds the data thin, or a model cannot be
    fitted, no model number is returned: the verdict says why.
    """
    customers = clv_customers(features)
    table = _count_table(labels, customers)
    method = (f"BG/NBD (purchase days) + Gamma-Gamma (spend per repeat purchase day); CLV over "
              f"{months} months discounted at {100 * discount_rate:g}% a month; "
              f"{100 * level:g}% intervals from {n_draws} parameter draws; churn risk = 1 - P(alive)")
    empty = pd.DataFrame(columns=["segment", "clv", "p_alive"])

    def insufficient(message: str, notes: tuple[str, ...] = ()) -> SegmentValue:
        out = table.assign(clv_total=np.nan, clv_low=np.nan, clv_high=np.nan, clv_per_customer=np.nan,
                           churn_risk=np.nan, likely_lapsed=np.nan)
        return SegmentValue(out.reset_index(), empty, Sufficiency(False, message), None, None, months,
                            discount_rate, level, n_draws, method, notes)

    if len(customers) == 0 or (customers["frequency"] > 0).sum() == 0:
        return insufficient("no customer has a repeat purchase before the as_of day; CLV cannot be modelled.")
    check = assess_data_sufficiency(customers["frequency"], customers["recency"], customers["T"], time_unit="D")
    if not check.sufficient:
        return insufficient(check.message)
    try:
        bg, gg, notes = _fit_models(customers)
        clv = customer_lifetime_value(bg, gg, customers["frequency"], customers["recency"], customers["T"],
                                      customers["monetary_value"], periods=months, discount_rate=discount_rate)
    except (ValidationError, ConvergenceError) as error:
        return insufficient(f"the models could not be fitted: {error}")
    seg = _labels(labels).reindex(customers.index).fillna(NO_SEGMENT)
    p_alive = np.asarray(bg.probability_alive(customers["frequency"], customers["recency"], customers["T"]))
    per_customer = pd.DataFrame({"segment": seg.to_numpy(), "clv": np.asarray(clv), "p_alive": p_alive},
                                index=customers.index)
    totals = per_customer.groupby("segment").agg(
        clv_total=("clv", "sum"), clv_per_customer=("clv", "mean"),
        churn_risk=("p_alive", lambda p: float(np.mean(1 - p))),
        likely_lapsed=("p_alive", lambda p: int((p < 0.5).sum())))
    no_intervals = ""
    try:
        bounds = _segment_bounds(bg, gg, customers, per_customer["segment"], months=months,
                                 discount_rate=discount_rate, level=level, n_draws=n_draws,
                                 random_state=random_state)
    except SegkitError as error:  # point values stay valid: say so instead of dropping them
        bounds = pd.DataFrame(np.nan, index=totals.index, columns=["clv_low", "clv_high"])
        no_intervals = (f" Intervals cannot be computed ({error}); the totals are point estimates "
                        "without a statement of their uncertainty.")
    totals = totals.join(bounds)
    out = table.join(totals[["clv_total", "clv_low", "clv_high", "clv_per_customer", "churn_risk",
                             "likely_lapsed"]])
    out["likely_lapsed"] = out["likely_lapsed"].fillna(0).astype(int)
    verdict = Sufficiency(True, check.message + (
        f" Spend and purchase frequency correlate at {gg.spend_frequency_correlation_:.2f} among "
        "repeat buyers (Gamma-Gamma assumes about 0)." + no_intervals))
    return SegmentValue(out.reset_index(), per_customer, verdict, bg, gg, months, discount_rate,
                        level, n_draws, method, tuple(notes))


def clv_holdout_by_segment(
    calibration: Any, labels: pd.Series
) -> tuple[CalibrationHoldoutResult | None, pd.DataFrame, Sufficiency]:
    """Out-of-time check of the BG/NBD: fit on features as of the calibration cutoff, predict
    purchase days in ``(cutoff, end]`` and compare with what happened, overall
    (:func:`segkit.clv.calibration_vs_holdout`) and per segment (``labels`` as of the cutoff).

    ``calibration`` is a :class:`segkit.features.CalibrationHoldout`. Returns the overall result
    (None when the model cannot be fitted), the per-segment table (``customers``, ``actual``,
    ``predicted``, ``relative_error``) and a verdict.
    """
    customers = clv_customers(calibration.features)
    actual = calibration.outcomes["holdout_purchases"].reindex(customers.index).fillna(0.0).astype(float)
    columns = ["segment", "customers", "actual", "predicted", "relative_error"]
    if len(customers) == 0 or (customers["frequency"] > 0).sum() == 0:
        return None, pd.DataFrame(columns=columns), Sufficiency(False, "no repeat buyers before the cutoff.")
    check = assess_data_sufficiency(customers["frequency"], customers["recency"], customers["T"], time_unit="D")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bg = BetaGeo().fit(customers["frequency"], customers["recency"], customers["T"], time_unit="D")
    except (ValidationError, ConvergenceError) as error:
        return None, pd.DataFrame(columns=columns), Sufficiency(False, f"BG/NBD could not be fitted: {error}")
    length = float(calibration.duration_holdout)
    result = calibration_vs_holdout(bg, customers["frequency"], customers["recency"], customers["T"],
                                    actual, length)
    predicted = np.asarray(bg.conditional_expected_purchases(length, customers["frequency"],
                                                             customers["recency"], customers["T"]))
    frame = pd.DataFrame({"segment": _labels(labels).reindex(customers.index).fillna(NO_SEGMENT).to_numpy(),
                          "actual": actual.to_numpy(), "predicted": predicted})
    table = frame.groupby("segment").agg(customers=("actual", "size"), actual=("actual", "sum"),
                                         predicted=("predicted", "sum")).reset_index()
    table["relative_error"] = (table["predicted"] - table["actual"]) / table["actual"].where(table["actual"] > 0)
    if not check.sufficient:
        verdict = Sufficiency(False, check.message)
    elif result.total_actual < 30:
        verdict = Sufficiency(False, (
            f"only {result.total_actual:.0f} purchase days in the holdout: too few to judge the "
            "forecast; use a longer period."))
    else:
        verdict = Sufficiency(True, (
            f"{result.total_actual:,.0f} purchase days in the holdout; predicted "
            f"{result.total_predicted:,.1f} ({100 * result.relative_error:+.1f}%)."))
    return result, table[columns], verdict


# --------------------------------------------------------------------------- triggers
def trigger_table(audience: Any, labels: pd.Series, triggers: Sequence[str] | None = None) -> pd.DataFrame:
    """Eligible subscribers per trigger (after the consent gate) with the action, and how they
    spread over ``labels``' segments (one column per segment); one row per trigger in
    ``triggers`` (default: every one of :data:`segkit.segments.TRIGGERS`)."""
    from segkit.segments import TRIGGERS, check_triggers

    names = check_triggers(triggers)
    frame = audience.to_frame()
    counts = frame["trigger"].value_counts().reindex(names, fill_value=0)
    table = pd.DataFrame({"trigger": names, "action": [TRIGGERS[n] for n in names],
                          "eligible subscribers": counts.to_numpy()})
    seg = _labels(labels).reindex(frame["subscriber_id"].astype(str)).fillna(NO_SEGMENT).to_numpy()
    spread = pd.crosstab(frame["trigger"], seg).reindex(names, fill_value=0)
    return table.join(spread.reset_index(drop=True))
