"""Segment membership over time: snapshots, transitions, joiners and leavers, size trend."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.segments._catalog import scheme_labels
from segkit.segments._rules import RuleSet, primary_segment

__all__ = ["MembershipHistory", "membership_history", "membership_snapshots"]


@dataclass(frozen=True, eq=False)
class MembershipHistory:
    """Segment labels of every subscriber at successive snapshot dates.

    ``labels`` is a frame indexed by ``subscriber_id`` with one column per snapshot (sorted
    dates); NaN where a subscriber is not in that snapshot (not yet signed up, or erased).
    """

    labels: pd.DataFrame

    @property
    def dates(self) -> list[pd.Timestamp]:
        return list(self.labels.columns)

    def pair(self, start: object | None = None, end: object | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The two snapshot dates to compare: ``end`` (default: the last) and ``start`` (default:
        the snapshot before ``end``); a date without a snapshot is refused, naming the ones there are."""
        dates = self.dates
        end_ts = dates[-1] if end is None else pd.Timestamp(end)
        if end_ts not in dates:
            raise ValidationError(f"no snapshot at {end_ts}; snapshots: {', '.join(map(str, dates))}")
        position = dates.index(end_ts)
        if start is None and position == 0:
            raise ValidationError("the first snapshot has no previous one to compare with")
        start_ts = dates[position - 1] if start is None else pd.Timestamp(start)
        if start_ts not in dates:
            raise ValidationError(f"no snapshot at {start_ts}; snapshots: {', '.join(map(str, dates))}")
        return start_ts, end_ts

    def transitions(self, start: object | None = None, end: object | None = None) -> pd.DataFrame:
        """Counts from segment (rows) to segment (columns) between two snapshots (default: the
        last two), over subscribers present in both: each appears exactly once."""
        start_ts, end_ts = self.pair(start, end)
        both = self.labels[[start_ts, end_ts]].dropna()
        matrix = pd.crosstab(both[start_ts].astype(str), both[end_ts].astype(str))
        return matrix.rename_axis(index="from", columns="to")

    def changes(self, start: object | None = None, end: object | None = None) -> pd.DataFrame:
        """Who joined and who left each segment between two snapshots (default: the last two).

        One row per (subscriber, segment, change): ``joined`` (in the segment at ``end`` but not
        at ``start``, including newly listed subscribers) or ``left`` (the reverse, including
        subscribers no longer listed).
        """
        start_ts, end_ts = self.pair(start, end)
        before, after = self.labels[start_ts], self.labels[end_ts]
        moved = before.astype(object).ne(after.astype(object)) & ~(before.isna() & after.isna())
        joined = after[moved & after.notna()]
        left = before[moved & before.notna()]
        frames = [
            pd.DataFrame({"subscriber_id": joined.index, "segment": joined.astype(str).to_numpy(),
                          "change": "joined"}),
            pd.DataFrame({"subscriber_id": left.index, "segment": left.astype(str).to_numpy(),
                          "change": "left"}),
        ]
        return pd.concat(frames, ignore_index=True).assign(start=start_ts, end=end_ts)

    def size_trend(self) -> pd.DataFrame:
        """Segment sizes per snapshot: rows dates, columns segments."""
        counts = {date: self.labels[date].dropna().astype(str).value_counts() for date in self.dates}
        return pd.DataFrame(counts).T.fillna(0).astype(int).rename_axis(index="as_of")

    def to_frame(self) -> pd.DataFrame:
        return self.labels.copy()

    def summary(self) -> str:
        trend = self.size_trend()
        return f"{len(self.dates)} snapshots, {trend.shape[1]} segments\n" + trend.to_string()

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>"


def membership_history(snapshots: Mapping[object, pd.Series]) -> MembershipHistory:
    """Combine per-date labels (e.g. :func:`engagement_tiers` of features as of each date) into a
    :class:`MembershipHistory`. Keys are the snapshot dates (time-zone aware)."""
    if len(snapshots) < 1:
        raise ValidationError("membership_history needs at least one snapshot")
    columns = {}
    for date, labels in snapshots.items():
        stamp = utc_timestamp(date, "snapshot date")
        if labels.index.has_duplicates:
            raise ValidationError(f"snapshot {stamp} repeats subscriber ids")
        columns[stamp] = labels.astype(object)
    frame = pd.DataFrame(columns).sort_index(axis=1)
    return MembershipHistory(frame.rename_axis(index="subscriber_id"))


def _labeller(scheme: str | None, rules: RuleSet | None) -> Any:
    """features -> labels, for exactly one of a built-in ``scheme`` or a rule set."""
    if (scheme is None) == (rules is None):
        raise ValidationError("membership_snapshots needs exactly one of scheme=... or rules=...")
    if rules is not None:
        return lambda features: primary_segment(rules.evaluate(features), rules.priority or None)
    return lambda features: scheme_labels(features, scheme)


def membership_snapshots(
    events: Any,
    subscribers: pd.DataFrame | None,
    dates: Iterable[object],
    *,
    scheme: str | None = None,
    rules: RuleSet | None = None,
    windows: Iterable[int] | None = None,
) -> MembershipHistory:
    """Segment membership as of each of ``dates``, computed from the raw tables.

    For every date: the feature table as of that date (:func:`segkit.features.compute`, which
    reads only events with ``ts <= date``), then the labels of built-in ``scheme`` (e.g.
    ``"engagement"``, see :data:`segkit.segments.SCHEMES`) or the primary segment of ``rules``
    (:func:`primary_segment` with the rule set's priority), then :func:`membership_history`.
    A subscriber appears in a snapshot when the feature table lists them at that date (signed up
    by then, or with an event by then).

    Parameters
    ----------
    events
        The events DataFrame (canonical columns), or a Workspace / Ibis backend holding both
        tables (then ``subscribers`` must be None).
    subscribers
        The subscribers DataFrame, or None (transaction-only data, or a Workspace in ``events``).
    dates
        Snapshot dates, time-zone aware (at least one; duplicates are refused).
    scheme, rules
        Exactly one: a built-in scheme name or a :class:`RuleSet`.
    windows
        Feature windows in days (default: those of :func:`segkit.features.compute`).
    """
    from segkit.features import compute

    label = _labeller(scheme, rules)
    stamps = [utc_timestamp(date, "snapshot date") for date in dates]
    if not stamps:
        raise ValidationError("membership_snapshots needs at least one date")
    if len(set(stamps)) < len(stamps):
        raise ValidationError(f"snapshot dates repeat: {', '.join(map(str, sorted(stamps)))}")
    if isinstance(events, pd.DataFrame):
        source: Any = {"events": events, "subscribers": subscribers}
    elif subscribers is not None:
        raise ValidationError("pass subscribers=None when events is a Workspace or Ibis backend")
    else:
        source = events
    options = {} if windows is None else {"windows": windows}
    snapshots = {stamp: label(compute(source, stamp, **options)) for stamp in stamps}
    return membership_history(snapshots)
