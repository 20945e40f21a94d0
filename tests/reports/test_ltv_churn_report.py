"""The lifetime-value and churn report, executed with papermill on the small real workspace: its
summary numbers against segkit.clv and segkit.churn computed directly, the HTML's charts and
privacy, and the report in headless Chromium with the network disabled."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _rendered import CHROMIUM_MISSING, rendered

from segkit.churn import backtest
from segkit.clv import BetaGeo, GammaGamma, ParetoNBD, customer_lifetime_value
from segkit.consent import eligible
from segkit.features import calibration_holdout, rfm
from segkit.io import Workspace
from segkit.reports import available_reports, notebook_parameters, run_report
from segkit.reports._html import vega_bundle
from segkit.reports.display import EMAIL_PATTERN, PSEUDONYM_SALT_ENV, pseudonym
from segkit.reports.sections.ltv import clv_customers, score_current

#: calibration vs holdout, CLV deciles, ROC, gains, calibration
N_CHARTS = 5


@pytest.fixture(scope="module")
def ltv_workspace(tmp_path_factory):
    """2,000 synthetic subscribers: the 500 of the shared small workspace leave BG/NBD's dropout
    parameters unidentified (a and b run off to 1e5), which only shows the "do not suffice" path."""
    from _workspace import build_small_workspace

    return build_small_workspace(tmp_path_factory.mktemp("ltv_ws") / "workspace.duckdb",
                                 n_subscribers=2000, seed=2)


SALT = "ltv-test-salt"


@pytest.fixture(scope="module")
def report(ltv_workspace, tmp_path_factory):
    out = tmp_path_factory.mktemp("ltv_reports")
    with pytest.MonkeyPatch.context() as patch:  # known salt: the test can recompute pseudonyms
        patch.setenv(PSEUDONYM_SALT_ENV, SALT)
        run = run_report("ltv_churn", workspace=ltv_workspace, out_dir=out)
    assert run.ok, run.error
    return run, json.loads(run.summary_path.read_text())


@pytest.fixture(scope="module")
def direct(ltv_workspace, report):
    """The calibration split and tables, recomputed from the workspace with segkit directly."""
    _, summary = report
    end, cutoff = pd.Timestamp(summary["numbers"]["as_of"]), pd.Timestamp(summary["numbers"]["cutoff"])
    with Workspace(ltv_workspace, read_only=True) as ws:
        split = calibration_holdout(ws, cutoff, end)
        current = clv_customers(rfm(ws, end))
        events, subscribers = ws.table("events"), ws.table("subscribers")
    return end, cutoff, split, current, events, subscribers


def test_ltv_churn_is_a_report_with_typed_parameters():
    assert "ltv_churn" in available_reports()
    declared = notebook_parameters(Path(__file__).parents[2] / "notebooks" / "ltv_churn.ipynb")
    assert declared["as_of"].default == "" and declared["pareto_nbd"].type is bool
    assert declared["holdout_days"].type is int and declared["discount_rate"].type is float
    assert declared["churn_windows"].type is list


def test_cutoff_and_period(report):
    _, summary = report
    numbers = summary["numbers"]
    end, cutoff = pd.Timestamp(numbers["as_of"]), pd.Timestamp(numbers["cutoff"])
    assert cutoff == (end - pd.Timedelta(days=90)).floor("D")
    assert summary["data_period"][0].startswith("2024-01-01") and summary["parameters"]["pareto_nbd"] is True


def test_parameters_validation_and_clv_match_segkit_clv(report, direct):
    _, summary = report
    numbers = summary["numbers"]
    _, _, split, current, _, _ = direct
    customers = clv_customers(split.features)
    x, tx, age = customers["frequency"], customers["recency"], customers["T"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeo().fit(x, tx, age, time_unit="D")
        repeat = customers[(customers["frequency"] > 0) & (customers["monetary_value"] > 0)]
        gg = GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
        pnbd = ParetoNBD().fit(x, tx, age, time_unit="D")
    for name, model in (("BG/NBD", bg), ("Gamma-Gamma", gg), ("Pareto/NBD", pnbd)):
        for parameter, value in model.params_.items():
            assert numbers["parameters"][f"{name}/{parameter}"] == pytest.approx(value, rel=1e-6)  # optimiser tolerance
    actual = split.outcomes["holdout_purchases"].reindex(customers.index).fillna(0).sum()
    for name, model in (("BG/NBD", bg), ("Pareto/NBD", pnbd)):
        check = {row["model"]: row for row in numbers["validation"]}[name]
        predicted = np.sum(model.conditional_expected_purchases(split.duration_holdout, x, tx, age))
        assert check["actual"] == actual and check["predicted"] == pytest.approx(predicted, rel=1e-6)
    assert numbers["calibration_customers"] == len(customers) and numbers["customers"] == len(current)
    assert numbers["data_sufficient"] and "clv_total" in numbers
    if "clv_total" in numbers:
        clv = customer_lifetime_value(bg, gg, current["frequency"], current["recency"], current["T"],
                                      current["monetary_value"], periods=12, discount_rate=0.01)
        assert numbers["clv_total"] == pytest.approx(float(np.sum(clv)), rel=1e-6)
        assert numbers["clv_total_lower"] < numbers["clv_total"] < numbers["clv_total_upper"]


def test_churn_backtest_and_risk_list_match_segkit_churn(report, direct):
    _, summary = report
    numbers = summary["numbers"]
    end, _, _, _, events, subscribers = direct
    second = (end - pd.Timedelta(days=60)).floor("D")
    result = backtest(events, subscribers, [second - pd.Timedelta(days=60), second], horizon_days=60,
                      kind="logistic", windows=[30, 90], n_repeats=1, random_state=0)
    expected = result.mean_metrics()
    got = pd.DataFrame(numbers["churn_backtest"])
    assert list(got["model"]) == list(expected["model"])
    assert got["roc_auc"].to_numpy() == pytest.approx(expected["roc_auc"].to_numpy(), rel=1e-9)
    assert numbers["churn_verdict"] == result.verdict
    ids = numbers["top_risk_ids"]  # pseudonyms: no raw id without --include-pii
    assert 0 < len(ids) <= 25 and all(re.fullmatch("p-[0-9a-f]{16}", i) for i in ids)
    scores = score_current(result, events, subscribers, end, windows=[30, 90])
    allowed = eligible(scores["subscriber_id"], subscribers, events=events).eligible
    expected = scores.loc[scores["subscriber_id"].isin(allowed), "subscriber_id"].head(25).tolist()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PSEUDONYM_SALT_ENV, SALT)
        assert ids == [pseudonym(i) for i in expected]  # nobody who may not be emailed is listed
    assert not set(ids) & set(subscribers["subscriber_id"])


def test_html_has_charts_method_cards_and_no_email(report):
    run, _ = report
    body = run.html_path.read_text().replace(vega_bundle(), "")
    assert body.count('class="sk-chart"') == N_CHARTS
    assert body.count("sk-method-card") >= 5
    assert not EMAIL_PATTERN.search(body) and "from segkit" not in body


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM_MISSING, reason="needs /usr/bin/chromium")
def test_ltv_churn_in_headless_chromium(report, tmp_path):
    run, _ = report
    with rendered(run.html_path, title="Lifetime value and churn", n_charts=N_CHARTS) as browser:
        text = browser.evaluate("document.body.innerText")
        assert "Subscribers most at risk" in text and "Calibration versus holdout" in text
        assert browser.evaluate("document.querySelectorAll('.sk-toc a').length") >= 6
        browser.screenshot(tmp_path / "ltv_churn.png")


def test_validation_verdict_refuses_non_finite_forecasts():
    from segkit.reports.sections.ltv import FittedModels, validation_verdict
    from segkit.reports.sections.period import Sufficiency

    fitted = FittedModels(parameters=pd.DataFrame({"model": ["BG/NBD"], "parameter": ["a"],
                                                   "estimate": [1.1e5]}),
                          verdict=Sufficiency(True, "fine."))
    table = pd.DataFrame({"model": ["BG/NBD"], "actual": [120.0], "predicted": [np.nan],
                          "relative_error": [np.nan]})
    verdict = validation_verdict(table, fitted)
    assert not verdict.sufficient and "BG/NBD a = 1.1e+05" in verdict.message
    table = table.assign(predicted=[20.0], relative_error=[-0.5], actual=[20.0])
    assert "too few to judge" in validation_verdict(table, fitted).message
