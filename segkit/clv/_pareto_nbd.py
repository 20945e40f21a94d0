"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), in the formulation of Fader &
Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln, hyp2f1, logsumexp

from segkit.clv._optimize import Objective, finite_difference_gradient
from segkit.clv._transactions import _horizon, _TransactionModel
from segkit.clv._validation import check_rfm, compress, wrap_like
from segkit.errors import ValidationError

__all__ = ["ParetoNBD"]

#: Gauss-Legendre nodes for the death-time integral in ``probability_of_purchases``.
_QUADRATURE = np.polynomial.legendre.leggauss(64)


def _log_integral_term(params: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of ``2F1(r+s+x, b1; r+s+x+1; z) / (max(alpha,beta)+t)^(r+s+x)`` (Fader & Hardie 2005).

    For alpha >= beta the note uses ``b1 = s+1``, ``z = (alpha-beta)/(alpha+t)``; for alpha < beta
    ``b1 = r+x``, ``z = (beta-alpha)/(beta+t)``. Euler's transformation
    ``2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)`` turns them into
    ``-(r+x) log(alpha+t) - s log(beta+t) + log 2F1(1, r+x; r+s+x+1; z)`` and
    ``(1-r-x) log(alpha+t) - (s+1) log(beta+t) + log 2F1(1, s+1; r+s+x+1; z)``: series whose terms
    are all positive and at most ``z^k`` (no overflow for large x or z near 1).
    """
    r, alpha, s, beta = params
    with np.errstate(all="ignore"):
        if alpha >= beta:
            z = (alpha - beta) / (alpha + t)
            prefactor = -(r + x) * np.log(alpha + t) - s * np.log(beta + t)
            value = prefactor + np.log(hyp2f1(1.0, r + x, r + s + x + 1.0, z))
        else:
            z = (beta - alpha) / (beta + t)
            prefactor = (1 - r - x) * np.log(alpha + t) - (s + 1) * np.log(beta + t)
            value = prefactor + np.log(hyp2f1(1.0, s + 1.0, r + s + x + 1.0, z))
    bad = ~np.isfinite(value)
    if np.any(bad):
        x_b, t_b = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
        value = np.array(np.broadcast_to(value, x_b.shape), dtype=float)
        value[bad] = _log_tail_quadrature(params, x_b[bad], t_b[bad])
    return value


#: Gauss-Legendre nodes on [0, 1] for the tail integral fallback.
_LEGENDRE_NODES, _LEGENDRE_WEIGHTS = np.polynomial.legendre.leggauss(200)
_TAIL_NODES, _TAIL_WEIGHTS = (_LEGENDRE_NODES + 1.0) / 2.0, _LEGENDRE_WEIGHTS / 2.0


def _log_tail_quadrature(params: np.ndarray, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The same quantity as :func:`_log_integral_term`, as the integral it comes from:
    ``(r+s+x) * int_t^inf (alpha+u)^-(r+x) (beta+u)^-(s+1) du``.

    scipy's ``hyp2f1`` returns inf over whole regions with large ``s`` and ``z`` near 1 (a fit
    running along the ridge towards homogeneous dropout); there the integral is evaluated by
    200-point Gauss-Legendre after mapping ``u = t + m v / (1 - v)``, with ``m`` the integrand's
    decay length at ``t``. Agrees with the series form to about 1e-10 where both are finite
    (written by hand: no library evaluates this integral vectorised).
    """
    r, alpha, s, beta = params
    x, t = x[:, None], t[:, None]
    scale = 1.0 / ((r + x) / (alpha + t) + (s + 1.0) / (beta + t))
    u = t + scale * _TAIL_NODES / (1.0 - _TAIL_NODES)
    log_integrand = -(r + x) * np.log(alpha + u) - (s + 1.0) * np.log(beta + u)
    log_jacobian = np.log(scale) - 2.0 * np.log1p(-_TAIL_NODES)
    return np.log(r + s + x[:, 0]) + logsumexp(log_integrand + log_jacobian + np.log(_TAIL_WEIGHTS), axis=1)


class _Pairs:
    """The distinct (x, t) pairs among (x, t_x) and (x, T), so each 2F1 is evaluated once."""

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
        both = compress(np.concatenate([x, x]), np.concatenate([tx, T]), weights=np.ones(2 * len(x)))
        self.x, self.t = both.columns
        self.at_tx, self.at_T = both.inverse[: len(x)], both.inverse[len(x) :]

    def integral_terms(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        values = _log_integral_term(params, self.x, self.t)
        return values[self.at_tx], values[self.at_T]


def _log_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, pairs: _Pairs | None = None):
    """Common factor and log of the "alive at T" and "died in (t_x, T]" likelihood terms."""
    r, alpha, s, beta = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    if pairs is None:
        at_tx, at_T = _log_integral_term(params, x, tx), _log_integral_term(params, x, T)
    else:
        at_tx, at_T = pairs.integral_terms(params)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a0 = at_tx + np.log(-np.expm1(np.minimum(at_T - at_tx, 0.0)))
    log_a0 = np.where(tx < T, log_a0, -np.inf)
    dead = np.log(s) - np.log(r + s + x) + log_a0
    return common, alive, dead


def log_likelihood_rows(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005, equation (19) with A_0)."""
    common, alive, dead = _log_terms(params, x, tx, T)
    return common + np.logaddexp(alive, dead)


def _objective(x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
    """Mean negative log-likelihood over compressed rows, gradient by finite differences.

    Terms that depend on a customer only through (x, t) or x are computed once per distinct value
    and gathered, so each evaluation costs one 2F1 per distinct (x, t) pair.
    """
    pairs = _Pairs(x, tx, T)
    unique_x, x_index = np.unique(x, return_inverse=True)
    has_gap = tx < T

    def value(theta: np.ndarray) -> float:
        r, alpha, s, beta = params = np.exp(theta)
        with np.errstate(all="ignore"):
            integral = _log_integral_term(params, pairs.x, pairs.t)
            alive_pairs = -(r + pairs.x) * np.log(alpha + pairs.t) - s * np.log(beta + pairs.t)
            log_gamma = gammaln(r + unique_x)[x_index]
            log_weight = (np.log(s) - np.log(r + s + unique_x))[x_index]
            at_tx, at_T = integral[pairs.at_tx], integral[pairs.at_T]
            log_a0 = np.where(has_gap, at_tx + np.log(-np.expm1(np.minimum(at_T - at_tx, 0.0))), -np.inf)
            rows = log_gamma + np.logaddexp(alive_pairs[pairs.at_T], log_weight + log_a0)
            constant = -gammaln(r) + r * np.log(alpha) + s * np.log(beta)
            total = -(float(share @ rows) + constant)
        return total if np.isfinite(total) else np.inf

    return finite_difference_gradient(value)


def _log_p_alive(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """log P(alive at T | x, t_x, T): the "alive" share of the likelihood (Fader & Hardie 2005, (18))."""
    _, alive, dead = _log_terms(params, x, tx, T)
    return alive - np.logaddexp(alive, dead)


def conditional_expected(params: np.ndarray, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
    """E[Y(t) | x, t_x, T] = (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)
    (Fader & Hardie 2005, equation (22)); the s -> 1 limit uses log((beta+T+t)/(beta+T)).
    With x = t_x = T = 0 it is E[X(t)]."""
    r, alpha, s, beta = params
    x, tx, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T, t)))
    log_ratio = np.log1p(t / (beta + T))
    shrink = -np.expm1(-(s - 1) * log_ratio) / (s - 1) if abs(s - 1) > 1e-10 else log_ratio
    expected = (r + x) * (beta + T) / (alpha + T) * shrink
    return expected * np.exp(_log_p_alive(params, x, tx, T))


class ParetoNBD(_TransactionModel):
    """Pareto/NBD: Poisson purchases with gamma(r, alpha) rates and exponential lifetimes with
    gamma(s, beta) dropout rates (Schmittlein, Morrison & Colombo 1987).

    Parameters and attributes as :class:`BetaGeo`, with ``params_`` (r, alpha, s, beta). The
    likelihood's Gaussian hypergeometric function is evaluated in log space through a positive
    series (see ``_log_integral_term``); gradients are finite differences of the exact
    likelihood on the compressed rows.
    """

    param_names = ("r", "alpha", "s", "beta")
    def _objective(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
        return _objective(x, tx, T, share)

    def _log_likelihood_rows(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return log_likelihood_rows(params, x, tx, T)

    def _conditional_expected(self, params: np.ndarray, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
        return conditional_expected(params, t, x, tx, T)

    def _starts(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        r, alpha = self._nbd_start(x, T, w)
        mean_T = float(np.average(T, weights=w))
        return [np.log([r, alpha, s, beta * mean_T]) for s in (0.5, 1.0, 2.0) for beta in (0.3, 1.0, 3.0)]

    def probability_alive(
        self, frequency: Any, recency: Any, T: Any, future_t: Any = 0.0
    ) -> np.ndarray | pd.Series:
        """P(alive at T + future_t | x, t_x, T) = P(alive at T) ((beta+T)/(beta+T+future_t))^s
        (given alive at T, the dropout rate's posterior is gamma(s, beta+T))."""
        x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
        params = self._params()
        s, beta = params[2], params[3]
        future = _horizon(future_t)
        out = np.exp(_log_p_alive(params, x, tx, age) - s * np.log1p(future / (beta + age)))
        return wrap_like(out, frequency, recency, T, name="p_alive")

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n) for a newly acquired customer.

        ``NBD(n; r, alpha, t) (beta/(beta+t))^s + integral_0^F(t) NBD(n; r, alpha, tau(u)) du`` where
        ``F`` is the gamma-exponential (Pareto II) lifetime distribution and ``tau(u)`` its quantile;
        the integral uses 64-point Gauss-Legendre quadrature (accurate to ~1e-10 here).
        """
        r, alpha, s, beta = self._params()
        n = np.asarray(n, dtype=float)
        if np.any((n < 0) | (n != np.round(n))):
            raise ValidationError(f"n must be whole numbers >= 0, got {n!r}")
        n, t = np.broadcast_arrays(n, np.asarray(_horizon(t), dtype=float))
        survive = np.exp(-s * np.log1p(t / beta))
        alive = stats.nbinom.pmf(n, r, alpha / (alpha + t)) * survive
        nodes, weights = _QUADRATURE
        upper = 1.0 - survive
        u = (nodes[:, None] + 1.0) / 2.0 * upper.ravel()[None, :]
        tau = beta * np.expm1(-np.log1p(-u) / s)
        pmf = stats.nbinom.pmf(n.ravel()[None, :], r, alpha / (alpha + tau))
        dead = (weights[:, None] * pmf).sum(axis=0) * upper.ravel() / 2.0
        return alive + dead.reshape(n.shape)
