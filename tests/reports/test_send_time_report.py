"""The send-time report, executed with papermill on the small real workspace: its summary
numbers against direct segkit computations, the consent-safe export it writes into the run
directory, the HTML's charts and privacy, and the report in headless Chromium."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from _rendered import CHROMIUM_MISSING, rendered

from segkit.consent import eligible
from segkit.io import Workspace
from segkit.reports import available_reports, run_report
from segkit.reports._html import vega_bundle
from segkit.reports.display import EMAIL_PATTERN
from segkit.sendtime import EXPORT_COLUMNS, evaluate_holdout, recommend

#: recommended hours, heatmap, holdout evaluation, frequency response
N_CHARTS = 4


@pytest.fixture(scope="module")
def tables(small_workspace):
    with Workspace(small_workspace, read_only=True) as ws:
        return {"events": ws.table("events"), "subscribers": ws.table("subscribers")}


@pytest.fixture(scope="module")
def suppressed(tables):
    """One id and one (upper-cased) email of subscribers who could otherwise be emailed."""
    subscribers = tables["subscribers"]
    gate = eligible(subscribers["subscriber_id"], subscribers, events=tables["events"])
    first, second = gate.eligible[:2]
    email = subscribers.set_index("subscriber_id").loc[second, "email"]
    return {"ids": {first, second}, "lines": [first, email.upper()]}


@pytest.fixture(scope="module")
def report(small_workspace, suppressed, tmp_path_factory):
    out = tmp_path_factory.mktemp("sendtime_reports")
    listing = out / "suppress.txt"
    listing.write_text("# never email\n" + "\n".join(suppressed["lines"]) + "\n")
    run = run_report("send_time", workspace=small_workspace, out_dir=out, include_pii=True,
                     parameters={"suppression_file": str(listing)})  # the export holds ids
    assert run.ok, run.error
    return run, json.loads(run.summary_path.read_text())


def test_send_time_is_an_available_report():
    assert "send_time" in available_reports()


def test_run_writes_summary_and_export(report):
    run, summary = report
    assert {p.name for p in run.directory.iterdir()} == {"report.html", "summary.json", "executed.ipynb",
                                                         "run.json", "send_time_export.csv"}
    assert summary["parameters"]["holdout_days"] == 28 and summary["parameters"]["as_of"] == ""
    assert re.fullmatch(r"[0-9a-f]{16}", summary["input_fingerprint"])
    assert pd.Timestamp(summary["data_period"][1]) == pd.Timestamp(summary["numbers"]["as_of"])


def test_recommendations_and_holdout_match_segkit(report, tables):
    _, summary = report
    numbers = summary["numbers"]
    as_of = pd.Timestamp(numbers["as_of"])
    recs = recommend(tables, as_of)
    assert numbers["subscribers"] == len(recs) == sum(numbers["recommendations_by_source"].values())
    assert numbers["recommendations_by_source"] == {
        s: int((recs["source"] == s).sum()) for s in ("personal", "segment", "global")}
    evaluation = evaluate_holdout(tables, as_of - pd.Timedelta(days=28), as_of)
    row = evaluation.lifts.query("baseline == 'global_hour' and window_hours == 1").iloc[0]
    assert numbers["holdout_subscribers"] == evaluation.n_subscribers
    assert numbers["global_hour"] == evaluation.global_hour
    assert numbers["hit_rate_1h"] == pytest.approx(row["segkit_rate"])
    assert numbers["lift_vs_global_1h"] == pytest.approx(row["lift"])
    low, high = numbers["lift_vs_global_1h_ci"]
    assert low <= numbers["lift_vs_global_1h"] <= high
    assert 0 <= numbers["global_hit_rate_1h"] <= numbers["hit_rate_1h"] <= 1


def test_export_is_consent_safe_and_has_no_email(report, tables, suppressed):
    run, summary = report
    numbers = summary["numbers"]
    path = run.directory / "send_time_export.csv"
    text = path.read_text()
    assert not EMAIL_PATTERN.search(text)
    export = pd.read_csv(path, dtype={"subscriber_id": str})
    assert tuple(export.columns) == EXPORT_COLUMNS and len(export) == numbers["export_rows"]
    assert export["recommended_local_hour"].between(0, 23).all()
    subscribers = tables["subscribers"]
    gate = eligible(subscribers["subscriber_id"], subscribers, events=tables["events"],
                    suppressed=suppressed["lines"])
    assert set(export["subscriber_id"]) == set(gate.eligible)
    assert not suppressed["ids"] & set(export["subscriber_id"]) and numbers["export_excluded"]["suppressed"] == 2
    blocked = set(gate.excluded["subscriber_id"])
    assert blocked and not blocked & set(export["subscriber_id"])
    assert numbers["export_excluded"] == gate.counts.astype(int).to_dict()


def test_caps_are_reported_per_segment(report):
    _, summary = report
    numbers = summary["numbers"]
    assert set(numbers["weekly_caps"]) <= {"high", "medium", "low", "none"}
    assert all(cap is None or 1 <= cap <= 10 for cap in numbers["weekly_caps"].values())
    assert numbers["personal_caps"] >= 0 and numbers["fatigued"] >= 0


def test_html_has_charts_link_no_email_no_code(report):
    run, _ = report
    page = run.html_path.read_text()
    body = page.replace(vega_bundle(), "")
    assert body.count('class="sk-chart"') == N_CHARTS
    assert 'href="send_time_export.csv"' in body
    assert not EMAIL_PATTERN.search(body)
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=[\"']?https?:", body)
    assert "from segkit" not in body and page.count('class="sk-method-card') == 3


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM_MISSING, reason="needs /usr/bin/chromium")
def test_send_time_in_headless_chromium(report, tmp_path):
    run, _ = report
    with rendered(run.html_path, title="Send time", n_charts=N_CHARTS) as browser:
        link = browser.evaluate("document.querySelector('a[href=\"send_time_export.csv\"]').href")
        assert link == (run.directory / "send_time_export.csv").resolve().as_uri()
        browser.screenshot(tmp_path / "send_time.png")
