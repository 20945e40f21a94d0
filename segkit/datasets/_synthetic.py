"""``segkit.datasets.synthetic``: realistic email-program data with planted ground truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.datasets import _sim_commerce as commerce
from segkit.datasets import _sim_email as email
from segkit.datasets import _sim_engagement as engagement
from segkit.datasets import _sim_experiment as experiment
from segkit.datasets._sim_engagement import FATIGUE_OPEN_MULTIPLIER, FATIGUE_UNSUBSCRIBE_MULTIPLIER
from segkit.datasets._sim_experiment import ARMS, EXPERIMENT_ID
from segkit.datasets._sim_subscribers import MACHINE_OPEN_PROB, simulate_subscribers
from segkit.datasets._sim_tables import (
    FLAG_CAMPAIGN_PURCHASE,
    FLAG_MACHINE_OPEN,
    EventParts,
    assignments_table,
    campaigns_table,
    events_table,
    make_ids,
    subscribers_table,
    utc,
)
from segkit.datasets._truth import (
    CATEGORIES,
    ZONES,
    BetaGeoTruth,
    GammaGammaTruth,
    SyntheticTruth,
)
from segkit.errors import ValidationError

__all__ = ["SyntheticData", "synthetic"]

ASSIGNED_BEFORE_SEND_S = 86_400.0  # arms are drawn a day before the experiment is sent


@dataclass(frozen=True)
class SyntheticData:
    """Canonical tables (``segkit._schema``) plus the ground truth that generated them."""

    events: pd.DataFrame
    subscribers: pd.DataFrame
    campaigns: pd.DataFrame
    assignments: pd.DataFrame
    truth: SyntheticTruth

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four tables by name, in the order they are ingested."""
        return {
            "subscribers": self.subscribers,
            "campaigns": self.campaigns,
            "events": self.events,
            "assignments": self.assignments,
        }

    def __repr__(self) -> str:
        sizes = ", ".join(f"{name}={len(table):,}" for name, table in self.tables().items())
        return f"SyntheticData({sizes}; truth for {len(self.truth.subscribers):,} subscribers)"


def _validate(
    n_subscribers: int,
    seed: int,
    start: pd.Timestamp,
    end: pd.Timestamp,
    campaigns_per_week: float,
    machine_open_share: float,
    fatigue_weekly_cap: int,
) -> None:
    if not isinstance(n_subscribers, (int, np.integer)) or n_subscribers < 50:
        raise ValidationError(f"n_subscribers must be an integer >= 50, got {n_subscribers!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValidationError(f"seed must be a non-negative integer, got {seed!r}")
    if end - start < pd.Timedelta(weeks=12):
        raise ValidationError(f"end ({end}) must be at least 12 weeks after start ({start})")
    if not 1.0 <= campaigns_per_week <= 6.0:
        raise ValidationError(f"campaigns_per_week must be in [1, 6], got {campaigns_per_week!r}")
    if not 0.0 <= machine_open_share <= 1.0:
        raise ValidationError(f"machine_open_share must be in [0, 1], got {machine_open_share!r}")
    if not isinstance(fatigue_weekly_cap, (int, np.integer)) or not 1 <= fatigue_weekly_cap <= 5:
        raise ValidationError(
            f"fatigue_weekly_cap must be an integer in [1, 5], got {fatigue_weekly_cap!r}"
        )


def _commerce(
    rng: np.random.Generator,
    subs: pd.DataFrame,
    horizon: float,
    gg: GammaGammaTruth,
    clicks: tuple[np.ndarray, np.ndarray, np.ndarray],
    parts: EventParts,
    exp_rows: np.ndarray,
    pages_rng: np.random.Generator,
) -> commerce.Purchases:
    """Organic purchases (attributed to a regular campaign clicked in the 24 h before) with their
    browsing funnel, then independent browsing sessions, product views and cart adds. Web
    visits go to the pricing page more often right before a purchase and for subscribers likelier
    to add to cart (``pages_rng``, see :func:`commerce.pricing_pages`)."""
    bought = commerce.bgnbd_purchases(rng, subs, horizon, gg.p)
    cat = commerce.pick_categories(rng, subs["favorite_category"].to_numpy()[bought.sub])
    click_sub, click_t, click_campaign = clicks
    regular = ~np.isin(click_campaign, exp_rows)
    campaign = commerce.attribute_to_clicks(
        bought.sub, bought.t, click_sub[regular], click_t[regular], click_campaign[regular]
    )
    parts.add("purchase", bought.sub, bought.t, campaign=campaign, value=bought.value, prop=cat)
    funnel = commerce.funnel_before(rng, bought.sub, bought.t, cat)
    before = np.full(len(funnel["visit_sub"]), commerce.PRICING_BEFORE_PURCHASE)
    parts.add("web_visit", funnel["visit_sub"], funnel["visit_t"],
              prop=commerce.pricing_pages(pages_rng, before))
    parts.add("product_view", funnel["view_sub"], funnel["view_t"], prop=funnel["view_cat"])
    parts.add("cart_add", funnel["cart_sub"], funnel["cart_t"], prop=funnel["cart_cat"])
    sess_sub, sess_t = commerce.browsing_sessions(rng, subs, horizon)
    browsing = commerce.PRICING_PER_CART * subs["cart_prob"].to_numpy()[sess_sub]
    parts.add("web_visit", sess_sub, sess_t, prop=commerce.pricing_pages(pages_rng, browsing))
    views = commerce.session_views(rng, subs, sess_sub, sess_t)
    parts.add("product_view", views["view_sub"], views["view_t"], prop=views["view_cat"])
    parts.add("cart_add", views["cart_sub"], views["cart_t"], prop=views["cart_cat"])
    return bought


def _truth_subscribers(
    subs: pd.DataFrame,
    ids: pd.Series,
    bought: commerce.Purchases,
    start: pd.Timestamp,
    horizon: float,
) -> pd.DataFrame:
    zones = np.array([z[0] for z in ZONES], dtype=object)
    frame = pd.DataFrame(
        {
            "persona": pd.Series(subs["persona"].to_numpy(), dtype="str"),
            "true_timezone": pd.Series(zones[subs["zone_idx"].to_numpy()], dtype="str"),
            "preferred_local_hour": subs["preferred_local_hour"].to_numpy(),
            "open_prob": subs["open_prob"].to_numpy(),
            "click_prob": subs["click_prob"].to_numpy(),
            "machine_opener": subs["machine_opener"].to_numpy(),
            "send_share": subs["send_share"].to_numpy(),
            "unsubscribe_prob": subs["unsubscribe_prob"].to_numpy(),
            "web_per_week": subs["web_per_week"].to_numpy(),
            "favorite_category": pd.Series(
                np.array(CATEGORIES, dtype=object)[subs["favorite_category"].to_numpy()],
                dtype="str",
            ),
            "quiet_at": utc(start, subs["quiet"].to_numpy()),
            "quiet_in_period": (subs["quiet"].to_numpy() >= 0)
            & (subs["quiet"].to_numpy() < horizon),
            "purchase_rate": subs["purchase_rate"].to_numpy(),
            "dropout_prob": subs["dropout_prob"].to_numpy(),
            "first_purchase_at": utc(start, subs["first_purchase"].to_numpy()),
            "repeat_purchases": bought.repeat_count,
            "alive_at_end": bought.alive_at_end,
            "dropout_at": utc(start, bought.dropout_at),
            "spend_rate": subs["spend_rate"].to_numpy(),
        }
    )
    frame["mean_order_value"] = GammaGammaTruth().p / frame["spend_rate"]
    frame.index = pd.Index(ids, name="subscriber_id", dtype="str")
    return frame


def synthetic(
    n_subscribers: int = 20_000,
    seed: int = 0,
    *,
    start: str | pd.Timestamp = "2024-01-01",
    end: str | pd.Timestamp = "2025-01-01",
    campaigns_per_week: float = 2.5,
    machine_open_share: float = 0.2,
    fatigue_weekly_cap: int = 3,
) -> SyntheticData:
    """Generate an email program's data with known ground truth.

    Parameters
    ----------
    n_subscribers
        Size of the list. 20,000 gives about two million events over a year.
    seed
        Random seed; the same arguments always give identical tables.
    start, end
        The observation period (UTC dates); every event falls in ``[start, end)``.
    campaigns_per_week
        Mean number of campaign sends a week (1-6 in any given week).
    machine_open_share
        Share of subscribers whose mail client opens every email at delivery (Apple Mail Privacy
        Protection style).
    fatigue_weekly_cap
        Sends in a trailing 7-day window above which unsubscribes rise and opens fall.

    Returns
    -------
    SyntheticData
        ``events``, ``subscribers``, ``campaigns`` and ``assignments`` in the canonical shape of
        ``segkit._schema`` (string ids, tz-aware UTC timestamps, JSON text), and ``truth``
        (:class:`SyntheticTruth`): personas, preferred local hours, machine openers, BG/NBD and
        Gamma-Gamma parameters and latents (Fader, Hardie & Lee 2005), dropout, the fatigue cap,
        and the experiment's true lifts.

    Notes
    -----
    Purchases follow BG/NBD exactly for customers whose first purchase falls in the period (the
    persona depends on the purchase rate, never the reverse, so the population of rates stays
    Gamma(r, alpha)); the experiment adds a few campaign-driven purchases, listed in
    ``truth.campaign_purchase_event_ids``. Campaigns reach only subscribers who have consented,
    signed up and not unsubscribed at send time.
    """
    start_ts = utc_timestamp(start, "start", naive_as_utc=True)
    end_ts = utc_timestamp(end, "end", naive_as_utc=True)
    _validate(
        n_subscribers,
        seed,
        start_ts,
        end_ts,
        campaigns_per_week,
        machine_open_share,
        fatigue_weekly_cap,
    )
    horizon = (end_ts - start_ts).total_seconds()
    # the 7th stream (pricing pages) was added later: spawn keys keep the first six unchanged
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)]
    bgnbd, gg = BetaGeoTruth(), GammaGammaTruth()
    subs = simulate_subscribers(
        rngs[0],
        int(n_subscribers),
        horizon,
        machine_open_share=machine_open_share,
        bgnbd=bgnbd,
        gg=gg,
    )
    sched = email.campaign_schedule(rngs[1], horizon, campaigns_per_week)
    campaigns, first_rows = campaigns_table(
        sched.t, sched.theme, sched.experiment_slot, EXPERIMENT_ID, ARMS, start_ts
    )
    sends, unsub_slot = engagement.simulate_sends(
        rngs[2], sched, subs, fatigue_weekly_cap, first_rows
    )
    parts = EventParts()
    parts.add("send", sends.sub, sends.t, campaign=sends.campaign)
    h, open_t, p_human = engagement.simulate_opens(rngs[3], sends, subs, parts, start_ts)
    c, click_t, cat = engagement.simulate_clicks(rngs[3], sends, h, open_t, subs, parts)
    experiment.experiment_purchases(rngs[4], sends, c, click_t, cat, subs, gg, parts)
    unsub_t = engagement.simulate_unsubscribes(rngs[2], sends, unsub_slot, sched, parts)
    exp_rows = first_rows[sched.experiment_slot] + np.arange(len(ARMS))
    bought = _commerce(
        rngs[5], subs, horizon, gg, (sends.sub[c], click_t, sends.campaign[c]), parts, exp_rows,
        rngs[6],
    )

    cols = parts.arrays(horizon)
    ids = make_ids("s", n_subscribers)
    events = events_table(cols, ids, campaigns["campaign_id"], start_ts)
    unsubscribed = np.where(
        np.isnan(subs["unsubscribed_before"]), unsub_t, subs["unsubscribed_before"]
    )
    exp = sends.arm >= 0
    assigned_at = sched.t[sched.experiment_slot] - ASSIGNED_BEFORE_SEND_S
    assignments = assignments_table(
        EXPERIMENT_ID,
        ids.iloc[sends.sub[exp]].to_numpy(),
        np.array(ARMS, dtype=object)[sends.arm[exp]],
        assigned_at,
        start_ts,
    )
    truth = SyntheticTruth(
        subscribers=_truth_subscribers(subs, ids, bought, start_ts, horizon),
        bgnbd=bgnbd,
        gamma_gamma=gg,
        fatigue_weekly_cap=int(fatigue_weekly_cap),
        fatigue_unsubscribe_multiplier=FATIGUE_UNSUBSCRIBE_MULTIPLIER,
        fatigue_open_multiplier=FATIGUE_OPEN_MULTIPLIER,
        machine_open_share=machine_open_share,
        machine_open_prob=MACHINE_OPEN_PROB,
        machine_open_event_ids=pd.Index(
            events["event_id"][cols["flag"] == FLAG_MACHINE_OPEN], dtype="str"
        ),
        campaign_purchase_event_ids=pd.Index(
            events["event_id"][cols["flag"] == FLAG_CAMPAIGN_PURCHASE], dtype="str"
        ),
        experiment=experiment.experiment_truth(sends, p_human, subs, gg, campaigns),
        start=start_ts,
        end=end_ts,
    )
    return SyntheticData(
        events, subscribers_table(subs, ids, unsubscribed, start_ts), campaigns, assignments, truth
    )
