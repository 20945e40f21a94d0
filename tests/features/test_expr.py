"""``compute_expr`` (one Ibis expression, stays in the engine) equals ``compute`` (numpy assembly)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from feature_data import AS_OF, duckdb_backend, load_feature_bench, make_events, make_subscribers

from segkit.errors import ValidationError
from segkit.features import compute, compute_expr, feature_columns

WINDOWS = (30, 90)
INT_PREFIXES = ("sends_", "opens_", "human_opens_", "unique_", "clicks_", "purchase_count_",
                "web_visits_", "pricing_page_visits_", "product_views_", "cart_")  # fmt: skip


def assert_same_table(numpy_table: pd.DataFrame, engine: pd.DataFrame) -> None:
    """Every column and row equal: counts exactly (int64 both), floats to 1e-9 with NaN where
    NaN, booleans and strings with missing where missing."""
    engine = engine.set_index("subscriber_id")
    assert list(engine.index) == list(numpy_table.index)
    assert list(engine.columns) == list(numpy_table.columns)
    for column in numpy_table.columns:
        ours, theirs = numpy_table[column], engine[column]
        if pd.api.types.is_float_dtype(ours):
            assert pd.api.types.is_float_dtype(theirs), column
            np.testing.assert_allclose(
                theirs.to_numpy(float), ours.to_numpy(float), rtol=1e-9, atol=1e-9,
                err_msg=column,
            )  # fmt: skip
        elif pd.api.types.is_integer_dtype(ours):
            assert theirs.dtype == np.int64, (column, theirs.dtype)
            np.testing.assert_array_equal(theirs.to_numpy(), ours.to_numpy(), err_msg=column)
        else:  # unsubscribed (bool), consent (boolean), timezone (string)
            left = ours.astype(object).where(ours.notna(), None).tolist()
            right = theirs.astype(object).where(theirs.notna(), None).tolist()
            assert left == right, column


@pytest.fixture(scope="module")
def tables(events, subscribers) -> dict[str, pd.DataFrame]:
    return {"events": events, "subscribers": subscribers}


@pytest.mark.parametrize("windows", [WINDOWS, (7, 30, 365), (1,)])
def test_equals_compute_on_the_hand_built_set(tables, windows):
    """Subscribers with no events ('nosignup', 'quiet'), one listed only by events ('evonly'),
    a late signup, DST-crossing local hours, machine opens, refunds and cart abandonment."""
    expected = compute(tables, AS_OF, windows=windows)
    got = compute_expr(tables, AS_OF, windows=windows).to_pandas()
    assert_same_table(expected, got)


def test_equals_compute_without_subscribers_and_in_weeks(events):
    source = {"events": events.drop(columns="machine_open")}
    expected = compute(source, AS_OF, windows=WINDOWS, rfm_unit="W", cart_abandon_hours=2)
    got = compute_expr(source, AS_OF, windows=WINDOWS, rfm_unit="W", cart_abandon_hours=2)
    assert_same_table(expected, got.to_pandas())
    assert expected["consent"].isna().all() and expected["unsubscribed"].any()


def test_as_of_before_every_event_gives_the_same_rows(tables):
    early = pd.Timestamp("2023-06-01", tz="UTC")
    got = compute_expr(tables, early, windows=WINDOWS).to_pandas()
    assert_same_table(compute(tables, early, windows=WINDOWS), got)
    assert got["subscriber_id"].tolist() == ["nosignup"]


def test_fractional_seconds_keep_their_microseconds():
    """DuckDB's epoch keeps fractions, Spark's drops them: days are computed from whole seconds
    plus microseconds, so a last open 0.25 s before a whole second is exact either way."""
    events = make_events([
        ("a", "open", "2024-06-29 23:59:59.750001", "c1", None, False),
        ("a", "purchase", "1969-12-31 23:59:58.25", None, 5.0, False),
    ])  # fmt: skip
    subs = make_subscribers([("a", "1969-12-31 23:59:57.5", "UTC", True, None)])
    source = {"events": events, "subscribers": subs}
    got = compute_expr(source, AS_OF, windows=WINDOWS).to_pandas().iloc[0]
    assert got["days_since_last_open"] == pytest.approx(0.249999 / 86400, rel=1e-6)
    as_of_seconds = AS_OF.timestamp()
    assert got["tenure_days"] == pytest.approx((as_of_seconds + 2.5) / 86400, rel=1e-15)
    assert_same_table(compute(source, AS_OF, windows=WINDOWS),
                      compute_expr(source, AS_OF, windows=WINDOWS).to_pandas())  # fmt: skip


def test_generated_data_on_a_duckdb_backend_and_to_parquet(tmp_path):
    """The feature benchmark's random data (every event type, pricing pages, 12 zones, 3% without
    a zone, signups after as_of, future events) in real DuckDB tables; the expression is written
    to Parquet by the engine and read back."""
    bench = load_feature_bench()
    events, subscribers = bench.generate(20_000, 1_500, seed=3)
    backend = duckdb_backend({"events": events, "subscribers": subscribers})
    expected = compute(backend, bench.AS_OF, windows=bench.WINDOWS)
    expr = compute_expr(backend, bench.AS_OF, windows=bench.WINDOWS)
    out = tmp_path / "features.parquet"
    expr.to_parquet(out)
    written = pq.read_table(out).to_pandas()
    assert_same_table(expected, written)
    assert written.columns.tolist() == ["subscriber_id", *feature_columns(bench.WINDOWS)]
    assert (expected["opens_hour_08"] > 0).any() and expected["frequency"].notna().any()


def test_duplicated_subscribers_are_refused_like_compute(tables):
    doubled = {"events": tables["events"],
               "subscribers": pd.concat([tables["subscribers"], tables["subscribers"].iloc[:1]])}
    with pytest.raises(ValidationError, match="must be unique; duplicated: \\['ny'\\]"):
        compute_expr(doubled, AS_OF)
    with pytest.raises(ValidationError, match="must be unique"):
        compute(doubled, AS_OF)


def test_bad_arguments_are_refused_like_compute(tables):
    with pytest.raises(ValidationError, match="windows must be positive"):
        compute_expr(tables, AS_OF, windows=(0,))
    with pytest.raises(ValidationError, match="unknown rfm_unit"):
        compute_expr(tables, AS_OF, rfm_unit="M")
