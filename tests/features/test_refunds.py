"""Refund events (negative values) are netted in revenue, holdout revenue and the RFM monetary
value, the same way in ``compute``, ``rfm``, ``calibration_holdout`` and ``FeatureTimeline``;
they are never purchases (counts, frequency, last purchase)."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.features import FeatureTimeline, calibration_holdout, compute, rfm

AS_OF = pd.Timestamp("2024-03-31 23:59:59", tz="UTC")


def _events() -> pd.DataFrame:
    rows = [
        # a: first day 100 (40 refunded the same day), repeat days 50 and 30; 20 refunded later
        ("a", "purchase", "2024-01-01 10:00", 100.0),
        ("a", "refund", "2024-01-01 11:00", -40.0),
        ("a", "purchase", "2024-02-01 10:00", 50.0),
        ("a", "purchase", "2024-03-01 10:00", 30.0),
        ("a", "refund", "2024-03-02 10:00", -20.0),
        # b: a big repeat order cancelled the same day (the Online Retail 16446 case)
        ("b", "purchase", "2024-01-05 10:00", 3.0),
        ("b", "purchase", "2024-03-20 09:15", 168_469.6),
        ("b", "refund", "2024-03-20 09:27", -168_469.6),
        # c: a refund after as_of is not known yet
        ("c", "purchase", "2024-01-10 10:00", 10.0),
        ("c", "purchase", "2024-01-20 10:00", 10.0),
        ("c", "refund", "2024-04-02 10:00", -10.0),
    ]
    frame = pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts", "value"])
    frame["ts"] = pd.to_datetime(frame["ts"]).dt.tz_localize("UTC")
    frame.insert(0, "event_id", [f"e{i}" for i in range(len(frame))])
    frame["campaign_id"] = None
    frame["properties"] = None
    frame["machine_open"] = False
    return frame


@pytest.fixture(scope="module")
def source() -> dict[str, pd.DataFrame]:
    return {"events": _events()}


def test_revenue_is_net_of_refunds_and_refunds_are_not_purchases(source):
    table = compute(source, AS_OF, windows=(365,))
    assert table.loc["a", "revenue_365d"] == pytest.approx(120.0)
    assert table.loc["b", "revenue_365d"] == pytest.approx(3.0)
    assert table.loc["c", "revenue_365d"] == pytest.approx(20.0)
    assert table["purchase_count_365d"].to_dict() == {"a": 3, "b": 2, "c": 2}
    assert table.loc["a", "average_order_value_365d"] == pytest.approx(40.0)


def test_rfm_nets_refunds_after_the_first_day_in_monetary_value(source):
    table = rfm(source, AS_OF)
    assert table["frequency"].to_dict() == {"a": 2.0, "b": 1.0, "c": 1.0}
    # a: repeat days 50 + 30, less the later refund of 20, over 2 repeat days
    assert table.loc["a", "monetary_value"] == pytest.approx(30.0)
    assert table.loc["b", "monetary_value"] == 0.0  # the cancelled order adds nothing
    assert table.loc["c", "monetary_value"] == pytest.approx(10.0)


def test_timeline_equals_compute_with_refunds(source):
    timeline = FeatureTimeline(source, windows=(30, 365))
    for as_of in (AS_OF, pd.Timestamp("2024-03-20 09:20", tz="UTC"), pd.Timestamp("2024-04-30", tz="UTC")):
        expected = compute(source, as_of, windows=(30, 365))
        pd.testing.assert_frame_equal(timeline.at(as_of), expected, check_like=True)


def test_holdout_revenue_is_net(source):
    split = calibration_holdout(source, pd.Timestamp("2024-02-15", tz="UTC"), AS_OF)
    outcomes = split.outcomes
    assert outcomes.loc["a", "holdout_revenue"] == pytest.approx(10.0)  # 30 - 20
    assert outcomes.loc["b", "holdout_revenue"] == pytest.approx(0.0)
