"""The numbers behind the send-time report (``notebooks/send_time.ipynb``).

Each function composes :mod:`segkit.sendtime` results into what a report section shows:

* :func:`sendtime_tables`: the events and subscribers read once and reused by every section;
* :func:`source_summary` and :func:`hour_distribution` over :func:`segkit.sendtime.recommend`;
* :func:`heatmap_shares` over :func:`segkit.sendtime.heatmap_frame`;
* :func:`holdout_verdict` over :func:`segkit.sendtime.evaluate_holdout`;
* :func:`cap_table` and :func:`frequency_verdict` over :func:`segkit.sendtime.frequency.analyze`;
* :func:`write_sendtime_export`: the consent-safe export file, through the same path as
  ``segkit sendtime export`` (:func:`segkit.sendtime.export_send_times`, which applies
  :func:`segkit.consent.eligible`, then :func:`segkit.io.write_export_csv`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segkit.consent import ConsentResult
from segkit.io import write_export_csv
from segkit.reports.sections.period import Sufficiency
from segkit.sendtime import export_send_times

__all__ = [
    "EXPORT_FILE",
    "SendTimeExport",
    "cap_table",
    "frequency_verdict",
    "heatmap_shares",
    "holdout_verdict",
    "hour_distribution",
    "source_summary",
    "sendtime_tables",
    "write_sendtime_export",
]

#: Name of the export written into the report's run directory.
EXPORT_FILE = "send_time_export.csv"
#: Fewer holdout subscribers than this: the evaluation is not trusted.
MIN_HOLDOUT_SUBSCRIBERS = 200
SOURCES = ("personal", "segment", "global")


def sendtime_tables(workspace: Any, segments: pd.Series | None = None) -> dict[str, Any]:
    """``{"events", "subscribers"[, "segments"]}`` read once from a workspace, for
    :func:`segkit.sendtime.recommend`, ``evaluate_holdout``, ``heatmap_frame``,
    ``frequency.analyze`` and the consent gate (each would otherwise read the events again)."""
    tables: dict[str, Any] = {"events": workspace.table("events"),
                              "subscribers": workspace.table("subscribers")}
    if segments is not None:
        tables["segments"] = segments
    return tables


def source_summary(recs: pd.DataFrame) -> pd.DataFrame:
    """Per recommendation source (``personal``, ``segment``, ``global``): subscribers, share,
    median confidence and median human opens behind the recommendation."""
    grouped = recs.groupby("source")
    table = pd.DataFrame({
        "subscribers": grouped.size(),
        "median confidence": grouped["confidence"].median(),
        "median human opens": grouped["n_opens"].median(),
    }).reindex(list(SOURCES))
    table["subscribers"] = table["subscribers"].fillna(0).astype(int)
    table.insert(1, "share", table["subscribers"] / max(len(recs), 1))
    return table.rename_axis("source").reset_index()


def hour_distribution(recs: pd.DataFrame) -> pd.DataFrame:
    """Subscribers per recommended local hour (0-23) and source, every combination listed."""
    counts = recs.groupby(["recommended_local_hour", "source"]).size()
    grid = pd.MultiIndex.from_product([range(24), list(SOURCES)], names=["local_hour", "source"])
    counts.index = counts.index.set_names(["local_hour", "source"])
    return counts.reindex(grid, fill_value=0).rename("subscribers").reset_index()


def heatmap_shares(heat: pd.DataFrame) -> pd.DataFrame:
    """Add ``share``: each cell's human opens as a share of its segment's opens, so segments of
    different sizes are comparable on one colour scale. Segments without any human open (the
    ``none`` engagement tier) have no pattern to show and are left out."""
    total = heat.groupby("segment")["opens"].transform("sum")
    kept = heat[total > 0]
    return kept.assign(share=kept["opens"] / total[total > 0]).reset_index(drop=True)


def holdout_verdict(evaluation: Any, min_subscribers: int = MIN_HOLDOUT_SUBSCRIBERS) -> Sufficiency:
    """Sufficient when at least ``min_subscribers`` subscribers opened in the holdout; the
    message states the +-1 h lift over the global hour with its interval."""
    lift = evaluation.lifts
    row = lift[(lift["baseline"] == "global_hour") & (lift["window_hours"] == 1)].iloc[0]
    level = f"{1 - evaluation.alpha:.0%}"
    words = (f"{evaluation.n_subscribers:,} subscribers opened in the holdout; +-1 h hit rate "
             f"{row.segkit_rate:.1%} vs {row.baseline_rate:.1%} for the single global hour "
             f"(difference {row.lift:+.1%}, {level} interval {row.ci_low:+.1%} to {row.ci_high:+.1%}).")
    if evaluation.n_subscribers < min_subscribers:
        return Sufficiency(False, f"only {words} At least {min_subscribers} are needed to judge "
                                  "the recommendations; use a longer holdout.")
    return Sufficiency(True, words)


def cap_table(result: Any) -> pd.DataFrame:
    """Per segment: the recommended weekly cap (empty when there is no evidence of fatigue), the
    metric that set it, the largest weekly volume seen, subscribers with a personal cap and
    subscribers flagged as fatigued."""
    subs = result.subscribers
    personal = subs[subs["cap_source"] == "personal"].groupby("segment").size()
    fatigued = subs[subs["fatigued"]].groupby("segment").size()
    with_sends = subs.groupby("segment").size()
    caps = result.caps.set_index("segment")
    table = pd.DataFrame({
        "weekly cap": caps["recommended_weekly_cap"],
        "set by": caps["set_by"],
        "max emails in 7 days": caps["max_weekly_volume"],
        "subscribers with sends": with_sends.reindex(caps.index, fill_value=0),
        "personal caps": personal.reindex(caps.index, fill_value=0),
        "fatigued": fatigued.reindex(caps.index, fill_value=0),
    })
    return table.rename_axis("segment").reset_index()


def frequency_verdict(result: Any) -> Sufficiency:
    """Plain words on the cap evidence: how many segments show a significant harmful step."""
    caps = result.caps
    found = caps.dropna(subset=["recommended_weekly_cap"])
    tested = result.evidence["n_candidates"].gt(0).groupby(result.evidence["segment"]).any()
    untested = sorted(tested[~tested].index.astype(str))
    if untested:
        return Sufficiency(False, (
            f"segment(s) {', '.join(untested)} never received enough different weekly volumes "
            "(at least 5 sends on each side of a candidate cap) to test for fatigue."))
    if found.empty:
        return Sufficiency(True, "no segment shows a significant fall in engagement or rise in "
                                 "unsubscribes with weekly volume in the range observed; no cap is "
                                 "recommended (this does not cover volumes never sent).")
    return Sufficiency(True, f"{len(found)} of {len(caps)} segment(s) show a significant harmful "
                             "step in weekly volume (likelihood-ratio test, Bonferroni over candidates).")


@dataclass(frozen=True, eq=False)
class SendTimeExport:
    """The export written for a report: where, how many rows, and the consent decision."""

    path: Path | None
    rows: int
    consent: ConsentResult

    def summary(self) -> str:
        where = str(self.path) if self.path is not None else "not written"
        return f"{self.rows:,} send-time rows ({where}); {self.consent.summary()}"


def write_sendtime_export(
    recs: pd.DataFrame,
    subscribers: pd.DataFrame,
    events: pd.DataFrame | None,
    directory: str | Path | None,
    *,
    suppressed: Iterable[str] = (),
    include_pii: bool = False,
) -> SendTimeExport:
    """Write :data:`EXPORT_FILE` into ``directory``: the recommendations of every subscriber the
    consent gate (:func:`segkit.consent.eligible`: the latest state in ``subscribers`` and
    ``events``, whatever the report's as-of date) lets through, in
    :func:`segkit.sendtime.export_frame` columns (the ``segkit sendtime export`` file).

    The file is a list of subscriber ids to send to, personal data that report runs keep only
    with ``--include-pii``: without ``include_pii``, or with ``directory`` None (a notebook run
    by hand, outside the report runner), nothing is written and ``path`` is None; the row
    count and the consent decision are still returned.
    """
    table, gate = export_send_times(recs, subscribers, events=events, suppressed=suppressed)
    if directory is None or not include_pii:
        return SendTimeExport(None, len(table), gate)
    return SendTimeExport(write_export_csv(table, Path(directory) / EXPORT_FILE), len(table), gate)
