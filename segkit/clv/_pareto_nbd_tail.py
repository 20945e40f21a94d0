"""The integral inside the Pareto/NBD likelihood, finite and continuous up to homogeneous dropout.

With purchase rate lambda ~ gamma(r, alpha) and lifetime density ``f(u) = s beta^s (beta+u)^-(s+1)``
(exponential lifetimes with a gamma(s, beta) dropout rate), a customer with x repeat purchases
contributes (Fader & Hardie 2005, "A Note on Deriving the Pareto/NBD Model")::

    Gamma(r+x) alpha^r / Gamma(r) * [(alpha+T)^-(r+x) S(T) + A(t_x) - A(T)],
    A(t) = int_t^inf (alpha+u)^-(r+x) f(u) du,   S(T) = (1 + T/beta)^-s.

Here the dropout side is written in ``mu = s/beta`` (mean dropout rate) and ``kappa = 1/s``
(squared coefficient of variation of the dropout rate)::

    f(u) = mu (1 + kappa mu u)^-(1/kappa + 1),   log S(T) = -log1p(kappa mu T) / kappa,

which stays finite as s, beta -> inf with s/beta fixed and is exactly ``mu exp(-mu u)`` and
``-mu T`` at ``kappa = 0``: every customer drops out at the common rate mu (the Pareto/NBD model
becomes the "exponential dropout" model; Schmittlein, Morrison & Colombo 1987, section 3).

``A(t)`` is evaluated

* for ``s <= SERIES_MAX_S`` as the Gauss hypergeometric series of Fader & Hardie (2005) after
  Euler's transformation (positive terms, no overflow for large x), where scipy's ``hyp2f1``
  is accurate to ~1e-13;
* for larger s (and where the series is not finite) by Gauss-Legendre quadrature after the change
  of variable ``y = log(c + u)``, ``c = min(alpha, beta)``. In y the log-integrand is concave,
  its maximum has a closed form, and the quadrature runs over the window where it is within
  about ``DROP`` of that maximum (window ends bracketed by step doubling, then placed by false
  position on the far side of the level, so no mass is cut). Agrees with adaptive quadrature (scipy ``quad``) to ~1e-12 for s >= 10 up
  to and including kappa = 0, and with the series to ~3e-13 at s = 10. scipy's ``hyp2f1`` is off
  by 5e-10 at s = 50 and by 4e-7 at s = 100 (and infinite from s ~ 200 with z near 1), which is
  why the series is not used there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import hyp2f1

#: the series (scipy's hyp2f1) is used up to this s; quadrature above.
SERIES_MAX_S = 10.0
#: the quadrature window keeps the part of the integrand within exp(-DROP) of its maximum.
DROP = 40.0
#: a window end lies between DROP and DROP + _SLACK below the maximum.
_SLACK = 5.0
#: iteration cap of the bracketing and false-position loops (each stops early when done).
_MAX_STEPS = 60
#: largest y = log(c + u) considered (exp(700) is finite in double precision).
_Y_MAX = 700.0
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_LOG_WEIGHTS = np.log(_WEIGHTS)


def log_over_kappa(kappa: float, z: np.ndarray) -> np.ndarray:
    """``log1p(kappa z) / kappa``, equal to z at kappa = 0 (accurate for tiny kappa)."""
    return z if kappa == 0 else np.log1p(kappa * z) / kappa


@dataclass(frozen=True)
class _Integrand:
    """log of ``(alpha+u)^-a f(u) du/dy`` with ``u = exp(y) - c``, for a scalar dropout side and
    an array of ``a = r + x``."""

    alpha: float
    mu: float
    kappa: float

    @property
    def c(self) -> float:
        beta = np.inf if self.kappa == 0 else 1.0 / (self.kappa * self.mu)
        return min(self.alpha, beta)

    def log_value(self, y: np.ndarray, a: np.ndarray) -> np.ndarray:
        u = np.exp(y)
        u -= self.c
        np.maximum(u, 0.0, out=u)
        out = np.log(self.alpha + u)
        out *= -a
        out += y
        u *= self.mu
        out -= (1.0 + self.kappa) * log_over_kappa(self.kappa, u)
        out += np.log(self.mu)
        return out

    def slope(self, y: np.ndarray, a: np.ndarray) -> np.ndarray:
        ey = np.exp(y)
        u = np.maximum(ey - self.c, 0.0)
        return 1.0 - a * ey / (self.alpha + u) - (1.0 + self.kappa) * self.mu * ey / (1.0 + self.kappa * self.mu * u)

    def curvature(self, y: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Second derivative of ``log_value`` (<= 0: the log-integrand is concave in y)."""
        ey = np.exp(y)
        u = np.maximum(ey - self.c, 0.0)
        shift = self.alpha - self.c
        rest = 1.0 - self.kappa * self.mu * self.c
        return (-a * shift * ey / (self.alpha + u) ** 2
                - (1.0 + self.kappa) * self.mu * rest * ey / (1.0 + self.kappa * self.mu * u) ** 2)

    def peak(self, y0: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Where the log-integrand is largest on [y0, inf): closed form.

        With ``c = alpha`` the slope is ``1 - a - (1+kappa) mu e^y / (1 - kappa mu alpha + kappa mu e^y)``,
        zero at ``e^y = (1-a)(1 - kappa mu alpha) / (mu (1 + kappa a))`` when a < 1; with ``c = beta``
        (beta < alpha) the slope is below ``-s`` everywhere.
        """
        if self.c != self.alpha:
            return y0
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.log((1.0 - a) * (1.0 - self.kappa * self.mu * self.alpha)) - np.log(self.mu * (1.0 + self.kappa * a))
        return np.where(a < 1.0, np.maximum(y0, np.nan_to_num(inner, nan=-np.inf)), y0)


def _level_crossing(f: _Integrand, a: np.ndarray, inside: np.ndarray, outside: np.ndarray,
                    target: np.ndarray) -> np.ndarray:
    """A point between ``inside`` (log-integrand above ``target``) and ``outside`` (below it) where
    the log-integrand is within ``_SLACK`` below ``target``, by the Illinois variant of false
    position; the returned point always stays on the outside, so the window never cuts mass."""
    h_in, h_out = f.log_value(inside, a) - target, f.log_value(outside, a) - target
    for _ in range(_MAX_STEPS):
        busy = h_out < -_SLACK
        if not busy.any():
            break
        with np.errstate(all="ignore"):
            trial = np.where(busy, outside - h_out * (outside - inside) / (h_out - h_in), outside)
        h_trial = f.log_value(trial, a) - target
        crossed = busy & (h_trial <= 0.0)
        kept = busy & ~crossed
        inside, h_in = np.where(kept, trial, inside), np.where(kept, h_trial, np.where(crossed, h_in / 2, h_in))
        outside, h_out = np.where(crossed, trial, outside), np.where(crossed, h_trial, np.where(kept, h_out / 2, h_out))
    return outside


def _right_bracket(f: _Integrand, peak: np.ndarray, a: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A point past the peak still above ``target`` and one below it (step doubling from a
    quadratic- or tangent-model guess of the distance)."""
    slope, curvature = f.slope(peak, a), f.curvature(peak, a)
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.fmin(np.fmin(DROP / -slope, np.sqrt(2.0 * DROP / -curvature)), 1.0)
    step = np.where(np.isfinite(reach) & (reach > 0), reach, 1.0) / 4.0
    inside, outside = peak.copy(), np.minimum(peak + step, _Y_MAX)
    for _ in range(_MAX_STEPS):
        above = (f.log_value(outside, a) > target) & (outside < _Y_MAX)
        if not above.any():
            break
        step = np.where(above, 2.0 * step, step)
        inside = np.where(above, outside, inside)
        outside = np.where(above, np.minimum(outside + step, _Y_MAX), outside)
    return inside, outside


def _window(f: _Integrand, y0: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The y range where the integrand is within about exp(-DROP) of its maximum on [y0, inf)."""
    peak = f.peak(y0, a)
    target = f.log_value(peak, a) - DROP
    right = _level_crossing(f, a, *_right_bracket(f, peak, a, target), target)
    cut_left = (peak > y0) & (f.log_value(y0, a) < target)
    left = np.where(cut_left, _level_crossing(f, a, peak, y0, target), y0)
    return left, right


def _quadrature(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray,
                gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """``log A(t)`` by quadrature and, with ``gradient``, its derivatives in (log r, log alpha,
    log mu, log kappa): the integral does not depend on the change of variable, so each derivative
    is the integrand-weighted mean of the derivative of the log-integrand in u at the same nodes."""
    f = _Integrand(float(alpha), float(mu), float(kappa))
    a = r + np.asarray(x, dtype=float)
    y0 = np.log(f.c + np.asarray(t, dtype=float))
    left, right = _window(f, y0, a)
    half = (right - left) / 2.0
    y = left[:, None] + half[:, None] * (_NODES + 1.0)
    if not gradient:
        values = f.log_value(y, a[:, None])
    else:  # the same log-integrand, keeping its parts for the derivatives
        u = np.maximum(np.exp(y) - f.c, 0.0)
        log_u = np.log(alpha + u)
        m = mu * u
        spread = log_over_kappa(kappa, m)
        values = y - a[:, None] * log_u - (1.0 + kappa) * spread + np.log(mu)
    values += _LOG_WEIGHTS
    top = values.max(axis=1)
    values -= top[:, None]
    weights = np.exp(values, out=values)
    total = weights.sum(axis=1)
    log_a = np.log(half) + top + np.log(total)
    if not gradient:
        return log_a, None
    weights /= total[:, None]
    mean_log_u = np.einsum("ij,ij->i", weights, log_u)
    mean_inverse = np.einsum("ij,ij->i", weights, 1.0 / (alpha + u))
    mean_share = np.einsum("ij,ij->i", weights, m / (1.0 + kappa * m))
    mean_spread = np.einsum("ij,ij->i", weights, spread)
    # d log f / d log mu = 1 - (1+kappa) m/(1+kappa m); d / d log kappa = log1p(kappa m)/kappa
    # - (1+kappa) m/(1+kappa m) (m = mu u; both parts tend to m as kappa -> 0, the difference to
    # kappa m^2/2, with an absolute rounding error of ~1e-16 m)
    return log_a, np.stack([-r * mean_log_u, -alpha * a * mean_inverse, 1.0 - (1.0 + kappa) * mean_share,
                            mean_spread - (1.0 + kappa) * mean_share], axis=1)


def log_tail_quadrature(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log A(t)`` by 48-point Gauss-Legendre in ``y = log(c + u)`` over the window of
    :func:`_window`; any kappa >= 0 (kappa = 0: exponential lifetimes with rate mu)."""
    return _quadrature(r, alpha, mu, kappa, x, t, gradient=False)[0]


def log_tail_gradient(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    """``log A(t)`` (as :func:`log_tail`) and its derivatives in (log r, log alpha, log mu,
    log kappa), shape ``(n, 4)``, by differentiating under the quadrature (analytic at the nodes;
    accurate to the quadrature's error, ~1e-12 for s >= 1 and ~1e-6 at worst for s and r near
    0.05)."""
    x, t = (np.asarray(v, dtype=float).ravel() for v in np.broadcast_arrays(x, t))
    value, grad = _quadrature(r, alpha, mu, kappa, x, t, gradient=True)
    if kappa * SERIES_MAX_S >= 1.0:  # the series where finite, as log_tail gives it; else the
        series = log_tail_series(r, alpha, mu, kappa, x, t)  # quadrature computed above
        value = np.where(np.isfinite(series), series, value)
    return value, grad


def log_tail_series(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log A(t)`` from Fader & Hardie's (2005) 2F1 terms; with ``s = 1/kappa``, ``beta = s/mu``:

    * alpha >= beta: ``-a log(alpha+t) - s log1p(t/beta) + log 2F1(1, a; r+s+x+1; (alpha-beta)/(alpha+t))``
    * alpha < beta: ``(1-a) log(alpha+t) - log(beta+t) - s log1p(t/beta) + log 2F1(1, s+1; r+s+x+1; (beta-alpha)/(beta+t))``

    plus ``log s - log(r+s+x)``; ``a = r + x``. Euler's transformation of the note's
    ``2F1(r+s+x, b; r+s+x+1; z)`` gives these series of positive terms, each at most ``z^k``.
    The ``beta^s`` of the likelihood is folded in as ``-s log1p(t/beta)`` (no cancellation of
    ``s log beta`` against ``s log(beta+t)``).
    """
    s, beta = 1.0 / kappa, 1.0 / (kappa * mu)
    a = r + x
    with np.errstate(all="ignore"):
        survival = -s * np.log1p(t / beta)
        if alpha >= beta:
            series = hyp2f1(1.0, a, r + s + x + 1.0, (alpha - beta) / (alpha + t))
            value = -a * np.log(alpha + t) + survival + np.log(series)
        else:
            series = hyp2f1(1.0, s + 1.0, r + s + x + 1.0, (beta - alpha) / (beta + t))
            value = (1.0 - a) * np.log(alpha + t) - np.log(beta + t) + survival + np.log(series)
        return np.log(s) - np.log(r + s + x) + value


def log_tail(r: float, alpha: float, mu: float, kappa: float, x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``log A(t)`` for arrays x, t: the series where s <= SERIES_MAX_S and it is finite, else
    quadrature."""
    x, t = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(t, dtype=float))
    if kappa * SERIES_MAX_S < 1.0:
        return log_tail_quadrature(r, alpha, mu, kappa, x.ravel(), t.ravel()).reshape(x.shape)
    value = np.array(log_tail_series(r, alpha, mu, kappa, x, t), dtype=float)
    bad = ~np.isfinite(value)
    if np.any(bad):
        value[bad] = log_tail_quadrature(r, alpha, mu, kappa, x[bad], t[bad])
    return value


def log_survival(mu: float, kappa: float, t: np.ndarray) -> np.ndarray:
    """``log P(lifetime > t) = -s log1p(t/beta)`` (``-mu t`` at kappa = 0)."""
    return -log_over_kappa(kappa, mu * np.asarray(t, dtype=float))
