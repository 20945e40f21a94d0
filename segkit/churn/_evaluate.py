"""``evaluate``: churn scores of several models and baselines on one labelled population."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit.churn._metrics import (
    average_precision,
    brier_score,
    calibration_table,
    decile_table,
    log_loss,
    pr_curve,
    roc_auc,
    roc_curve,
    threshold_metrics,
)
from segkit.errors import ValidationError

__all__ = ["ChurnEvaluation", "evaluate"]

METRIC_COLUMNS = [
    "model", "role", "subscribers", "churners", "base_rate", "roc_auc", "pr_auc", "brier",
    "log_loss", "top_decile_lift", "threshold", "precision", "recall", "f1", "accuracy",
    "flagged_share",
]  # fmt: skip
METHOD = (
    "ROC-AUC (Mann-Whitney), PR-AUC (average precision), Brier score, log loss, lift and "
    "cumulative gains by score decile (ties shared pro rata), quantile-binned calibration curve"
)


@dataclass(frozen=True, eq=False)  # holds DataFrames: compare .to_frame() instead
class ChurnEvaluation:
    """Churn scores compared on one population (models and baselines in the same tables).

    Attributes
    ----------
    metrics
        One row per model; see :meth:`to_frame`.
    deciles
        ``model`` plus :func:`segkit.churn._metrics.decile_table` columns (decile 1 = highest
        scores): ``subscribers``, ``churners``, ``churn_rate``, ``lift``, ``cumulative_gain``,
        ``cumulative_lift``, ``population_share``.
    calibration
        ``model, bin, subscribers, mean_predicted, observed_rate`` (quantile bins).
    roc, pr
        Curves by ``model``: ``threshold, fpr, tpr`` and ``threshold, recall, precision``.
    threshold
        Churn probability at or above which a subscriber is flagged in the threshold metrics.
    """

    metrics: pd.DataFrame
    deciles: pd.DataFrame
    calibration: pd.DataFrame
    roc: pd.DataFrame
    pr: pd.DataFrame
    threshold: float
    n_subscribers: int
    n_churned: int
    method: str = METHOD

    @property
    def base_rate(self) -> float:
        """Observed churn rate of the population."""
        return self.n_churned / self.n_subscribers

    @property
    def best_model(self) -> str:
        """The model (or baseline) with the highest ROC-AUC."""
        return str(self.metrics.loc[self.metrics["roc_auc"].idxmax(), "model"])

    def to_frame(self) -> pd.DataFrame:
        """One row per model: ``model, role`` ("model" or "baseline"), ``subscribers, churners,
        base_rate, roc_auc, pr_auc, brier, log_loss, top_decile_lift`` and, at ``threshold``,
        ``precision, recall, f1, accuracy, flagged_share``."""
        return self.metrics.copy()

    def summary(self) -> str:
        """The metrics table in words, best ROC-AUC first."""
        lines = [
            f"Churn evaluation on {self.n_subscribers:,} subscribers, {self.n_churned:,} churned "
            f"({self.base_rate:.1%}); threshold {self.threshold:g}.",
        ]
        for row in self.metrics.sort_values("roc_auc", ascending=False).itertuples():
            lines.append(
                f"  {row.model} ({row.role}): ROC-AUC {row.roc_auc:.3f}, PR-AUC {row.pr_auc:.3f}, "
                f"Brier {row.brier:.4f}, log loss {row.log_loss:.4f}, top-decile lift "
                f"{row.top_decile_lift:.2f}, recall {row.recall:.2f} at precision "
                f"{_fmt(row.precision)}"
            )
        lines.append(f"Best ROC-AUC: {self.best_model}.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = html.escape(self.summary().splitlines()[0])
        return f"<p>{head}</p>" + self.metrics.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.2f}"


def _as_outcome(y_true: object) -> np.ndarray:
    values = pd.Series(np.asarray(y_true).ravel())
    if values.isna().any():
        raise ValidationError(f"y_true has {int(values.isna().sum())} missing outcome(s)")
    ok = values.isin([0, 1, True, False]).all()
    if not ok:
        bad = values[~values.isin([0, 1, True, False])].unique()[:5].tolist()
        raise ValidationError(f"y_true must be 0/1 or boolean churn outcomes; got values {bad}")
    y = values.astype(int).to_numpy()
    if y.sum() == 0 or y.sum() == len(y):
        raise ValidationError(
            f"y_true has only {'non-churners' if y.sum() == 0 else 'churners'} ({len(y)} rows); "
            "ROC-AUC and lift need both classes"
        )
    return y


def _as_probability(name: str, scores: object, n: int) -> np.ndarray:
    try:
        p = np.asarray(scores, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValidationError(f"scores of {name!r} must be numbers") from None
    if len(p) != n:
        raise ValidationError(f"scores of {name!r} have {len(p)} values, y_true has {n}")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"scores of {name!r} must be churn probabilities in [0, 1]: {int(bad.sum())} are not, "
            f"e.g. row {row} = {p[row]!r}"
        )
    return p


def evaluate(
    y_true: object,
    scores_by_model: Mapping[str, object],
    threshold: float = 0.5,
    *,
    baselines: Iterable[str] = (),
    n_bins: int = 10,
) -> ChurnEvaluation:
    """Compare churn probabilities of several models on the same subscribers.

    Parameters
    ----------
    y_true
        0/1 (or boolean) churn outcomes.
    scores_by_model
        Model name -> churn probabilities in [0, 1], aligned with ``y_true``.
    threshold
        Probability at or above which a subscriber is flagged (precision, recall, F1, accuracy).
    baselines
        Names in ``scores_by_model`` that are baselines (``role`` column).
    n_bins
        Quantile bins of the calibration curve.

    Returns
    -------
    ChurnEvaluation
        Metrics (definitions in ``segkit.churn._metrics``), deciles, calibration and curves.
    """
    if not isinstance(scores_by_model, Mapping) or not scores_by_model:
        raise ValidationError("scores_by_model must be a non-empty mapping {model name: scores}")
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold < 1
    ):
        raise ValidationError(f"threshold must be a probability in (0, 1), got {threshold!r}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 2:
        raise ValidationError(f"n_bins must be an integer >= 2, got {n_bins!r}")
    y = _as_outcome(y_true)
    baseline_names = set(baselines)
    unknown = sorted(baseline_names - set(scores_by_model))
    if unknown:
        raise ValidationError(
            f"baselines {unknown} are not in scores_by_model; names: {', '.join(scores_by_model)}"
        )
    rows, deciles, calibration, roc, pr = [], [], [], [], []
    for name, scores in scores_by_model.items():
        p = _as_probability(str(name), scores, len(y))
        table = decile_table(y, p)
        rows.append({
            "model": str(name),
            "role": "baseline" if name in baseline_names else "model",
            "subscribers": len(y), "churners": int(y.sum()), "base_rate": float(y.mean()),
            "roc_auc": roc_auc(y, p), "pr_auc": average_precision(y, p),
            "brier": brier_score(y, p), "log_loss": log_loss(y, p),
            "top_decile_lift": float(table["lift"].iloc[0]), "threshold": float(threshold),
            **threshold_metrics(y, p, threshold),
        })  # fmt: skip
        deciles.append(table.assign(model=str(name)))
        calibration.append(calibration_table(y, p, n_bins).assign(model=str(name)))
        roc.append(roc_curve(y, p).assign(model=str(name)))
        pr.append(pr_curve(y, p).assign(model=str(name)))
    return ChurnEvaluation(
        metrics=pd.DataFrame(rows, columns=METRIC_COLUMNS),
        deciles=_model_first(deciles),
        calibration=_model_first(calibration),
        roc=_model_first(roc),
        pr=_model_first(pr),
        threshold=float(threshold),
        n_subscribers=len(y),
        n_churned=int(y.sum()),
    )


def _model_first(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    return frame[["model", *[c for c in frame.columns if c != "model"]]]
