"""Holm, Benjamini-Hochberg and Bonferroni agree with statsmodels' multipletests."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from segkit.errors import ValidationError
from segkit.stats import CORRECTIONS, adjust_p_values

P = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.6])


@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh"),
                                              ("bonferroni", "bonferroni")])
def test_agrees_with_multipletests(ours, theirs):
    np.testing.assert_allclose(adjust_p_values(P, ours), multipletests(P, method=theirs)[1],
                               rtol=0, atol=1e-12)


def test_holm_matches_multipletests_on_random_families_with_ties():
    rng = np.random.default_rng(21)
    for size in (1, 7, 40):
        p = np.round(rng.random(size) ** 3, 3)  # rounding creates ties
        np.testing.assert_allclose(adjust_p_values(p, "holm"),
                                   multipletests(p, method="holm")[1], rtol=0, atol=1e-12)


def test_none_and_nan_handling():
    np.testing.assert_array_equal(adjust_p_values(P, "none"), P)
    with_nan = np.array([0.01, np.nan, 0.04])
    got = adjust_p_values(with_nan, "holm")
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2]], multipletests([0.01, 0.04], method="holm")[1])


def test_unknown_correction_lists_valid_choices():
    with pytest.raises(ValidationError, match="unknown correction 'fdr'.*valid: bh, bonferroni, holm, none"):
        adjust_p_values(P, "fdr")
    assert set(CORRECTIONS) == {"bh", "bonferroni", "holm", "none"}
