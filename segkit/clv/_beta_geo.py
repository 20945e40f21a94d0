"""The BG/NBD model of Fader, Hardie & Lee (2005), "Counting your customers the easy way"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import betaln, digamma, gammaln, hyp2f1

from segkit.clv._optimize import Objective
from segkit.clv._transactions import _horizon, _TransactionModel
from segkit.clv._validation import check_rfm, wrap_like
from segkit.errors import ValidationError

__all__ = ["BetaGeo"]


def _log_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, shift: int = 0):
    """Common factor and log of the "alive at T" and "dropped out after the last purchase" terms.

    ``shift`` = 0: BG/NBD, equation (6) of Fader, Hardie & Lee (2005) (dropout only after repeat
    purchases); ``shift`` = 1: MBG/NBD of Batislam, Denizel & Filiztekin (2007) (dropout also
    possible right after the first purchase), i.e. x dropout chances become x + 1.
    """
    r, alpha, a, b = params
    has_dead = x + shift > 0
    k = np.where(has_dead, x + shift, 1.0)  # keeps betaln finite where the term is absent
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = betaln(a, b + x + shift) - betaln(a, b) - (r + x) * np.log(alpha + T)
    dead = np.where(has_dead, betaln(a + 1, b + k - 1) - betaln(a, b) - (r + x) * np.log(alpha + tx), -np.inf)
    return common, alive, dead


def log_likelihood_rows(
    params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, shift: int = 0
) -> np.ndarray:
    """Per-customer BG/NBD (shift 0) or MBG/NBD (shift 1) log-likelihood, in log space."""
    common, alive, dead = _log_terms(params, x, tx, T, shift)
    return common + np.logaddexp(alive, dead)


def _objective(x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray, shift: int = 0) -> Objective:
    """Mean negative log-likelihood over compressed rows and its analytic gradient in log space.

    Special functions depend on a customer only through x, so they are evaluated once per distinct
    x and gathered; sums of x-only terms use the share of customers at each x.
    """
    unique_x, x_index = np.unique(x, return_inverse=True)
    share_x = np.bincount(x_index, weights=share, minlength=len(unique_x))
    has_dead = unique_x + shift > 0
    k = np.where(has_dead, unique_x + shift, 1.0)

    def value_and_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        params = np.exp(theta)
        r, alpha, a, b = params
        with np.errstate(all="ignore"):
            log_t, log_tx = np.log(alpha + T), np.log(alpha + tx)
            beta_ab = betaln(a, b)
            alive = (betaln(a, b + unique_x + shift) - beta_ab)[x_index] - (r + x) * log_t
            dead_x = np.where(has_dead, betaln(a + 1, b + k - 1) - beta_ab, -np.inf)
            dead = dead_x[x_index] - (r + x) * log_tx
            total = np.logaddexp(alive, dead)
            w_dead = np.exp(dead - total)
            w_alive = 1.0 - w_dead
            dab, dabx = digamma(a + b), digamma(a + b + unique_x + shift)
            psi_dead = np.where(has_dead, digamma(b + k - 1), 0.0)[x_index]
            value = share_x @ gammaln(r + unique_x) - gammaln(r) + r * np.log(alpha) + share @ total
            grad = np.array([
                share_x @ digamma(r + unique_x) - digamma(r) + np.log(alpha) - share @ (w_alive * log_t + w_dead * log_tx),
                r / alpha - share @ ((r + x) * (w_alive / (alpha + T) + w_dead / (alpha + tx))),
                share @ w_dead / a - share_x @ dabx + dab,
                share @ (w_alive * digamma(b + unique_x + shift)[x_index] + w_dead * psi_dead) - share_x @ dabx - digamma(b) + dab,
            ])
            value, grad = -float(value), -grad * params
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return np.inf, np.zeros(4)
        return value, grad

    return value_and_grad


def conditional_expected(params: np.ndarray, t: Any, x: Any, tx: Any, T: Any, shift: int = 0) -> np.ndarray:
    """E[Y(t) | x, t_x, T], equation (10) of Fader, Hardie & Lee (2005) (MBG/NBD: shift 1).

    The factor ``((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x+shift; a+b+x-1+shift; z)`` is evaluated
    through Euler's transformation as ``(1-z)^(a-1) 2F1(a+b-1+shift-r, a-1; a+b+x-1+shift; z)``,
    which stays bounded for large x; where that overflows (a and b in the thousands, a fit on
    the bound of near-constant dropout) the untransformed product is used. With x = t_x = T = 0
    this is E[X(t)], equation (7).
    """
    r, alpha, a, b = params
    x, tx, T, t = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T, t)))
    z = t / (alpha + T + t)
    c = a + b + x - 1 + shift
    with np.errstate(all="ignore"):
        factor = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 + shift - r, a - 1, c, z)
        if not np.all(np.isfinite(factor)):  # very large a and b (near-constant dropout): 0 * inf
            direct = np.exp((r + x) * np.log1p(-z)) * hyp2f1(r + x, b + x + shift, c, z)
            factor = np.where(np.isfinite(factor), factor, direct)
    return c / (a - 1) * (1.0 - factor) * np.exp(_log_p_alive(params, x, tx, T, shift))


def _log_p_alive(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray, shift: int = 0) -> np.ndarray:
    """log P(alive at T | x, t_x, T) = -log(1 + [x+shift>0] a/(b+x-1+shift) ((alpha+T)/(alpha+t_x))^(r+x))."""
    r, alpha, a, b = params
    has_dead = x + shift > 0
    k = np.where(has_dead, x + shift, 1.0)
    log_odds = np.log(a) - np.log(b + k - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
    return np.where(has_dead, -np.logaddexp(0.0, log_odds), 0.0)


class BetaGeo(_TransactionModel):
    """BG/NBD: Poisson purchases with gamma(r, alpha) rates; after each purchase a customer drops
    out with probability p ~ beta(a, b) (Fader, Hardie & Lee 2005).

    Fitted by maximum likelihood on the unique (x, t_x, T) rows with counts, in log-parameter space
    with the analytic gradient: L-BFGS-B from the best of nine method-of-moments starts, then
    Nelder-Mead + L-BFGS-B, then trust-constr if needed (see ``fit_attempts_``).

    Parameters
    ----------
    max_iter
        Iteration budget of each optimiser stage.
    confidence_level
        Level of ``confidence_intervals_`` (Wald intervals on the log scale, from the Hessian).

    Attributes
    ----------
    params_ : Series (r, alpha, a, b)
    log_likelihood_ : total log-likelihood (sum over customers)
    standard_errors_, confidence_intervals_, covariance_log_ : Hessian-based uncertainty
    n_customers_, n_unique_rows_, converged_, n_iter_, optimizer_, fit_attempts_
    data_sufficiency_ : DataSufficiencyVerdict
    time_unit_ : "D", "W" or None
    """

    param_names = ("r", "alpha", "a", "b")
    _dropout_coordinates = (2, 3)
    #: dropout chances beyond the repeat purchases: 0 for BG/NBD, 1 for MBG/NBD.
    _shift = 0

    def _dropout_reading(self) -> str:
        a, b = self.params_["a"], self.params_["b"]
        return f"a mean dropout probability per purchase a/(a+b) = {a / (a + b):.3g}"

    def _objective(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
        return _objective(x, tx, T, share, self._shift)

    def _log_likelihood_rows(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return log_likelihood_rows(params, x, tx, T, self._shift)

    def _conditional_expected(self, params: np.ndarray, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
        return conditional_expected(params, t, x, tx, T, self._shift)

    def _starts(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        r, alpha = self._nbd_start(x, T, w)
        return [np.log([r, alpha, a, b]) for a in (0.5, 1.0, 2.0) for b in (0.5, 2.0, 8.0)]

    def probability_alive(
        self, frequency: Any, recency: Any, T: Any, future_t: Any = 0.0
    ) -> np.ndarray | pd.Series:
        """P(alive at T + future_t | x, t_x, T).

        At ``future_t = 0`` this is ``1 / (1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x))``
        (Fader, Hardie & Lee 2005, appendix). For a later date, an alive customer dies at rate
        ``lambda p`` (each purchase ends the relationship with probability p); with posterior
        lambda ~ gamma(r+x, alpha+T) and p ~ beta(a, b+x) the survival factor is
        ``2F1(r+x, a; a+b+x; -future_t/(alpha+T))`` (Euler's integral).
        """
        x, tx, age, _ = check_rfm(frequency, recency, T, require_repeat=False)
        r, alpha, a, b = params = self._params()
        future = _horizon(future_t)
        survival = hyp2f1(r + x, a, a + b + x + self._shift, -future / (alpha + age))
        out = np.exp(_log_p_alive(params, x, tx, age, self._shift)) * survival
        return wrap_like(out, frequency, recency, T, name="p_alive")

    def probability_of_purchases(self, n: Any, t: Any) -> np.ndarray:
        """P(X(t) = n) for a newly acquired customer, equation (8) of Fader, Hardie & Lee (2005)
        (for MBG/NBD the dropout terms shift by one, Batislam et al. 2007)."""
        r, alpha, a, b = self._params()
        n = np.asarray(n, dtype=float)
        if np.any((n < 0) | (n != np.round(n))):
            raise ValidationError(f"n must be whole numbers >= 0, got {n!r}")
        n, t = np.broadcast_arrays(n, np.asarray(_horizon(t), dtype=float))
        p = alpha / (alpha + t)
        k = np.maximum(n + self._shift, 1.0)
        alive = np.exp(betaln(a, b + n + self._shift) - betaln(a, b)) * stats.nbinom.pmf(n, r, p)
        dead = np.exp(betaln(a + 1, b + k - 1) - betaln(a, b)) * stats.nbinom.sf(n - 1, r, p)
        return alive + np.where(n + self._shift > 0, dead, 0.0)
