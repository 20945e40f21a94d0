"""Model checks: calibration vs holdout purchases, and the period-transactions histogram."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.clv._transactions import _TransactionModel
from segkit.clv._validation import _as_float, _fail_where, check_rfm
from segkit.errors import ValidationError


def _bucket_labels(x: np.ndarray, max_frequency: int) -> pd.Categorical:
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    codes = np.minimum(x, max_frequency).astype(int)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def _check_max_frequency(max_frequency: int) -> None:
    if isinstance(max_frequency, bool) or not isinstance(max_frequency, int | np.integer) or max_frequency < 1:
        raise ValidationError(f"max_frequency must be a whole number >= 1, got {max_frequency!r}")


@dataclass(frozen=True)
class CalibrationHoldoutResult:
    """Mean actual vs predicted holdout purchases by calibration frequency, plus overall fit.

    ``table`` columns: ``calibration_frequency`` (bucket, the last one open-ended), ``customers``,
    ``actual_mean``, ``predicted_mean``. ``mae`` and ``correlation`` compare predicted and actual
    holdout purchases per customer; ``relative_error`` is (predicted - actual) / actual in total.
    """

    table: pd.DataFrame
    total_actual: float
    total_predicted: float
    relative_error: float
    mae: float
    correlation: float
    holdout_length: float
    time_unit: str | None
    model: str
    method: str = "conditional expected purchases E[Y(t) | x, t_x, T] over the holdout length"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        unit = {"D": "days", "W": "weeks"}.get(self.time_unit or "", "time units")
        return (
            f"{self.model}: over a {self.holdout_length:.4g}-{unit} holdout, customers made "
            f"{self.total_actual:,.0f} purchases; the model predicted {self.total_predicted:,.1f} "
            f"({100 * self.relative_error:+.1f}%). Per customer: MAE {self.mae:.3f}, correlation "
            f"{self.correlation:.3f}."
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.table.to_html(index=False, float_format=lambda v: f"{v:.3f}")


def calibration_vs_holdout(
    model: _TransactionModel,
    frequency: Any,
    recency: Any,
    T: Any,
    holdout_purchases: Any,
    holdout_length: float,
    *,
    max_frequency: int = 7,
) -> CalibrationHoldoutResult:
    """Compare holdout purchases with the model's conditional expectations (Fader, Hardie & Lee
    2005, Figure 4): group customers by calibration frequency (``max_frequency`` and above pooled).
    """
    _check_max_frequency(max_frequency)
    if not (np.isfinite(holdout_length) and holdout_length > 0):
        raise ValidationError(f"holdout_length must be > 0, got {holdout_length!r}")
    x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
    actual = _as_float(holdout_purchases, "holdout_purchases")
    if len(actual) != len(x):
        raise ValidationError(f"holdout_purchases has {len(actual)} rows, the calibration data {len(x)}")
    _fail_where(~np.isfinite(actual) | (actual < 0), "holdout_purchases must be finite and >= 0", {"holdout_purchases": actual})
    predicted = np.asarray(model.conditional_expected_purchases(holdout_length, x, tx, age))
    frame = pd.DataFrame({"calibration_frequency": _bucket_labels(x, max_frequency), "actual": actual, "predicted": predicted})
    table = (
        frame.groupby("calibration_frequency", observed=True)
        .agg(customers=("actual", "size"), actual_mean=("actual", "mean"), predicted_mean=("predicted", "mean"))
        .reset_index()
    )
    total_actual, total_predicted = float(actual.sum()), float(predicted.sum())
    both_vary = np.ptp(actual) > 0 and np.ptp(predicted) > 0
    return CalibrationHoldoutResult(
        table=table,
        total_actual=total_actual,
        total_predicted=total_predicted,
        relative_error=(total_predicted - total_actual) / total_actual if total_actual > 0 else float("nan"),
        mae=float(np.mean(np.abs(predicted - actual))),
        correlation=float(np.corrcoef(predicted, actual)[0, 1]) if both_vary else float("nan"),
        holdout_length=float(holdout_length),
        time_unit=getattr(model, "time_unit_", None),
        model=type(model).__name__,
    )


@dataclass(frozen=True)
class PeriodTransactionsResult:
    """How many customers made 0, 1, ... repeat purchases in calibration: actual vs model.

    ``table`` columns: ``frequency`` (bucket, last open-ended), ``actual``, ``expected``.
    The expected count sums each customer's P(X(T_i) = n) at their own age T_i (exact, not
    simulated); ``chi_square`` is the Pearson statistic over the buckets.
    """

    table: pd.DataFrame
    chi_square: float
    model: str
    method: str = "sum over customers of P(X(T_i) = n) at each customer's age"

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return f"{self.model}: repeat-purchase histogram, Pearson chi-square {self.chi_square:.2f} over {len(self.table)} buckets."

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.table.to_html(index=False, float_format=lambda v: f"{v:.1f}")


def period_transactions(
    model: _TransactionModel, frequency: Any, T: Any, *, max_frequency: int = 7
) -> PeriodTransactionsResult:
    """Actual vs expected number of customers by calibration repeat purchases (FHL 2005, Figure 2)."""
    _check_max_frequency(max_frequency)
    x, _, age, _ = check_rfm(frequency, np.zeros(len(np.atleast_1d(frequency))), T, require_repeat=False)
    ages, counts = np.unique(age, return_counts=True)
    n = np.arange(max_frequency)
    pmf = model.probability_of_purchases(n[:, None], ages[None, :])
    expected_head = pmf @ counts
    expected = np.append(expected_head, counts.sum() - expected_head.sum())
    actual = np.bincount(np.minimum(x, max_frequency).astype(int), minlength=max_frequency + 1)
    labels = [str(k) for k in n] + [f"{max_frequency}+"]
    table = pd.DataFrame({"frequency": labels, "actual": actual.astype(float), "expected": expected})
    chi_square = float(np.sum((actual - expected) ** 2 / np.maximum(expected, 1e-12)))
    return PeriodTransactionsResult(table=table, chi_square=chi_square, model=type(model).__name__)
