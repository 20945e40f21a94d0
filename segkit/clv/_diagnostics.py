"""Model checks: calibration vs holdout purchases, and the period-transactions histogram."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.clv._transactions import _TransactionModel
from segkit.clv._validation import _as_float, _fail_where, check_rfm
from segkit.errors import ValidationError

#: holdout purchase rates more than this far (relative) from the calibration rate are reported.
RATE_CHANGE_LIMIT = 0.2


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

    Whether the two periods are alike: ``calibration_rate`` is the customers' repeat purchases per
    week (per time unit when it is unknown) over their time in the calibration period (sum of x
    over sum of T), ``holdout_rate`` their purchases per week in the holdout, ``predicted_rate``
    the model's; ``rate_change`` = holdout_rate / calibration_rate - 1. ``unseen_months``: calendar
    months that make up at least a week of the holdout but none of the calibration period (known
    when ``cutoff`` is given): a season the model never saw. ``period_note`` says in words when
    the periods differ (a change beyond ``RATE_CHANGE_LIMIT`` or unseen months), else is empty.
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
    calibration_rate: float = float("nan")
    holdout_rate: float = float("nan")
    predicted_rate: float = float("nan")
    unseen_months: tuple[str, ...] = ()
    method: str = "conditional expected purchases E[Y(t) | x, t_x, T] over the holdout length"

    @property
    def rate_change(self) -> float:
        """Holdout purchase rate relative to the calibration period's, minus one."""
        return self.holdout_rate / self.calibration_rate - 1 if self.calibration_rate > 0 else float("nan")

    @property
    def period_note(self) -> str:
        """Why calibration and holdout may not be comparable (season, trend), or ""."""
        per = {"D": "week", "W": "week"}.get(self.time_unit or "", "time unit")
        parts = []
        if self.unseen_months:
            months = self.unseen_months
            named = months[0] if len(months) == 1 else ", ".join(months[:-1]) + " and " + months[-1]
            parts.append(f"the holdout covers {named}, which the calibration "
                         "period does not contain, so a seasonal peak or trough there is unknown to the model")
        if abs(self.rate_change) > RATE_CHANGE_LIMIT:
            parts.append(
                f"customers bought {self.calibration_rate:.3g} times a {per} in the calibration period and "
                f"{self.holdout_rate:.3g} in the holdout ({100 * self.rate_change:+.0f}%; the model "
                f"expected {self.predicted_rate:.3g}): the purchase rate changed between the periods "
                "(season or trend)")
        if not parts:
            return ""
        return "Calibration and holdout differ: " + "; ".join(parts) + ". Read the holdout error with that in mind."

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        unit = {"D": "days", "W": "weeks"}.get(self.time_unit or "", "time units")
        return (
            f"{self.model}: over a {self.holdout_length:.4g}-{unit} holdout, customers made "
            f"{self.total_actual:,.0f} purchases; the model predicted {self.total_predicted:,.1f} "
            f"({100 * self.relative_error:+.1f}%). Per customer: MAE {self.mae:.3f}, correlation "
            f"{self.correlation:.3f}. Purchase rate per {'week' if self.time_unit else 'time unit'}: "
            f"calibration {self.calibration_rate:.3g}, holdout {self.holdout_rate:.3g}, model "
            f"{self.predicted_rate:.3g}." + (f" {self.period_note}" if self.period_note else "")
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
    cutoff: object | None = None,
) -> CalibrationHoldoutResult:
    """Compare holdout purchases with the model's conditional expectations (Fader, Hardie & Lee
    2005, Figure 4): group customers by calibration frequency (``max_frequency`` and above pooled).

    ``cutoff`` (the end of the calibration period, time-zone aware; needs the model's time unit)
    places both periods on the calendar: the calibration period starts at the oldest customer's
    first purchase (``cutoff - max(T)``), the holdout ends ``holdout_length`` after the cutoff,
    and holdout months the calibration never saw are reported as ``unseen_months``.
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
        **_period_rates(x, age, actual, predicted, float(holdout_length), getattr(model, "time_unit_", None)),
        unseen_months=_unseen_months(cutoff, float(age.max()), float(holdout_length), getattr(model, "time_unit_", None)),
    )


def _period_rates(x: np.ndarray, age: np.ndarray, actual: np.ndarray, predicted: np.ndarray, length: float,
                  unit: str | None) -> dict[str, float]:
    """Purchases per week (per unit when unknown): calibration sum(x)/sum(T), holdout and model."""
    weeks = {"D": 1 / 7, "W": 1.0}.get(unit or "", 1.0)  # time units per week -> weeks per unit
    exposure = float(age.sum()) * weeks
    holdout_exposure = len(actual) * length * weeks
    return {
        "calibration_rate": float(x.sum()) / exposure if exposure > 0 else float("nan"),
        "holdout_rate": float(actual.sum()) / holdout_exposure,
        "predicted_rate": float(predicted.sum()) / holdout_exposure,
    }


def _unseen_months(cutoff: object | None, max_age: float, length: float, unit: str | None) -> tuple[str, ...]:
    """Calendar months with at least seven holdout days and no calibration day."""
    if cutoff is None:
        return ()
    if unit not in ("D", "W"):
        raise ValidationError("cutoff needs the model's time unit (fit with time_unit='D' or 'W')")
    days = 7.0 if unit == "W" else 1.0
    end = utc_timestamp(cutoff, "cutoff")
    start = end - pd.Timedelta(days=max_age * days)
    seen = set(pd.date_range(start.normalize(), end, freq="D").strftime("%m"))
    holdout = pd.date_range(end, end + pd.Timedelta(days=length * days), freq="D", inclusive="right")
    counts = pd.Series(holdout.strftime("%m")).value_counts()
    months = [m for m in dict.fromkeys(holdout.strftime("%m")) if m not in seen and counts[m] >= 7]
    return tuple(pd.Timestamp(2000, int(m), 1).strftime("%B") for m in months)


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
