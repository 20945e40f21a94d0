"""Empirical-Bayes shrinkage of exposure-adjusted rate profiles (gamma-Poisson).

For unit ``i`` (a subscriber, or a segment) and bin ``h`` (local hour or weekday), observed opens
``O_ih`` and preference-free expected opens ``E_ih`` (:mod:`segkit.sendtime._exposure`):

``O_ih ~ Poisson(mu_i E_ih r_ih)``, ``r_ih ~ Gamma(shape = alpha * p_h, rate = alpha)``

where ``p_h`` is the prior profile (the segment's, which is itself shrunk towards the global
one) and ``mu_i`` the unit's overall open level, estimated as
``sum_h O_ih / sum_h E_ih p_h`` so that the prior predicts the unit's own number of opens.
With ``T_ih = mu_i E_ih`` the posterior mean is

``r_hat_ih = (O_ih + alpha p_h) / (T_ih + alpha)``

(Clayton & Kaldor 1987, "Empirical Bayes estimates of age-standardized relative risks for use in
disease mapping", Biometrics 43). ``alpha`` is the prior strength in expected opens per bin,
estimated from all units by the method of moments (Marshall 1991, "Mapping disease and
mortality rates using empirical Bayes estimators", Applied Statistics 40):
``Var(O) = m + T^2 p / alpha`` with ``m = T p``, so
``alpha = sum T^2 p / sum((O - m)^2 - m)``, clipped to ``[ALPHA_MIN, ALPHA_MAX]``.

The credibility (share of the posterior resting on the unit's own data) is
``Z_i = T_i / (T_i + B alpha)`` with ``T_i = sum_h T_ih`` and ``B`` bins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__: list[str] = []

ALPHA_MIN = 0.05
ALPHA_MAX = 1000.0
MIN_OPENS_FOR_MOMENTS = 2


@dataclass(frozen=True)
class Shrunk:
    rate: np.ndarray  # (n, B) posterior mean relative rate
    credibility: np.ndarray  # (n,)
    alpha: float


def _scaled_exposure(opens: np.ndarray, expected: np.ndarray, prior: np.ndarray) -> np.ndarray:
    predicted = (expected * prior).sum(axis=1)
    level = np.divide(opens.sum(axis=1), predicted, out=np.zeros(len(opens)), where=predicted > 0)
    return expected * level[:, None]


def moment_sums(opens: np.ndarray, exposure: np.ndarray, prior: np.ndarray) -> tuple[bool, float, float]:
    """Whether any unit has enough opens, and the sums ``sum((O - m)^2 - m)`` and
    ``sum(T^2 p)`` over those units: :func:`alpha_from_sums` of the totals over blocks of units
    is :func:`moment_alpha` of all units."""
    use = opens.sum(axis=1) >= MIN_OPENS_FOR_MOMENTS
    if not use.any():
        return False, 0.0, 0.0
    o, t, p = opens[use], exposure[use], prior[use]
    m = t * p
    return True, float(((o - m) ** 2 - m).sum()), float((t**2 * p).sum())


def moment_terms(opens: np.ndarray, exposure: np.ndarray, prior: np.ndarray, excess: np.ndarray,
                 signal: np.ndarray) -> None:
    """The terms of :func:`moment_sums` for units that have enough opens, written into
    ``excess`` (``(O - m)^2 - m``) and ``signal`` (``T^2 p``): a caller that fills one buffer
    range by range and sums it once gets :func:`moment_sums` of all those units, to the bit."""
    m = exposure * prior
    np.subtract(opens, m, out=excess)
    np.square(excess, out=excess)
    excess -= m
    np.square(exposure, out=signal)
    signal *= prior


def alpha_from_sums(used: bool, excess: float, signal: float) -> float:
    """Method-of-moments prior strength from :func:`moment_sums`; ``nan`` when no unit has
    enough data."""
    if not used:
        return float("nan")
    if excess <= 0:
        return ALPHA_MAX
    return float(np.clip(signal / excess, ALPHA_MIN, ALPHA_MAX))


def moment_alpha(opens: np.ndarray, exposure: np.ndarray, prior: np.ndarray) -> float:
    """Method-of-moments prior strength (Marshall 1991); ``nan`` when there is too little data."""
    return alpha_from_sums(*moment_sums(opens, exposure, prior))


def scaled_exposure(opens: np.ndarray, expected: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """``T_ih = mu_i E_ih``: expected opens scaled to the unit's own level."""
    return _scaled_exposure(opens, expected, np.broadcast_to(prior, opens.shape))


def shrink(
    opens: np.ndarray, expected: np.ndarray, prior: np.ndarray, alpha: float | None = None,
    exposure: np.ndarray | None = None,
) -> Shrunk:
    """Posterior mean profiles; ``prior`` is (n, B) or (B,), each row with mean 1; ``exposure``
    is :func:`scaled_exposure` when already computed."""
    prior = np.broadcast_to(prior, opens.shape)
    if exposure is None:
        exposure = _scaled_exposure(opens, expected, prior)
    if alpha is None:
        alpha = moment_alpha(opens, exposure, prior)
        alpha = ALPHA_MAX if np.isnan(alpha) else alpha
    rate = (opens + alpha * prior) / (exposure + alpha)
    total = exposure.sum(axis=1)
    credibility = total / (total + opens.shape[1] * alpha)
    return Shrunk(rate=rate, credibility=credibility, alpha=float(alpha))


def normalized(profile: np.ndarray) -> np.ndarray:
    """Scale rows to mean 1 (flat where a row is all zero)."""
    profile = np.atleast_2d(profile).astype(float)
    mean = profile.mean(axis=1, keepdims=True)
    return np.divide(profile, mean, out=np.ones_like(profile), where=mean > 0)
