"""Planted parameters of the synthetic generator and the truth object it returns.

Everything the generator draws from is declared here, so a test or a notebook can read the exact
values that later models are expected to recover.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "BetaGeoTruth",
    "ExperimentTruth",
    "GammaGammaTruth",
    "SyntheticTruth",
]

#: Personas and their behaviour. ``open`` is the mean human-open probability per send and
#: ``click`` the mean click probability given a human open (both Beta-distributed around these
#: means); ``web_per_week`` is the browsing-session rate; ``cart`` the chance a product view leads
#: to a cart add; ``quiet_days`` the mean time until the subscriber goes quiet (exponential).
PERSONAS: dict[str, dict[str, float]] = {
    "champions": {
        "open": 0.60,
        "click": 0.25,
        "web_per_week": 0.25,
        "cart": 0.12,
        "quiet_days": 3000,
    },
    "engaged_browsers": {
        "open": 0.40,
        "click": 0.14,
        "web_per_week": 0.7,
        "cart": 0.18,
        "quiet_days": 1500,
    },
    "occasional": {
        "open": 0.18,
        "click": 0.07,
        "web_per_week": 0.10,
        "cart": 0.08,
        "quiet_days": 700,
    },
    "dormant": {"open": 0.05, "click": 0.05, "web_per_week": 0.02, "cart": 0.05, "quiet_days": 120},
    "new": {"open": 0.50, "click": 0.16, "web_per_week": 0.30, "cart": 0.12, "quiet_days": 900},
}

#: Concentration of the Beta distributions around the persona means (larger: tighter).
BETA_CONCENTRATION = 30.0

#: Share of dormant subscribers who were already quiet before the period starts.
DORMANT_ALREADY_QUIET = 0.7

#: Engagement fades linearly over this many days before ``quiet_at`` down to ``QUIET_RESIDUAL``
#: of its level, and stays there afterwards.
QUIET_RAMP_DAYS = 45.0
QUIET_RESIDUAL = 0.08

#: Time zones (IANA) with their country and share of the list.
ZONES: tuple[tuple[str, str, float], ...] = (
    ("America/New_York", "US", 0.30),
    ("America/Chicago", "US", 0.12),
    ("America/Denver", "US", 0.04),
    ("America/Los_Angeles", "US", 0.14),
    ("America/Toronto", "CA", 0.04),
    ("America/Sao_Paulo", "BR", 0.03),
    ("Europe/London", "GB", 0.12),
    ("Europe/Berlin", "DE", 0.08),
    ("Europe/Paris", "FR", 0.05),
    ("Asia/Tokyo", "JP", 0.04),
    ("Australia/Sydney", "AU", 0.04),
)

CATEGORIES: tuple[str, ...] = ("apparel", "shoes", "accessories", "home", "beauty", "electronics")
CATEGORY_POPULARITY: tuple[float, ...] = (0.28, 0.18, 0.14, 0.16, 0.14, 0.10)

SIGNUP_SOURCES: tuple[str, ...] = ("website_popup", "checkout", "referral", "social_ad", "import")
SIGNUP_SOURCE_SHARES: tuple[float, ...] = (0.38, 0.27, 0.12, 0.15, 0.08)

#: The proxy user agent put on some machine opens (Apple Mail Privacy Protection style).
MPP_USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "AppleMailProxy (Mail Privacy Protection)"
)


@dataclass(frozen=True)
class BetaGeoTruth:
    """BG/NBD parameters (Fader, Hardie & Lee 2005), time unit stated in ``time_unit``.

    Per customer: purchase rate ``lambda ~ Gamma(shape=r, rate=alpha)`` per ``time_unit`` while
    alive, and after every *repeat* purchase the customer drops out with probability
    ``p ~ Beta(a, b)``. The clock of each customer starts at the first purchase.
    """

    r: float = 1.5
    alpha: float = 20.0
    a: float = 0.8
    b: float = 4.0
    time_unit: str = "weeks"

    @property
    def mean_rate(self) -> float:
        """Mean purchase rate per ``time_unit`` across customers, ``r / alpha``."""
        return self.r / self.alpha


@dataclass(frozen=True)
class GammaGammaTruth:
    """Gamma-Gamma spend parameters (Fader, Hardie & Lee 2005, "RFM and CLV").

    Per customer ``nu ~ Gamma(shape=q, rate=gamma)``; each order value ``z ~ Gamma(shape=p,
    rate=nu)``, so the customer's mean order value is ``p / nu`` and the population mean is
    ``p * gamma / (q - 1)``.
    """

    p: float = 6.0
    q: float = 4.0
    gamma: float = 25.0

    @property
    def mean_order_value(self) -> float:
        return self.p * self.gamma / (self.q - 1.0)


@dataclass(frozen=True)
class ExperimentTruth:
    """The randomized campaign experiment: arms, planted multipliers and the true lifts.

    ``multipliers`` has one row per arm with the factor applied to the human-open probability
    (``open``), the click-given-open probability (``click``), the purchase-given-click probability
    (``conversion``) and the order value (``order_value``). ``lifts`` has one row per (arm, metric)
    with the expected per-recipient value in that arm and in control over the actual recipients,
    and the true absolute and relative lift: metrics ``open`` (any open, machine included),
    ``human_open``, ``click``, ``conversion`` (a purchase attributed to the arm's campaign) and
    ``revenue`` (revenue per recipient). They are expectations given each recipient's latent
    probabilities, so a correct unbiased estimator targets exactly these numbers.
    """

    experiment_id: str
    control: str
    arms: tuple[str, ...]
    allocation: tuple[float, ...]
    campaign_ids: dict[str, str]
    conversion_given_click: float
    multipliers: pd.DataFrame
    lifts: pd.DataFrame


@dataclass(frozen=True)
class SyntheticTruth:
    """Ground truth planted by :func:`segkit.datasets.synthetic`.

    Attributes
    ----------
    subscribers
        One row per subscriber (index ``subscriber_id``): ``persona``, ``true_timezone`` (also for
        subscribers whose ``timezone`` is missing), ``preferred_local_hour`` (0-23),
        ``open_prob``, ``click_prob`` (given a human open), ``machine_opener``, ``send_share``
        (share of regular campaigns the subscriber is picked for), ``unsubscribe_prob`` (per send,
        below the fatigue cap), ``web_per_week``, ``favorite_category``, ``quiet_at`` (when
        engagement stops: opens, clicks and browsing fade over ``quiet_ramp_days`` before it),
        ``quiet_in_period``; the BG/NBD latent ``purchase_rate`` (lambda, per week),
        ``dropout_prob`` (p), ``first_purchase_at`` (NaT: no purchase in the period),
        ``repeat_purchases``, ``alive_at_end`` and ``dropout_at`` (NaT while alive; only
        for customers with a first purchase), and the Gamma-Gamma ``spend_rate`` (nu) and
        ``mean_order_value`` (p / nu).
    bgnbd, gamma_gamma
        The population parameters. The BG/NBD process applies to organic purchases of customers
        whose first purchase falls in the period; campaign-driven purchases from the experiment
        are extra and listed in ``campaign_purchase_event_ids``.
    fatigue_weekly_cap
        Once the number of sends in the trailing 7 days (this send included) exceeds the cap, the
        per-send unsubscribe probability is multiplied by ``fatigue_unsubscribe_multiplier`` and
        the open probability by ``fatigue_open_multiplier``.
    machine_open_share
        Planted share of subscribers whose mail client opens every delivered email 0-5 s after the
        send (``machine_open_prob`` per send); human opens are never sooner than 60 s.
    machine_open_event_ids, campaign_purchase_event_ids
        ``event_id`` of every machine open, and of every purchase caused by an experiment click.
    experiment
        The randomized experiment and its true lifts.
    """

    subscribers: pd.DataFrame
    bgnbd: BetaGeoTruth
    gamma_gamma: GammaGammaTruth
    fatigue_weekly_cap: int
    fatigue_unsubscribe_multiplier: float
    fatigue_open_multiplier: float
    machine_open_share: float
    machine_open_prob: float
    machine_open_event_ids: pd.Index
    campaign_purchase_event_ids: pd.Index
    experiment: ExperimentTruth
    start: pd.Timestamp
    end: pd.Timestamp
    quiet_ramp_days: float = QUIET_RAMP_DAYS
    personas: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(PERSONAS).T.rename_axis("persona")
    )

    def __repr__(self) -> str:
        return f"SyntheticTruth({self.start.date()} to {self.end.date()}, {len(self.subscribers):,} subscribers)"

    def summary(self) -> str:
        """The planted global parameters in a few lines."""
        counts = self.subscribers["persona"].value_counts().sort_index()
        lines = [
            f"period {self.start.date()} to {self.end.date()}; {len(self.subscribers):,} subscribers",
            "personas: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
            f"BG/NBD ({self.bgnbd.time_unit}): r={self.bgnbd.r}, alpha={self.bgnbd.alpha}, "
            f"a={self.bgnbd.a}, b={self.bgnbd.b}",
            f"Gamma-Gamma: p={self.gamma_gamma.p}, q={self.gamma_gamma.q}, "
            f"gamma={self.gamma_gamma.gamma}",
            f"fatigue cap {self.fatigue_weekly_cap} sends/7 days (unsubscribe x"
            f"{self.fatigue_unsubscribe_multiplier}, open x{self.fatigue_open_multiplier})",
            f"machine openers {self.subscribers['machine_opener'].mean():.1%} "
            f"(planted share {self.machine_open_share:.0%})",
        ]
        return "\n".join(lines)
