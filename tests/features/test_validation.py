"""Argument and input validation: specific errors with actionable messages."""

from __future__ import annotations

import pandas as pd
import pytest
from feature_data import AS_OF

from segkit._timestamps import utc_timestamp
from segkit.errors import InputError, ValidationError
from segkit.features import RFM_UNITS, calibration_holdout, compute, rfm
from segkit.features._params import check_hours, check_unit, check_windows


def test_naive_as_of_is_refused_not_assumed_utc():
    with pytest.raises(ValidationError, match="has no time zone"):
        utc_timestamp("2024-06-30")
    with pytest.raises(ValidationError, match="has no time zone"):
        utc_timestamp(pd.Timestamp("2024-06-30"))


@pytest.mark.parametrize("value", [None, 3.5, "not a date", pd.NaT])
def test_bad_as_of_values(value):
    with pytest.raises(ValidationError, match="as_of"):
        utc_timestamp(value)


def test_as_of_is_converted_to_utc():
    assert utc_timestamp("2024-06-30T02:00:00+02:00") == pd.Timestamp("2024-06-30", tz="UTC")


def test_unknown_unit_lists_valid_values():
    with pytest.raises(
        ValidationError, match=r"unknown rfm_unit 'M'; valid: 'D' \(days\), 'W' \(weeks\)"
    ):
        check_unit("M")
    assert set(RFM_UNITS) == {"D", "W"}


@pytest.mark.parametrize("windows", [(), (0, 30), (-1,), (30.5,), (True,), "30", None])
def test_bad_windows(windows):
    with pytest.raises(ValidationError, match="windows"):
        check_windows(windows)


def test_windows_are_sorted_and_deduplicated():
    assert check_windows([365, 30, 30, 90]) == (30, 90, 365)


@pytest.mark.parametrize("hours", [0, -1, "24", None, True])
def test_bad_cart_hours(hours):
    with pytest.raises(ValidationError, match="cart_abandon_hours"):
        check_hours(hours)


def test_compute_validates_before_touching_data(events, subscribers):
    source = {"events": events, "subscribers": subscribers}
    with pytest.raises(ValidationError, match="unknown rfm_unit 'days'"):
        compute(source, AS_OF, rfm_unit="days")
    with pytest.raises(ValidationError, match="has no time zone"):
        compute(source, "2024-06-30")
    with pytest.raises(ValidationError, match="unknown unit 'Y'"):
        rfm(source, AS_OF, unit="Y")


def test_missing_columns_are_all_listed_sorted(events):
    broken = events.drop(columns=["ts", "event_type", "value"])
    with pytest.raises(
        InputError, match="table 'events' is missing required column\\(s\\): event_type, ts, value;"
    ):
        compute({"events": broken}, AS_OF)


def test_missing_subscriber_id_in_subscribers(events, subscribers):
    with pytest.raises(
        InputError, match="table 'subscribers' is missing required column\\(s\\): subscriber_id"
    ):
        compute({"events": events, "subscribers": subscribers.drop(columns="subscriber_id")}, AS_OF)


def test_rfm_needs_fewer_columns(events):
    frame = rfm({"events": events[["subscriber_id", "event_type", "ts", "value"]]}, AS_OF)
    assert list(frame.columns) == ["frequency", "recency", "T", "monetary_value"]


def test_naive_event_timestamps_are_refused(events):
    naive = events.assign(ts=events["ts"].dt.tz_localize(None))
    with pytest.raises(ValidationError, match="events.ts has no time zone"):
        compute({"events": naive}, AS_OF)


def test_no_events_table():
    with pytest.raises(InputError, match="no 'events' table"):
        compute({"subscribers": pd.DataFrame({"subscriber_id": ["a"]})}, AS_OF)


def test_unknown_table_name(events):
    with pytest.raises(
        ValidationError, match="unknown table name\\(s\\) 'evnts'; valid: 'events', 'subscribers'"
    ):
        compute({"evnts": events}, AS_OF)


def test_bad_source_type():
    with pytest.raises(ValidationError, match="source must be a segkit Workspace"):
        compute(42, AS_OF)


def test_unknown_time_zone_is_named(events, subscribers):
    bad = subscribers.assign(
        timezone=subscribers["timezone"].replace("Europe/Berlin", "Mars/Olympus")
    )
    with pytest.raises(
        ValidationError, match="unknown IANA time zone\\(s\\) in subscribers.timezone: Mars/Olympus"
    ):
        compute({"events": events, "subscribers": bad}, AS_OF)


def test_duplicate_subscriber_ids(events, subscribers):
    doubled = pd.concat([subscribers, subscribers.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValidationError, match="duplicated: \\['ny'\\]"):
        compute({"events": events, "subscribers": doubled}, AS_OF)


def test_holdout_end_must_follow_cutoff(events):
    with pytest.raises(ValidationError, match="end .* must be after cutoff"):
        calibration_holdout({"events": events}, AS_OF, AS_OF)


def test_naive_timestamp_read_as_utc_only_when_asked():
    assert utc_timestamp("2024-06-30", "--as-of", naive_as_utc=True) == pd.Timestamp("2024-06-30", tz="UTC")
    with pytest.raises(ValidationError, match="--as-of must be a date"):
        utc_timestamp("2024-13-01", "--as-of", naive_as_utc=True)
