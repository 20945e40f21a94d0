"""How each segment performs against the rest of the list, with intervals and Holm-corrected tests."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from statsmodels.stats.proportion import proportion_confint

from segkit.errors import ValidationError
from segkit.stats import _proportions, _ratio, adjust_p_values
from segkit.stats._compare import compare, describe_test, score_diff_bounds
from segkit.stats._corrections import check_correction
from segkit.stats._exact import MIN_EXPECTED, min_expected_count
from segkit.stats._input import check_alpha

__all__ = ["PERFORMANCE_METRICS", "PERFORMANCE_STEMS", "SegmentPerformance", "segment_performance"]

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


#: Feature stems (``{stem}_{W}d``) :func:`segment_performance` reads for a window of W days.
PERFORMANCE_STEMS = ("purchase_count", "revenue", "sends", "unique_clicks", "unique_opens", "unsubscribes")


def _unit_frame(features: pd.DataFrame, window: int) -> pd.DataFrame:
    columns = {stem: f"{stem}_{window}d" for stem in PERFORMANCE_STEMS}
    missing = sorted(c for c in columns.values() if c not in features.columns)
    if missing:
        raise ValidationError(f"segment performance needs feature column(s) {', '.join(missing)}")
    units = features[list(columns.values())].set_axis(list(columns), axis=1).astype(float).fillna(0.0)
    units["converted"] = (units["purchase_count"] > 0).astype(float)
    return units


def _memberships(labels: pd.Series | pd.DataFrame, index: pd.Index) -> tuple[pd.Index, np.ndarray]:
    """Segment names and who is in each (units x segments, bool): the columns of a membership
    frame, or one segment per label (categories in order, else in order of appearance)."""
    if isinstance(labels, pd.DataFrame):
        frame = labels.reindex(index).fillna(False).astype(bool)
        return frame.columns, frame.to_numpy(dtype=bool)
    aligned = labels.reindex(index)
    if isinstance(aligned.dtype, pd.CategoricalDtype):
        codes, names = aligned.cat.codes.to_numpy(), list(aligned.cat.categories)
    else:
        codes, uniques = pd.factorize(aligned)
        names = list(uniques)
    inside = codes[:, None] == np.arange(len(names))
    return pd.Index([str(name) for name in names], dtype=object), inside


_RATIOS = {name: pair for name, pair in PERFORMANCE_METRICS.items() if pair is not None}
#: Co-moments the ratio variances need: each ratio's (num, num), (den, den) and (num, den).
_PRODUCTS = sorted({tuple(sorted(p)) for num, den in _RATIOS.values()
                    for p in ((num, num), (den, den), (num, den))})


def _atoms(inside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the units into atoms, the units with the same segment memberships: the atom of each
    unit and each atom's memberships (atoms x segments). Labels give one atom per label."""
    segments = inside.shape[1]
    if segments > 62:  # no room for a bit per segment in an int64: compare packed rows (slower)
        patterns, codes = np.unique(np.packbits(inside, axis=1), axis=0, return_inverse=True)
        return codes.ravel(), np.unpackbits(patterns, axis=1, count=segments).astype(bool)
    bits = np.left_shift(1, np.arange(segments, dtype=np.int64))
    keys, codes = np.unique(inside @ bits, return_inverse=True)
    return codes.ravel(), (keys[:, None] & bits) != 0


@dataclass(frozen=True, eq=False)
class _GroupMoments:
    """Per group of units: size ``n``, column ``sums`` and centred co-moments (sums of products
    of deviations from the group means, one column per :data:`_PRODUCTS` pair)."""

    n: np.ndarray
    sums: np.ndarray
    comoments: np.ndarray
    columns: tuple[str, ...]

    @classmethod
    def of(cls, units: pd.DataFrame, codes: np.ndarray, groups: np.ndarray) -> _GroupMoments:
        """Moments of every group, a union of atoms (``groups``: groups x atoms, bool).

        Two passes per atom (sums, then products of deviations from the atom means), combined
        into groups with the pairwise update of Chan, Golub & LeVeque (1983): a group's co-moment
        is the sum of its atoms' plus ``n_a (mean_a - mean)_x (mean_a - mean)_y``. Every term is
        a centred quantity, so nothing cancels: a group whose values are all equal gets exactly 0,
        as a direct two-pass computation does.
        """
        values = units.to_numpy(dtype=float)
        count = groups.shape[1]
        size = np.bincount(codes, minlength=count).astype(float)
        sums = np.column_stack([np.bincount(codes, weights=v, minlength=count) for v in values.T])
        means = sums / size[:, None]
        deviations = values - means[codes]
        where = {name: i for i, name in enumerate(units.columns)}
        first, second = ([where[pair[i]] for pair in _PRODUCTS] for i in (0, 1))
        within = np.column_stack([np.bincount(codes, weights=deviations[:, i] * deviations[:, j],
                                              minlength=count) for i, j in zip(first, second, strict=True)])
        weights = groups.astype(float)
        n, group_sums = weights @ size, weights @ sums
        group_means = group_sums / n[:, None]
        comoments = np.empty((len(groups), len(_PRODUCTS)))
        for g, member in enumerate(groups):
            shift = means[member] - group_means[g]
            comoments[g] = within[member].sum(axis=0) + (
                size[member, None] * shift[:, first] * shift[:, second]).sum(axis=0)
        return cls(n, group_sums, comoments, tuple(units.columns))

    def take(self, groups: slice) -> _GroupMoments:
        return _GroupMoments(self.n[groups], self.sums[groups], self.comoments[groups], self.columns)

    def total(self, column: str) -> np.ndarray:
        return self.sums[:, self.columns.index(column)]

    def covariance(self, a: str, b: str) -> np.ndarray:
        """Sample covariance (ddof=1) of two unit columns within each group."""
        return self.comoments[:, _PRODUCTS.index(tuple(sorted((a, b))))] / (self.n - 1)

    def ratio(self, numerator: str, denominator: str) -> tuple[np.ndarray, np.ndarray]:
        """:func:`segkit.stats.ratio_estimate` of each group: ratio of sums, delta-method variance."""
        return _ratio.ratio_from_moments(
            self.n, self.total(numerator) / self.n, self.total(denominator) / self.n,
            self.covariance(numerator, numerator), self.covariance(denominator, denominator),
            self.covariance(numerator, denominator),
        )


def _metric_block(metric: str, inside: _GroupMoments, rest: _GroupMoments, z: float,
                  alpha: float) -> dict[str, np.ndarray]:
    """One metric for every segment: its value and interval, and the test against the rest with
    the rest as control, exactly as ``analyze`` runs it (segkit.stats' comparison of a
    proportion per segment: score test or, with few events, Barnard's exact test; the
    delta-method z-test for ratios, vectorised over segments)."""
    pair = PERFORMANCE_METRICS[metric]
    if pair is None:
        count, rest_count = inside.total("converted"), rest.total("converted")
        low, high = proportion_confint(count, inside.n, alpha=alpha, method="wilson")
        test = _proportions.compare_proportions(rest_count, rest.n, count, inside.n, alpha)
        test["abs_lift_ci_low"], test["abs_lift_ci_high"] = score_diff_bounds(
            count, inside.n, rest_count, rest.n, alpha)
        methods = [describe_test("proportion", "score", None, "two-sided")] * len(count)
        for i in np.flatnonzero([min_expected_count(rc, rn, c, n) < MIN_EXPECTED for n, c, rn, rc
                                 in zip(inside.n, count, rest.n, rest_count, strict=True)]):
            row = compare("proportion", {"n": float(rest.n[i]), "count": float(rest_count[i])},
                          {"n": float(inside.n[i]), "count": float(count[i])}, alpha, "two-sided",
                          relative=False)
            for key in ("abs_lift_ci_low", "abs_lift_ci_high", "p_value"):  # few events: exact
                test[key][i] = row[key]
            methods[i] = describe_test("proportion", row["test"], row.get("_expected"),
                                       "two-sided")
        value = count / inside.n
    else:
        value, variance = inside.ratio(*pair)
        half = z * np.sqrt(variance)
        low, high = value - half, value + half
        rest_value, rest_variance = rest.ratio(*pair)
        test = _ratio.compare_ratios(rest_value, rest_variance, value, variance, alpha)
        tested = np.isfinite(value) & np.isfinite(rest_value) & (variance + rest_variance > 0)
        for key in ("abs_lift_ci_low", "abs_lift_ci_high", "p_value"):  # refused, as analyze does
            test[key] = np.where(tested, test[key], np.nan)
        methods = [describe_test("ratio", "z" if ok else "not tested", None, "two-sided")
                   for ok in tested]
    return {"value": value, "ci_low": low, "ci_high": high, "rest_value": test["control_mean"],
            "abs_diff": test["abs_lift"], "abs_diff_ci_low": test["abs_lift_ci_low"],
            "abs_diff_ci_high": test["abs_lift_ci_high"], "p_value": test["p_value"],
            "method": methods}


_VALUE_COLUMNS = ("value", "ci_low", "ci_high", "rest_value", "abs_diff", "abs_diff_ci_low",
                  "abs_diff_ci_high", "p_value")


def _performance_table(units: pd.DataFrame, inside: np.ndarray, names: pd.Index, z: float,
                       alpha: float) -> pd.DataFrame:
    """Rows (segment, metric), segments in order and metrics within each, for every segment
    (a column of ``inside``, recipients x segments) with 2+ recipients inside and outside it."""
    counts = inside.sum(axis=0)
    testable = (counts >= 2) & (len(inside) - counts >= 2)
    if not testable.any():
        raise ValidationError("no segment has at least 2 recipients inside and outside it")
    k = int(testable.sum())
    codes, atoms = _atoms(inside[:, testable])
    sums = _GroupMoments.of(units, codes, np.concatenate([atoms.T, ~atoms.T]))
    segment_sums, rest_sums = sums.take(slice(0, k)), sums.take(slice(k, 2 * k))
    metrics = list(PERFORMANCE_METRICS)
    blocks = [_metric_block(m, segment_sums, rest_sums, z, alpha) for m in metrics]
    per_row = len(metrics)
    table = pd.DataFrame({
        "segment": np.repeat(np.asarray(names[testable], dtype=object), per_row).tolist(),
        "metric": metrics * k,
        "recipients": np.repeat(counts[testable].astype(np.int64), per_row),
        "sends": np.repeat(segment_sums.total("sends"), per_row),
    })
    for key in _VALUE_COLUMNS:
        table[key] = np.column_stack([np.broadcast_to(np.asarray(b[key], dtype=float), k)
                                      for b in blocks]).ravel()
    table["method"] = np.column_stack([np.asarray(b["method"], dtype=object)
                                       for b in blocks]).ravel().tolist()
    return table


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
    recipients by the tests of :func:`segkit.stats.analyze` (delta-method z-test; pooled
    two-proportion score z-test with score interval, Barnard's exact test with few events). p-values are then adjusted across every
    (segment, metric) row with :func:`segkit.stats.adjust_p_values` (Holm by default). Segments
    are not randomised: the differences describe the segments, they are not causal effects.

    ``segments`` is a label per subscriber (e.g. :func:`engagement_tiers` or a primary segment)
    or a bool membership frame (overlapping segments, each against everyone else).

    All segments are computed at once: the recipients fall into atoms (same memberships), each
    atom's sums and centred co-moments take one pass, the segments' and their complements'
    moments are combined from the atoms', and the ratio and proportion tests of
    :mod:`segkit.stats` run on the resulting arrays; the cost hardly grows with the number of
    segments. The numbers equal one ``analyze`` per segment up to floating-point rounding.
    """
    alpha = check_alpha(alpha)
    check_correction(correction)
    units_all = _unit_frame(features, window)
    names, inside = _memberships(segments, features.index)
    recipients = (units_all["sends"] > 0).to_numpy()
    units = pd.DataFrame(units_all.to_numpy()[recipients], columns=units_all.columns)
    inside = inside[recipients]
    infinite = [f"{c}_{window}d" for c in units.columns if not np.isfinite(units[c].to_numpy()).all()]
    if infinite:
        raise ValidationError(f"segment performance: feature column(s) {', '.join(infinite)} have "
                              "infinite values among the recipients; fix or drop those subscribers")
    table = _performance_table(units, inside, names, float(norm.ppf(1 - alpha / 2)), alpha)
    table["p_value_adjusted"] = adjust_p_values(table["p_value"].to_numpy(), correction)
    table["significant"] = table["p_value_adjusted"] < alpha
    return SegmentPerformance(table=table, window=window, alpha=alpha, correction=correction,
                              method="segment vs rest of recipients via the tests of segkit.stats.analyze "
                                     "(all segments at once)")
