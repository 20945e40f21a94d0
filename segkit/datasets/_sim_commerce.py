"""Synthetic purchases (BG/NBD with Gamma-Gamma spend), browsing sessions, product views and carts.

Times are float seconds relative to the start of the period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit.datasets._sim_subscribers import WEEK, engagement_multiplier
from segkit.datasets._sim_tables import PROP_PRICING_PAGE
from segkit.datasets._truth import CATEGORIES, QUIET_RAMP_DAYS, QUIET_RESIDUAL

FAVORITE_CATEGORY_PROB = 0.6
VIEWS_PER_SESSION = 1.3  # Poisson mean of product views in a browsing session
ATTRIBUTION_WINDOW_S = 24 * 3600.0
#: Chance that the web visit in the half hour before a purchase is to the pricing page.
PRICING_BEFORE_PURCHASE = 0.5
#: A browsing session visits the pricing page with chance ``PRICING_PER_CART * cart_prob``
#: (subscribers likelier to add to cart also compare prices more).
PRICING_PER_CART = 1.0


@dataclass(frozen=True)
class Purchases:
    """Organic purchases and the per-customer BG/NBD outcome."""

    sub: np.ndarray
    t: np.ndarray
    value: np.ndarray
    repeat_count: np.ndarray  # per subscriber
    alive_at_end: np.ndarray  # per subscriber (False for non-buyers)
    dropout_at: np.ndarray  # per subscriber, seconds (NaN while alive / non-buyers)


def pick_categories(rng: np.random.Generator, favorite: np.ndarray) -> np.ndarray:
    """The subscriber's favourite category with probability 0.6, otherwise any category."""
    other = rng.integers(0, len(CATEGORIES), len(favorite))
    return np.where(rng.random(len(favorite)) < FAVORITE_CATEGORY_PROB, favorite, other)


def order_values(rng: np.random.Generator, p: float, spend_rate: np.ndarray) -> np.ndarray:
    """Gamma-Gamma order values ``z ~ Gamma(shape=p, rate=nu)``, in cents precision."""
    return np.round(rng.gamma(p, 1.0 / spend_rate), 2)


def bgnbd_purchases(
    rng: np.random.Generator, subs: pd.DataFrame, horizon: float, gg_p: float
) -> Purchases:
    """First purchase plus BG/NBD repeat purchases until dropout or the end of the period.

    Repeat purchases follow a Poisson process with rate lambda (per week) while alive; after each
    repeat purchase the customer drops out with probability p (Fader, Hardie & Lee 2005, section
    2). Given the count M in (first, end], the times are sorted uniforms; the customer keeps the
    first min(M, K) of them where K ~ Geometric(p) is the repeat purchase after which they leave.
    """
    first = subs["first_purchase"].to_numpy()
    buyers = np.flatnonzero(~np.isnan(first))
    span = horizon - first[buyers]
    lam = subs["purchase_rate"].to_numpy()[buyers]
    n_poisson = rng.poisson(lam * span / WEEK)
    n_until_drop = rng.geometric(subs["dropout_prob"].to_numpy()[buyers])
    kept = np.minimum(n_poisson, n_until_drop)
    owner = np.repeat(np.arange(len(buyers)), n_poisson)
    u = rng.random(len(owner))
    order = np.lexsort((u, owner))
    owner, u = owner[order], u[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(n_poisson) - n_poisson, n_poisson)
    repeat_t = first[buyers][owner] + u * span[owner]
    dropped = n_until_drop <= n_poisson
    last_idx = np.cumsum(n_poisson) - n_poisson + n_until_drop - 1
    dropout = np.full(len(subs), np.nan)
    dropout[buyers[dropped]] = repeat_t[last_idx[dropped]]
    keep = rank < kept[owner]
    sub = np.concatenate([buyers, buyers[owner[keep]]])
    t = np.concatenate([first[buyers], repeat_t[keep]])
    repeat_count = np.zeros(len(subs), dtype=np.int64)
    repeat_count[buyers] = kept
    alive = np.zeros(len(subs), dtype=bool)
    alive[buyers] = ~dropped
    value = order_values(rng, gg_p, subs["spend_rate"].to_numpy()[sub])
    return Purchases(sub, np.round(t), value, repeat_count, alive, dropout)


def browsing_sessions(
    rng: np.random.Generator, subs: pd.DataFrame, horizon: float
) -> tuple[np.ndarray, np.ndarray]:
    """Web sessions: Poisson at the subscriber's rate, thinned as engagement fades before quiet."""
    begin = np.maximum(subs["signup"].to_numpy(), 0.0)
    span = np.maximum(horizon - begin, 0.0)
    counts = rng.poisson(subs["web_per_week"].to_numpy() * span / WEEK)
    sub = np.repeat(np.arange(len(subs)), counts)
    t = begin[sub] + rng.random(len(sub)) * span[sub]
    fade = engagement_multiplier(subs["quiet"].to_numpy()[sub], t, QUIET_RAMP_DAYS, QUIET_RESIDUAL)
    keep = rng.random(len(sub)) < fade
    return sub[keep], np.round(t[keep])


def session_views(
    rng: np.random.Generator, subs: pd.DataFrame, sess_sub: np.ndarray, sess_t: np.ndarray
) -> dict[str, np.ndarray]:
    """Product views inside sessions and the cart adds they lead to (with categories)."""
    n_views = rng.poisson(VIEWS_PER_SESSION, len(sess_sub))
    sub = np.repeat(sess_sub, n_views)
    t = np.repeat(sess_t, n_views) + np.round(rng.uniform(10, 900, len(sub)))
    cat = pick_categories(rng, subs["favorite_category"].to_numpy()[sub])
    cart = rng.random(len(sub)) < subs["cart_prob"].to_numpy()[sub]
    return {
        "view_sub": sub,
        "view_t": t,
        "view_cat": cat,
        "cart_sub": sub[cart],
        "cart_t": t[cart] + np.round(rng.uniform(20, 300, cart.sum())),
        "cart_cat": cat[cart],
    }


def attribute_to_clicks(
    purchase_sub: np.ndarray,
    purchase_t: np.ndarray,
    click_sub: np.ndarray,
    click_t: np.ndarray,
    click_campaign: np.ndarray,
) -> np.ndarray:
    """Campaign row of the subscriber's latest click within 24 h before each purchase, else -1."""
    if len(click_sub) == 0:
        return np.full(len(purchase_sub), -1)
    order = np.lexsort((click_t, click_sub))
    click_sub, click_t, campaign = click_sub[order], click_t[order], click_campaign[order]
    # (subscriber, time) as one sortable integer: times are whole seconds below ``scale``
    scale = np.int64(2**40)
    click_key = click_sub.astype(np.int64) * scale + click_t.astype(np.int64)
    purchase_key = purchase_sub.astype(np.int64) * scale + purchase_t.astype(np.int64)
    pos = np.maximum(np.searchsorted(click_key, purchase_key, side="right") - 1, 0)
    same = click_sub[pos] == purchase_sub
    recent = (
        same & (click_t[pos] <= purchase_t) & (purchase_t - click_t[pos] <= ATTRIBUTION_WINDOW_S)
    )
    return np.where(recent, campaign[pos], -1)


def funnel_before(
    rng: np.random.Generator, sub: np.ndarray, t: np.ndarray, cat: np.ndarray
) -> dict[str, np.ndarray]:
    """A session, product view and cart add in the half hour before each purchase."""
    view_t = t - np.round(rng.uniform(300, 1800, len(t)))
    return {
        "visit_sub": sub,
        "visit_t": view_t - np.round(rng.uniform(5, 120, len(t))),
        "view_sub": sub,
        "view_t": view_t,
        "view_cat": cat,
        "cart_sub": sub,
        "cart_t": t - np.round(rng.uniform(30, 280, len(t))),
        "cart_cat": cat,
    }


def pricing_pages(rng: np.random.Generator, prob: np.ndarray) -> np.ndarray:
    """Property code per web visit: the pricing page with probability ``prob``, else none (-1).

    Drawn from its own generator so adding pricing pages left every other event unchanged.
    """
    return np.where(rng.random(len(prob)) < prob, PROP_PRICING_PAGE, -1)
