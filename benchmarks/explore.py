"""Benchmark: time per interaction of the segment explorer (segkit.explore) at 100k subscribers.

Builds synthetic tables (segkit.datasets.synthetic) in memory, opens a ``SegmentExplorer`` on
them and drives its widgets as an analyst would: scheme changes, slider moves, filters and an
as-of change. Each callback is timed end to end (state -> explore -> sizes, performance table,
charts built and displayed), plus the chart serialisation the browser needs (``to_dict``).
The target is <= 1 s per interaction. By default the explorer indexes the events while opening
(``segkit.features.FeatureTimeline``); the benchmark times the opening, then every kind of
interaction, new as-of dates included. It then opens a second explorer with
``index_events="background"`` and times slider moves while that indexes, a new date picked
before the index is ready (computed from the events: seconds) and the indexing itself, which
that mode trades for a quicker opening. Baselines in the same run: ``features.compute``
for one of those dates (the table must be equal); the pandas an analyst would write for a slider
move (masks, np.select, value_counts, per-segment rates), which must give the same sizes; and the
performance table of the RFM view computed the former way, one ``segkit.stats.analyze`` per
segment, which must give the same tests as ``segment_performance`` (all segments at once).

    python benchmarks/explore.py            # 100,000 subscribers
    python benchmarks/explore.py --small    # 5,000 (or SEGKIT_BENCH_SMALL=1)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, timer

from segkit.datasets import synthetic
from segkit.explore import SegmentExplorer
from segkit.segments import PERFORMANCE_METRICS, segment_performance
from segkit.stats import Metric, analyze

AS_OF = pd.Timestamp("2024-12-31", tz="UTC")
#: New dates picked after the index is ready (none computed before).
NEW_DATES = [pd.Timestamp(d, tz="UTC") for d in ("2024-10-01", "2024-11-15", "2024-08-17",
                                                 "2024-03-03", "2024-12-24")]
DURING_AS_OF = pd.Timestamp("2024-11-20", tz="UTC")  # picked while the events are indexed


def pandas_tiers(features: pd.DataFrame, high_open_rate: float) -> pd.Series:
    """The analyst's own engagement tiers and per-tier rates (no intervals, no tests)."""
    opens, clicks = features["open_rate_90d"], features["click_rate_90d"]
    inactive = ~(features["days_since_last_open"] < 90)
    high = (opens >= high_open_rate) & (clicks >= 0.10)
    moderate = (opens >= 0.20) & (clicks >= 0.02)
    tiers = pd.Series(np.select([inactive, high, moderate], ["inactive", "highly_engaged",
                                "moderately_engaged"], "low"), index=features.index)
    recipients = features["sends_90d"] > 0
    sums = features[recipients].groupby(tiers[recipients])[["unique_opens_90d", "sends_90d"]].sum()
    _ = sums["unique_opens_90d"] / sums["sends_90d"]
    return tiers.value_counts()


def per_segment_analyze(units: pd.DataFrame, labels: pd.Series, window: int = 90) -> pd.DataFrame:
    """Each segment against the other recipients with one ``analyze`` call per segment."""
    frame = units.filter(like=f"_{window}d").rename(columns=lambda c: c.removesuffix(f"_{window}d"))
    frame = frame.astype(float).fillna(0.0).assign(converted=lambda f: (f["purchase_count"] > 0) * 1.0)
    keep = (frame["sends"] > 0).to_numpy()
    frame, labels = frame[keep], labels[keep]
    specs = [Metric(m, kind="proportion", column="converted") if pair is None else
             Metric(m, kind="ratio", numerator=pair[0], denominator=pair[1])
             for m, pair in PERFORMANCE_METRICS.items()]
    tables = []
    for segment in pd.unique(labels.dropna()):
        arm = np.where((labels == segment).to_numpy(), "segment", "rest")
        if min((arm == "segment").sum(), (arm == "rest").sum()) < 2:
            continue
        result = analyze(frame.assign(arm=arm), control="rest", metrics=specs, correction="none",
                         mann_whitney=False).to_frame()
        tables.append(result.assign(segment=str(segment)))
    return pd.concat(tables, ignore_index=True)


def compare_performance(explorer: SegmentExplorer) -> None:
    """Time the current view's performance table both ways on the unfiltered list; same tests."""
    result = explorer.result
    units = explorer.data.snapshot(result.state.as_of).performance_units
    segments = pd.Series(result.labels.to_numpy(), index=units.index)
    with timer() as t_fast:
        fast = segment_performance(units, segments).to_frame()
    with timer() as t_loop:
        loop = per_segment_analyze(units, segments)
    fast = fast.set_index(["segment", "metric"])
    loop = loop.set_index(["segment", "metric"]).loc[fast.index]
    pairs = {"rest_value": "control_mean", "abs_diff": "abs_lift", "abs_diff_ci_low": "abs_lift_ci_low",
             "abs_diff_ci_high": "abs_lift_ci_high", "p_value": "p_value"}
    worst = max(float(np.nanmax(np.abs(fast[a] - loop[b]) / np.maximum(np.abs(loop[b]), 1e-300)))
                for a, b in pairs.items())
    assert worst < 1e-9, worst
    print(f"performance table, RFM ({fast.index.get_level_values(0).nunique()} segments, "
          f"{len(units):,} subscribers): segment_performance {t_fast['cpu_seconds']:.3f} s CPU; one "
          f"analyze per segment {t_loop['cpu_seconds']:.3f} s CPU "
          f"({t_loop['cpu_seconds'] / max(t_fast['cpu_seconds'], 1e-9):.0f}x); largest relative "
          f"difference {worst:.1e}")


def drive(explorer: SegmentExplorer) -> list[tuple[str, str]]:
    """Interactions in order: (kind, what was done); each appends one entry to timings."""
    steps: list[tuple[str, str]] = []
    sliders = explorer.sliders
    for scheme in ("rfm", "lifecycle", "value", "rules", "engagement"):
        explorer.scheme.value = scheme
        steps.append(("scheme change", f"-> {scheme}"))
    for value in (0.45, 0.40, 0.35, 0.30):
        sliders["engagement"]["high_open_rate"].value = value
        steps.append(("slider move", f"engagement high_open_rate={value}"))
    sliders["engagement"]["inactive_days"].value = 60.0
    steps.append(("slider move", "engagement inactive_days=60"))
    explorer.scheme.value = "lifecycle"
    steps.append(("scheme change", "-> lifecycle (cached labels)"))
    for value in (60.0, 120.0):
        sliders["lifecycle"]["active_days"].value = value
        steps.append(("slider move", f"lifecycle active_days={value:g}"))
    explorer.scheme.value = "rfm"
    steps.append(("scheme change", "-> rfm (cached)"))
    sliders["rfm"]["window"].value = 90
    steps.append(("slider move", "rfm window=90"))
    explorer.countries.value = tuple(explorer.countries.options[:2])
    steps.append(("filter", f"country in {list(explorer.countries.value)}"))
    explorer.consent.value = "emailable"
    steps.append(("filter", "consent=emailable"))
    explorer.cohorts.value = tuple(explorer.cohorts.options[-4:])
    steps.append(("filter", "last 4 signup cohorts"))
    explorer.countries.value = ()
    steps.append(("filter", "all countries"))
    for stamp in NEW_DATES[:-1]:
        explorer.set_as_of(stamp)
        steps.append(("as-of, new date", f"-> {stamp.date()} (from the index)"))
    explorer.scheme.value = "value"
    steps.append(("scheme change", "-> value (CLV fits for this date)"))
    explorer.set_as_of(NEW_DATES[-1])
    steps.append(("as-of, new date", f"-> {NEW_DATES[-1].date()} (value scheme: + CLV fits)"))
    explorer.set_as_of(NEW_DATES[-2])
    steps.append(("as-of change", f"-> {NEW_DATES[-2].date()} (cached)"))
    explorer.scheme.value = "rfm"
    steps.append(("scheme change", "-> rfm (cached)"))
    return steps


def during_indexing(explorer: SegmentExplorer) -> None:
    """Slider moves while the events are indexed, a new date picked then, and the wait for the
    index."""
    with timer() as t_index:
        moves = []
        for value in (0.48, 0.46, 0.44):
            with contextlib.redirect_stdout(io.StringIO()):
                explorer.sliders["engagement"]["high_open_rate"].value = value
            moves.append(explorer.timings[-1])
        busy = explorer.data.indexing
        with contextlib.redirect_stdout(io.StringIO()):
            explorer.set_as_of(DURING_AS_OF)  # interrupts the index's reads, computed from events
            picked = explorer.timings[-1]
            explorer.set_as_of(AS_OF)
        finished = explorer.data.wait_for_prefetch(timeout=900)
    assert finished and explorer.data.indexed, explorer.data.index_error
    print(f"slider moves while indexing (CPU includes the indexing thread's): wall "
          f"{', '.join(f'{m[1]:.3f}' for m in moves)} s; CPU {', '.join(f'{m[2]:.3f}' for m in moves)} s")
    print(f"new date {DURING_AS_OF.date()} picked while {'indexing' if busy else 'idle'}: "
          f"{picked[1]:.3f} s wall, {picked[2]:.3f} s CPU (features.compute; the index's reads are "
          "interrupted and start again afterwards)")
    print(f"events indexed {t_index['seconds']:.1f} s after the first view")
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.sliders["engagement"]["high_open_rate"].value = 0.5


def compare_compute(explorer: SegmentExplorer, tables: dict[str, pd.DataFrame]) -> None:
    """features.compute against the explorer's index for one date (the tables must be equal;
    building the index is part of the opening time)."""
    from segkit.features import compute

    stamp = NEW_DATES[1]
    with timer() as t_index:
        ours = explorer.data.features_at(stamp)
    with timer() as t_compute:
        theirs = compute(tables, stamp)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9)
    print(f"feature table as of {stamp.date()}: index {t_index['seconds']:.3f} s wall vs "
          f"features.compute {t_compute['seconds']:.2f} s ({t_compute['seconds'] / t_index['seconds']:.0f}x); "
          "tables equal")


def _baseline_setting(explorer: SegmentExplorer) -> None:
    """Engagement tiers with the default filters and high_open_rate 0.42 (a first-time value)."""
    explorer.scheme.value = "engagement"
    explorer.cohorts.value, explorer.consent.value = (), "any"
    explorer.sliders["engagement"]["inactive_days"].value = 90.0
    explorer.sliders["engagement"]["high_open_rate"].value = 0.42


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", default=bool(os.environ.get("SEGKIT_BENCH_SMALL")))
    parser.add_argument("--n", type=int, default=None, help="subscribers (overrides --small)")
    args = parser.parse_args()
    n = args.n or (5_000 if args.small else 100_000)

    with timer() as t_data:
        data = synthetic(n_subscribers=n, seed=7)
    print(f"synthetic data: {n:,} subscribers, {len(data.events):,} events in {t_data['seconds']:.1f} s")
    tables = {"events": data.events, "subscribers": data.subscribers}
    with timer() as t_start, contextlib.redirect_stdout(io.StringIO()):
        explorer = SegmentExplorer(tables, as_of=AS_OF)
    assert explorer.data.indexed, explorer.data.index_error
    print(f"opening (index the events, features as of {AS_OF.date()}, first view): "
          f"{t_start['seconds']:.1f} s wall, {t_start['cpu_seconds']:.1f} s CPU")
    already = len(explorer.timings)

    with contextlib.redirect_stdout(io.StringIO()):
        steps = drive(explorer)
    timings = explorer.timings[already:]
    assert len(timings) == len(steps), (len(timings), len(steps))
    print(f"\n{'interaction':<16} {'what':<42} {'wall s':>8} {'CPU s':>8}")
    for (kind, what), (_, wall, cpu) in zip(steps, timings, strict=True):
        print(f"{kind:<16} {what:<42} {wall:8.3f} {cpu:8.3f}")
    print("\nper kind (first-time settings, nothing cached unless noted; wall time is inflated "
          "when other processes share the cores, CPU time is this process's own work):")
    over = {}
    for kind in dict.fromkeys(k for k, _ in steps):
        rows = [t for (k, _), t in zip(steps, timings, strict=True) if k == kind]
        wall, cpu = [t[1] for t in rows], [t[2] for t in rows]
        print(f"  {kind:<16} wall median {statistics.median(wall):.3f} s, max {max(wall):.3f} s; "
              f"CPU median {statistics.median(cpu):.3f} s, max {max(cpu):.3f} s ({len(rows)} interactions)")
        if max(wall) > 1.0:
            over[kind] = max(wall)
    print(f"  load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"target <= 1 s wall per interaction: {'met' if not over else 'missed'} "
          + ("" if not over else "by " + ", ".join(f"{k} ({w:.2f} s)" for k, w in over.items())))

    result = explorer.result
    with timer() as t_render:
        specs = [result.sizes_chart().to_dict()]
        if result.performance is not None:
            specs.append(result.performance_chart("click_rate").to_dict())
    print(f"chart serialisation for the browser (to_dict with validation, done by display() in a "
          f"kernel, not included above): {t_render['seconds']:.3f} s wall, "
          f"{t_render['cpu_seconds']:.3f} s CPU")

    with contextlib.redirect_stdout(io.StringIO()):
        _baseline_setting(explorer)
    segkit_seconds = explorer.timings[-1][2]
    with timer() as t_pandas:
        baseline = pandas_tiers(explorer.features, 0.42)
    ours = explorer.result.sizes.set_index("segment")["subscribers"]
    assert (baseline.reindex(ours.index).fillna(0).astype(int) == ours).all(), (baseline, ours)
    print(f"\nslider move, segkit explorer (sizes + performance with intervals and tests + charts): "
          f"{segkit_seconds:.3f} s CPU; hand-written pandas (sizes + point rates only): "
          f"{t_pandas['cpu_seconds']:.3f} s CPU; sizes agree")
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.scheme.value = "rfm"
    compare_performance(explorer)
    compare_compute(explorer, tables)
    explorer.close()
    del explorer

    print("\nindex_events='background':")
    with timer() as t_start, contextlib.redirect_stdout(io.StringIO()):
        background = SegmentExplorer(tables, as_of=AS_OF, index_events="background")
    print(f"opening (features as of {AS_OF.date()} by features.compute, first view): "
          f"{t_start['seconds']:.1f} s wall, {t_start['cpu_seconds']:.1f} s CPU")
    during_indexing(background)
    print(f"peak memory: {peak_rss_mb():,.0f} MiB")


if __name__ == "__main__":
    main()
