"""Email engagement events: sends, machine and human opens, clicks and unsubscribes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.datasets import _sim_commerce as commerce
from segkit.datasets import _sim_email as email
from segkit.datasets._sim_email import Schedule, Sends
from segkit.datasets._sim_experiment import ALLOCATION, ARMS, arm_factor
from segkit.datasets._sim_subscribers import MACHINE_OPEN_PROB
from segkit.datasets._sim_tables import FLAG_MACHINE_OPEN, PROP_FROM_EMAIL, PROP_MPP, EventParts

MPP_PROPERTY_SHARE = 0.6  # machine opens that carry the proxy user agent; the rest carry nothing
FATIGUE_UNSUBSCRIBE_MULTIPLIER = 6.0
FATIGUE_OPEN_MULTIPLIER = 0.75


def simulate_sends(
    rng: np.random.Generator,
    sched: Schedule,
    subs: pd.DataFrame,
    cap: int,
    first_rows: np.ndarray,
) -> tuple[Sends, np.ndarray]:
    """Actual sends (planned sends up to each subscriber's unsubscribe) and the unsubscribe slot;
    experiment recipients are randomized to arms."""
    planned = email.planned_sends(rng, sched, subs)
    counts = email.trailing_counts(planned, sched.t)
    unsub = email.unsubscribe_slot(
        rng,
        planned,
        counts,
        subs["unsubscribe_prob"].to_numpy(),
        cap,
        FATIGUE_UNSUBSCRIBE_MULTIPLIER,
    )
    actual = planned & (np.arange(len(sched.t))[:, None] <= unsub[None, :])
    slot, sub = np.nonzero(actual)
    arm = np.full(len(slot), -1)
    in_exp = slot == sched.experiment_slot
    arm[in_exp] = rng.choice(len(ARMS), in_exp.sum(), p=ALLOCATION)
    offset = rng.integers(0, email.MAX_SEND_SPREAD_S + 1, len(slot))
    sends = Sends(
        slot,
        sub,
        sched.t[slot] + offset,
        first_rows[slot] + np.maximum(arm, 0),
        counts[slot, sub] > cap,
        arm,
    )
    return sends, unsub


def simulate_opens(
    rng: np.random.Generator,
    sends: Sends,
    subs: pd.DataFrame,
    parts: EventParts,
    start: pd.Timestamp,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Machine opens at delivery and human opens; returns the sends opened by a person, their
    open times and every send's human-open probability."""
    p_human = email.open_probability(
        subs, sends.sub, sends.t, sends.over_cap, FATIGUE_OPEN_MULTIPLIER
    )
    p_human = np.minimum(p_human * arm_factor(sends.arm, 0), 1.0)
    human = rng.random(len(p_human)) < p_human
    machine = subs["machine_opener"].to_numpy()[sends.sub] & (
        rng.random(len(p_human)) < MACHINE_OPEN_PROB
    )
    m_t = sends.t[machine] + rng.integers(0, 6, machine.sum())
    m_prop = np.where(rng.random(machine.sum()) < MPP_PROPERTY_SHARE, PROP_MPP, -1)
    parts.add(
        "open",
        sends.sub[machine],
        m_t,
        campaign=sends.campaign[machine],
        prop=m_prop,
        flag=FLAG_MACHINE_OPEN,
    )
    h = np.flatnonzero(human)
    delay = email.human_open_delays(
        rng,
        sends.t[h],
        subs["zone_idx"].to_numpy()[sends.sub[h]],
        subs["preferred_local_hour"].to_numpy()[sends.sub[h]],
        start,
    )
    parts.add("open", sends.sub[h], sends.t[h] + delay, campaign=sends.campaign[h])
    return h, sends.t[h] + delay, p_human


def simulate_clicks(
    rng: np.random.Generator,
    sends: Sends,
    h: np.ndarray,
    open_t: np.ndarray,
    subs: pd.DataFrame,
    parts: EventParts,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clicks after human opens (each landing as a web visit); returns the clicked sends, click
    times and categories."""
    p_click = np.minimum(
        subs["click_prob"].to_numpy()[sends.sub[h]] * arm_factor(sends.arm[h], 1), 1.0
    )
    c = h[rng.random(len(h)) < p_click]
    click_t = open_t[np.searchsorted(h, c)] + 5 + np.round(rng.exponential(180.0, len(c)))
    cat = commerce.pick_categories(rng, subs["favorite_category"].to_numpy()[sends.sub[c]])
    parts.add("click", sends.sub[c], click_t, campaign=sends.campaign[c], prop=cat)
    parts.add("web_visit", sends.sub[c], click_t + 2, prop=np.full(len(c), PROP_FROM_EMAIL))
    return c, click_t, cat


def simulate_unsubscribes(
    rng: np.random.Generator,
    sends: Sends,
    unsub_slot: np.ndarray,
    sched: Schedule,
    parts: EventParts,
) -> np.ndarray:
    """Unsubscribe events (before the next slot) and the time per subscriber (NaN: never)."""
    last = np.flatnonzero(sends.slot == unsub_slot[sends.sub])
    gap = np.append(np.diff(sched.t), np.inf)[sends.slot[last]]
    delay = np.minimum(
        60 + np.round(rng.exponential(7200.0, len(last))), gap - email.MAX_SEND_SPREAD_S - 60
    )
    t = sends.t[last] + delay
    parts.add("unsubscribe", sends.sub[last], t, campaign=sends.campaign[last])
    when = np.full(len(unsub_slot), np.nan)
    when[sends.sub[last]] = t
    return when
