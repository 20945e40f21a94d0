"""Export one explorer segment through the consent gate (:func:`segkit.segments.export_segment`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from segkit._suggest import did_you_mean
from segkit.errors import InputError, ValidationError
from segkit.explore._data import ExplorerData
from segkit.explore._state import ExplorerResult
from segkit.io import write_export_csv
from segkit.segments import SegmentExport, export_segment

__all__ = ["export_audience"]


def export_audience(
    data: ExplorerData,
    result: ExplorerResult,
    segment: str,
    *,
    suppressed: Iterable[str] = (),
) -> SegmentExport:
    """The consent-safe audience of ``segment`` (a label of the result's scheme, filters applied).

    The segment's rule from :attr:`ExplorerResult.rules` goes through
    :func:`segkit.segments.export_segment`, so members pass :func:`segkit.consent.eligible`
    (unsubscribed, non-consented, suppressed and unknown subscribers are excluded; the result's
    ``consent.counts`` says how many for each reason).
    """
    if segment not in result.rule_names:
        raise ValidationError(
            f"unknown segment {segment!r}{did_you_mean(segment, result.rule_names)} "
            f"valid: {', '.join(result.rule_names)}"
        )
    if data.subscribers is None:
        raise InputError("exporting an audience needs the subscribers table; pass subscribers=...")
    features = data.snapshot(result.state.as_of).features
    return export_segment(
        result.rule_names[segment], features, data.subscribers, result.state.as_of,
        rules=result.rules, events=data.unsubscribe_events, suppressed=suppressed,
    )


def write_audience(export: SegmentExport, path: str | Path) -> Path:
    """Write ``subscriber_id,email`` of the eligible members as CSV (like ``segkit export``)."""
    return write_export_csv(export.audience, path)
