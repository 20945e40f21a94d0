"""Sample-ratio mismatch: agreement with scipy's chisquare and the stated flagging rate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from segkit.errors import ValidationError
from segkit.stats import srm_check


def test_agrees_with_scipy_chisquare_for_an_unequal_plan():
    counts = {"control": 10_120, "a": 19_850, "b": 10_030}
    got = srm_check(counts, {"control": 1, "a": 2, "b": 1})
    ref = stats.chisquare([10_120, 19_850, 10_030], [10_000, 20_000, 10_000])
    assert got.statistic == pytest.approx(ref.statistic, abs=1e-9)
    assert got.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert got.expected == {"control": 10_000.0, "a": 20_000.0, "b": 10_000.0}


def test_planted_48_52_split_is_flagged():
    result = srm_check({"control": 48_000, "treatment": 52_000})
    assert result.flagged and result.p_value < 1e-30
    assert "SAMPLE RATIO MISMATCH" in result.summary()
    assert list(result.to_frame()["observed_share"]) == [0.48, 0.52]


def test_correct_split_is_flagged_at_the_stated_rate():
    """100,000 simulated 50/50 splits of 100,000 units: the flag rate is the 0.001 threshold."""
    rng = np.random.default_rng(7)
    control = rng.binomial(100_000, 0.5, 100_000)
    single = srm_check({"control": int(control[0]), "treatment": int(100_000 - control[0])})
    p = stats.chisquare(np.stack([control, 100_000 - control]), axis=0).pvalue
    assert single.p_value == pytest.approx(p[0], abs=1e-12)
    rate = np.mean(p < single.threshold)
    assert 0.0006 <= rate <= 0.0014, rate  # binomial sd of the rate is 0.0001
    assert not srm_check({"control": 50_100, "treatment": 49_900}).flagged


def test_bad_allocation_names_the_arms():
    with pytest.raises(ValidationError, match="missing: \\['b'\\]"):
        srm_check({"a": 1, "b": 2}, {"a": 0.5, "c": 0.5})
    with pytest.raises(ValidationError, match="at least two arms"):
        srm_check({"a": 10})
