"""CalibrationHoldout: exact outcomes on the hand-built set and the result-object API."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from feature_data import utc

from segkit.features import CalibrationHoldout, calibration_holdout

CUTOFF = utc("2024-05-31")
END = utc("2024-06-30")


@pytest.fixture(scope="module")
def split(events, subscribers) -> CalibrationHoldout:
    return calibration_holdout(
        {"events": events, "subscribers": subscribers}, CUTOFF, END, windows=(30,), unit="W"
    )


def test_outcomes_are_exact(split):
    out = split.outcomes
    # Known at the cutoff: ny (signed up in January) and nosignup (no signup time); ber and quiet
    # sign up in June and evonly first appears on 06-01, all after the cutoff.
    assert list(out.index) == ["nosignup", "ny"]
    ny = out.loc["ny"]
    assert ny["holdout_purchases"] == 1  # two purchases on 06-20 are one purchase day
    assert ny["holdout_purchase_events"] == 2
    assert ny["holdout_revenue"] == 80.0
    assert ny["holdout_opens"] == 2  # human opens on 06-11 and 06-12 (the machine open excluded)
    assert ny["holdout_clicks"] == 1
    assert ny["holdout_active"] and not ny["holdout_unsubscribed"]
    assert not out.loc["nosignup", "holdout_active"]


def test_features_are_as_of_the_cutoff(split):
    assert split.features.attrs["as_of"] == "2024-05-31T00:00:00+00:00"
    assert split.features.loc["ny", "purchase_count_30d"] == 1  # 05-15 only
    assert split.features.attrs["rfm_unit"] == "W"


def test_duration_in_the_unit(split):
    assert split.duration_holdout == pytest.approx(30 / 7)
    assert split.unit == "W"


def test_to_frame_joins_features_and_outcomes(split):
    frame = split.to_frame()
    assert list(frame.index) == list(split.features.index)
    assert set(split.outcomes.columns) <= set(frame.columns)
    assert (frame["duration_holdout"] == split.duration_holdout).all()
    assert frame.attrs["end"] == "2024-06-30T00:00:00+00:00"


def test_summary_and_html(split):
    text = split.summary()
    assert "holdout duration" in text and "4.28571 weeks" in text
    assert "subscribers" in text and str(split) == text
    html = split._repr_html_()
    assert html.startswith("<table>") and "holdout revenue" in html and "80.00" in html


def test_result_is_frozen(split):
    with pytest.raises(dataclasses.FrozenInstanceError):
        split.unit = "D"  # type: ignore[misc]


def test_unsubscribed_in_holdout(events, subscribers):
    result = calibration_holdout(
        {"events": events, "subscribers": subscribers.assign(signup_at=utc("2024-01-01"))},
        utc("2024-06-18"),
        END,
        windows=(30,),
    )
    assert result.outcomes.loc["ber", "holdout_unsubscribed"]
    assert not result.outcomes.loc["ny", "holdout_unsubscribed"]
    assert isinstance(result.outcomes, pd.DataFrame)
