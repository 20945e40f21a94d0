"""A segment as a send-ready audience: members filtered by the consent gate."""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from segkit.consent import ConsentResult, eligible
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

    def to_frame(self) -> pd.DataFrame:
        """``subscriber_id`` and ``email`` of the eligible members."""
        return self.audience.copy()

    def summary(self) -> str:
        return f"segment {self.name!r}: {self.members:,} members; {self.consent.summary()}"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


def export_segment(
    name: str,
    features: pd.DataFrame,
    subscribers: pd.DataFrame,
    as_of: object,
    *,
    rules: RuleSet | None = None,
    events: pd.DataFrame | None = None,
    suppressed: Iterable[str] = (),
) -> SegmentExport:
    """Members of segment ``name`` who may be emailed, with ``subscriber_id`` and ``email``.

    ``features`` is the feature table as of ``as_of`` (:func:`segkit.features.compute`); members
    come from :func:`segment_members` and pass through :func:`segkit.consent.eligible`, which
    excludes unsubscribed, non-consented, suppressed and unknown subscribers.
    """
    if "email" not in subscribers.columns:
        raise InputError("subscribers table lacks column 'email' needed for an export")
    members = segment_members(features, name, rules)
    decision = eligible(members, subscribers, as_of, events=events, suppressed=suppressed)
    emails = subscribers.set_index(subscribers["subscriber_id"].astype(str))["email"]
    audience = pd.DataFrame(
        {"subscriber_id": decision.eligible.to_numpy(), "email": emails.reindex(decision.eligible).to_numpy()}
    )
    return SegmentExport(name=name, members=len(members), audience=audience, consent=decision)
