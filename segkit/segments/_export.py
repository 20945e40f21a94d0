"""A segment as a send-ready audience: members filtered by the consent gate."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from segkit.consent import DEFAULT_SOFT_BOUNCE_LIMIT, ConsentResult, eligible
from segkit.errors import InputError
from segkit.segments._catalog import segment_members
from segkit.segments._rules import RuleSet

__all__ = ["SegmentExport", "export_segment"]


@dataclass(frozen=True, eq=False)
class SegmentExport:
    """The exportable audience of one segment and the consent decision behind it."""

    name: str
    members: int
    audience: pd.DataFrame
    consent: ConsentResult
    #: The as-of date of the features the members come from (None when they do not say).
    as_of: pd.Timestamp | None = None

    def to_frame(self) -> pd.DataFrame:
        """``subscriber_id`` and ``email`` of the eligible members."""
        return self.audience.copy()

    def summary(self) -> str:
        when = f" as of {self.as_of.isoformat()}" if self.as_of is not None else ""
        return f"segment {self.name!r}{when}: {self.members:,} members; {self.consent.summary()}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def export_segment(
    name: str,
    features: pd.DataFrame,
    subscribers: pd.DataFrame,
    *,
    rules: RuleSet | None = None,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
    soft_bounce_limit: int = DEFAULT_SOFT_BOUNCE_LIMIT,
) -> SegmentExport:
    """Members of segment ``name`` who may be emailed today, with ``subscriber_id`` and ``email``.

    ``features`` is the feature table as of any date (:func:`segkit.features.compute`); its
    members (:func:`segment_members`) pass through :func:`segkit.consent.eligible`, which decides
    from the latest state in ``subscribers`` and ``events`` (all dates), never from the as-of
    date: unsubscribed, non-consented, complained, bounced, suppressed and unknown subscribers
    are excluded.
    """
    if "email" not in subscribers.columns:
        raise InputError("subscribers table lacks column 'email' needed for an export")
    members = segment_members(features, name, rules)
    decision = eligible(members, subscribers, events=events, suppressed=suppressed,
                        soft_bounce_limit=soft_bounce_limit)
    emails = subscribers.set_index(subscribers["subscriber_id"].astype(str))["email"]
    audience = pd.DataFrame(
        {"subscriber_id": decision.eligible.to_numpy(), "email": emails.reindex(decision.eligible).to_numpy()}
    )
    stamp = features.attrs.get("as_of")
    return SegmentExport(name=name, members=len(members), audience=audience, consent=decision,
                         as_of=None if stamp is None else pd.Timestamp(stamp))
