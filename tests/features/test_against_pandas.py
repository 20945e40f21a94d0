"""Every feature column against the straightforward pandas implementation in the benchmark
(``benchmarks/features.py``), on random data with skewed activity, machine opens, purchases
without values, subscribers without time zones, events after as_of and half-hour time zones."""

from __future__ import annotations

import pandas as pd
import pytest
from feature_data import load_feature_bench

from segkit.features import compute


@pytest.fixture(scope="module")
def bench():
    return load_feature_bench()


@pytest.fixture(scope="module")
def data(bench):
    return bench.generate(30_000, 1_500, seed=7)


@pytest.mark.parametrize(
    ("as_of", "windows", "hours", "unit"),
    [
        ("2025-01-01", (30, 90, 365), 24, "D"),
        ("2024-07-15 13:30", (7, 60), 2.5, "W"),
    ],
)
def test_compute_matches_pandas(bench, data, as_of, windows, hours, unit):
    events, subscribers = data
    as_of = pd.Timestamp(as_of, tz="UTC")
    ours = compute(
        {"events": events, "subscribers": subscribers}, as_of,
        windows=windows, cart_abandon_hours=hours, rfm_unit=unit,
    )  # fmt: skip
    theirs = bench.pandas_features(
        events,
        subscribers,
        as_of,
        windows=windows,
        cart_hours=hours,
        unit_days=7 if unit == "W" else 1,
    )
    assert list(ours.columns) == list(theirs.columns)
    assert bench.compare(ours, theirs) == []
    assert (
        len(ours) > 1_000
        and ours["purchase_count_365d" if 365 in windows else "sends_60d"].sum() > 0
    )


def test_comparison_can_fail(bench, data):
    """The oracle comparison notices a single changed number."""
    events, subscribers = data
    as_of = pd.Timestamp("2025-01-01", tz="UTC")
    ours = compute({"events": events, "subscribers": subscribers}, as_of)
    theirs = bench.pandas_features(events, subscribers, as_of)
    theirs.iloc[3, theirs.columns.get_loc("open_rate_90d")] = 0.123
    assert any(p.startswith("open_rate_90d") for p in bench.compare(ours, theirs))


@pytest.mark.parametrize(
    ("as_of", "windows", "hours", "unit"),
    [("2025-01-01", (30, 90, 365), 24, "D"), ("2024-07-15 13:30", (7, 60), 2.5, "W")],
)
def test_compute_matches_the_polars_peer(bench, data, as_of, windows, hours, unit):
    """The benchmark's hand-written Polars lazy query computes the same table (so the timing
    compares like with like)."""
    pl = pytest.importorskip("polars")
    events, subscribers = data
    as_of = pd.Timestamp(as_of, tz="UTC")
    ours = compute(
        {"events": events, "subscribers": subscribers}, as_of,
        windows=windows, cart_abandon_hours=hours, rfm_unit=unit,
    )  # fmt: skip
    theirs = bench.polars_features(
        pl.from_pandas(events), pl.from_pandas(subscribers), as_of,
        windows=windows, cart_hours=hours, unit_days=7 if unit == "W" else 1,
    )  # fmt: skip
    assert list(ours.columns) == list(theirs.columns)
    assert bench.compare(ours, theirs) == []
