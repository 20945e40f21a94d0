"""Maximum likelihood in log-parameter space: starting values, optimiser cascade, Hessian."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from segkit.errors import ConvergenceError

#: log-parameters live in [log 1e-8, log 1e8]; an estimate on this bound is reported, not hidden.
LOG_BOUND = np.log(1e8)
#: converged when the largest |gradient| of the mean negative log-likelihood is below this.
GRADIENT_TOLERANCE = 1e-5

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class Optimum:
    """Where an optimiser cascade ended and how."""

    log_params: np.ndarray
    mean_nll: float
    converged: bool
    n_iter: int
    optimizer: str
    attempts: tuple[str, ...]


def finite_difference_gradient(func: Callable[[np.ndarray], float]) -> Objective:
    """Wrap a scalar function into (value, gradient) for optimisers that need a gradient.

    The returned objective uses forward differences (step 1e-7, one extra evaluation per
    parameter) while optimising; its ``precise`` attribute uses central differences (step 1e-6,
    error O(1e-12)) and is what the convergence test reads; ``value`` is the bare function (used by
    Nelder-Mead and the value-based Hessian).
    """

    def forward(theta: np.ndarray) -> tuple[float, np.ndarray]:
        base = func(theta)
        grad = np.empty_like(theta)
        for i in range(len(theta)):
            shift = np.zeros_like(theta)
            shift[i] = 1e-7
            grad[i] = (func(theta + shift) - base) / 1e-7
        return base, grad

    def central(theta: np.ndarray) -> tuple[float, np.ndarray]:
        grad = np.empty_like(theta)
        for i in range(len(theta)):
            shift = np.zeros_like(theta)
            shift[i] = 1e-6
            grad[i] = (func(theta + shift) - func(theta - shift)) / 2e-6
        return func(theta), grad

    forward.value = func  # type: ignore[attr-defined]
    forward.precise = central  # type: ignore[attr-defined]
    return forward


def best_start(objective: Objective, starts: Sequence[np.ndarray]) -> np.ndarray:
    """The candidate start with the smallest finite objective value."""
    clipped = [np.clip(s, -LOG_BOUND + 1, LOG_BOUND - 1) for s in starts]
    value = getattr(objective, "value", lambda t: objective(t)[0])
    values = [value(s) for s in clipped]
    finite = [v if np.isfinite(v) else np.inf for v in values]
    return clipped[int(np.argmin(finite))]


def _projected_gradient(theta: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Gradient components that could still decrease the objective inside the bounds."""
    at_lower = (theta <= -LOG_BOUND + 1e-8) & (grad > 0)
    at_upper = (theta >= LOG_BOUND - 1e-8) & (grad < 0)
    return np.where(at_lower | at_upper, 0.0, grad)


def _is_optimum(objective: Objective, theta: np.ndarray) -> tuple[bool, float, float]:
    value, grad = getattr(objective, "precise", objective)(theta)
    gmax = float(np.max(np.abs(_projected_gradient(theta, grad))))
    return bool(np.isfinite(value) and gmax < GRADIENT_TOLERANCE), float(value), gmax


def minimize(objective: Objective, start: np.ndarray, *, max_iter: int) -> Optimum:
    """Minimise the mean negative log-likelihood; L-BFGS-B, then Nelder-Mead + L-BFGS-B polish,
    then trust-region (trust-constr). The first run that meets the gradient test wins.

    Raises
    ------
    ConvergenceError
        When no stage reaches a point with a finite value and a small projected gradient; the
        message lists every stage and how it ended.
    """
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    attempts: list[str] = []
    total_iter = 0
    theta = np.asarray(start, dtype=float)
    stages = ("L-BFGS-B", "Nelder-Mead+L-BFGS-B", "trust-constr")
    with _single_threaded_blas():
        for stage in stages:
            outcome = _try_stage(stage, objective, theta, bounds, max_iter, attempts)
            if outcome is None:
                continue
            theta_new, n_iter, ok, value = outcome
            total_iter += n_iter
            if np.isfinite(value):
                theta = theta_new
            if ok:
                return Optimum(theta, value, True, total_iter, stage, tuple(attempts))
    raise ConvergenceError(
        "maximum likelihood did not converge; tried " + "; ".join(attempts)
        + ". Check the data-sufficiency verdict (too few repeat buyers?) or raise max_iter."
    )


def _try_stage(stage, objective, theta, bounds, max_iter, attempts):
    """Run one stage; record how it ended; None when it raised."""
    try:
        theta_new, n_iter = _run_stage(stage, objective, theta, bounds, max_iter)
    except (FloatingPointError, ValueError, np.linalg.LinAlgError) as exc:
        attempts.append(f"{stage}: failed ({exc})")
        return None
    ok, value, gmax = _is_optimum(objective, theta_new)
    attempts.append(f"{stage}: {n_iter} iterations, mean -loglik {value:.8g}, max |gradient| {gmax:.2g}")
    return theta_new, n_iter, ok, value


@contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Tiny (4x4) linear algebra inside scipy's optimisers is much slower with a multi-threaded
    BLAS on a busy machine (measured 45x for L-BFGS-B under load); use one thread while fitting."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _run_stage(
    stage: str, objective: Objective, theta: np.ndarray, bounds: list, max_iter: int
) -> tuple[np.ndarray, int]:
    with np.errstate(all="ignore"):
        if stage == "L-BFGS-B":
            res = optimize.minimize(
                objective, theta, jac=True, method="L-BFGS-B", bounds=bounds,
                options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9},
            )
            return res.x, int(res.nit)
        if stage == "Nelder-Mead+L-BFGS-B":
            value = getattr(objective, "value", lambda t: objective(t)[0])
            res = optimize.minimize(
                lambda t: _finite(value(t)), theta, method="Nelder-Mead", bounds=bounds,
                options={"maxiter": max_iter * 4, "xatol": 1e-8, "fatol": 1e-13},
            )
            polished, n_polish = _run_stage("L-BFGS-B", objective, res.x, bounds, max_iter)
            return polished, int(res.nit) + n_polish
        with warnings.catch_warnings():  # its quasi-Newton update warns on flat directions
            warnings.simplefilter("ignore", UserWarning)
            res = optimize.minimize(
                objective, theta, jac=True, method="trust-constr",
                bounds=optimize.Bounds(-LOG_BOUND, LOG_BOUND), options={"maxiter": max_iter, "gtol": 1e-10},
            )
        return res.x, int(res.nit)


def _finite(value: float) -> float:
    return value if np.isfinite(value) else 1e300


def hessian(
    objective: Objective, theta: np.ndarray, step: float = 1e-4, free: np.ndarray | None = None
) -> np.ndarray:
    """Hessian of the objective at ``theta`` (symmetrised).

    With an analytic gradient: central differences of the gradient. With a value-only objective
    (``objective.value`` set): second-order central differences of values, step 5e-4
    (truncation ~1e-7, rounding ~1e-9 relative for a mean log-likelihood of order 1). ``free``
    (boolean mask) limits it to those coordinates, the others held at ``theta``: the result is
    the free block, without evaluating the rest.
    """
    theta = np.asarray(theta, dtype=float)
    index = np.flatnonzero(np.ones(len(theta), dtype=bool) if free is None else free)

    def embed(sub: np.ndarray) -> np.ndarray:
        full = theta.copy()
        full[index] = sub
        return full

    value = getattr(objective, "value", None)
    if value is not None:
        return _value_hessian(lambda sub: value(embed(sub)), theta[index], 5e-4)
    out = np.empty((len(index), len(index)))
    for row, i in enumerate(index):
        shift = np.zeros(len(theta))
        shift[i] = step
        out[row] = ((objective(theta + shift)[1] - objective(theta - shift)[1]) / (2 * step))[index]
    return (out + out.T) / 2


def _value_hessian(func: Callable[[np.ndarray], float], theta: np.ndarray, h: float) -> np.ndarray:
    n = len(theta)
    eye = np.eye(n) * h
    centre = func(theta)
    out = np.empty((n, n))
    for i in range(n):
        out[i, i] = (func(theta + eye[i]) - 2 * centre + func(theta - eye[i])) / h**2
        for j in range(i):
            out[i, j] = out[j, i] = (
                func(theta + eye[i] + eye[j]) - func(theta + eye[i] - eye[j])
                - func(theta - eye[i] + eye[j]) + func(theta - eye[i] - eye[j])
            ) / (4 * h**2)
    return out
