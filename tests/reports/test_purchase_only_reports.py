"""Every report on the shapes a real shop log takes (issue 18): purchases only (no email events,
no subscribers table), one purchase per customer, and a short (3-month) extract. Built from the
vendored CDNOW log (real purchases). Each report must run to the end, show why a section is
absent instead of an empty table or a figure the data cannot mean, and print the instant used."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from segkit.datasets import cdnow
from segkit.io import Workspace
from segkit.reports import run_report

REPORTS = ("workspace_overview", "segment_analysis", "send_time", "ltv_churn")
#: CDNOW customers used (the first ids): enough repeat buyers for the models, fast to fit.
CUSTOMERS = 1500


def _purchases() -> pd.DataFrame:
    events = cdnow()
    keep = sorted(events["subscriber_id"].unique())[:CUSTOMERS]
    return events[events["subscriber_id"].isin(keep)].reset_index(drop=True)


def _workspace(path, events: pd.DataFrame):
    with Workspace(path) as ws:
        ws.ingest("events", events)
    return path


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    events = _purchases()
    once = events.sort_values(["subscriber_id", "ts"]).groupby("subscriber_id").head(1)
    short = events[events["ts"] < pd.Timestamp("1997-04-01", tz="UTC")]
    return {"purchases": _workspace(root / "purchases.duckdb", events),
            "once": _workspace(root / "once.duckdb", once),
            "short": _workspace(root / "short.duckdb", short)}


def _run(name, workspace, out, **parameters):
    run = run_report(name, workspace=workspace, out_dir=out, parameters=parameters, update_index=False)
    assert run.ok, f"{name} on {workspace.name}: {run.error}"
    return run, json.loads(run.summary_path.read_text()), run.html_path.read_text(encoding="utf-8")


def _text(html: str) -> str:
    """What a reader sees: no tags, no inline scripts or styles (the chart library)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["purchases", "once", "short"])
@pytest.mark.parametrize("name", REPORTS)
def test_every_report_runs_to_the_end_on_every_shape(shapes, tmp_path, name, shape):
    run, summary, html = _run(name, shapes[shape], tmp_path)
    text = _text(html)
    assert "Data period unknown" not in text and "UTC" in text
    assert "Traceback" not in text and "Error:" not in text


def test_segment_report_on_a_purchase_log_shows_what_applies(shapes, tmp_path):
    """No click_rate chart without clicks, no engagement tiers without opens (everyone would
    be "inactive"), no 30-day engagement churn, no empty trigger table: one line each."""
    _, summary, html = _run("segment_analysis", shapes["purchases"], tmp_path)
    numbers, text = summary["numbers"], _text(html)
    assert numbers["scheme"] == "rfm" and "inactive" not in numbers["segment_sizes"]
    assert "The engagement scheme does not apply because the data hold no email events" in text
    assert "No performance comparison: the data hold no sends" in text
    assert "chart_metric_by_segment" not in numbers
    assert numbers["churn_method"] == "bgnbd" and "Churn risk is shown as purchase dropout" in text
    assert "No triggered audiences: the workspace has no subscribers table" in text
    assert numbers["triggered"] is None and not numbers["email_events"]
    assert "As of 1998-06-30 00:00:00 UTC: the last event in the workspace" in text


def test_ltv_churn_on_a_purchase_log(shapes, tmp_path):
    _, summary, html = _run("ltv_churn", shapes["purchases"], tmp_path, as_of="1998-06-29")
    numbers, text = summary["numbers"], _text(html)
    assert numbers["as_of"] == "1998-06-29T23:59:59.999999+00:00"  # a date is the end of that day
    assert summary["data_period"][1] == numbers["as_of"]
    assert "As of 1998-06-29 23:59:59.999999 UTC: the end of 1998-06-29" in text
    assert numbers["clv_shown"] and "clv_total" in numbers
    assert "churn here means no purchase in the 60 days" in text
    assert "No list of subscribers to contact: the workspace has no subscribers table" in text
    cards = re.findall(r'class="sk-method-card (sk-card-\w+)"', html)
    assert cards[:3] == ["sk-card-ok"] * 3  # parameters, holdout and CLV cards agree


def test_ltv_churn_on_a_short_log_says_not_enough_data(shapes, tmp_path):
    _, summary, html = _run("ltv_churn", shapes["short"], tmp_path)
    numbers, text = summary["numbers"], _text(html)
    assert not numbers["clv_shown"] and not numbers["data_sufficient"]
    assert "No models fitted: not enough data for the holdout check: holdout_days=90" in text
    assert "No lifetime value: not enough data" in text
    assert "the backtest could not run" in text
    assert "Data do not suffice" in text and "Data suffice" not in text.replace("Data do not suffice", "")


def test_workspace_overview_explains_missing_tables(shapes, tmp_path):
    _, _, html = _run("workspace_overview", shapes["once"], tmp_path)
    text = _text(html)
    assert "No subscriber breakdown: the workspace has no subscribers table" in text
    assert "No machine-open analysis: the data hold no email events" in text
    assert "No campaign list: the workspace holds no campaigns" in text
    assert "Subscribers by consent and subscription status" not in text


def test_ab_test_on_a_purchase_log_is_not_applicable_not_an_error(shapes, tmp_path):
    """A shop log holds no experiments: the A/B report says so in one line and exits 0."""
    run = run_report("ab_test", workspace=shapes["purchases"], out_dir=tmp_path, update_index=False)
    assert run.ok and run.status == "not_applicable", run.error
    assert run.reason.startswith("the data hold no experiments (no assignments in the workspace")
    text = _text(run.html_path.read_text(encoding="utf-8"))
    assert "Not applicable: the data hold no experiments" in text
    assert "Sample ratio check" not in text and "Traceback" not in text
