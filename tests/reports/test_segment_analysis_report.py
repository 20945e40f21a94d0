"""The segment-analysis report, executed with papermill on the small real workspace: its
summary numbers against direct segkit computations, the HTML's charts and privacy, and the
report in headless Chromium with the network disabled."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _rendered import CHROMIUM_MISSING, rendered

from segkit.clv import BetaGeo, GammaGamma, customer_lifetime_value
from segkit.features import compute
from segkit.io import Workspace
from segkit.reports import available_reports, notebook_parameters, run_report
from segkit.reports._html import vega_bundle
from segkit.reports.display import EMAIL_PATTERN
from segkit.segments import (
    membership_snapshots,
    scheme_labels,
    segment_performance,
    trigger_audience,
)

#: sizes, performance, transitions, clusters, value, out-of-time check, churn risk
N_CHARTS = 7


@pytest.fixture(scope="module")
def suppressed(small_workspace) -> list[str]:
    """Two subscribers the default triggers would email: the report is run with them suppressed."""
    with Workspace(small_workspace, read_only=True) as ws:
        events, subscribers = ws.table("events"), ws.table("subscribers")
        as_of = events["ts"].max()
        features = compute(ws, as_of)
    audience = trigger_audience(features, events, subscribers, as_of)
    return sorted(audience.consent.eligible)[:2]


@pytest.fixture(scope="module")
def report(small_workspace, suppressed, tmp_path_factory):
    out = tmp_path_factory.mktemp("segment_reports")
    listing = out / "suppress.txt"
    listing.write_text("\n".join(suppressed) + "\n")
    run = run_report("segment_analysis", workspace=small_workspace, out_dir=out,
                     parameters={"suppression_file": str(listing)})
    assert run.ok, run.error
    return run, json.loads(run.summary_path.read_text())


@pytest.fixture(scope="module")
def direct(small_workspace, report):
    """What the report computed, recomputed here from the workspace with segkit directly."""
    _, summary = report
    as_of = pd.Timestamp(summary["numbers"]["as_of"])
    with Workspace(small_workspace, read_only=True) as ws:
        features = compute(ws, as_of)
        events = ws.table("events")
        subscribers = ws.table("subscribers")
    return as_of, features, events, subscribers


def test_segment_analysis_is_a_report_with_typed_parameters():
    assert "segment_analysis" in available_reports()
    declared = notebook_parameters(Path(__file__).parents[2] / "notebooks" / "segment_analysis.ipynb")
    assert declared["as_of"].default == "" and declared["as_of"].type is str
    assert declared["period_days"].type is int and declared["alpha"].type is float
    assert declared["churn_method"].default == "classifier"


def test_run_writes_summary_with_parameters_and_period(report, small_workspace):
    run, summary = report
    assert {p.name for p in run.directory.iterdir()} == {"report.html", "summary.json", "executed.ipynb",
                                                         "run.json"}
    assert summary["parameters"]["workspace"] == str(small_workspace)
    assert summary["parameters"]["scheme"] == "engagement" and summary["parameters"]["as_of"] == ""
    start, end = (pd.Timestamp(t) for t in summary["data_period"])
    assert start.year == 2024 and end == pd.Timestamp(summary["numbers"]["as_of"])
    assert re.fullmatch(r"[0-9a-f]{16}", summary["input_fingerprint"])


def test_sizes_and_performance_match_segkit(report, direct):
    _, summary = report
    numbers = summary["numbers"]
    _, features, _, _ = direct
    labels = scheme_labels(features, "engagement")
    assert numbers["segment_sizes"] == labels.value_counts().to_dict()
    assert numbers["subscribers"] == len(features) == sum(numbers["segment_sizes"].values())
    performance = segment_performance(features, labels, window=90, alpha=0.05).to_frame()
    assert numbers["performance_tests"] == len(performance)
    assert numbers["significant_tests"] == int(performance["significant"].sum())
    clicks = performance[performance["metric"] == "click_rate"].set_index("segment")["value"]
    for segment, value in numbers["chart_metric_by_segment"].items():
        assert value == pytest.approx(clicks[segment], rel=1e-12)


def test_transitions_match_membership_snapshots(report, small_workspace):
    _, summary = report
    numbers = summary["numbers"]
    previous, as_of = pd.Timestamp(numbers["previous"]), pd.Timestamp(numbers["as_of"])
    assert as_of - previous == pd.Timedelta(days=30)
    with Workspace(small_workspace, read_only=True) as ws:
        history = membership_snapshots(ws, None, [previous, as_of], scheme="engagement")
    matrix = history.transitions()
    assert numbers["listed_both"] == int(matrix.to_numpy().sum())
    assert numbers["moved_segment"] == numbers["listed_both"] - int(np.trace(matrix.to_numpy()))
    changes = history.changes()
    joined = changes[changes["change"] == "joined"]["segment"].value_counts()
    left = changes[changes["change"] == "left"]["segment"].value_counts()
    assert numbers["joined"] == {s: int(joined.get(s, 0)) for s in numbers["joined"]}
    assert numbers["left"] == {s: int(left.get(s, 0)) for s in numbers["left"]}


def test_clv_matches_a_direct_fit_and_intervals_bracket_it(report, direct):
    _, summary = report
    numbers = summary["numbers"]
    _, features, _, _ = direct
    assert numbers["clv_sufficient"] is True
    rfm = features[features["frequency"].notna() & (features["T"] > 0)]
    money = rfm["monetary_value"].fillna(0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeo().fit(rfm["frequency"], rfm["recency"], rfm["T"], time_unit="D")
        gg = GammaGamma().fit(rfm["frequency"], money)
    clv = customer_lifetime_value(bg, gg, rfm["frequency"], rfm["recency"], rfm["T"], money, periods=12)
    assert numbers["customers"] == len(rfm)
    assert numbers["clv_total"] == pytest.approx(float(clv.sum()), rel=1e-6)
    labels = scheme_labels(features, "engagement").reindex(rfm.index)
    by_segment = clv.groupby(labels).sum()
    for segment, total in numbers["clv_by_segment"].items():
        assert total == pytest.approx(by_segment[segment], rel=1e-6)
        assert numbers["clv_low_by_segment"][segment] < total < numbers["clv_high_by_segment"][segment]
    assert abs(numbers["clv_holdout_relative_error"]) < 0.5


def test_triggers_match_trigger_audience_after_consent(report, direct, suppressed):
    _, summary = report
    numbers = summary["numbers"]
    as_of, features, events, subscribers = direct
    audience = trigger_audience(features, events, subscribers, as_of, suppressed=suppressed)
    assert len(suppressed) == 2 and not set(suppressed) & set(audience.consent.eligible)
    assert numbers["trigger_excluded"]["suppressed"] == 2
    counts = audience.to_frame()["trigger"].value_counts()
    assert numbers["triggered"] == {t: int(counts.get(t, 0)) for t in numbers["triggered"]}
    assert numbers["trigger_eligible_subscribers"] == len(audience.consent.eligible)
    assert numbers["trigger_excluded"] == audience.consent.counts.astype(int).to_dict()
    assert numbers["trigger_excluded"]["unsubscribed"] + numbers["trigger_excluded"]["no consent"] > 0


def test_clusters_and_method_cards(report):
    run, summary = report
    numbers = summary["numbers"]
    assert 2 <= numbers["clusters"] <= 5 and -1 <= numbers["silhouette"] <= 1
    page = run.html_path.read_text()
    assert page.count('class="sk-method-card') == 4  # performance, clusters, value, churn risk


def test_html_has_charts_no_email_no_code_no_network(report):
    run, _ = report
    page = run.html_path.read_text()
    body = page.replace(vega_bundle(), "")
    assert body.count('class="sk-chart"') == N_CHARTS
    assert not EMAIL_PATTERN.search(body)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?:", body)
    assert "from segkit" not in body and "Segment analysis" in body


def test_churn_risk_comes_from_a_validated_classifier(report, direct):
    run, summary = report
    numbers = summary["numbers"]
    assert numbers["churn_method"] == "classifier"
    page = run.html_path.read_text()
    assert "ROC-AUC" in page and "recency_rule" in page and "base_rate" in page
    if numbers["churn_sufficient"]:
        risks = numbers["churn_risk_by_segment"]
        assert all(0 <= v <= 1 for v in risks.values() if v is not None)
        # the planted truth: inactive subscribers churn more than highly engaged ones
        assert risks["inactive"] > risks["highly_engaged"]


@pytest.mark.slow
def test_bgnbd_churn_method_is_one_minus_p_alive(small_workspace, direct, tmp_path):
    run = run_report("segment_analysis", workspace=small_workspace, out_dir=tmp_path,
                     parameters={"churn_method": "bgnbd", "max_clusters": "3"})
    assert run.ok, run.error
    numbers = json.loads(run.summary_path.read_text())["numbers"]
    assert numbers["churn_method"] == "bgnbd"
    _, features, _, _ = direct
    rfm = features[features["frequency"].notna() & (features["T"] > 0)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bg = BetaGeo().fit(rfm["frequency"], rfm["recency"], rfm["T"], time_unit="D")
    labels = scheme_labels(features, "engagement").reindex(rfm.index)
    risk = (1 - bg.probability_alive(rfm["frequency"], rfm["recency"], rfm["T"])).groupby(labels).mean()
    for segment, value in numbers["churn_risk_by_segment"].items():
        assert value == pytest.approx(risk[segment], rel=1e-6)
    assert "1 - P(alive)" in run.html_path.read_text()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM_MISSING, reason="needs /usr/bin/chromium")
def test_segment_analysis_in_headless_chromium(report, tmp_path):
    run, _ = report
    with rendered(run.html_path, title="Segment analysis", n_charts=N_CHARTS) as browser:
        text = browser.evaluate("document.body.innerText")
        assert "Data suffice" in text or "Data do not suffice" in text
        assert browser.evaluate("document.querySelectorAll('.sk-toc a').length") >= 7
        browser.screenshot(tmp_path / "segment_analysis.png")
