"""The real Hillstrom (2008) email experiment, against scipy computed here and published rates."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segkit.datasets import hillstrom
from segkit.stats import analyze

PUBLISHED = Path(__file__).parents[1] / "results" / "stats_hillstrom_published.csv"
CONTROL = "No E-Mail"


@pytest.fixture(scope="module")
def data():
    return hillstrom()


@pytest.fixture(scope="module")
def result(data):
    return analyze(data, control=CONTROL, metrics=["visit", "conversion", "spend"])


def pooled_z_p(x1, n1, x2, n2):
    """Independent two-proportion z-test written from the textbook formula."""
    p = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return 2 * stats.norm.sf(abs(z))


def test_rates_match_the_published_results(result):
    published = pd.read_csv(PUBLISHED, comment="#").set_index("arm")
    frame = result.to_frame()
    for metric, digits in (("visit", 4), ("conversion", 4), ("spend", 2)):
        rows = frame[frame.metric == metric].set_index("arm")
        for arm in ("Mens E-Mail", "Womens E-Mail"):
            assert round(rows.loc[arm, "treatment_mean"], digits) == published.loc[arm, metric]
        assert round(rows["control_mean"].iloc[0], digits) == published.loc[CONTROL, metric]


def test_p_values_and_rates_match_scipy(data, result):
    frame = result.to_frame().set_index(["arm", "metric"])
    control = data[data.arm == CONTROL]
    for arm in ("Mens E-Mail", "Womens E-Mail"):
        treated = data[data.arm == arm]
        for metric in ("visit", "conversion"):
            row = frame.loc[(arm, metric)]
            x1, n1 = treated[metric].sum(), len(treated)
            x2, n2 = control[metric].sum(), len(control)
            assert row.treatment_mean == pytest.approx(x1 / n1, rel=1e-12)
            assert row.control_mean == pytest.approx(x2 / n2, rel=1e-12)
            assert row.p_value == pytest.approx(pooled_z_p(x1, n1, x2, n2), rel=1e-9, abs=1e-300)
            assert row.kind == "proportion" and row.n_treatment == n1
        welch = stats.ttest_ind(treated.spend, control.spend, equal_var=False)
        ci = welch.confidence_interval(0.95)
        row = frame.loc[(arm, "spend")]
        assert row.p_value == pytest.approx(welch.pvalue, rel=1e-9)
        assert (row.abs_lift_ci_low, row.abs_lift_ci_high) == pytest.approx((ci.low, ci.high),
                                                                            abs=1e-9)
        mw = stats.mannwhitneyu(treated.spend, control.spend)
        assert row.p_value_mann_whitney == pytest.approx(mw.pvalue, rel=1e-9)


def test_both_emails_win_and_the_split_is_clean(result):
    frame = result.to_frame()
    assert frame["significant"].all()
    assert not result.srm.flagged
    rec = result.recommendation
    assert rec.decision == "ship" and rec.arm == "Mens E-Mail" and rec.metric == "visit"
    visit = frame[frame.metric == "visit"].set_index("arm")
    assert visit.loc["Mens E-Mail", "rel_lift"] == pytest.approx(0.1828 / 0.1062 - 1, abs=0.005)
