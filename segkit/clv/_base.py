"""Shared estimator machinery: parameter validation, fitting bookkeeping, uncertainty, summary."""

from __future__ import annotations

import html
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from segkit.clv._optimize import LOG_BOUND, Objective, Optimum, hessian, minimize
from segkit.errors import DataSufficiencyWarning, NotFittedError, ValidationError

_NUMBER = (int, float, np.integer, np.floating)


def _invert(info: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of an observed information matrix, and whether it is a usable covariance
    (positive definite, finite); NaN when not."""
    try:
        np.linalg.cholesky(info)
        inverse = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.full_like(info, np.nan), False
    if not (np.all(np.isfinite(inverse)) and np.all(np.diag(inverse) > 0)):
        return np.full_like(info, np.nan), False
    return inverse, True


class _MaximumLikelihoodModel:
    """Parameters, uncertainty and reporting common to the CLV models.

    Subclasses define ``param_names`` (as named in the literature), ``_objective`` (mean negative
    log-likelihood and gradient over the compressed data, in log-parameter space or in the
    coordinates given by ``_coordinate_map``) and ``_starts`` (in the same coordinates).
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
    #: names of the optimiser's coordinates (default: log of ``param_names``).
    coordinate_names: ClassVar[tuple[str, ...]] = ()
    #: log-parameters = ``_coordinate_map @ coordinates`` (None: the coordinates are the log-parameters).
    _coordinate_map: ClassVar[np.ndarray | None] = None

    def _coordinate_matrix(self) -> np.ndarray:
        n = len(self.param_names)
        return np.eye(n) if self._coordinate_map is None else np.asarray(self._coordinate_map, dtype=float)

    def _minimize(self, objective: Objective, start: np.ndarray) -> Optimum:
        """The optimiser cascade from ``start`` (models with a known limit on a bound override this)."""
        return minimize(objective, start, max_iter=self.max_iter)

    def _limit_coordinates(self, coords: np.ndarray) -> tuple[int, ...]:
        """Coordinates whose estimate is a limit on a bound (the likelihood is flat towards it):
        held fixed for the standard errors of the others. None by default."""
        return ()

    def _fit_notes(self, coords: np.ndarray) -> tuple[str, ...]:
        """Plain-words notes on the fit (each is also warned); none by default."""
        return ()

    def _fit_compressed(self, objective: Objective, starts: list[np.ndarray], total_weight: float) -> None:
        """Run the optimiser and store estimates, log-likelihood and Hessian-based uncertainty."""
        from segkit.clv._optimize import best_start

        optimum = self._minimize(objective, best_start(objective, starts))
        coords = optimum.log_params
        self._coordinates = np.asarray(coords, dtype=float)
        matrix = self._coordinate_matrix()
        self.params_ = pd.Series(np.exp(matrix @ coords), index=list(self.param_names), name="estimate")
        self.log_likelihood_ = float(-optimum.mean_nll * total_weight)
        self.converged_ = optimum.converged
        self.n_iter_ = optimum.n_iter
        self.optimizer_ = optimum.optimizer
        self.fit_attempts_ = optimum.attempts
        limit = self._limit_coordinates(coords)
        limit = self._store_uncertainty(objective, coords, total_weight, limit)
        on_bound = np.abs(coords) > LOG_BOUND - 1e-3
        self.parameters_at_bound_ = tuple(
            n for n, row in zip(self.param_names, matrix, strict=True) if np.any((row != 0) & on_bound)
        )
        self.notes_ = self._fit_notes(coords) + self._held_dropout_note(coords, limit)
        for note in self.notes_:
            warnings.warn(f"{type(self).__name__}: {note}", DataSufficiencyWarning, stacklevel=3)
        names = self.coordinate_names or self.param_names
        at_bound = [names[i] for i in np.flatnonzero(on_bound) if i not in limit]
        if at_bound:
            warnings.warn(
                f"{type(self).__name__}: estimate of {', '.join(at_bound)} reached the search bound "
                f"(1e-8 or 1e8): the data cannot pin it down; treat predictions with caution",
                DataSufficiencyWarning,
                stacklevel=3,
            )

    #: the optimiser's coordinates of the dropout process: when the Hessian is singular with them
    #: free (dropout not identified), they are held at the estimate for the others' uncertainty.
    _dropout_coordinates: ClassVar[tuple[int, ...]] = ()

    def _store_uncertainty(
        self, objective: Objective, coords: np.ndarray, total_weight: float, limit: tuple[int, ...] = ()
    ) -> tuple[int, ...]:
        """Inverse observed information in the optimiser's coordinates, mapped to the log-parameters.

        Coordinates in ``limit`` are held fixed: their rows are NaN, and so are those of every
        log-parameter that depends on them; the others are conditional on the limit. When the
        information is not positive definite and the dropout coordinates are free, they are held
        at the estimate as well (the purchase side, r and alpha, is usually well identified when
        the dropout side is not: the likelihood is then flat along a and b). Returns the
        coordinates held.
        """
        free = np.array([i not in limit for i in range(len(coords))])
        info = self._information(objective, coords, free) * total_weight
        inverse, ok = _invert(info)
        held_dropout = tuple(sorted(set(limit) | set(self._dropout_coordinates)))
        if not ok and held_dropout != tuple(sorted(limit)):
            # holding coordinates fixed leaves the information of the others: a sub-block
            keep = np.array([i not in held_dropout for i in np.flatnonzero(free)])
            retry, retry_ok = _invert(info[np.ix_(keep, keep)])
            if retry_ok:
                inverse, ok, limit = retry, True, held_dropout
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the Hessian of the log-likelihood is not positive definite at "
                "the estimate, so standard errors and intervals are unavailable (NaN)",
                DataSufficiencyWarning,
                stacklevel=4,
            )
        free = np.array([i not in limit for i in range(len(coords))])
        names = list(self.param_names)
        cov_coords = np.full((len(coords), len(coords)), np.nan)
        cov_coords[np.ix_(free, free)] = inverse
        self._coordinate_covariance = cov_coords
        matrix = self._coordinate_matrix()
        cov = matrix @ np.nan_to_num(cov_coords) @ matrix.T
        unknown = np.any((matrix != 0) & ~free, axis=1) | (not ok)
        cov[unknown, :] = cov[:, unknown] = np.nan
        theta = matrix @ coords
        self.covariance_log_ = pd.DataFrame(cov, index=names, columns=names)
        se_log = np.sqrt(np.diag(cov))
        z = stats.norm.ppf(0.5 + self.confidence_level / 2)
        self.standard_errors_ = pd.Series(np.exp(theta) * se_log, index=names, name="std_error")
        self.confidence_intervals_ = pd.DataFrame(
            {"lower": np.exp(theta - z * se_log), "upper": np.exp(theta + z * se_log)}, index=names
        )
        return tuple(limit)

    def _information(self, objective: Objective, coords: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Observed information of the mean log-likelihood over the ``free`` coordinates (models
        with a closed form at a limit override this)."""
        return hessian(objective, coords, free=free)

    def _held_dropout_note(self, coords: np.ndarray, held: tuple[int, ...]) -> tuple[str, ...]:
        """The note when the dropout coordinates were held because the full Hessian is singular
        (not when they are a limit the model reports itself, see ``_limit_coordinates``)."""
        dropout = set(self._dropout_coordinates)
        if not dropout or not dropout <= set(held) or dropout <= set(self._limit_coordinates(coords)):
            return ()
        matrix = self._coordinate_matrix()
        fixed = [n for n, row in zip(self.param_names, matrix, strict=True)
                 if np.any(row[list(dropout)] != 0)]
        free = [n for n in self.param_names if n not in fixed]
        values = ", ".join(f"{n} = {self.params_[n]:.3g}" for n in fixed)
        return (
            f"dropout is not identified: the likelihood is flat along the dropout parameters at the "
            f"estimate ({values}; {self._dropout_reading()}), so their standard errors are undefined "
            f"(NaN); those of {' and '.join(free)} are conditional on {' and '.join(fixed)} held at "
            "their estimates.",
        )

    def _dropout_reading(self) -> str:
        """What the dropout estimate means, in a few words (models override)."""
        return "the data do not pin down how customers drop out"

    # ----------------------------------------------------------------- uncertainty draws
    def sample_params(self, n_draws: int, random_state: int | np.random.Generator | None = None) -> np.ndarray:
        """Draws of the parameters from the asymptotic normal of the log-parameters.

        Returns an array of shape ``(n_draws, n_params)`` on the natural scale (columns in
        ``param_names`` order). Uses the inverse observed information in the optimiser's
        coordinates; a coordinate whose estimate is a limit on a bound (Pareto/NBD's 1/s when
        dropout heterogeneity is not identified, see ``notes_``) is held at it, so the draws
        carry the uncertainty of the other parameters given that limit.
        """
        self._check_fitted()
        coords = self._coordinates
        cov = self._coordinate_covariance
        free = np.isfinite(np.diag(cov))
        if not free.any() or not np.all(np.isfinite(cov[np.ix_(free, free)])):
            why = "; ".join(getattr(self, "notes_", ())) or "Hessian not positive definite"
            raise ValidationError(
                f"{type(self).__name__} has no usable parameter covariance ({why}); intervals "
                "cannot be sampled"
            )
        rng = np.random.default_rng(random_state)
        draws = np.tile(coords, (n_draws, 1))
        draws[:, free] = rng.multivariate_normal(coords[free], cov[np.ix_(free, free)], size=n_draws)
        return np.exp(draws @ self._coordinate_matrix().T)

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
                "notes": getattr(self, "notes_", ()),
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
        notes = "".join(f"<p>Note: {html.escape(n)}</p>" for n in getattr(self, "notes_", ()))
        return head + notes + self.summary().to_html(float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
