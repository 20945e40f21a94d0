"""The data-sufficiency verdict."""

from __future__ import annotations

import numpy as np
import pytest

from segkit.clv import assess_data_sufficiency


def test_cdnow_sample_is_sufficient(cdnow_summary):
    d = cdnow_summary
    verdict = assess_data_sufficiency(d["frequency"], d["recency"], d["T"], time_unit="W")
    assert verdict.sufficient and verdict.problems == ()
    assert verdict.n_repeat_buyers == 946 and verdict.n_customers == 2357
    assert "sufficient" in verdict.message and "946 repeat buyers" in verdict.message
    assert set(verdict.to_frame()["item"]) >= {"repeat buyers", "calibration length"}


def test_short_calibration_and_few_repeaters_are_named():
    rng = np.random.default_rng(1)
    x = (rng.random(300) < 0.1).astype(float)
    T = np.full(300, 6.0)
    tx = np.where(x > 0, 5.0, 0.0)
    verdict = assess_data_sufficiency(x, tx, T, time_unit="W")
    assert not verdict.sufficient
    text = " ".join(verdict.problems)
    assert "bought more than once" in text and "spans only 42 days" in text and "too short" in text
    assert "<p>" in verdict._repr_html_()


@pytest.mark.parametrize("share", [0.02])
def test_low_repeat_share(share):
    n = 10_000
    x = np.zeros(n)
    x[: int(share * n)] = 1
    verdict = assess_data_sufficiency(x, np.where(x > 0, 1.0, 0.0), np.full(n, 200.0), time_unit="D")
    assert any("bought again" in p for p in verdict.problems)
