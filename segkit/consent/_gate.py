"""The one function that decides who may be emailed (:func:`eligible`), always from the latest
known state of each subscriber: a file of addresses is used to send *today*, whatever date the
segment behind it was computed for."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit.errors import InputError, ValidationError

__all__ = [
    "CONSENT_EVENT_TYPES",
    "ConsentResult",
    "DEFAULT_SOFT_BOUNCE_LIMIT",
    "EXCLUSION_REASONS",
    "RESET_EVENT_TYPES",
    "consent_events",
    "eligible",
]

#: Exclusion reasons, in the order they are checked: each excluded subscriber gets the first that
#: applies, so the counts per reason add up to the number excluded.
EXCLUSION_REASONS = (
    "not in the subscribers table",
    "unsubscribed",
    "no consent",
    "complained",
    "hard bounced",
    "soft bounced",
    "suppressed",
)
#: Consecutive soft bounces (no delivery, open or click in between) that suppress an address.
DEFAULT_SOFT_BOUNCE_LIMIT = 3
#: Event types the gate reads.
CONSENT_EVENT_TYPES = ("unsubscribe", "subscribe", "complaint", "hard_bounce", "bounce", "soft_bounce")
#: Events that prove a message arrived, ending a run of soft bounces.
RESET_EVENT_TYPES = ("delivery", "open", "click")
HARD_BOUNCE_TYPES = ("hard_bounce", "bounce")
#: Stand-ins for "before everything" and "after everything" (whole seconds: any time unit holds them).
_NEVER, _ALWAYS = pd.Timestamp("1678-01-01", tz="UTC"), pd.Timestamp("2262-01-01", tz="UTC")
NO_SUBSCRIBERS = (
    "the workspace has no subscribers table (no consent records), so consent cannot be proven "
    "for anyone and nothing is exported; load one with `segkit ingest subscribers FILE`"
)


@dataclass(frozen=True, eq=False)
class ConsentResult:
    """Who may be emailed today, and why everyone else was excluded.

    Attributes
    ----------
    eligible
        Subscriber ids that may be emailed (candidate order kept).
    excluded
        One row per excluded candidate: ``subscriber_id`` and ``reason`` (the first of
        :data:`EXCLUSION_REASONS` that applies).
    soft_bounce_limit
        Consecutive soft bounces that excluded an address.
    """

    eligible: pd.Index
    excluded: pd.DataFrame
    soft_bounce_limit: int = DEFAULT_SOFT_BOUNCE_LIMIT

    @property
    def counts(self) -> pd.Series:
        """Excluded subscribers per reason (every reason listed, zeros included; sums to the
        number excluded)."""
        counts = self.excluded["reason"].value_counts()
        return counts.reindex(list(EXCLUSION_REASONS), fill_value=0).astype(int).rename("excluded")

    def reasons(self) -> str:
        """Every reason with its count, e.g. ``"3 unsubscribed, 0 no consent, ..."``."""
        return ", ".join(f"{n:,} {reason}" for reason, n in self.counts.items())

    def to_frame(self) -> pd.DataFrame:
        """Every candidate with ``eligible`` (bool) and ``reason`` (empty when eligible)."""
        kept = pd.DataFrame({"subscriber_id": self.eligible, "eligible": True, "reason": ""})
        dropped = self.excluded.assign(eligible=False)[["subscriber_id", "eligible", "reason"]]
        return pd.concat([kept, dropped], ignore_index=True)

    def summary(self) -> str:
        """One line: kept and excluded counts with every reason (consent is today's)."""
        return (
            f"{len(self.eligible):,} may be emailed, {len(self.excluded):,} excluded "
            f"({self.reasons()}); consent is decided from the latest state in the data, "
            "whatever the as-of date"
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.counts.to_frame().to_html()


def _check_subscribers(subscribers: pd.DataFrame) -> None:
    missing = sorted({"subscriber_id", "consent", "unsubscribed_at"} - set(subscribers.columns))
    if missing:
        raise InputError(f"subscribers table lacks column(s) {', '.join(missing)}")
    if subscribers.empty:
        raise InputError(NO_SUBSCRIBERS)
    if subscribers["subscriber_id"].duplicated().any():
        example = subscribers.loc[subscribers["subscriber_id"].duplicated(), "subscriber_id"].iloc[0]
        raise InputError(f"subscribers table repeats subscriber_id {example!r}")


def _check_events(events: pd.DataFrame) -> pd.DataFrame:
    missing = sorted({"subscriber_id", "event_type", "ts"} - set(events.columns))
    if missing:
        raise InputError(f"events lack column(s) {', '.join(missing)} needed by the consent gate")
    frame = events.loc[events["event_type"].isin(CONSENT_EVENT_TYPES + RESET_EVENT_TYPES),
                       ["subscriber_id", "event_type", "ts"]]
    return frame.assign(subscriber_id=frame["subscriber_id"].astype(str),
                        ts=pd.to_datetime(frame["ts"], utc=True).astype("datetime64[ns, UTC]"))


def consent_events(events: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``events`` that :func:`eligible` reads, with the same decisions: every event
    of :data:`CONSENT_EVENT_TYPES`, and for subscribers with a soft bounce, their latest event of
    :data:`RESET_EVENT_TYPES` (``subscriber_id, event_type, ts``). Keeps what the gate needs
    small when the events are held for a long time (the explorer)."""
    frame = _check_events(events)
    kept = frame[frame["event_type"].isin(CONSENT_EVENT_TYPES)]
    bouncing = kept.loc[kept["event_type"] == "soft_bounce", "subscriber_id"].unique()
    resets = frame[frame["event_type"].isin(RESET_EVENT_TYPES) & frame["subscriber_id"].isin(bouncing)]
    latest = resets.sort_values("ts", kind="stable").groupby("subscriber_id").tail(1)
    return pd.concat([kept, latest], ignore_index=True)


def _latest(frame: pd.DataFrame, types: Iterable[str], missing_time: pd.Timestamp) -> pd.Series:
    """The latest ``ts`` per subscriber among ``types`` (an unknown time counts as ``missing_time``)."""
    rows = frame[frame["event_type"].isin(list(types))]
    return rows["ts"].fillna(missing_time).groupby(rows["subscriber_id"]).max()


def _unsubscribed(table: pd.DataFrame, events: pd.DataFrame) -> pd.Series:
    """Unsubscribed at any time (``unsubscribed_at`` or an ``unsubscribe`` event) and not
    re-subscribed after the latest opt-out (a ``subscribe`` event strictly later)."""
    stored = pd.to_datetime(table["unsubscribed_at"], utc=True).astype(events["ts"].dtype)
    out_events = _latest(events, ["unsubscribe"], _ALWAYS).reindex(table.index)
    opted_out = pd.concat([stored, out_events], axis=1).max(axis=1)
    opted_in = _latest(events, ["subscribe"], _NEVER).reindex(table.index)
    return opted_out.notna() & ~(opted_in > opted_out)


def _soft_bounced(table: pd.DataFrame, events: pd.DataFrame, limit: int) -> pd.Series:
    """At least ``limit`` soft bounces since the latest delivery, open or click (a soft bounce
    at the same instant as that event counts: the run is not reset by a tie)."""
    soft = events[events["event_type"] == "soft_bounce"]
    reset = _latest(events, RESET_EVENT_TYPES, _NEVER).reindex(soft["subscriber_id"]).fillna(_NEVER)
    in_run = soft["ts"].fillna(_ALWAYS).to_numpy() >= reset.to_numpy()
    runs = soft.loc[in_run, "subscriber_id"].value_counts()
    return runs.reindex(table.index, fill_value=0) >= limit


def _has_event(table: pd.DataFrame, events: pd.DataFrame, types: Iterable[str]) -> pd.Series:
    return pd.Series(table.index.isin(events.loc[events["event_type"].isin(list(types)), "subscriber_id"]),
                     index=table.index)


def _suppressed(table: pd.DataFrame, suppressed: Iterable[str]) -> pd.Series:
    keys = {str(key).strip().lower() for key in suppressed}
    hit = table.index.str.lower().isin(keys)
    if "email" in table.columns:
        hit |= table["email"].astype("string").str.strip().str.lower().isin(keys).fillna(False).to_numpy(bool)
    return pd.Series(hit, index=table.index)


def eligible(
    candidates: Iterable[str] | pd.Index,
    subscribers: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
    soft_bounce_limit: int = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> ConsentResult:
    """Filter ``candidates`` to the subscribers who may be emailed today.

    The decision uses the latest known state of each subscriber, never an as-of date: a
    segment may be computed as of any date (that is analysis), but a file of addresses is used
    to send now. A candidate is excluded for the first reason that applies:

    1. ``not in the subscribers table``: no consent record (never emailed; erased subscribers
       are removed from the table by :func:`segkit.privacy.forget`, so they land here);
    2. ``unsubscribed``: ``unsubscribed_at`` set or an ``unsubscribe`` event, at any time,
       unless a ``subscribe`` event is recorded strictly after the latest of them (a tie keeps
       the unsubscribe);
    3. ``no consent``: ``consent`` is false or missing;
    4. ``complained``: a ``complaint`` (spam report) event at any time;
    5. ``hard bounced``: a ``hard_bounce`` event at any time, or a ``bounce`` of unknown kind
       (counted as hard, the safe reading);
    6. ``soft bounced``: ``soft_bounce_limit`` or more ``soft_bounce`` events since the latest
       ``delivery``, ``open`` or ``click`` (or ever, without one);
    7. ``suppressed``: the subscriber id or the email (case-insensitive) is in ``suppressed``.

    A re-subscribe lifts an unsubscribe only; complaints and bounces stay.

    Parameters
    ----------
    candidates
        Subscriber ids proposed for a send (e.g. a segment's members).
    subscribers
        The ``subscribers`` table: ``subscriber_id``, ``consent``, ``unsubscribed_at`` (and
        ``email`` for email suppression). Empty raises: consent cannot be proven.
    events
        Events (``subscriber_id``, ``event_type``, ``ts``): all of them, or the rows
        :func:`consent_events` keeps (same decisions). Without events only the table counts.
    suppressed
        Subscriber ids or email addresses that must never be emailed.
    soft_bounce_limit
        Consecutive soft bounces that suppress an address (ESPs commonly use 3).
    """
    if isinstance(soft_bounce_limit, bool) or not isinstance(soft_bounce_limit, int | np.integer) \
            or soft_bounce_limit < 1:
        raise ValidationError(f"soft_bounce_limit must be an integer >= 1, got {soft_bounce_limit!r}")
    _check_subscribers(subscribers)
    frame = _check_events(events) if events is not None else _check_events(
        pd.DataFrame({"subscriber_id": [], "event_type": [], "ts": []}))
    ids = pd.Index(pd.unique(pd.Index(candidates).astype(str)), name="subscriber_id")
    table = subscribers.set_index(pd.Index(subscribers["subscriber_id"].astype(str).to_numpy()))
    checks = {
        "unsubscribed": _unsubscribed(table, frame),
        "no consent": ~table["consent"].astype("boolean").fillna(False).astype(bool),
        "complained": _has_event(table, frame, ["complaint"]),
        "hard bounced": _has_event(table, frame, HARD_BOUNCE_TYPES),
        "soft bounced": _soft_bounced(table, frame, int(soft_bounce_limit)),
        "suppressed": _suppressed(table, suppressed),
    }
    known = ids.isin(table.index)
    reasons = np.where(known, "", EXCLUSION_REASONS[0]).astype(object)
    position = np.flatnonzero(known)
    for reason, flags in checks.items():
        hit = flags.reindex(ids[known]).to_numpy(dtype=bool) & (reasons[position] == "")
        reasons[position[hit]] = reason
    excluded = pd.DataFrame({"subscriber_id": ids[reasons != ""], "reason": reasons[reasons != ""]})
    return ConsentResult(eligible=ids[reasons == ""], excluded=excluded,
                         soft_bounce_limit=int(soft_bounce_limit))
