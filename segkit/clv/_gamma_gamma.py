"""The Gamma-Gamma model of spend per transaction (Fader, Hardie & Lee 2005, "RFM and CLV";
Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value")."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from segkit.clv._base import _MaximumLikelihoodModel
from segkit.clv._optimize import Objective
from segkit.clv._validation import _as_float, _fail_where, compress, feature_columns, wrap_like
from segkit.errors import DataSufficiencyWarning, InputError, ValidationError

__all__ = ["GammaGamma"]


def check_spend(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate (x, m) pairs; ``m`` must be finite and >= 0 wherever ``x > 0`` (rows with x = 0
    are allowed and carry no spend information; zero spend is handled by the caller)."""
    x, m = _as_float(frequency, "frequency"), _as_float(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise ValidationError(f"frequency and monetary_value lengths differ: {len(x)} vs {len(m)}")
    if len(x) == 0:
        raise InputError("no customers: frequency and monetary_value are empty")
    cols = {"frequency": x, "monetary_value": m}
    _fail_where(~np.isfinite(x) | (x < 0) | (x != np.round(x)), "frequency must be a whole number >= 0", cols)
    _fail_where((x > 0) & ~(np.isfinite(m) & (m >= 0)), "monetary_value must be finite and >= 0 for repeat buyers", cols)
    return x, np.where(x > 0, m, 0.0)


def log_likelihood_rows(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-likelihood of a customer's mean spend m over x transactions (Fader & Hardie 2013, (4))."""
    p, q, v = params
    px = p * x
    return (
        gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(v) + (px - 1) * np.log(m)
        + px * np.log(x) - (px + q) * np.log(v + x * m)
    )


def _objective(x: np.ndarray, m: np.ndarray, share: np.ndarray) -> Objective:
    """Mean negative log-likelihood and its analytic gradient in log-parameter space."""

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        p, q, v = params
        with np.errstate(all="ignore"):
            ll = log_likelihood_rows(params, x, m)
            psi = digamma(p * x + q)
            d_p = x * (psi - digamma(p * x) + np.log(m) + np.log(x) - np.log(v + x * m))
            d_q = psi - digamma(q) + np.log(v) - np.log(v + x * m)
            d_v = q / v - (p * x + q) / (v + x * m)
            value = -float(share @ ll)
            grad = -np.array([share @ d for d in (d_p, d_q, d_v)]) * params
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(3)
        return value, grad

    return value_and_grad


class GammaGamma(_MaximumLikelihoodModel):
    """Gamma-Gamma spend model: transaction values ~ gamma(p, nu), nu ~ gamma(q, v) across customers.

    Fit on repeat buyers' mean spend per repeat transaction; customers with ``frequency == 0`` are
    ignored (they carry no spend information). Assumes spend is independent of purchase frequency:
    check ``spend_frequency_correlation_`` (Pearson, among repeat buyers) is near 0.

    Attributes
    ----------
    params_ : Series (p, q, v)
    log_likelihood_, standard_errors_, confidence_intervals_, covariance_log_, n_customers_,
    converged_, n_iter_, optimizer_, fit_attempts_, spend_frequency_correlation_
    """

    param_names = ("p", "q", "v")

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGamma:
        """Maximum-likelihood fit on unique (frequency, monetary_value) pairs of repeat buyers."""
        self._validate_params()
        x, m = check_spend(frequency, monetary_value)
        w = np.ones(len(x)) if weights is None else _as_float(weights, "weights")
        if len(w) != len(x) or not np.all(np.isfinite(w) & (w >= 0)):
            raise ValidationError("weights must be finite, >= 0 and as long as frequency")
        zero_spend = (x > 0) & (m == 0) & (w > 0)
        if zero_spend.any():
            warnings.warn(
                f"GammaGamma: {int(zero_spend.sum())} repeat buyers with monetary_value 0 were left out "
                "of the fit (the model needs positive spend); their expected spend is still predicted",
                DataSufficiencyWarning,
                stacklevel=2,
            )
        keep = (x > 0) & (m > 0) & (w > 0)
        if not keep.any():
            raise ValidationError("no repeat buyers (frequency > 0) with spend > 0: Gamma-Gamma needs repeat spend")
        data = compress(x[keep], m[keep], weights=w[keep])
        total = float(data.weights.sum())
        xu, mu = data.columns
        objective = _objective(xu, mu, data.weights / total)
        self._fit_compressed(objective, _starts(mu, data.weights), total)
        self.n_customers_ = total
        self.n_unique_rows_ = data.n_unique
        self.spend_frequency_correlation_ = (
            float(np.corrcoef(x[keep], m[keep])[0, 1]) if keep.sum() > 2 and np.ptp(m[keep]) > 0 else float("nan")
        )
        return self

    def fit_features(self, df: pd.DataFrame) -> GammaGamma:
        """Fit on a segkit feature table (columns ``frequency`` and ``monetary_value``)."""
        cols = feature_columns(df, ("frequency", "monetary_value"))
        return self.fit(cols["frequency"], np.nan_to_num(cols["monetary_value"], nan=0.0))

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray | pd.Series:
        """E[M | x, m] = p (v + x m) / (p x + q - 1) (Fader, Hardie & Lee 2005, equation (5));
        the population mean p v / (q - 1) for customers with x = 0. Needs q > 1."""
        self._check_fitted()
        x, m = check_spend(frequency, monetary_value)
        out = expected_spend(self.params_.to_numpy(), x, m)
        return wrap_like(out, frequency, monetary_value, name="expected_spend")


def expected_spend(params: np.ndarray, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Posterior mean spend per transaction (see :meth:`GammaGamma.conditional_expected_spend`)."""
    p, q, v = params
    if q <= 1:
        raise ValidationError(f"Gamma-Gamma q = {q:.4g} <= 1: the mean spend is infinite (heavy tail)")
    return p * (v + x * m) / (p * x + q - 1)


def _starts(m: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
    """Grid of (p, q) with v set so that the prior mean spend p v / (q - 1) equals the data mean."""
    mean = float(np.average(m, weights=w))
    return [np.log([p, q, mean * (q - 1) / p]) for p in (1.0, 4.0, 10.0) for q in (2.0, 4.0, 8.0)]
