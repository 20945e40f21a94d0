"""Synthetic campaigns: schedule, eligibility, fatigue, unsubscribes, sends, opens and clicks.

Times are float seconds relative to the start of the period. The email process is vectorised over
a (campaign slot x subscriber) matrix of planned sends; the first unsubscribe ends every later
send, so the trailing-7-day counts of planned sends are exact for every send that happens.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit.datasets._sim_subscribers import DAY, WEEK, engagement_multiplier
from segkit.datasets._truth import QUIET_RAMP_DAYS, QUIET_RESIDUAL, ZONES

SEND_HOUR_WEIGHTS = np.array(
    [
        0.3,
        0.2,
        0.1,
        0.1,
        0.1,
        0.2,
        0.5,
        0.8,
        1,
        1.2,
        1.2,
        1.2,
        1.5,
        1.6,
        1.6,
        1.5,
        1.3,
        1.2,
        1,
        1,
        1,
        0.9,
        0.7,
        0.5,
    ]
)
SEGMENT_SEND_SHARE = 0.3  # share of regular slots sent to half of the list only
THEMES = (
    "Weekly picks",
    "New arrivals",
    "Flash sale",
    "Back in stock",
    "Style guide",
    "Member offer",
    "Newsletter",
    "Weekend deals",
    "Top rated",
    "Last chance",
)
MAX_SEND_SPREAD_S = 300  # an ESP delivers a campaign over a few minutes
IMMEDIATE_OPEN_SHARE = 0.25  # human opens that happen soon after delivery, whatever the hour
IMMEDIATE_OPEN_MEAN_S = 1500.0
HUMAN_OPEN_MIN_DELAY_S = 60
PREFERRED_JITTER_S = 1200.0
NEXT_DAY_SKIP_PROB = 0.35  # chance each day that the subscriber leaves the email for tomorrow


@dataclass(frozen=True)
class Schedule:
    """Campaign slots (one send occasion each; the experiment slot has one campaign per arm)."""

    t: np.ndarray  # slot time, seconds from the start
    share: np.ndarray  # audience share of the list for that slot
    theme: np.ndarray  # index into THEMES
    experiment_slot: int


@dataclass
class Sends:
    """One entry per actual send (positional arrays)."""

    slot: np.ndarray
    sub: np.ndarray
    t: np.ndarray
    campaign: np.ndarray  # row in the campaigns table
    over_cap: np.ndarray  # trailing-7-day sends above the fatigue cap
    arm: np.ndarray  # experiment arm index; -1 outside the experiment


def campaign_schedule(rng: np.random.Generator, horizon: float, per_week: float) -> Schedule:
    """2-4 campaigns a week on average (1-6 in a given week) at varied UTC hours."""
    n_weeks = int(horizon // WEEK)
    extra = (per_week - 1.0) / 5.0
    times: list[np.ndarray] = []
    for week in range(n_weeks):
        count = 1 + rng.binomial(5, extra)
        days = np.sort(rng.choice(7, count, replace=False))
        hours = rng.choice(24, count, p=SEND_HOUR_WEIGHTS / SEND_HOUR_WEIGHTS.sum())
        minutes = rng.choice([0, 15, 30, 45], count)
        times.append(week * WEEK + days * DAY + hours * 3600.0 + minutes * 60.0)
    t = np.concatenate(times)
    t = t[t < horizon - 2 * DAY]
    share = np.where(rng.random(len(t)) < SEGMENT_SEND_SHARE, 0.5, 1.0)
    experiment_slot = int(np.searchsorted(t, 0.55 * horizon))
    share[experiment_slot] = 1.0
    return Schedule(t, share, rng.integers(0, len(THEMES), len(t)), experiment_slot)


def planned_sends(rng: np.random.Generator, sched: Schedule, subs: pd.DataFrame) -> np.ndarray:
    """Boolean (slot x subscriber): consented, signed up, not unsubscribed before, picked."""
    t = sched.t[:, None]
    unsub_before = subs["unsubscribed_before"].to_numpy()
    eligible = (
        subs["consent"].to_numpy()[None, :]
        & (subs["signup"].to_numpy()[None, :] < t)
        & ~(unsub_before[None, :] <= t)
    )
    pick = sched.share[:, None] * subs["send_share"].to_numpy()[None, :]
    pick[sched.experiment_slot] = 1.0  # the experiment goes to everyone eligible
    return eligible & (rng.random(eligible.shape) < pick)


def trailing_counts(planned: np.ndarray, t: np.ndarray, window: float = WEEK) -> np.ndarray:
    """Sends in (t_c - window, t_c], this send included, per slot and subscriber."""
    cum = np.cumsum(planned, axis=0, dtype=np.int16)
    first = np.searchsorted(t, t - window, side="right")
    before = np.where(first[:, None] > 0, cum[np.maximum(first - 1, 0)], 0)
    return (cum - before).astype(np.int16)


def unsubscribe_slot(
    rng: np.random.Generator,
    planned: np.ndarray,
    counts: np.ndarray,
    base: np.ndarray,
    cap: int,
    multiplier: float,
) -> np.ndarray:
    """Index of the slot at which each subscriber unsubscribes (``len(slots)`` for never)."""
    prob = base[None, :] * np.where(counts > cap, multiplier, 1.0)
    hit = planned & (rng.random(planned.shape) < prob)
    return np.where(hit.any(axis=0), hit.argmax(axis=0), planned.shape[0])


def _local_target(
    send_utc: pd.DatetimeIndex, zone: str, hour: np.ndarray, jitter_s: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """UTC seconds-since-epoch of local wall time ``date(send) + days + hour + jitter`` (DST-correct)."""
    local_day = send_utc.tz_convert(zone).tz_localize(None).normalize()
    wall = (
        local_day
        + pd.to_timedelta(days, unit="D")
        + pd.to_timedelta(hour * 3600.0 + jitter_s, unit="s")
    )
    back = pd.DatetimeIndex(wall).tz_localize(
        zone, ambiguous=np.zeros(len(wall), dtype=bool), nonexistent="shift_forward"
    )
    return back.as_unit("us").asi8 / 1e6


def human_open_delays(
    rng: np.random.Generator,
    send_t: np.ndarray,
    zone_idx: np.ndarray,
    hour: np.ndarray,
    start: pd.Timestamp,
) -> np.ndarray:
    """Seconds from send to a human open: soon after delivery for a quarter of opens, otherwise
    around the next occurrences of the subscriber's preferred local hour (always >= 60 s)."""
    n = len(send_t)
    jitter = rng.uniform(0, 3600, n) + rng.normal(0, PREFERRED_JITTER_S, n)
    skip = rng.geometric(1.0 - NEXT_DAY_SKIP_PROB, n) - 1
    start_s = start.value / 1e9  # .value is always nanoseconds
    target = np.empty(n)
    for zi, (zone, _, _) in enumerate(ZONES):
        rows = np.flatnonzero(zone_idx == zi)
        if len(rows) == 0:
            continue
        send_utc = pd.to_datetime((start_s + send_t[rows]) * 1e6, unit="us", utc=True)
        days = np.zeros(len(rows))
        when = _local_target(send_utc, zone, hour[rows], jitter[rows], days)
        late = when < start_s + send_t[rows] + HUMAN_OPEN_MIN_DELAY_S
        days = late.astype(float) + np.minimum(skip[rows], 5)
        when = _local_target(send_utc, zone, hour[rows], jitter[rows], days)
        target[rows] = when - start_s - send_t[rows]
    immediate = rng.random(n) < IMMEDIATE_OPEN_SHARE
    quick = HUMAN_OPEN_MIN_DELAY_S + rng.exponential(IMMEDIATE_OPEN_MEAN_S, n)
    return np.ceil(np.where(immediate, quick, np.maximum(target, HUMAN_OPEN_MIN_DELAY_S)))


def open_probability(
    subs: pd.DataFrame,
    sub: np.ndarray,
    t: np.ndarray,
    over_cap: np.ndarray,
    fatigue_open: float,
) -> np.ndarray:
    """Human-open probability of each send before any experiment multiplier."""
    fade = engagement_multiplier(subs["quiet"].to_numpy()[sub], t, QUIET_RAMP_DAYS, QUIET_RESIDUAL)
    return subs["open_prob"].to_numpy()[sub] * fade * np.where(over_cap, fatigue_open, 1.0)
