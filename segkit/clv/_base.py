"""Shared estimator machinery: parameter validation, fitting bookkeeping, uncertainty, summary."""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from segkit.clv._optimize import LOG_BOUND, Objective, Optimum, hessian, minimize
from segkit.errors import DataSufficiencyWarning, NotFittedError, ValidationError

_NUMBER = (int, float, np.integer, np.floating)


class _MaximumLikelihoodModel:
    """Parameters, uncertainty and reporting common to the CLV models.

    Subclasses define ``param_names`` (as named in the literature), ``_objective`` (mean negative
    log-likelihood and gradient in log-parameter space over the compressed data) and ``_starts``.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    #: constructor parameters: name -> (type check, lower bound exclusive, upper bound exclusive)
    _parameter_constraints: ClassVar[dict[str, tuple[tuple[type, ...], float, float]]] = {
        "max_iter": ((int, np.integer), 0, np.inf),
        "confidence_level": (_NUMBER, 0.0, 1.0),
    }

    def __init__(self, *, max_iter: int = 2000, confidence_level: float = 0.95) -> None:
        self.max_iter = max_iter
        self.confidence_level = confidence_level

    # ----------------------------------------------------------------- parameters
    def _validate_params(self) -> None:
        for name, (types, low, high) in self._parameter_constraints.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, types) or not low < value < high:
                kinds = "/".join(t.__name__ for t in types)
                raise ValidationError(
                    f"{type(self).__name__}({name}={value!r}) is invalid: need a {kinds} in the open "
                    f"interval ({low}, {high})"
                )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor parameters (scikit-learn convention)."""
        return {name: getattr(self, name) for name in self._parameter_constraints}

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' or "
                "'fit_features' with your data first."
            )

    # ----------------------------------------------------------------- fitting
    def _fit_compressed(self, objective: Objective, starts: list[np.ndarray], total_weight: float) -> None:
        """Run the optimiser and store estimates, log-likelihood and Hessian-based uncertainty."""
        from segkit.clv._optimize import best_start

        optimum: Optimum = minimize(objective, best_start(objective, starts), max_iter=self.max_iter)
        theta = optimum.log_params
        self.params_ = pd.Series(np.exp(theta), index=list(self.param_names), name="estimate")
        self.log_likelihood_ = float(-optimum.mean_nll * total_weight)
        self.converged_ = optimum.converged
        self.n_iter_ = optimum.n_iter
        self.optimizer_ = optimum.optimizer
        self.fit_attempts_ = optimum.attempts
        self._store_uncertainty(objective, theta, total_weight)
        at_bound = [n for n, t in zip(self.param_names, theta, strict=True) if abs(t) > LOG_BOUND - 1e-3]
        self.parameters_at_bound_ = tuple(at_bound)
        if at_bound:
            warnings.warn(
                f"{type(self).__name__}: estimate of {', '.join(at_bound)} reached the search bound "
                f"(1e-8 or 1e8): the data cannot pin it down; treat predictions with caution",
                DataSufficiencyWarning,
                stacklevel=3,
            )

    def _store_uncertainty(self, objective: Objective, theta: np.ndarray, total_weight: float) -> None:
        names = list(self.param_names)
        info = hessian(objective, theta) * total_weight
        try:
            cov = np.linalg.inv(info)
            ok = bool(np.all(np.isfinite(cov)) and np.all(np.diag(cov) > 0))
            np.linalg.cholesky(info)
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            cov = np.full_like(info, np.nan)
            warnings.warn(
                f"{type(self).__name__}: the Hessian of the log-likelihood is not positive definite at "
                "the estimate, so standard errors and intervals are unavailable (NaN)",
                DataSufficiencyWarning,
                stacklevel=4,
            )
        self.covariance_log_ = pd.DataFrame(cov, index=names, columns=names)
        se_log = np.sqrt(np.diag(cov))
        z = stats.norm.ppf(0.5 + self.confidence_level / 2)
        self.standard_errors_ = pd.Series(np.exp(theta) * se_log, index=names, name="std_error")
        self.confidence_intervals_ = pd.DataFrame(
            {"lower": np.exp(theta - z * se_log), "upper": np.exp(theta + z * se_log)}, index=names
        )

    # ----------------------------------------------------------------- uncertainty draws
    def sample_params(self, n_draws: int, random_state: int | np.random.Generator | None = None) -> np.ndarray:
        """Draws of the parameters from the asymptotic normal of the log-parameters.

        Returns an array of shape ``(n_draws, n_params)`` on the natural scale (columns in
        ``param_names`` order). Uses ``covariance_log_``, the inverse observed information.
        """
        self._check_fitted()
        cov = self.covariance_log_.to_numpy()
        if not np.all(np.isfinite(cov)):
            raise ValidationError(
                f"{type(self).__name__} has no usable parameter covariance (Hessian not positive "
                "definite); intervals cannot be sampled"
            )
        rng = np.random.default_rng(random_state)
        return np.exp(rng.multivariate_normal(np.log(self.params_.to_numpy()), cov, size=n_draws))

    # ----------------------------------------------------------------- reporting
    def summary(self) -> pd.DataFrame:
        """Estimates with standard errors and Wald intervals (computed on the log scale)."""
        self._check_fitted()
        pct = f"{100 * self.confidence_level:g}%"
        table = pd.DataFrame(
            {
                "estimate": self.params_,
                "std_error": self.standard_errors_,
                f"lower {pct}": self.confidence_intervals_["lower"],
                f"upper {pct}": self.confidence_intervals_["upper"],
            }
        )
        table.index.name = "parameter"
        table.attrs.update(
            {
                "model": type(self).__name__,
                "log_likelihood": self.log_likelihood_,
                "n_customers": self.n_customers_,
                "converged": self.converged_,
                "optimizer": self.optimizer_,
                "time_unit": getattr(self, "time_unit_", None),
            }
        )
        return table

    def _repr_html_(self) -> str:
        if not hasattr(self, "params_"):
            return f"<p>{type(self).__name__} (not fitted)</p>"
        head = (
            f"<p><b>{type(self).__name__}</b>: {self.n_customers_:g} customers, log-likelihood "
            f"{self.log_likelihood_:.4f}, converged={self.converged_} ({self.optimizer_})</p>"
        )
        return head + self.summary().to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
