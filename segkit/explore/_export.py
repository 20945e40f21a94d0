"""Export one explorer segment through the consent gate (:func:`segkit.segments.export_segment`),
into a file the user sees: ``exports/`` under the repository root by default, path printed in full."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from segkit._config import default_exports_dir
from segkit._suggest import did_you_mean
from segkit.errors import InputError, ValidationError
from segkit.explore._data import ExplorerData
from segkit.explore._state import ExplorerResult
from segkit.io import write_export_csv
from segkit.segments import SegmentExport, export_segment

__all__ = ["DEFAULT_EXPORT_NAME", "export_audience", "export_file_path", "write_audience"]

#: File name of "Export audience" in the exports folder when no other is given.
DEFAULT_EXPORT_NAME = "audience.csv"


def export_file_path(path: str | Path | None = None) -> Path:
    """The absolute path an audience is written to: ``path`` when absolute; a relative ``path``
    (or :data:`DEFAULT_EXPORT_NAME`) inside :func:`segkit._config.default_exports_dir` (the
    repository's ``exports/``, ignored by git; the current directory's ``exports/`` outside a
    repository), never the notebook's working folder."""
    chosen = Path(str(path).strip() or DEFAULT_EXPORT_NAME if path is not None else DEFAULT_EXPORT_NAME)
    chosen = chosen.expanduser()
    return chosen if chosen.is_absolute() else default_exports_dir() / chosen


def export_audience(
    data: ExplorerData,
    result: ExplorerResult,
    segment: str,
    *,
    suppressed: Iterable[str] = (),
) -> SegmentExport:
    """The consent-safe audience of ``segment`` (a label of the result's scheme, filters applied).

    The segment's rule from :attr:`ExplorerResult.rules` goes through
    :func:`segkit.segments.export_segment`, so members (as of the explorer's date) pass
    :func:`segkit.consent.eligible`, which decides from the latest state of each subscriber,
    whatever that date (unsubscribed, non-consented, complained, bounced, suppressed and unknown
    subscribers are excluded; the result's ``consent.counts`` says how many for each reason).
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
        result.rule_names[segment], features, data.subscribers,
        rules=result.rules, events=data.consent_events, suppressed=suppressed,
    )


def write_audience(export: SegmentExport, path: str | Path | None = None) -> Path:
    """Write ``subscriber_id,email`` of the eligible members as CSV (like ``segkit export``;
    owner-only, mode 0600) to :func:`export_file_path` of ``path``; return the absolute path."""
    return write_export_csv(export.audience, export_file_path(path))
