"""Exact feature values on the hand-built set in conftest.py, plus leakage and source checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from feature_data import AS_OF, duckdb_backend, make_events

from segkit.features import compute, feature_columns

WINDOWS = (30, 90)


@pytest.fixture(scope="module")
def features(events, subscribers) -> pd.DataFrame:
    return compute({"events": events, "subscribers": subscribers}, AS_OF, windows=WINDOWS)


def expect(row: pd.Series, values: dict) -> None:
    for column, value in values.items():
        got = row[column]
        if isinstance(value, float) and math.isnan(value):
            assert pd.isna(got), f"{column}: expected NaN, got {got!r}"
        else:
            assert got == pytest.approx(value, rel=1e-12), (
                f"{column}: expected {value!r}, got {got!r}"
            )


def test_rows_are_the_subscribers_known_as_of(features):
    # 'late' signs up after as_of; 'nosignup' has no signup time; 'evonly' only has events.
    assert list(features.index) == ["ber", "evonly", "nosignup", "ny", "quiet"]
    assert features.index.name == "subscriber_id"


def test_columns_and_attrs(features):
    assert list(features.columns) == feature_columns(WINDOWS)
    assert features.attrs == {
        "as_of": "2024-06-30T00:00:00+00:00",
        "windows": WINDOWS,
        "rfm_unit": "D",
        "cart_abandon_hours": 24.0,
    }
    for name in ("open_rate_90d", "days_since_last_open", "purchase_count_30d"):
        assert name in features.columns


def test_window_counts_30d(features):
    expect(
        features.loc["ny"],
        {
            "sends_30d": 1, "opens_30d": 3, "human_opens_30d": 2, "unique_opens_30d": 1,
            "clicks_30d": 1, "unique_clicks_30d": 1, "open_rate_30d": 1.0, "click_rate_30d": 1.0,
            "click_to_open_rate_30d": 1.0, "purchase_count_30d": 2, "revenue_30d": 80.0,
            "average_order_value_30d": 40.0, "web_visits_30d": 1, "product_views_30d": 1,
            "cart_adds_30d": 3, "cart_abandonments_30d": 1, "unsubscribes_30d": 0,
        },
    )  # fmt: skip


def test_window_counts_90d(features):
    expect(
        features.loc["ny"],
        {
            "sends_90d": 2, "opens_90d": 4, "human_opens_90d": 3, "unique_opens_90d": 2,
            "clicks_90d": 1, "unique_clicks_90d": 1, "open_rate_90d": 1.0, "click_rate_90d": 0.5,
            "click_to_open_rate_90d": 0.5, "purchase_count_90d": 3, "revenue_90d": 100.0,
            "average_order_value_90d": 100.0 / 3, "web_visits_90d": 1, "product_views_90d": 2,
            "cart_adds_90d": 3, "cart_abandonments_90d": 1, "unsubscribes_90d": 0,
        },
    )  # fmt: skip


def test_default_windows_include_365(events, subscribers):
    frame = compute({"events": events, "subscribers": subscribers}, AS_OF)
    assert frame.attrs["windows"] == (30, 90, 365)
    expect(
        frame.loc["ny"],
        {"sends_365d": 3, "opens_365d": 6, "human_opens_365d": 5, "unique_opens_365d": 3,
         "purchase_count_365d": 4, "revenue_365d": 110.0, "open_rate_365d": 1.0},
    )  # fmt: skip


def test_rates_with_zero_denominators_are_nan_and_zero_numerators_are_zero(features):
    expect(
        features.loc["quiet"],
        {"sends_30d": 1, "human_opens_30d": 1, "unique_opens_30d": 0, "open_rate_30d": 0.0,
         "click_rate_30d": 0.0, "click_to_open_rate_30d": float("nan"),
         "average_order_value_30d": float("nan"), "revenue_30d": 0.0},
    )  # fmt: skip
    expect(features.loc["evonly"], {"open_rate_90d": float("nan"), "click_rate_90d": float("nan")})
    expect(
        features.loc["ber"],
        {"open_rate_30d": 1.0, "click_rate_30d": 0.0, "click_to_open_rate_30d": 0.0},
    )


def test_recency_and_tenure(features):
    expect(
        features.loc["ny"],
        {"days_since_last_open": 17.5, "days_since_last_click": 18.499305555555555,
         "days_since_last_purchase": 9.375, "tenure_days": 181.0},
    )  # fmt: skip
    expect(features.loc["ber"], {"days_since_last_open": 13.0625, "tenure_days": 15.0})
    expect(features.loc["evonly"], {"tenure_days": 29.0, "days_since_last_open": float("nan")})
    expect(features.loc["nosignup"], {"tenure_days": float("nan"), "sends_90d": 0})


def test_rfm_columns(features, events, subscribers):
    expect(
        features.loc["ny"], {"frequency": 2.0, "recency": 140.0, "T": 150.0, "monetary_value": 50.0}
    )
    for column in ("frequency", "recency", "T", "monetary_value"):
        assert pd.isna(features.loc["ber", column])
    weekly = compute(
        {"events": events, "subscribers": subscribers}, AS_OF, windows=WINDOWS, rfm_unit="W"
    )
    assert weekly.attrs["rfm_unit"] == "W"
    expect(
        weekly.loc["ny"], {"frequency": 2.0, "recency": 20.0, "T": 150 / 7, "monetary_value": 50.0}
    )


def test_local_hours_are_dst_correct(features):
    hours = features.filter(like="opens_hour_")
    weekdays = features.filter(like="opens_weekday_")
    # Five human opens at 08:00 New York time, across the March 2024 DST change; the machine
    # open is not counted.
    assert hours.loc["ny"].to_dict() == {f"opens_hour_{h:02d}": 5 * (h == 8) for h in range(24)}
    assert weekdays.loc["ny"].tolist() == [1, 1, 1, 0, 1, 1, 0]
    # Sunday 22:30 UTC is Monday 00:30 in Berlin (CEST).
    assert hours.loc["ber", "opens_hour_00"] == 1 and hours.loc["ber"].sum() == 1
    assert weekdays.loc["ber", "opens_weekday_0"] == 1 and weekdays.loc["ber"].sum() == 1
    # No time zone: UTC hour 23 on Monday.
    assert (
        hours.loc["quiet", "opens_hour_23"] == 1 and weekdays.loc["quiet", "opens_weekday_0"] == 1
    )


def test_status_columns(features):
    assert features["unsubscribed"].to_dict() == {
        "ber": True, "evonly": False, "nosignup": False, "ny": False, "quiet": False
    }  # fmt: skip
    assert features.loc["ny", "consent"] is np.True_ or features.loc["ny", "consent"] == True  # noqa: E712
    assert features.loc["ber", "consent"] == False  # noqa: E712
    assert pd.isna(features.loc["evonly", "consent"]) and pd.isna(
        features.loc["nosignup", "consent"]
    )
    assert features.loc["nosignup", "timezone"] == "Asia/Tokyo"
    assert pd.isna(features.loc["quiet", "timezone"])
    assert str(features["consent"].dtype) == "boolean"
    assert features["unsubscribed"].dtype == bool


def test_unsubscribed_at_after_as_of_is_not_unsubscribed(events, subscribers):
    earlier = pd.Timestamp("2024-06-19", tz="UTC")  # before ber's unsubscribe
    frame = compute({"events": events, "subscribers": subscribers}, earlier, windows=WINDOWS)
    assert not frame.loc["ber", "unsubscribed"]


def test_future_events_do_not_change_features(events, subscribers):
    before = compute({"events": events, "subscribers": subscribers}, AS_OF, windows=WINDOWS)
    rng = np.random.default_rng(1)
    kinds = ["send", "open", "click", "purchase", "cart_add", "unsubscribe", "web_visit"]
    future = make_events(
        [
            (
                str(rng.choice(["ny", "ber", "quiet", "late", "newcomer"])),
                str(rng.choice(kinds)),
                AS_OF + pd.Timedelta(seconds=int(rng.integers(1, 90 * 86400))),
                str(rng.choice(["c1", "c9"])),
                float(rng.uniform(1, 100)),
                bool(rng.random() < 0.3),
            )
            for _ in range(300)
        ]
    )
    future["event_id"] = "f" + future["event_id"]
    after = compute(
        {"events": pd.concat([events, future], ignore_index=True), "subscribers": subscribers},
        AS_OF,
        windows=WINDOWS,
    )
    pd.testing.assert_frame_equal(before, after)


def test_sources_agree(events, subscribers):
    """A mapping of DataFrames, an Ibis backend and a Workspace-like object give one answer."""
    from_frames = compute({"events": events, "subscribers": subscribers}, AS_OF, windows=WINDOWS)
    backend = duckdb_backend({"events": events, "subscribers": subscribers})

    class FakeWorkspace:
        def ibis(self):
            return backend

    pd.testing.assert_frame_equal(from_frames, compute(backend, AS_OF, windows=WINDOWS))
    pd.testing.assert_frame_equal(from_frames, compute(FakeWorkspace(), AS_OF, windows=WINDOWS))


def test_transaction_only_data_without_subscribers(events):
    frame = compute({"events": events.drop(columns="machine_open")}, AS_OF, windows=WINDOWS)
    assert list(frame.index) == ["ber", "evonly", "ny", "quiet"]
    assert frame["consent"].isna().all() and frame["timezone"].isna().all()
    assert frame.loc["ber", "unsubscribed"]  # from the unsubscribe event
    expect(frame.loc["ny"], {"tenure_days": 150.0 - 10 / 24})  # from the first event, 02-01 10:00
    # Without machine_open every open is human; without time zones hours are UTC.
    assert frame.loc["ny", "human_opens_30d"] == 3
    assert frame.loc["ny", "opens_hour_12"] == 5 and frame.loc["ny", "opens_hour_13"] == 1


def test_as_of_string_with_offset_is_converted_to_utc(events, subscribers):
    shifted = compute(
        {"events": events, "subscribers": subscribers}, "2024-06-29T20:00:00-04:00", windows=WINDOWS
    )
    assert shifted.attrs["as_of"] == "2024-06-30T00:00:00+00:00"


def test_as_of_before_any_event(events, subscribers):
    early = pd.Timestamp("2023-06-01", tz="UTC")
    frame = compute({"events": events, "subscribers": subscribers}, early, windows=WINDOWS)
    assert list(frame.index) == ["nosignup"]  # no signup time: listed; nobody else known yet
    assert frame.loc["nosignup", "sends_30d"] == 0 and pd.isna(frame.loc["nosignup", "frequency"])
    nothing = compute({"events": events}, early, windows=WINDOWS)
    assert nothing.empty and list(nothing.columns) == feature_columns(WINDOWS)
