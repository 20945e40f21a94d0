"""The Pareto/NBD model of Schmittlein, Morrison & Colombo (1987), in the formulation of Fader &
Hardie (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions"."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import digamma, gammaln

from segkit.clv._nbd import fit_nbd, nbd_information, nbd_mean_nll
from segkit.clv._optimize import LOG_BOUND, Objective, Optimum, minimize
from segkit.clv._pareto_nbd_tail import log_over_kappa, log_survival, log_tail, log_tail_gradient
from segkit.clv._transactions import _horizon, _TransactionModel
from segkit.clv._validation import check_rfm, compress, wrap_like
from segkit.errors import ConvergenceError, ValidationError

__all__ = ["ParetoNBD"]

#: Gauss-Legendre nodes for the death-time integral in ``probability_of_purchases``.
_QUADRATURE = np.polynomial.legendre.leggauss(64)
#: above this s (below 1/s = 0.1) a converged fit is compared with the homogeneous-dropout bound.
RIDGE_CHECK_S = 10.0
#: a first optimiser run that reaches 1/s below this is stopped and compared with the bound.
RIDGE_STOP_KAPPA = 1e-3
#: the optimiser's coordinates: log r, log alpha, log mu (= s/beta), log kappa (= 1/s). As s and
#: beta grow with s/beta fixed only kappa moves, towards its lower bound (1e-8, i.e. s = 1e8).
COORDINATE_NAMES = ("r", "alpha", "mu = s/beta", "1/s")
#: log (r, alpha, s, beta) = COORDINATE_MAP @ coordinates.
COORDINATE_MAP = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 0, -1.0], [0, 0, -1.0, -1.0]])
#: index of log kappa among the coordinates.
KAPPA = 3
#: index of log mu among the coordinates.
MU = 2
#: a first optimiser run that reaches mu * max(T) below this (fewer than 1 in 1,000 customers
#: could have dropped out by the longest age) is stopped and compared with the no-dropout limit.
NO_DROPOUT_STOP = 1e-3
#: the fit on the homogeneous-dropout bound is kept when its mean -log-likelihood is at most this
#: much above the other fit's (they are then indistinguishable; the bound is the simpler model).
BOUND_TIE = 1e-10
_UNIT_NAMES = {"D": "day", "W": "week"}


def dropout_form(params: np.ndarray) -> tuple[float, float, float, float]:
    """(r, alpha, mu, kappa) = (r, alpha, s/beta, 1/s) from (r, alpha, s, beta)."""
    r, alpha, s, beta = (float(v) for v in params)
    return r, alpha, s / beta, 1.0 / s


class _Pairs:
    """The distinct (x, t) pairs among (x, t_x) and (x, T), so each tail integral is evaluated once."""

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
        both = compress(np.concatenate([x, x]), np.concatenate([tx, T]), weights=np.ones(2 * len(x)))
        self.x, self.t = both.columns
        self.at_tx, self.at_T = both.inverse[: len(x)], both.inverse[len(x) :]

    def log_tails(self, r: float, alpha: float, mu: float, kappa: float) -> tuple[np.ndarray, np.ndarray]:
        values = log_tail(r, alpha, mu, kappa, self.x, self.t)
        return values[self.at_tx], values[self.at_T]


def _log_dead(at_tx: np.ndarray, at_T: np.ndarray, has_gap: np.ndarray) -> np.ndarray:
    """log (A(t_x) - A(T)): the customer died in (t_x, T]; -inf when t_x = T."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = at_tx + np.log(-np.expm1(np.minimum(at_T - at_tx, 0.0)))
    return np.where(has_gap, value, -np.inf)


def _log_alive(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log of the "alive at t" term: no purchase after ``x`` of them, and no dropout, by ``t``."""
    return -(r + x) * np.log(alpha + t) + log_survival(mu, kappa, t)


def log_terms_dropout(
    r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common factor and log of the "alive at T" and "died in (t_x, T]" likelihood terms, with the
    dropout side as (mu, kappa) (see :mod:`segkit.clv._pareto_nbd_tail`); kappa = 0 is the
    homogeneous-dropout limit (every customer's lifetime exponential with rate mu)."""
    x, tx, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, tx, T)))
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = _log_alive(r, alpha, mu, kappa, x, T)
    dead = _log_dead(log_tail(r, alpha, mu, kappa, x, tx), log_tail(r, alpha, mu, kappa, x, T), tx < T)
    return common, alive, dead


def _log_terms(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray):
    """:func:`log_terms_dropout` at (r, alpha, s, beta)."""
    return log_terms_dropout(*dropout_form(params), x, tx, T)


def log_likelihood_rows(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Per-customer Pareto/NBD log-likelihood (Fader & Hardie 2005, equation (19) with A_0)."""
    common, alive, dead = _log_terms(params, x, tx, T)
    return common + np.logaddexp(alive, dead)


def _objective(x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
    """Mean negative log-likelihood over compressed rows in the coordinates
    (log r, log alpha, log mu, log kappa), with its analytic gradient.

    Terms that depend on a customer only through (x, t) or x are computed once per distinct value
    and gathered, so each evaluation costs one tail integral per distinct (x, t) pair. The
    gradient is the chain rule through ``common + logaddexp(alive, dead)``: the purchase and
    survival terms in closed form, the tail integrals' derivatives by differentiating under their
    quadrature (:func:`log_tail_gradient`), gathered per pair with the rows' weights.
    """
    pairs = _Pairs(x, tx, T)
    unique_x, x_index = np.unique(x, return_inverse=True)
    x_share = np.bincount(x_index, weights=share, minlength=len(unique_x))
    has_gap = tx < T
    n_pairs = len(pairs.x)

    def value(coords: np.ndarray) -> float:
        r, alpha, mu, kappa = np.exp(coords)
        with np.errstate(all="ignore"):
            at_tx, at_T = pairs.log_tails(r, alpha, mu, kappa)
            alive = _log_alive(r, alpha, mu, kappa, pairs.x, pairs.t)
            dead = _log_dead(at_tx, at_T, has_gap)
            rows = gammaln(r + unique_x)[x_index] + np.logaddexp(alive[pairs.at_T], dead)
            total = -(float(share @ rows) - gammaln(r) + r * np.log(alpha))
        return total if np.isfinite(total) else np.inf

    def value_and_gradient(coords: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, mu, kappa = np.exp(coords)
        with np.errstate(all="ignore"):
            log_a, grad_a = log_tail_gradient(r, alpha, mu, kappa, pairs.x, pairs.t)
            at_tx, at_T = log_a[pairs.at_tx], log_a[pairs.at_T]
            alive = _log_alive(r, alpha, mu, kappa, pairs.x, pairs.t)
            dead = _log_dead(at_tx, at_T, has_gap)
            both = np.logaddexp(alive[pairs.at_T], dead)
            total = -(float(share @ (gammaln(r + unique_x)[x_index] + both)) - gammaln(r) + r * np.log(alpha))
            if not np.isfinite(total):
                return np.inf, np.full(4, np.nan)
            # d logaddexp(alive, dead) = p d alive + (1-p) d dead, p = P(alive); with q = A(T)/A(t_x),
            # (1-p) d dead = (1-p)/(1-q) (dA(t_x) - q dA(T)) and (1-p)/(1-q) = A(t_x)/e^both.
            p_alive = np.exp(alive[pairs.at_T] - both)
            gap = np.where(has_gap, share, 0.0)
            on_tx = np.bincount(pairs.at_tx, weights=gap * np.exp(at_tx - both), minlength=n_pairs)
            on_T = np.bincount(pairs.at_T, weights=share * p_alive, minlength=n_pairs)
            off_T = np.bincount(pairs.at_T, weights=gap * np.exp(at_T - both), minlength=n_pairs)
            grad = grad_a.T @ (on_tx - off_T) + _alive_gradient(r, alpha, mu, kappa, pairs.x, pairs.t).T @ on_T
            grad[0] += r * float(x_share @ (digamma(r + unique_x) - digamma(r) + np.log(alpha)))
            grad[1] += r
        return total, -grad

    value_and_gradient.value = value  # type: ignore[attr-defined]
    value_and_gradient.precise = value_and_gradient  # type: ignore[attr-defined]
    value_and_gradient.nbd = (x, T, share)  # type: ignore[attr-defined]  # for the no-dropout limit
    return value_and_gradient


def _alive_gradient(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Derivatives of :func:`_log_alive` in (log r, log alpha, log mu, log kappa), shape (n, 4)."""
    m = mu * t
    share = m / (1.0 + kappa * m)  # kappa d/dkappa of -log1p(kappa m)/kappa is log1p(kappa m)/kappa - share
    return np.stack([-r * np.log(alpha + t), -(r + x) * alpha / (alpha + t), -share,
                     log_over_kappa(kappa, m) - share], axis=1)


def at_homogeneous_bound(coords: np.ndarray) -> bool:
    """kappa = 1/s on its lower bound (s = 1e8, within the 0.1% that counts as on a bound): the
    homogeneous-dropout limit."""
    return bool(coords[KAPPA] <= -LOG_BOUND + 1e-3)


def at_no_dropout_bound(coords: np.ndarray) -> bool:
    """mu = s/beta on its lower bound (1e-8 per time unit): the no-dropout (NBD) limit."""
    return bool(coords[MU] <= -LOG_BOUND + 1e-3)


class _HeadingForBound(Exception):
    """Raised by :func:`_guarded` at the first point with kappa below RIDGE_STOP_KAPPA, or (with
    ``no_dropout``) with mu times the longest customer age below NO_DROPOUT_STOP."""

    def __init__(self, coords: np.ndarray, no_dropout: bool = False) -> None:
        super().__init__("heading for the " + ("no-dropout" if no_dropout else "homogeneous-dropout") + " bound")
        self.coords = np.array(coords, dtype=float)
        self.no_dropout = no_dropout


def _guarded(objective: Objective) -> Objective:
    """The objective, stopping the optimiser once it reaches kappa < RIDGE_STOP_KAPPA (along the
    ridge the gradient in log kappa shrinks like kappa, and the optimiser would crawl) or mu so
    small that hardly anyone could have dropped out (towards mu = 0 the tail integrals are at
    their slowest, scipy's hyp2f1 near z = 1, and the fit ends on the NBD limit anyway)."""
    data = getattr(objective, "nbd", None)  # None: an objective without data, no no-dropout stop
    log_mu_stop = -np.inf if data is None else np.log(NO_DROPOUT_STOP / float(data[1].max()))

    def check(coords: np.ndarray) -> None:
        if coords[KAPPA] < np.log(RIDGE_STOP_KAPPA):
            raise _HeadingForBound(coords)
        if coords[MU] < log_mu_stop:
            raise _HeadingForBound(coords, no_dropout=True)

    def wrap(func):
        def guarded(coords: np.ndarray):
            check(coords)
            return func(coords)
        return guarded

    guarded_objective = wrap(objective)
    guarded_objective.value = wrap(objective.value)  # type: ignore[attr-defined]
    guarded_objective.precise = wrap(getattr(objective, "precise", objective))  # type: ignore[attr-defined]
    guarded_objective.nbd = data  # type: ignore[attr-defined]
    return guarded_objective


@dataclass(frozen=True)
class _Run:
    """How one optimiser cascade ended: an optimum, or a failure message, or a point on the way
    to the bound."""

    optimum: Optimum | None = None
    failure: str = ""
    heading: np.ndarray | None = None
    no_dropout: bool = False

    @property
    def attempts(self) -> tuple[str, ...]:
        return self.optimum.attempts if self.optimum is not None else (self.failure,)


def _run(objective: Objective, start: np.ndarray, max_iter: int) -> _Run:
    try:
        return _Run(minimize(objective, start, max_iter=max_iter))
    except ConvergenceError as error:
        return _Run(failure=str(error))
    except _HeadingForBound as stop:
        if stop.no_dropout:
            mu = float(np.exp(stop.coords[MU]))
            return _Run(failure=f"stopped at s/beta = {mu:.2g}, heading for no dropout",
                        heading=stop.coords, no_dropout=True)
        kappa = float(np.exp(stop.coords[KAPPA]))
        return _Run(failure=f"stopped at 1/s = {kappa:.2g}, heading for the homogeneous-dropout bound",
                    heading=stop.coords)


def _no_dropout_limit(objective: Objective, first: _Run, max_iter: int) -> Optimum:
    """The fit on the no-dropout bound (mu = 1e-8; r and alpha by the closed-form NBD fit, kappa
    held where the first run stopped) when it is at least as good as where the first run stopped
    (within BOUND_TIE); else the first run resumed without the stop."""
    x, T, share = objective.nbd  # type: ignore[attr-defined]
    stop = first.heading
    r_alpha = fit_nbd(x, T, share, stop[:MU])
    coords = np.concatenate([r_alpha, [-LOG_BOUND, stop[KAPPA]]])
    value, reference = objective.value(coords), objective.value(stop)  # type: ignore[attr-defined]
    if value <= reference + BOUND_TIE:
        # the likelihood rises towards mu = 0, where the model IS the NBD: its maximum is the
        # supremum (the value at the bound mu = 1e-8 is below it by about mu times the mean age)
        limit = nbd_mean_nll(r_alpha, x, T, share)
        verdict = (f"no-dropout limit (NBD fit of r, alpha; s/beta = 1e-8): mean -loglik {value:.12g}, "
                   f"not above {reference:.12g} where the first run stopped; {limit:.12g} in the limit "
                   "s/beta -> 0 (the NBD's), reported")
        return Optimum(coords, min(limit, value), True, 0, "NBD limit", (*first.attempts, verdict))
    resumed = _run(objective, stop, max_iter)
    return _best_of([first, _Run(failure="no-dropout limit worse than the stop point"), resumed])


def minimize_with_homogeneous_bound(objective: Objective, start: np.ndarray, max_iter: int) -> Optimum:
    """The optimiser cascade, plus the fit on the bound kappa = 1e-8 when the first run heads for
    it (kappa < RIDGE_STOP_KAPPA), ends beyond s = RIDGE_CHECK_S or fails.

    The first run stops when it reaches kappa < RIDGE_STOP_KAPPA; the fit on the bound then
    starts from that point. When it is at least as good (within BOUND_TIE) it is kept; otherwise
    the first run resumes without the stop and the better of the two is kept. Every run is listed
    in ``attempts``.

    Raises
    ------
    ConvergenceError
        When no run converges.
    """
    first = _run(_guarded(objective), start, max_iter)
    if first.no_dropout:
        return _no_dropout_limit(objective, first, max_iter)
    if first.optimum is not None and first.optimum.log_params[KAPPA] > -np.log(RIDGE_CHECK_S):
        return first.optimum
    origin = first.heading if first.heading is not None else (
        first.optimum.log_params if first.optimum is not None else start)
    bound = _run(objective, np.concatenate([origin[:KAPPA], [-LOG_BOUND]]), max_iter)
    runs = [first, bound]
    if first.heading is not None:
        reference = objective.value(first.heading)  # type: ignore[attr-defined]
        if bound.optimum is None or bound.optimum.mean_nll > reference + BOUND_TIE:
            runs.append(_run(objective, first.heading, max_iter))
    return _best_of(runs)


def _best_of(runs: list[_Run]) -> Optimum:
    """The converged run with the lowest mean -log-likelihood, the bound winning ties; all runs'
    attempts combined."""
    labels = ("", "from the homogeneous-dropout bound s = 1e8: ", "resumed: ")
    attempts = tuple(f"{label}{a}" for label, run in zip(labels, runs, strict=False) for a in run.attempts)
    done = [(run.optimum.mean_nll - (BOUND_TIE if i == 1 else 0.0), i, run.optimum)
            for i, run in enumerate(runs) if run.optimum is not None]
    if not done:
        raise ConvergenceError("; ".join(attempts))
    _, _, best = min(done, key=lambda item: item[:2])
    if at_homogeneous_bound(best.log_params):  # the surface is flat there: snap onto the bound
        best = replace(best, log_params=np.concatenate([best.log_params[:KAPPA], [-LOG_BOUND]]))
    n_iter = sum(run.optimum.n_iter for run in runs if run.optimum is not None)
    kappa = float(np.exp(best.log_params[KAPPA]))
    verdict = f"kept mean -loglik {best.mean_nll:.12g} at 1/s = {kappa:.3g}"
    return replace(best, n_iter=n_iter, attempts=(*attempts, verdict))


def homogeneous_dropout_note(coords: np.ndarray, covariance: np.ndarray, level: float, unit: str | None) -> str:
    """What a fit on the homogeneous-dropout bound means, with mu = s/beta and its Wald interval."""
    mu = float(np.exp(coords[2]))
    z = stats.norm.ppf(0.5 + level / 2)
    spread = z * float(np.sqrt(covariance[2, 2]))
    per = _UNIT_NAMES.get(unit or "", "time unit")
    interval = (f" ({100 * level:g}% interval {mu * np.exp(-spread):.4g} to {mu * np.exp(spread):.4g})"
                if np.isfinite(spread) else "")
    return (
        "dropout heterogeneity is not identified: the likelihood keeps rising as s and beta grow "
        "together (s/beta fixed), so the fit stops at the bound s = 1e8. The data are consistent "
        f"with a common dropout rate mu = s/beta = {mu:.4g} per {per}{interval}, a mean lifetime of "
        f"{1 / mu:.4g} {per}s. Standard errors of s and beta are undefined (NaN); those of r and "
        "alpha assume no heterogeneity."
    )


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

    Parameters and attributes as :class:`BetaGeo`, with ``params_`` (r, alpha, s, beta) and
    ``notes_`` (plain-words caveats, also in ``summary().attrs["notes"]``).

    The fit runs in the coordinates (log r, log alpha, log mu, log kappa) with ``mu = s/beta``
    (mean dropout rate) and ``kappa = 1/s`` (squared coefficient of variation of the dropout
    rate), so the likelihood's ridge "s, beta -> inf with s/beta fixed" (no heterogeneity in
    dropout) is one coordinate going to its bound kappa = 1e-8 (s = 1e8). The likelihood is
    evaluated in that form (see :mod:`segkit.clv._pareto_nbd_tail`), so it is finite and
    continuous up to and at the bound, where every customer drops out at the common rate mu.
    When a fit ends beyond s = 10, the fit at the bound is computed as well and kept if its
    likelihood is at least as high: then ``parameters_at_bound_`` is ("s", "beta"), the standard
    errors of s and beta are NaN (not identified; those of r and alpha are conditional on the
    bound) and ``notes_`` gives mu with its interval. Gradients are analytic (the tail integrals'
    by differentiating under their quadrature); the Hessian is by differences of values.
    """

    param_names = ("r", "alpha", "s", "beta")
    coordinate_names = COORDINATE_NAMES
    _coordinate_map = COORDINATE_MAP

    def _objective(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray, share: np.ndarray) -> Objective:
        return _objective(x, tx, T, share)

    def _log_likelihood_rows(self, params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        return log_likelihood_rows(params, x, tx, T)

    def _conditional_expected(self, params: np.ndarray, t: Any, x: Any, tx: Any, T: Any) -> np.ndarray:
        return conditional_expected(params, t, x, tx, T)

    def _starts(self, x: np.ndarray, T: np.ndarray, w: np.ndarray) -> list[np.ndarray]:
        r, alpha = self._nbd_start(x, T, w)
        mean_T = float(np.average(T, weights=w))
        grid = [(s, beta * mean_T) for s in (0.5, 1.0, 2.0) for beta in (0.3, 1.0, 3.0)]
        return [np.log([r, alpha, s / beta, 1.0 / s]) for s, beta in grid]

    def _minimize(self, objective: Objective, start: np.ndarray) -> Optimum:
        return minimize_with_homogeneous_bound(objective, start, self.max_iter)

    _dropout_coordinates = (2, KAPPA)

    def _dropout_reading(self) -> str:
        s, beta = self.params_["s"], self.params_["beta"]
        per = _UNIT_NAMES.get(getattr(self, "time_unit_", None) or "", "time unit")
        return f"a mean dropout rate s/beta = {s / beta:.3g} per {per}"

    def _limit_coordinates(self, coords: np.ndarray) -> tuple[int, ...]:
        if at_no_dropout_bound(coords):
            return (MU, KAPPA)
        return (KAPPA,) if at_homogeneous_bound(coords) else ()

    def _information(self, objective: Objective, coords: np.ndarray, free: np.ndarray) -> np.ndarray:
        """On the no-dropout bound the likelihood of r and alpha is the NBD's (to O(mu T)): its
        closed-form information, instead of finite differences of the slow tail integrals."""
        if at_no_dropout_bound(coords) and not free[MU] and not free[KAPPA]:
            x, T, share = objective.nbd  # type: ignore[attr-defined]
            r, alpha = np.exp(coords[:MU])
            return nbd_information(r, alpha, x, T, share)
        return super()._information(objective, coords, free)

    def _fit_notes(self, coords: np.ndarray) -> tuple[str, ...]:
        if at_no_dropout_bound(coords):
            return (
                "dropout is not identified: the likelihood rises towards no dropout at all (mean "
                "dropout rate s/beta -> 0; the fit stops at the bound s/beta = 1e-8, where the model "
                "is the NBD: every customer keeps buying at their own rate; the log-likelihood reported is "
                "the NBD's, the limit). Standard errors of s and "
                "beta are undefined (NaN); those of r and alpha are conditional on no dropout.",
            )
        if not at_homogeneous_bound(coords):
            return ()
        return (homogeneous_dropout_note(coords, self._coordinate_covariance, self.confidence_level,
                                         getattr(self, "time_unit_", None)),)

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
