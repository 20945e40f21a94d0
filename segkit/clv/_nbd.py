"""The NBD model (gamma-Poisson purchases, no dropout): the limit of BG/NBD as a -> 0 and of
Pareto/NBD as s/beta -> 0 (Ehrenberg 1959; Fader, Hardie & Lee 2005, equation (3) without the
dropout factor). Closed forms let a Pareto/NBD fit that heads for "no dropout" finish on it
without evaluating the dropout integrals where they are slowest.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.special import digamma, gammaln, polygamma

__all__ = ["fit_nbd", "nbd_information", "nbd_mean_nll"]


def _value_and_grad(theta: np.ndarray, x: np.ndarray, T: np.ndarray, share: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean negative log-likelihood ``-sum share [log G(r+x) - log G(r) + r log a - (r+x) log(a+T)]``
    and its gradient in (log r, log alpha)."""
    r, alpha = np.exp(theta)
    log_t = np.log(alpha + T)
    value = share @ (gammaln(r + x) - (r + x) * log_t) - gammaln(r) + r * np.log(alpha)
    d_r = share @ (digamma(r + x) - log_t) - digamma(r) + np.log(alpha)
    d_alpha = r / alpha - share @ ((r + x) / (alpha + T))
    return -float(value), -np.array([d_r * r, d_alpha * alpha])


def nbd_mean_nll(theta: np.ndarray, x: np.ndarray, T: np.ndarray, share: np.ndarray) -> float:
    """Mean negative NBD log-likelihood at (log r, log alpha) (``share`` sums to one)."""
    return _value_and_grad(np.asarray(theta, dtype=float), x, T, share)[0]


def fit_nbd(x: np.ndarray, T: np.ndarray, share: np.ndarray, start: np.ndarray) -> np.ndarray:
    """(log r, log alpha) maximising the NBD likelihood (``share`` sums to one), from ``start``."""
    result = optimize.minimize(_value_and_grad, start, args=(x, T, share), jac=True, method="L-BFGS-B",
                               options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 1000})
    return np.asarray(result.x, dtype=float)


def nbd_information(r: float, alpha: float, x: np.ndarray, T: np.ndarray, share: np.ndarray) -> np.ndarray:
    """Observed information of the mean log-likelihood in (log r, log alpha) (closed form)."""
    h_rr = share @ (polygamma(1, r + x)) - polygamma(1, r)
    h_ra = 1 / alpha - share @ (1 / (alpha + T))
    h_aa = -r / alpha**2 + share @ ((r + x) / (alpha + T) ** 2)
    d_r = share @ (digamma(r + x) - np.log(alpha + T)) - digamma(r) + np.log(alpha)
    d_a = r / alpha - share @ ((r + x) / (alpha + T))
    # chain rule to log coordinates: d2/dlog r^2 = r^2 h_rr + r d_r, etc.
    hessian = np.array([[r * r * h_rr + r * d_r, r * alpha * h_ra],
                        [r * alpha * h_ra, alpha * alpha * h_aa + alpha * d_a]])
    return -hessian
