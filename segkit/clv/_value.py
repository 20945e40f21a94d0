"""Customer lifetime value: discounted expected spend over a horizon, with parameter uncertainty."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.clv._gamma_gamma import GammaGamma, check_spend, expected_spend
from segkit.clv._transactions import _TransactionModel
from segkit.clv._validation import check_rfm, compress
from segkit.errors import ValidationError

#: one month in each time unit: 365.25 / 12 days.
MONTH = {"D": 365.25 / 12, "W": 365.25 / 12 / 7}


def _period_length(model: _TransactionModel, period_length: float | None) -> float:
    if period_length is not None:
        if not period_length > 0:
            raise ValidationError(f"period_length must be > 0, got {period_length!r}")
        return float(period_length)
    unit = getattr(model, "time_unit_", None)
    if unit not in MONTH:
        raise ValidationError(
            "the transaction model's time unit is unknown, so a month cannot be converted: pass "
            "period_length (the length of one discounting period in the data's time unit, e.g. 30 "
            "for days) or fit with time_unit='D' or 'W'"
        )
    return MONTH[unit]


def _check_value_args(periods: int, discount_rate: float) -> None:
    if isinstance(periods, bool) or not isinstance(periods, int | np.integer) or periods < 1:
        raise ValidationError(f"periods must be a whole number >= 1, got {periods!r}")
    if not (np.isfinite(discount_rate) and discount_rate > -1):
        raise ValidationError(f"discount_rate must be > -1 (per period), got {discount_rate!r}")


def _clv(
    transaction_params: np.ndarray,
    conditional_expected: Any,
    spend_params: np.ndarray,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    m: np.ndarray,
    periods: int,
    length: float,
    discount_rate: float,
) -> np.ndarray:
    """sum_k E[spend] (E[Y(k L)] - E[Y((k-1) L)]) / (1 + d)^k over k = 1..periods."""
    edges = length * np.arange(periods + 1)
    cumulative = conditional_expected(transaction_params, edges[:, None], x[None, :], tx[None, :], T[None, :])
    per_period = np.diff(cumulative, axis=0)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1)
    return expected_spend(spend_params, x, m) * (discount @ per_period)


def customer_lifetime_value(
    transaction_model: _TransactionModel,
    spend_model: GammaGamma,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    *,
    periods: int = 12,
    period_length: float | None = None,
    discount_rate: float = 0.01,
) -> np.ndarray | pd.Series:
    """Discounted expected revenue of each customer over ``periods`` future periods.

    ``CLV = sum_{k=1..K} E[M | x, m] (E[Y(kL) | x, t_x, T] - E[Y((k-1)L) | x, t_x, T]) / (1 + d)^k``:
    expected purchases in each period from the transaction model (BG/NBD or Pareto/NBD), times the
    Gamma-Gamma expected spend per purchase, discounted at ``discount_rate`` per period and paid at
    the end of the period. This is the discrete-time approximation used by lifetimes'
    ``customer_lifetime_value`` (which uses ``L`` = 30 days or 4.345 weeks).

    Parameters
    ----------
    periods
        Number of discounting periods K (default 12).
    period_length
        L, the length of one period in the data's time unit. Default: one month (365.25/12 days
        or 365.25/84 weeks) from the model's ``time_unit_``; required when that is unknown.
    discount_rate
        d, the discount rate per period (default 0.01, about 12.7% a year for monthly periods).
    """
    _check_value_args(periods, discount_rate)
    transaction_model._check_fitted()
    spend_model._check_fitted()
    x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
    _, m = check_spend(x, monetary_value)
    out = _clv(
        transaction_model.params_.to_numpy(), transaction_model._conditional_expected,
        spend_model.params_.to_numpy(), x, tx, age, m, periods,
        _period_length(transaction_model, period_length), discount_rate,
    )
    for like in (frequency, recency, T, monetary_value):
        if isinstance(like, pd.Series):
            return pd.Series(out, index=like.index, name="clv")
    return out


@dataclass(frozen=True)
class CLVIntervals:
    """Point CLV and intervals per customer from parameter uncertainty.

    ``lower``/``upper`` are per-customer bounds; ``total_lower``/``total_upper`` bound the sum over
    all customers (quantiles of the per-draw total, not the sum of customer bounds). ``method``
    says how the intervals were made; ``level`` is their nominal coverage.
    """

    clv: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    n_draws: int
    periods: int
    period_length: float
    discount_rate: float
    total_lower: float
    total_upper: float
    method: str
    index: pd.Index | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per customer: clv, lower, upper."""
        return pd.DataFrame({"clv": self.clv, "lower": self.lower, "upper": self.upper}, index=self.index)

    def summary(self) -> str:
        return (
            f"CLV over {self.periods} periods of {self.period_length:.4g} time units at "
            f"{100 * self.discount_rate:g}% per period: total {self.clv.sum():,.2f}, "
            f"{100 * self.level:g}% interval for the total [{self.total_lower:,.2f}, "
            f"{self.total_upper:,.2f}]. {self.method}"
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.to_frame().head(20).to_html()


def clv_intervals(
    transaction_model: _TransactionModel,
    spend_model: GammaGamma,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any,
    *,
    periods: int = 12,
    period_length: float | None = None,
    discount_rate: float = 0.01,
    level: float = 0.95,
    n_draws: int = 200,
    random_state: int | np.random.Generator | None = None,
) -> CLVIntervals:
    """CLV with equal-tailed intervals from parameter uncertainty.

    Both models' log-parameters are drawn from their asymptotic normal distributions (mean: the
    estimate; covariance: inverse observed information, see the models' ``sample_params``, which
    holds a coordinate at a limit fixed), independently — the
    two likelihoods share no parameters — and the CLV of each customer is recomputed per draw; the
    interval is the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the draws. The point value is
    the plug-in CLV at the estimates. Intervals reflect parameter (estimation) uncertainty only,
    not the randomness of each customer's future purchases. Work is done on unique customer rows.
    """
    _check_value_args(periods, discount_rate)
    if not 0 < level < 1 or n_draws < 10:
        raise ValidationError(f"need 0 < level < 1 and n_draws >= 10, got level={level}, n_draws={n_draws}")
    length = _period_length(transaction_model, period_length)
    point = customer_lifetime_value(
        transaction_model, spend_model, frequency, recency, T, monetary_value,
        periods=periods, period_length=length, discount_rate=discount_rate,
    )
    x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
    _, m = check_spend(x, monetary_value)
    rows = compress(x, tx, age, m, weights=np.ones(len(x)))
    rng = np.random.default_rng(random_state)
    t_draws = transaction_model.sample_params(n_draws, rng)
    s_draws = spend_model.sample_params(n_draws, rng)
    draws = np.empty((n_draws, rows.n_unique))
    for i in range(n_draws):
        if s_draws[i, 1] <= 1:  # q <= 1: infinite mean spend in this draw
            draws[i] = np.inf
            continue
        draws[i] = _clv(t_draws[i], transaction_model._conditional_expected, s_draws[i], *rows.columns, periods, length, discount_rate)
    probs = [(1 - level) / 2, (1 + level) / 2]
    lower, upper = np.quantile(draws, probs, axis=0)
    total_lower, total_upper = np.quantile(draws @ rows.weights, probs)
    index = point.index if isinstance(point, pd.Series) else None
    return CLVIntervals(
        clv=np.asarray(point), lower=lower[rows.inverse], upper=upper[rows.inverse], level=level,
        n_draws=n_draws, periods=periods, period_length=length, discount_rate=discount_rate,
        total_lower=float(total_lower), total_upper=float(total_upper),
        method=(
            f"{type(transaction_model).__name__} + GammaGamma; {n_draws} draws from the asymptotic "
            "normal of the log-parameters (independent models); equal-tailed quantiles"
        ),
        index=index,
    )
