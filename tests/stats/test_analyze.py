"""analyze / analyze_counts: the public contract, errors, recommendation and report text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from segkit.errors import ValidationError
from segkit.stats import ExperimentResult, Metric, analyze, analyze_counts

CONTRACT = [
    "arm", "metric", "kind", "n_control", "n_treatment", "control_mean", "treatment_mean",
    "abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "rel_lift", "rel_lift_ci_low",
    "rel_lift_ci_high", "p_value", "p_value_adjusted", "significant",
]


def campaign(n=6000, seed=0, click_lift=0.02, arms=("control", "subject_b", "subject_c")):
    """Planted-lift campaign data (one row per recipient)."""
    rng = np.random.default_rng(seed)
    arm = rng.choice(arms, n)
    lift = np.where(arm == arms[1], click_lift, 0.0)
    opened = rng.random(n) < 0.35
    machine = opened & (rng.random(n) < 0.4)
    clicks = rng.poisson(np.where(opened, 0.3 + 3 * lift, 0.0))
    click = (clicks > 0).astype(int)
    revenue = np.where(rng.random(n) < 0.03 + lift, rng.gamma(2, 30, n), 0.0)
    pre = revenue * 0.5 + rng.gamma(1.0, 10.0, n)
    return pd.DataFrame({"arm": arm, "open": opened.astype(int), "machine_open": machine,
                         "opens": opened * rng.integers(1, 4, n), "clicks": clicks,
                         "click": click, "revenue": revenue, "pre_revenue": pre})


def test_frame_has_the_contract_columns_one_row_per_arm_and_metric():
    result = analyze(campaign(), metrics=["open", "click", "revenue"])
    frame = result.to_frame()
    assert list(frame.columns[: len(CONTRACT)]) == CONTRACT
    assert len(frame) == 6 and set(frame["arm"]) == {"subject_b", "subject_c"}
    assert dict(zip(frame["metric"], frame["kind"], strict=False)) == {
        "open": "proportion", "click": "proportion", "revenue": "continuous"}
    assert isinstance(result, ExperimentResult) and result.primary_metric == "click"
    frame.loc[0, "metric"] = "changed"
    assert result.to_frame().loc[0, "metric"] == "open"  # to_frame returns a copy


def test_rows_agree_with_an_independent_computation_and_holm():
    df = campaign(seed=1)
    frame = analyze(df, metrics=["click", "revenue"]).to_frame()
    c, t = df[df.arm == "control"], df[df.arm == "subject_b"]
    row = frame[(frame.arm == "subject_b") & (frame.metric == "revenue")].iloc[0]
    ref = sps.ttest_ind(t.revenue, c.revenue, equal_var=False)
    assert row.p_value == pytest.approx(ref.pvalue, abs=1e-9)
    assert row.treatment_mean == pytest.approx(t.revenue.mean(), rel=1e-12)
    raw = frame["p_value"].to_numpy()
    order = np.argsort(raw)
    holm = np.maximum.accumulate(np.minimum(1, raw[order] * (len(raw) - np.arange(len(raw)))))
    np.testing.assert_allclose(frame["p_value_adjusted"].to_numpy()[order], holm, atol=1e-12)
    assert (frame["significant"] == (frame["p_value_adjusted"] < 0.05)).all()


def test_ratio_and_cuped_metrics_by_mapping():
    df = campaign(seed=2)
    result = analyze(df, metrics=[
        {"name": "click_to_open", "kind": "ratio", "numerator": "clicks", "denominator": "opens"},
        {"name": "revenue", "covariate": "pre_revenue"},
        Metric("revenue_raw", column="revenue"),
    ])
    frame = result.to_frame().set_index(["arm", "metric"])
    ctr = frame.loc[("subject_b", "click_to_open")]
    t = df[df.arm == "subject_b"]
    assert ctr.kind == "ratio" and ctr.treatment_mean == pytest.approx(t.clicks.sum() / t.opens.sum())
    cuped = frame.loc[("subject_b", "revenue")]
    raw = frame.loc[("subject_b", "revenue_raw")]
    assert "CUPED" in cuped.method and cuped.kind == "continuous"
    assert cuped.abs_lift_ci_high - cuped.abs_lift_ci_low < raw.abs_lift_ci_high - raw.abs_lift_ci_low
    assert any("CUPED" in n for n in result.notes)


def test_counts_give_the_same_numbers_as_units():
    df = campaign(seed=3)
    units = analyze(df, metrics=["click", "revenue"], mann_whitney=False).to_frame()
    g = df.groupby("arm")
    totals = pd.DataFrame({"arm": g.size().index, "n": g.size().to_numpy(),
                           "click": g.click.sum().to_numpy(),
                           "revenue_mean": g.revenue.mean().to_numpy(),
                           "revenue_sd": g.revenue.std().to_numpy()})
    counts = analyze_counts(totals, metrics=["click", "revenue"]).to_frame()
    numeric = [c for c in CONTRACT if c not in ("arm", "metric", "kind", "significant")]
    pd.testing.assert_frame_equal(units[numeric], counts[numeric], rtol=1e-9)


def test_summary_html_and_recommendation():
    result = analyze(campaign(n=40_000, seed=4, click_lift=0.05), metrics=["open", "click"])
    rec = result.recommendation
    assert rec.decision == "ship" and rec.arm == "subject_b" and rec.metric == "click"
    assert rec.reason.count(".") <= 6 and "\n" not in rec.reason
    text = result.summary()
    assert "Primary metric: click" in text and "machine opens" in text
    assert "Recommendation: ship" in text and "sample ratio" in text
    html = result._repr_html_()
    assert "<table" in html and "Recommendation: ship" in html


@pytest.mark.parametrize(("lift", "decision"), [(0.0, "inconclusive"), (-0.2, "don't ship")])
def test_other_decisions(lift, decision):
    rng = np.random.default_rng(5)
    n = 20_000
    df = pd.DataFrame({"arm": np.repeat(["control", "b"], n),
                       "conversion": np.r_[rng.random(n) < 0.1,
                                           rng.random(n) < 0.1 * (1 + lift)].astype(int)})
    assert analyze(df, metrics=["conversion"]).recommendation.decision == decision


def test_sample_ratio_mismatch_makes_the_test_invalid():
    df = pd.DataFrame({"arm": ["control"] * 48_000 + ["b"] * 52_000,
                       "conversion": np.tile([1, 0, 0, 0], 25_000)})
    result = analyze(df, metrics=["conversion"])
    assert result.srm.flagged and result.recommendation.decision == "invalid: SRM"
    balanced = analyze(df, metrics=["conversion"], allocation={"control": 0.48, "b": 0.52})
    assert not balanced.srm.flagged


def test_machine_opens_are_excluded_when_asked():
    df = campaign(seed=6)
    plain = analyze(df, metrics=["open", "click"]).to_frame()
    human = analyze(df, metrics=["open", "click"], exclude_machine_opens=True)
    frame = human.to_frame()
    c = df[df.arm == "control"]
    expected = (c.open.astype(bool) & ~c.machine_open).mean()
    assert frame[frame.metric == "open"].control_mean.iloc[0] == pytest.approx(expected)
    same = ["abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "p_value"]  # adjusted p: new family
    pd.testing.assert_frame_equal(plain.loc[plain.metric == "click", same],
                                  frame.loc[frame.metric == "click", same])
    assert any("Machine opens excluded" in n for n in human.notes)
    with pytest.raises(ValidationError, match="missing column.*'machine_open'"):
        analyze(df.drop(columns="machine_open"), metrics=["open"], exclude_machine_opens=True)


def test_bootstrap_option_adds_interval_columns():
    frame = analyze(campaign(seed=7), metrics=["revenue"], bootstrap=500).to_frame()
    assert (frame.abs_lift_boot_ci_low < frame.abs_lift).all()
    assert (frame.abs_lift < frame.abs_lift_boot_ci_high).all()


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda d: d, {"control": "ctrl"},
         "control arm 'ctrl' not found; arms present: control, subject_b, subject_c"),
        (lambda d: d.assign(arm=pd.Categorical(d.arm, ["control", "subject_b", "subject_c", "x"])),
         {}, "arm\\(s\\) 'x' have zero units"),
        (lambda d: d.assign(click=d.click * 2), {"metrics": [Metric("click", "proportion")]},
         "outside \\[0, 1\\]"),
        (lambda d: d.assign(click=d.click.astype(str)), {}, "column 'click' is not numeric"),
        (lambda d: d[d.arm == "control"], {}, "at least two arms"),
        (lambda d: d, {"correction": "sidak"}, "valid: bh, bonferroni, holm, none"),
        (lambda d: d, {"metrics": ["clik"]}, "missing column\\(s\\) 'clik'"),
        (lambda d: d, {"metrics": [{"name": "x", "kind": "rate"}]},
         "did you mean 'ratio'.*valid: proportion, continuous, ratio"),
        (lambda d: d, {"metrics": [{"name": "x", "numerater": "a"}]}, "valid: name, kind"),
        (lambda d: d, {"alpha": 5}, "alpha must be"),
        (lambda d: d, {"primary": "revenue"}, "unknown primary metric 'revenue'; valid: click"),
    ],
)
def test_clear_errors(change, kwargs, message):
    args = {"metrics": ["click"], **kwargs}
    with pytest.raises(ValidationError, match=message):
        analyze(change(campaign(n=600)), **args)


def test_count_input_errors():
    totals = pd.DataFrame({"arm": ["control", "b"], "n": [100, 0], "click": [10, 0]})
    with pytest.raises(ValidationError, match="'b' have zero units"):
        analyze_counts(totals, metrics=["click"])
    totals = pd.DataFrame({"arm": ["control", "b"], "n": [100, 100], "click": [10, 120]})
    with pytest.raises(ValidationError, match="outside \\[0, 1\\]"):
        analyze_counts(totals, metrics=["click"])
    with pytest.raises(ValidationError, match="'spend_mean' and 'spend_sd'"):
        analyze_counts(totals, metrics=["spend"])
    with pytest.raises(ValidationError, match="missing column.*'a_b_sum_prod'"):
        analyze_counts(totals, metrics=[{"name": "r", "kind": "ratio", "numerator": "a",
                                         "denominator": "b"}])


def test_degenerate_data_give_defined_or_explained_results():
    n = 50
    df = pd.DataFrame({"arm": ["control"] * n + ["b"] * n, "conversion": 0,
                       "opened": np.tile([True, False], n), "opens": 0.0, "clicks": 0.0})
    result = analyze(df, metrics=["conversion", "opened", {
        "name": "click_to_open", "kind": "ratio", "numerator": "clicks", "denominator": "opens"}])
    frame = result.to_frame().set_index("metric")
    assert frame.loc["conversion", "p_value"] == 1.0  # no successes anywhere: Fisher's p = 1
    assert frame.loc["opened", "kind"] == "proportion"  # booleans are proportions
    assert np.isnan(frame.loc["click_to_open", "p_value"])
    assert any("click_to_open for b: not tested: the ratio's denominator sums to zero" in n
               for n in result.notes)
    text = result.summary()
    assert "nan" not in text.lower().replace("n/a", "")
    assert result.recommendation.decision == "inconclusive"


@pytest.mark.slow
def test_family_wise_error_through_analyze_with_holm():
    """1,000 A/A/A experiments end to end: Holm keeps the family-wise error at or below 5%."""
    rng = np.random.default_rng(20)
    rejections = 0
    for _ in range(1000):
        df = pd.DataFrame({"arm": np.repeat(["control", "b", "c"], 2000),
                           "conversion": (rng.random(6000) < 0.1).astype(int)})
        rejections += bool(analyze(df, metrics=["conversion"], mann_whitney=False)
                           .to_frame()["significant"].any())
    assert 0.03 <= rejections / 1000 <= 0.06


def test_outlier_driven_mean_difference_is_called_out():
    rng = np.random.default_rng(22)
    n = 3000
    whales = np.where(rng.random(n) < 0.003, 400.0, rng.gamma(1.0, 2.0, n))
    df = pd.DataFrame({"arm": np.repeat(["control", "b"], n),
                       "revenue": np.r_[rng.gamma(1.0, 2.0, n), whales]})
    result = analyze(df, metrics=["revenue"])
    row = result.to_frame().iloc[0]
    assert row.p_value < 0.05 < row.p_value_mann_whitney
    assert any("Mann-Whitney" in n and "disagree" in n for n in result.notes)
    assert "Mann-Whitney p = " in result.summary()
