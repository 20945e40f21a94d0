"""Synthetic subscribers: sign-up, zone, consent, personas and their latent behaviour.

Times are float seconds relative to the start of the period (negative: before it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.datasets._truth import (
    BETA_CONCENTRATION,
    CATEGORIES,
    CATEGORY_POPULARITY,
    DORMANT_ALREADY_QUIET,
    PERSONAS,
    SIGNUP_SOURCE_SHARES,
    SIGNUP_SOURCES,
    ZONES,
    BetaGeoTruth,
    GammaGammaTruth,
)

DAY = 86_400.0
WEEK = 7 * DAY

PERSONA_NAMES: tuple[str, ...] = tuple(PERSONAS)
NEW_SHARE = 0.12  # subscribers who signed up in the last NEW_WINDOW_DAYS of the period
NEW_WINDOW_DAYS = 75.0
JOINED_BEFORE_SHARE = 0.8  # of established subscribers; the rest joined early in the period
HISTORY_DAYS = 730.0  # established subscribers signed up up to two years before the start
BUYER_SHARE = 0.55  # subscribers who ever become customers (independent of every latent)
BUYER_DELAY_DAYS = 60.0  # their mean wait from joining (or the start) to the first purchase
CHAMPION_RATE_QUANTILE = 0.6  # buyers above this quantile of the purchase-rate prior
BROWSER_SHARE = 0.45  # of non-buyers; the rest are dormant
MISSING_ZONE_SHARE = 0.03
NO_CONSENT_SHARE = 0.04
UNSUBSCRIBED_BEFORE_SHARE = 0.04
MACHINE_OPEN_PROB = 0.97
SEND_SHARES = (0.4, 0.7, 1.0)
SEND_SHARE_WEIGHTS = (0.25, 0.35, 0.40)
UNSUBSCRIBE_PROB = {
    "champions": 4e-4,
    "engaged_browsers": 6e-4,
    "occasional": 1.2e-3,
    "dormant": 1.5e-3,
    "new": 1e-3,
}
PREFERRED_HOUR_WEIGHTS = np.array(
    [0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 3, 5, 6, 4, 2, 2, 3, 2.5, 1.5, 1, 1, 1.5, 3, 4, 5, 4, 2, 0.8]
)
FIRST_NAMES = (
    "alex",
    "sam",
    "maria",
    "li",
    "noah",
    "emma",
    "omar",
    "yuki",
    "lena",
    "jon",
    "ana",
    "raj",
    "chloe",
    "ben",
    "ines",
    "kai",
    "zoe",
    "leo",
    "mia",
    "ivan",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


def _beta(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    return rng.beta(mean * BETA_CONCENTRATION, (1.0 - mean) * BETA_CONCENTRATION)


def _signups(rng: np.random.Generator, n: int, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    is_new = rng.random(n) < NEW_SHARE
    new_at = rng.uniform(horizon - NEW_WINDOW_DAYS * DAY, horizon - 3 * DAY, n)
    before = rng.uniform(-HISTORY_DAYS * DAY, 0.0, n)
    during = rng.uniform(0.0, max(horizon - 2 * NEW_WINDOW_DAYS * DAY, DAY), n)
    old_at = np.where(rng.random(n) < JOINED_BEFORE_SHARE, before, during)
    return is_new, np.where(is_new, new_at, old_at)


def _purchase_latents(
    rng: np.random.Generator,
    n: int,
    signup: np.ndarray,
    horizon: float,
    bgnbd: BetaGeoTruth,
    gg: GammaGammaTruth,
) -> dict[str, np.ndarray]:
    """BG/NBD and Gamma-Gamma draws; the first purchase time is independent of the latents."""
    first = np.maximum(signup, 0.0) + rng.exponential(BUYER_DELAY_DAYS * DAY, n)
    first[rng.random(n) >= BUYER_SHARE] = np.inf
    return {
        "purchase_rate": rng.gamma(bgnbd.r, 1.0 / bgnbd.alpha, n),
        "dropout_prob": rng.beta(bgnbd.a, bgnbd.b, n),
        "spend_rate": rng.gamma(gg.q, 1.0 / gg.gamma, n),
        "first_purchase": np.where(first <= horizon, first, np.nan),
    }


def _personas(
    rng: np.random.Generator,
    is_new: np.ndarray,
    buyer: np.ndarray,
    rate: np.ndarray,
    bgnbd: BetaGeoTruth,
) -> np.ndarray:
    """Persona from sign-up recency, buying and the latent purchase rate (never the reverse), so
    the BG/NBD population distribution stays exactly Gamma/Beta."""
    from scipy.special import gammaincinv

    threshold = gammaincinv(bgnbd.r, CHAMPION_RATE_QUANTILE) / bgnbd.alpha  # Gamma quantile
    browser = rng.random(len(is_new)) < BROWSER_SHARE
    persona = np.select(
        [is_new, buyer & (rate > threshold), buyer, browser],
        ["new", "champions", "occasional", "engaged_browsers"],
        default="dormant",
    )
    return persona.astype(object)


def _quiet_times(rng: np.random.Generator, persona: np.ndarray, signup: np.ndarray) -> np.ndarray:
    mean_days = np.array([PERSONAS[p]["quiet_days"] for p in persona])
    quiet = np.maximum(signup, 0.0) + rng.exponential(mean_days * DAY)
    already = (persona == "dormant") & (rng.random(len(persona)) < DORMANT_ALREADY_QUIET)
    before = np.maximum(signup, -180 * DAY) + rng.uniform(0, 1, len(persona)) * (
        -np.maximum(signup, -180 * DAY)
    )
    return np.where(already & (signup < 0), before, quiet)


def _contact(rng: np.random.Generator, n: int, signup: np.ndarray) -> dict[str, np.ndarray]:
    zone_idx = rng.choice(len(ZONES), n, p=[z[2] for z in ZONES])
    consent = rng.random(n) >= NO_CONSENT_SHARE
    early_unsub = (signup < -30 * DAY) & (rng.random(n) < UNSUBSCRIBED_BEFORE_SHARE)
    latest = np.maximum(np.minimum(0.0, signup + 400 * DAY), signup)
    unsub_before = np.where(early_unsub, signup + rng.random(n) * (latest - signup), np.nan)
    return {
        "zone_idx": zone_idx,
        "zone_missing": rng.random(n) < MISSING_ZONE_SHARE,
        "consent": consent,
        "unsubscribed_before": unsub_before,
        "signup_source": rng.choice(len(SIGNUP_SOURCES), n, p=SIGNUP_SOURCE_SHARES),
        "first_name": rng.integers(0, len(FIRST_NAMES), n),
        "domain": rng.integers(0, len(EMAIL_DOMAINS), n),
    }


def simulate_subscribers(
    rng: np.random.Generator,
    n: int,
    horizon: float,
    *,
    machine_open_share: float,
    bgnbd: BetaGeoTruth,
    gg: GammaGammaTruth,
) -> pd.DataFrame:
    """Latent and observable subscriber attributes, one row per subscriber (positional)."""
    is_new, signup = _signups(rng, n, horizon)
    latents = _purchase_latents(rng, n, signup, horizon, bgnbd, gg)
    buyer = ~np.isnan(latents["first_purchase"])
    persona = _personas(rng, is_new, buyer, latents["purchase_rate"], bgnbd)
    params = pd.DataFrame(PERSONAS).T.loc[persona]
    frame = pd.DataFrame(
        {
            "signup": signup,
            "persona": persona,
            "open_prob": _beta(rng, params["open"].to_numpy()),
            "click_prob": _beta(rng, params["click"].to_numpy()),
            "web_per_week": params["web_per_week"].to_numpy() * rng.lognormal(0.0, 0.4, n),
            "cart_prob": params["cart"].to_numpy(),
            "quiet": _quiet_times(rng, persona, signup),
            "preferred_local_hour": rng.choice(
                24, n, p=PREFERRED_HOUR_WEIGHTS / PREFERRED_HOUR_WEIGHTS.sum()
            ),
            "machine_opener": rng.random(n) < machine_open_share,
            "send_share": rng.choice(SEND_SHARES, n, p=SEND_SHARE_WEIGHTS),
            "unsubscribe_prob": np.array([UNSUBSCRIBE_PROB[p] for p in persona]),
            "favorite_category": rng.choice(len(CATEGORIES), n, p=CATEGORY_POPULARITY),
            **latents,
            **_contact(rng, n, signup),
        }
    )
    return frame


def engagement_multiplier(
    quiet: np.ndarray, t: np.ndarray, ramp_days: float, residual: float
) -> np.ndarray:
    """1 long before ``quiet``, fading linearly to ``residual`` at ``quiet`` and after it."""
    left = (quiet - t) / (ramp_days * DAY)
    return residual + (1.0 - residual) * np.clip(left, 0.0, 1.0)
