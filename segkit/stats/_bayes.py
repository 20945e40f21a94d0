"""Bayesian views: Beta-Binomial posteriors for proportions, a normal posterior of the effect for
continuous and ratio metrics (chance to beat control, expected loss, credible interval)."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from segkit.errors import ValidationError

__all__ = ["BayesianResult", "beta_binomial"]


@dataclass(frozen=True)
class BayesianResult:
    """Posterior comparison of a treatment rate with the control rate."""

    prob_beat_control: float
    expected_loss: float
    expected_loss_control: float
    posterior_control: tuple[float, float]
    posterior_treatment: tuple[float, float]
    prior: tuple[float, float]
    method: str = "Beta-Binomial conjugate posteriors; probabilities by Gauss-Legendre quadrature"

    def to_frame(self) -> pd.DataFrame:
        """One row with the posterior parameters, chance to beat control and expected losses."""
        return pd.DataFrame(
            [
                {
                    "prob_beat_control": self.prob_beat_control,
                    "expected_loss": self.expected_loss,
                    "expected_loss_control": self.expected_loss_control,
                    "alpha_control": self.posterior_control[0],
                    "beta_control": self.posterior_control[1],
                    "alpha_treatment": self.posterior_treatment[0],
                    "beta_treatment": self.posterior_treatment[1],
                }
            ]
        )

    def summary(self) -> str:
        """The result in one sentence."""
        return (
            f"Chance the treatment rate beats control: {self.prob_beat_control:.1%}; expected loss "
            f"if we ship it and it is worse: {self.expected_loss:.3g} (absolute rate), "
            f"if we keep control: {self.expected_loss_control:.3g} "
            f"(Beta({self.prior[0]:g}, {self.prior[1]:g}) prior)."
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.to_frame().to_html(index=False)


_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(64)
_PANELS = 32


def prob_greater(a1: float, b1: float, a2: float, b2: float) -> float:
    """:math:`P(X > Y)` for independent :math:`X \\sim B(a_1,b_1)`, :math:`Y \\sim B(a_2,b_2)`:
    :math:`\\int_0^1 f_X(x) F_Y(x)\\,dx`.

    Integrated by composite Gauss-Legendre quadrature (32 panels x 64 nodes) over the central
    :math:`1 - 2\\cdot 10^{-14}` of :math:`X`'s mass, with :math:`F_Y` the regularised incomplete
    beta function. Closed-form sums such as Evan Miller's exist for integer parameters but cost
    :math:`O(a_1)` terms, which is slow at email volumes; the tests check agreement with them.
    """
    low, high = special.betaincinv(a1, b1, 1e-14), special.betaincinv(a1, b1, 1 - 1e-14)
    edges = np.linspace(low, high, _PANELS + 1)
    half = np.diff(edges)[:, None] / 2
    x = (edges[:-1, None] + half + half * _NODES[None, :]).ravel()
    x = np.clip(x, 1e-300, 1 - 1e-16)
    log_pdf = (a1 - 1) * np.log(x) + (b1 - 1) * np.log1p(-x) - special.betaln(a1, b1)
    weights = (half * _WEIGHTS[None, :]).ravel()
    value = float(np.sum(weights * np.exp(log_pdf) * special.betainc(a2, b2, x)))
    return min(max(value, 0.0), 1.0)


def beta_binomial(
    count_control: int,
    n_control: int,
    count_treatment: int,
    n_treatment: int,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
) -> BayesianResult:
    """Chance that the treatment rate beats control, and the expected loss of each choice.

    With a :math:`\\mathrm{Beta}(a, b)` prior each arm's rate has posterior
    :math:`\\mathrm{Beta}(a + x, b + n - x)`. The chance to beat control is
    :math:`P(p_T > p_C)`; the expected loss of shipping the treatment is
    :math:`E[\\max(p_C - p_T, 0)]`, computed exactly from the identity
    :math:`E[p_C 1\\{p_C > p_T\\}] = E[p_C] P(p_C^+ > p_T)` with :math:`p_C^+` the posterior with
    one more success (Stucchio 2015, "Bayesian A/B testing at VWO", section 4).
    """
    _check_counts(count_control, n_control, "control")
    _check_counts(count_treatment, n_treatment, "treatment")
    if min(prior) <= 0:
        raise ValidationError(f"prior parameters must be positive, got {prior}")
    a_c, b_c = prior[0] + count_control, prior[1] + n_control - count_control
    a_t, b_t = prior[0] + count_treatment, prior[1] + n_treatment - count_treatment
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    loss_ship = mean_c * prob_greater(a_c + 1, b_c, a_t, b_t) - mean_t * prob_greater(
        a_c, b_c, a_t + 1, b_t
    )
    loss_keep = mean_t * prob_greater(a_t + 1, b_t, a_c, b_c) - mean_c * prob_greater(
        a_t, b_t, a_c + 1, b_c
    )
    return BayesianResult(
        prob_beat_control=prob_greater(a_t, b_t, a_c, b_c),
        expected_loss=float(max(loss_ship, 0.0)),
        expected_loss_control=float(max(loss_keep, 0.0)),
        posterior_control=(float(a_c), float(b_c)),
        posterior_treatment=(float(a_t), float(b_t)),
        prior=(float(prior[0]), float(prior[1])),
    )


def _check_counts(count: float, n: float, label: str) -> None:
    if not (np.isfinite(count) and np.isfinite(n)) or n <= 0 or count < 0 or count > n:
        raise ValidationError(
            f"{label}: need 0 <= successes <= units and units > 0 (a proportion in [0, 1]), "
            f"got {count} successes of {n}"
        )


def beta_difference_interval(posterior: BayesianResult, alpha: float) -> tuple[float, float]:
    """Credible interval of :math:`p_T - p_C` from the two Beta posteriors, by the normal
    approximation with the posteriors' exact means and variances (accurate once each arm has a
    few successes and failures; the chance to beat control and the losses are exact)."""
    moments = []
    for a, b in (posterior.posterior_treatment, posterior.posterior_control):
        mean = a / (a + b)
        moments.append((mean, mean * (1 - mean) / (a + b + 1)))
    diff = moments[0][0] - moments[1][0]
    sd = float(np.sqrt(moments[0][1] + moments[1][1]))
    z = float(stats.norm.isf(alpha / 2))
    return diff - z * sd, diff + z * sd


def effect_posterior(mean: float, variance: float, alpha: float = 0.05) -> dict[str, float]:
    """Normal posterior of an effect under a flat prior: chance to win, expected losses and the
    central credible interval (the "effect" Bayesian engine of GrowthBook's gbstats 0.8.0 with an
    improper prior).

    With :math:`\\delta \\sim N(\\mu, \\sigma^2)`: chance to win :math:`\\Phi(\\mu/\\sigma)`; the
    expected loss of shipping the treatment :math:`E[\\max(-\\delta, 0)] = \\sigma\\varphi(\\mu/\\sigma)
    - \\mu\\Phi(-\\mu/\\sigma)` and of keeping control :math:`E[\\max(\\delta, 0)] =
    \\sigma\\varphi(\\mu/\\sigma) + \\mu\\Phi(\\mu/\\sigma)` (the normal partial expectations, in
    closed form where gbstats integrates a truncated normal). ``mean`` and ``variance`` are the
    estimate and its variance on whichever scale the caller works (absolute or relative lift).
    """
    sd = float(np.sqrt(variance))
    if not (np.isfinite(mean) and sd > 0):
        nan = float("nan")
        return {"chance_to_win": nan, "risk_control": nan, "risk_treatment": nan,
                "ci_low": nan, "ci_high": nan}
    z = mean / sd
    density = float(stats.norm.pdf(z))
    z_crit = float(stats.norm.isf(alpha / 2))
    return {
        "chance_to_win": float(stats.norm.cdf(z)),
        "risk_control": sd * density + mean * float(stats.norm.cdf(z)),
        "risk_treatment": sd * density - mean * float(stats.norm.cdf(-z)),
        "ci_low": mean - z_crit * sd,
        "ci_high": mean + z_crit * sd,
    }
