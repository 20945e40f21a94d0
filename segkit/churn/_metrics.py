"""Classification metrics for churn scores, computed directly (checked against scikit-learn).

* ROC-AUC: the Mann-Whitney form ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)`` with
  average ranks for ties (Hanley & McNeil 1982).
* PR-AUC: average precision ``sum_k (R_k - R_{k-1}) P_k`` over the distinct score thresholds,
  highest first (the step-wise area scikit-learn's ``average_precision_score`` computes).
* Brier score ``mean((p - y)^2)`` (Brier 1950); log loss ``-mean(y log p + (1-y) log(1-p))``
  with p clipped to ``[eps, 1 - eps]``, eps the float64 machine epsilon.
* Deciles: subscribers ranked by score, highest first, cut into ten equal shares; tied scores
  are shared pro rata (the expected result of breaking ties at random), so a constant score
  gains exactly the diagonal.
* Calibration curve: quantile bins of the score (the binning of scikit-learn's
  ``calibration_curve(strategy="quantile")``), mean score vs observed churn rate per bin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

__all__ = [
    "average_precision",
    "brier_score",
    "calibration_table",
    "decile_table",
    "log_loss",
    "pr_curve",
    "roc_auc",
    "roc_curve",
    "threshold_metrics",
]

EPS = np.finfo(float).eps


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _threshold_counts(
    y: np.ndarray, score: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct thresholds (descending) and cumulative true / false positives at each."""
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]
    tp = np.cumsum(t)[last_of_group]
    fp = (last_of_group + 1) - tp
    return s[last_of_group], tp.astype(float), fp.astype(float)


def average_precision(y: np.ndarray, score: np.ndarray) -> float:
    """Average precision, the step-wise area under the precision-recall curve."""
    n_pos = y.sum()
    if n_pos == 0:
        return float("nan")
    _, tp, fp = _threshold_counts(y, score)
    recall = tp / n_pos
    precision = tp / (tp + fp)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_curve(y: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """``threshold``, ``fpr``, ``tpr`` at every distinct threshold, starting at (0, 0)."""
    thresholds, tp, fp = _threshold_counts(y, score)
    n_pos, n_neg = max(y.sum(), 1), max(len(y) - y.sum(), 1)
    return pd.DataFrame(
        {
            "threshold": np.r_[np.inf, thresholds],
            "fpr": np.r_[0.0, fp / n_neg],
            "tpr": np.r_[0.0, tp / n_pos],
        }
    )


def pr_curve(y: np.ndarray, score: np.ndarray) -> pd.DataFrame:
    """``threshold``, ``recall``, ``precision`` at every distinct threshold (highest first)."""
    thresholds, tp, fp = _threshold_counts(y, score)
    return pd.DataFrame(
        {"threshold": thresholds, "recall": tp / max(y.sum(), 1), "precision": tp / (tp + fp)}
    )


def brier_score(y: np.ndarray, p: np.ndarray) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    return float(np.mean((p - y) ** 2))


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Mean negative Bernoulli log-likelihood, probabilities clipped to ``[eps, 1 - eps]``."""
    q = np.clip(p, EPS, 1 - EPS)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log1p(-q)))


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Precision, recall, F1, accuracy and flagged share when ``p >= threshold`` flags churn."""
    flagged = p >= threshold
    tp = float(np.sum(flagged & (y == 1)))
    n_flagged = float(flagged.sum())
    n_pos = float(y.sum())
    precision = tp / n_flagged if n_flagged else float("nan")
    recall = tp / n_pos if n_pos else float("nan")
    f1 = 2 * tp / (n_flagged + n_pos) if n_flagged + n_pos else float("nan")
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "accuracy": float(np.mean(flagged == (y == 1))),
        "flagged_share": n_flagged / len(y),
    }


def _expected_gains(y: np.ndarray, score: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Expected churners among the ``counts`` highest scores, ties shared pro rata."""
    _, tp, fp = _threshold_counts(y, score)
    size = tp + fp  # cumulative subscribers at the end of each tie group
    before_n = np.r_[0.0, size[:-1]]
    before_pos = np.r_[0.0, tp[:-1]]
    group = np.searchsorted(size, counts, side="left").clip(max=len(size) - 1)
    inside = counts - before_n[group]
    group_n = size[group] - before_n[group]
    group_pos = tp[group] - before_pos[group]
    return before_pos[group] + inside / group_n * group_pos


def decile_table(y: np.ndarray, score: np.ndarray, n_groups: int = 10) -> pd.DataFrame:
    """Lift and cumulative gains by score decile (decile 1 = the highest scores)."""
    n = len(y)
    bounds = np.arange(1, n_groups + 1) * n / n_groups
    gains = _expected_gains(y, score, bounds)
    churners = np.diff(np.r_[0.0, gains])
    size = np.diff(np.r_[0.0, bounds])
    base = y.mean()
    return pd.DataFrame(
        {
            "decile": np.arange(1, n_groups + 1),
            "population_share": bounds / n,
            "subscribers": size,
            "churners": churners,
            "churn_rate": churners / size,
            "lift": churners / size / base if base > 0 else np.nan,
            "cumulative_gain": gains / y.sum() if y.sum() > 0 else np.nan,
            "cumulative_lift": gains / bounds / base if base > 0 else np.nan,
        }
    )


def calibration_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    """Mean predicted probability and observed churn rate in quantile bins of ``p``.

    Bin edges are the ``0, 1/n_bins, ..., 1`` quantiles of ``p``; a value goes to the bin
    ``searchsorted(edges[1:-1], p)`` (left side, as scikit-learn's ``calibration_curve``);
    empty bins are dropped.
    """
    edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins).astype(float)
    summed_p = np.bincount(ids, weights=p, minlength=n_bins)
    summed_y = np.bincount(ids, weights=y.astype(float), minlength=n_bins)
    keep = count > 0
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins)[keep],
            "subscribers": count[keep].astype(int),
            "mean_predicted": summed_p[keep] / count[keep],
            "observed_rate": summed_y[keep] / count[keep],
        }
    )
