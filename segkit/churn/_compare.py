"""Is the best classifier really better than the best baseline? A paired bootstrap over customers.

For each evaluation cutoff the same customers are drawn with replacement for both scores (a
paired, stratified-by-cutoff bootstrap; Efron & Tibshirani 1993, ch. 6), every metric is
recomputed on the draw, and the difference (classifier minus baseline, averaged over the
cutoffs) gives a percentile interval. A resample is a vector of counts per customer, so each
metric is computed from the scores sorted once (weighted Mann-Whitney ROC-AUC, weighted average
precision, weighted top-decile lift with ties shared pro rata, weighted Brier score and log
loss): at unit weights they equal :mod:`segkit.churn._metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit.churn._metrics import EPS

__all__ = ["LOWER_IS_BETTER", "METRICS", "PRIMARY_METRIC", "paired_bootstrap"]

#: the metric a model must beat the baseline on, with an interval, to "win".
PRIMARY_METRIC = "roc_auc"
#: every metric compared, the primary one first.
METRICS = ("roc_auc", "pr_auc", "top_decile_lift", "brier", "log_loss")
#: metrics where a smaller value is better.
LOWER_IS_BETTER = frozenset({"brier", "log_loss"})


@dataclass(frozen=True)
class _Sorted:
    """One score on one population, grouped by distinct value (highest first)."""

    y: np.ndarray
    p: np.ndarray
    group: np.ndarray
    n_groups: int

    @classmethod
    def of(cls, y: np.ndarray, p: np.ndarray) -> _Sorted:
        order = np.argsort(-p, kind="stable")
        starts = np.r_[True, np.diff(p[order]) != 0]
        group = np.empty(len(p), dtype=np.int64)
        group[order] = np.cumsum(starts) - 1
        return cls(y.astype(float), p.astype(float), group, int(starts.sum()))

    def metrics(self, w: np.ndarray) -> np.ndarray:
        """The ``METRICS`` at customer weights ``w`` (counts of a resample)."""
        pos = np.bincount(self.group, weights=w * self.y, minlength=self.n_groups)
        neg = np.bincount(self.group, weights=w * (1.0 - self.y), minlength=self.n_groups)
        n_pos, n_neg, total = pos.sum(), neg.sum(), w.sum()
        tp, fp = np.cumsum(pos), np.cumsum(neg)
        below = n_neg - fp  # negatives with a strictly lower score
        auc = float(pos @ (below + 0.5 * neg)) / (n_pos * n_neg)
        ap = float(np.sum(pos / n_pos * tp / np.maximum(tp + fp, EPS)))
        lift = _top_share_lift(tp, tp + fp, n_pos, total, 0.1)
        q = np.clip(self.p, EPS, 1 - EPS)
        brier = float(w @ (self.p - self.y) ** 2) / total
        loss = -float(w @ (self.y * np.log(q) + (1 - self.y) * np.log1p(-q))) / total
        return np.array([auc, ap, lift, brier, loss])


def _top_share_lift(tp: np.ndarray, size: np.ndarray, n_pos: float, total: float, share: float) -> float:
    """Lift of the highest-scored ``share`` of the (weighted) population, ties pro rata."""
    count = share * total
    g = min(int(np.searchsorted(size, count, side="left")), len(size) - 1)
    before_n = size[g - 1] if g else 0.0
    before_pos = tp[g - 1] if g else 0.0
    gains = before_pos + (count - before_n) / (size[g] - before_n) * (tp[g] - before_pos)
    return float(gains / count / (n_pos / total))


def paired_bootstrap(
    populations: Sequence[tuple[np.ndarray, dict[str, np.ndarray]]],
    first: str,
    second: str,
    *,
    n_resamples: int = 200,
    level: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """Differences ``first - second`` in every metric, averaged over the populations (cutoffs),
    with percentile intervals from a paired bootstrap over customers within each population.

    Returns one row per metric: ``metric, first, second, value_first, value_second,
    difference, lower, upper, lower_is_better, first_better, first_worse`` (better / worse: the
    whole interval on that side of zero).
    """
    rng = np.random.default_rng(random_state)
    point = np.zeros((2, len(METRICS)))
    draws = np.zeros((n_resamples, len(METRICS)))
    for y, scores in populations:
        a, b = _Sorted.of(y, scores[first]), _Sorted.of(y, scores[second])
        ones = np.ones(len(y))
        point += np.array([a.metrics(ones), b.metrics(ones)])
        for i in range(n_resamples):
            w = _resample(y, rng)
            draws[i] += a.metrics(w) - b.metrics(w)
    n = len(populations)
    point, draws = point / n, draws / n
    tail = (1 - level) / 2
    lower, upper = np.quantile(draws, [tail, 1 - tail], axis=0)
    sign = np.array([-1.0 if m in LOWER_IS_BETTER else 1.0 for m in METRICS])
    better_lower, better_upper = np.minimum(sign * lower, sign * upper), np.maximum(sign * lower, sign * upper)
    return pd.DataFrame(
        {
            "metric": METRICS,
            "first": first,
            "second": second,
            "value_first": point[0],
            "value_second": point[1],
            "difference": point[0] - point[1],
            "lower": lower,
            "upper": upper,
            "lower_is_better": [m in LOWER_IS_BETTER for m in METRICS],
            "first_better": better_lower > 0,
            "first_worse": better_upper < 0,
        }
    )


def _resample(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Counts of each customer in a draw with replacement that keeps both classes present."""
    n = len(y)
    while True:
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        kept = y[w > 0]
        if 0 < kept.sum() < len(kept):
            return w
