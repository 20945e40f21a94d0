"""Common front end of the repeat-purchase ("buy till you die") models: fit and predictions."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from segkit.clv._base import _MaximumLikelihoodModel
from segkit.clv._optimize import Objective
from segkit.clv._sufficiency import assess_data_sufficiency
from segkit.clv._validation import (
    FEATURE_COLUMNS,
    check_rfm,
    check_time_unit,
    compress,
    feature_columns,
    rfm_unit,
    wrap_like,
)
from segkit.errors import DataSufficiencyWarning, ValidationError


class _TransactionModel(_MaximumLikelihoodModel):
    """Fit on (frequency, recency, T) and predict future purchases and the probability alive.

    Time is in the unit of the data (``time_unit_``: "D", "W" or None when not stated); every
    horizon argument ``t`` is in that unit. ``frequency`` counts repeat purchases, ``recency`` is
    the time from the first to the last purchase and ``T`` the time from the first purchase to the
    end of the calibration period (Fader, Hardie & Lee 2005 notation x, t_x, T).
    """

    # ------------------------------------------------------------------ model-specific hooks
    def _objective(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
        """Mean negative log-likelihood (and gradient) in log-parameter space over compressed rows."""
        raise NotImplementedError

    def _log_likelihood_rows(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _conditional_expected(self, params: np.ndarray, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
        """E[Y(t) | x, t_x, T] at the given parameters (used for CLV draws too)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ fitting
    def fit(
        self, frequency: Any, recency: Any, T: Any, weights: Any = None, *, time_unit: str | None = None
    ) -> _TransactionModel:
        """Maximum-likelihood fit on the unique ``(frequency, recency, T)`` rows with counts.

        Parameters
        ----------
        frequency, recency, T
            Repeat purchases, time of last purchase and customer age (same time unit).
        weights
            Optional number of customers each row stands for (default 1 each).
        time_unit
            "D" or "W" if known; recorded as ``time_unit_`` and used by CLV and the verdict.

        Warns
        -----
        DataSufficiencyWarning
            When :func:`assess_data_sufficiency` finds the data thin (``data_sufficiency_``), or a
            parameter estimate sits on its search bound.
        """
        self._validate_params()
        x, tx, age, w = check_rfm(frequency, recency, T, weights)
        unit = check_time_unit(time_unit)
        data = compress(x, tx, age, weights=w)
        total = float(data.weights.sum())
        xu, txu, Tu = data.columns
        verdict = assess_data_sufficiency(xu, txu, Tu, weights=data.weights, time_unit=unit)
        if not verdict.sufficient:
            warnings.warn(verdict.message, DataSufficiencyWarning, stacklevel=2)
        objective = self._objective(xu, txu, Tu, data.weights / total)
        self.time_unit_ = unit  # before the fit: its notes quote rates per unit
        self._fit_compressed(objective, self._starts(xu, Tu, data.weights), total)
        self.n_customers_ = total
        self.n_unique_rows_ = data.n_unique
        self.data_sufficiency_ = verdict
        return self

    def fit_features(self, df: pd.DataFrame) -> _TransactionModel:
        """Fit on a segkit feature table (columns ``frequency``, ``recency``, ``T``; the time unit
        is read from ``df.attrs["rfm_unit"]`` (:func:`segkit.features.compute`) or
        ``df.attrs["unit"]`` (:func:`segkit.features.rfm`) when present)."""
        cols = feature_columns(df, FEATURE_COLUMNS)
        return self.fit(cols["frequency"], cols["recency"], cols["T"], time_unit=rfm_unit(df))

    @staticmethod
    def _nbd_start(x: np.ndarray, T: np.ndarray, w: np.ndarray) -> tuple[float, float]:
        """Method-of-moments (r, alpha) of a gamma-Poisson count over the mean age."""
        mean_T = np.average(T, weights=w)
        m = np.average(x, weights=w)
        v = np.average((x - m) ** 2, weights=w)
        alpha = mean_T * m / (v - m) if v > 1.05 * m else 10 * mean_T
        return max(m * alpha / mean_T, 1e-3), max(alpha, 1e-3)

    def _starts(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    # ------------------------------------------------------------------ predictions
    def _params(self) -> np.ndarray:
        self._check_fitted()
        return self.params_.to_numpy()

    def log_likelihood_rows(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
        return self._log_likelihood_rows(self._params(), x, tx, age)

    def expected_purchases(self, t: Any) -> np.ndarray:
        """Expected number of repeat purchases in ``(0, t]`` for a newly acquired customer, E[X(t)]."""
        t = _horizon(t)
        zero = np.zeros_like(t)
        return self._conditional_expected(self._params(), t, zero, zero, zero)

    def conditional_expected_purchases(
        self, t: Any, frequency: Any, recency: Any, T: Any
    ) -> np.ndarray | pd.Series:
        """Expected purchases in the next ``t`` periods, E[Y(t) | x, t_x, T]."""
        x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
        out = self._conditional_expected(self._params(), _horizon(t), x, tx, age)
        return wrap_like(out, frequency, recency, T, name="expected_purchases")

    def expected_purchases_in_window(
        self, start: Any, end: Any, frequency: Any, recency: Any, T: Any
    ) -> np.ndarray | pd.Series:
        """Expected purchases between ``start`` and ``end`` periods after the calibration end."""
        start, end = _horizon(start), _horizon(end)
        if np.any(end < start):
            raise ValidationError("window end must be >= window start")
        x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
        params = self._params()
        out = self._conditional_expected(params, end, x, tx, age) - self._conditional_expected(
            params, start, x, tx, age
        )
        return wrap_like(out, frequency, recency, T, name="expected_purchases")


def _horizon(t: Any) -> np.ndarray:
    """A non-negative finite horizon (scalar or array) in model time units."""
    try:
        values = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"horizons must be numbers, got {t!r}") from None
    if not np.all(np.isfinite(values) & (values >= 0)):
        raise ValidationError(f"horizons must be finite and >= 0, got {t!r}")
    return values
