"""The one function that decides who may be emailed (:func:`eligible`)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import InputError

__all__ = ["ConsentResult", "EXCLUSION_REASONS", "eligible"]

#: Exclusion reasons, in the order they are checked (each excluded subscriber gets the first).
EXCLUSION_REASONS = ("unknown_subscriber", "unsubscribed", "no_consent", "suppressed")


@dataclass(frozen=True, eq=False)
class ConsentResult:
    """Who may be emailed as of ``as_of``, and why everyone else was excluded.

    Attributes
    ----------
    eligible
        Subscriber ids that may be emailed (candidate order kept).
    excluded
        One row per excluded candidate: ``subscriber_id`` and ``reason`` (the first of
        :data:`EXCLUSION_REASONS` that applies).
    as_of
        The time the decision was made for.
    """

    eligible: pd.Index
    excluded: pd.DataFrame
    as_of: pd.Timestamp

    @property
    def counts(self) -> pd.Series:
        """Excluded subscribers per reason (every reason listed, zeros included)."""
        counts = self.excluded["reason"].value_counts()
        return counts.reindex(list(EXCLUSION_REASONS), fill_value=0).rename("excluded")

    def to_frame(self) -> pd.DataFrame:
        """Every candidate with ``eligible`` (bool) and ``reason`` (empty when eligible)."""
        kept = pd.DataFrame({"subscriber_id": self.eligible, "eligible": True, "reason": ""})
        dropped = self.excluded.assign(eligible=False)[["subscriber_id", "eligible", "reason"]]
        return pd.concat([kept, dropped], ignore_index=True)

    def summary(self) -> str:
        """One line: kept and excluded counts with the reasons."""
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in self.counts.items() if n)
        return (
            f"{len(self.eligible):,} eligible as of {self.as_of.isoformat()}; "
            f"{len(self.excluded):,} excluded" + (f" ({reasons})" if reasons else "")
        )

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.counts.to_frame().to_html()


def _check_subscribers(subscribers: pd.DataFrame) -> None:
    missing = sorted({"subscriber_id", "consent", "unsubscribed_at"} - set(subscribers.columns))
    if missing:
        raise InputError(f"subscribers table lacks column(s) {', '.join(missing)}")
    if subscribers["subscriber_id"].duplicated().any():
        example = subscribers.loc[subscribers["subscriber_id"].duplicated(), "subscriber_id"].iloc[0]
        raise InputError(f"subscribers table repeats subscriber_id {example!r}")


def _unsubscribed(subscribers: pd.DataFrame, events: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    when = pd.to_datetime(subscribers["unsubscribed_at"], utc=True)
    flag = (when <= as_of).fillna(False).to_numpy(dtype=bool)
    if events is not None and len(events):
        event_ts = pd.to_datetime(events["ts"], utc=True)
        gone = events.loc[(events["event_type"] == "unsubscribe") & (event_ts <= as_of), "subscriber_id"]
        flag = flag | subscribers["subscriber_id"].isin(set(gone)).to_numpy()
    return pd.Series(flag, index=subscribers["subscriber_id"].to_numpy())


def _suppressed(subscribers: pd.DataFrame, suppressed: Iterable[str]) -> pd.Series:
    keys = {str(key).strip().lower() for key in suppressed}
    ids = subscribers["subscriber_id"].astype(str).str.lower().isin(keys)
    if "email" in subscribers.columns:
        ids |= subscribers["email"].astype("string").str.strip().str.lower().isin(keys).fillna(False)
    return pd.Series(ids.to_numpy(dtype=bool), index=subscribers["subscriber_id"].to_numpy())


def eligible(
    candidates: Iterable[str] | pd.Index,
    subscribers: pd.DataFrame,
    as_of: object,
    *,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
) -> ConsentResult:
    """Filter ``candidates`` to the subscribers who may be emailed as of ``as_of``.

    A candidate is eligible only if all hold:

    * known: present in ``subscribers`` (an id we hold no consent record for is never emailed);
    * subscribed: no ``unsubscribed_at <= as_of`` and, when ``events`` is given, no
      ``unsubscribe`` event with ``ts <= as_of``;
    * consented: ``consent`` is true (missing counts as no consent);
    * not suppressed: neither the subscriber id nor the email (case-insensitive) is in
      ``suppressed``.

    Every export and audience in segkit goes through this function.

    Parameters
    ----------
    candidates
        Subscriber ids proposed for a send (e.g. a segment's members).
    subscribers
        The ``subscribers`` table: ``subscriber_id``, ``consent``, ``unsubscribed_at`` (and
        ``email`` for email suppression).
    as_of
        Time-zone-aware time of the decision.
    events
        Optional events table (``subscriber_id``, ``event_type``, ``ts``) for unsubscribe events.
    suppressed
        Subscriber ids or email addresses that must never be emailed.
    """
    stamp = utc_timestamp(as_of)
    _check_subscribers(subscribers)
    ids = pd.Index(pd.unique(pd.Index(candidates).astype(str)), name="subscriber_id")
    table = subscribers.set_index(subscribers["subscriber_id"].astype(str).to_numpy())
    known = ids.isin(table.index)
    reasons = np.full(len(ids), "", dtype=object)
    reasons[~known] = "unknown_subscriber"
    looked = ids[known]
    consent = table["consent"].astype("boolean").fillna(False).astype(bool)
    checks = {
        "unsubscribed": _unsubscribed(subscribers, events, stamp).set_axis(table.index),
        "no_consent": ~consent,
        "suppressed": _suppressed(subscribers, suppressed).set_axis(table.index),
    }
    position = np.flatnonzero(known)
    for reason, flags in checks.items():
        hit = flags.reindex(looked).to_numpy(dtype=bool) & (reasons[position] == "")
        reasons[position[hit]] = reason
    excluded = pd.DataFrame({"subscriber_id": ids[reasons != ""], "reason": reasons[reasons != ""]})
    return ConsentResult(eligible=ids[reasons == ""], excluded=excluded, as_of=stamp)
