"""The A/B test report, executed with papermill on the small workspace's experiment and on the
vendored Hillstrom (2008) data written to a CSV: summary numbers against segkit.stats computed
directly (and the published Hillstrom rates), the HTML's charts, escaping and privacy, and the
report in headless Chromium with the network disabled."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _rendered import CHROMIUM_MISSING, rendered

from segkit.datasets import hillstrom
from segkit.io import Workspace, experiment_units
from segkit.reports import available_reports, notebook_parameters, run_report
from segkit.reports._html import vega_bundle
from segkit.reports.display import EMAIL_PATTERN
from segkit.stats import achieved_power, analyze, analyze_segments, sequential_test

PUBLISHED = Path(__file__).parents[1] / "results" / "stats_hillstrom_published.csv"
HOSTILE_ARM = "<script>document.title='x'</script>"
CONTROL = "No E-Mail"
HILLSTROM_METRICS = ["visit", "conversion", "spend"]
WORKSPACE_METRICS = ["click", "conversion", "revenue", "human_open", "open"]
DAYS = 14


def hillstrom_with_days() -> pd.DataFrame:
    """Hillstrom with the women's arm renamed to a hostile label and an entry day per row (rows
    spread over 14 days in file order), so the sequential view and escaping are exercised."""
    data = hillstrom()
    data["arm"] = data["arm"].replace({"Womens E-Mail": HOSTILE_ARM})
    data["entered_on"] = (pd.Timestamp("2008-03-01") + pd.to_timedelta(
        (pd.RangeIndex(len(data)) * DAYS) // len(data), unit="D")).strftime("%Y-%m-%d")
    return data


@pytest.fixture(scope="module")
def workspace_run(small_workspace, tmp_path_factory):
    run = run_report("ab_test", workspace=small_workspace, out_dir=tmp_path_factory.mktemp("ab_ws"))
    assert run.ok, run.error
    return run, json.loads(run.summary_path.read_text())


@pytest.fixture(scope="module")
def hillstrom_run(small_workspace, tmp_path_factory):
    out = tmp_path_factory.mktemp("ab_hillstrom")
    csv = out / "hillstrom.csv"
    hillstrom_with_days().to_csv(csv, index=False)
    run = run_report("ab_test", workspace=small_workspace, out_dir=out, parameters={
        "csv": str(csv), "control": CONTROL, "metrics": ",".join(HILLSTROM_METRICS),
        "segment": "channel", "date_column": "entered_on"})
    assert run.ok, run.error
    return run, json.loads(run.summary_path.read_text())


def by_row(comparisons: list[dict]) -> dict[tuple[str, str], dict]:
    return {(c["arm"], c["metric"]): c for c in comparisons}


def assert_same_comparisons(summary: dict, expected: pd.DataFrame) -> None:
    got = by_row(summary["numbers"]["comparisons"])
    assert set(got) == set(zip(expected["arm"], expected["metric"], strict=True))
    for row in expected.to_dict(orient="records"):
        mine = got[(row["arm"], row["metric"])]
        for key in ("control_mean", "treatment_mean", "abs_lift", "abs_lift_ci_low",
                    "abs_lift_ci_high", "rel_lift", "p_value", "p_value_adjusted"):
            assert mine[key] == pytest.approx(row[key], rel=1e-9, abs=1e-15), key
        assert mine["significant"] == row["significant"]
        assert mine["n_control"] == row["n_control"] and mine["n_treatment"] == row["n_treatment"]


def test_ab_test_is_a_report_with_typed_parameters():
    assert "ab_test" in available_reports()
    declared = notebook_parameters(Path(__file__).parents[2] / "notebooks" / "ab_test.ipynb")
    assert declared["experiment"].default == "" and declared["csv"].default == ""
    assert declared["metrics"].type is list and declared["window_days"].type is int
    assert declared["alpha"].type is float and declared["control"].default == "control"


def test_workspace_experiment_matches_segkit_stats(small_workspace, workspace_run):
    _, summary = workspace_run
    with Workspace(small_workspace, read_only=True) as ws:
        units = experiment_units(ws, window_days=7, attributes=["country"])
    expected = analyze(units, metrics=WORKSPACE_METRICS)
    assert_same_comparisons(summary, expected.to_frame())
    numbers = summary["numbers"]
    assert numbers["units"] == len(units) and numbers["primary_metric"] == "click"
    assert numbers["srm_p_value"] == pytest.approx(expected.srm.p_value, rel=1e-12)
    assert numbers["units_per_arm"] == expected.srm.observed
    assert numbers["decision"] == expected.recommendation.decision
    assert "sequential" not in numbers  # everyone entered on the send day: a single look
    assert summary["parameters"]["experiment"] == "" and summary["data_period"][0].startswith("2024-")


def test_hillstrom_csv_matches_segkit_stats_and_published_rates(hillstrom_run):
    _, summary = hillstrom_run
    data = hillstrom_with_days()
    expected = analyze(data, control=CONTROL, metrics=HILLSTROM_METRICS)
    assert_same_comparisons(summary, expected.to_frame())
    published = pd.read_csv(PUBLISHED, comment="#").set_index("arm")
    got = by_row(summary["numbers"]["comparisons"])
    for metric, digits in (("visit", 4), ("conversion", 4), ("spend", 2)):
        for arm, label in (("Mens E-Mail", "Mens E-Mail"), (HOSTILE_ARM, "Womens E-Mail")):
            assert round(got[(arm, metric)]["treatment_mean"], digits) == published.loc[label, metric]
            assert round(got[(arm, metric)]["control_mean"], digits) == published.loc[CONTROL, metric]
    numbers = summary["numbers"]
    assert numbers["decision"] == "ship" and numbers["decision_arm"] == "Mens E-Mail"
    assert numbers["primary_metric"] == "visit" and not numbers["srm_flagged"]


def test_hillstrom_power_and_sequential_views_match(hillstrom_run):
    _, summary = hillstrom_run
    data = hillstrom_with_days()
    numbers = summary["numbers"]
    row = by_row(numbers["comparisons"])[("Mens E-Mail", "visit")]
    expected_power = achieved_power(row["n_treatment"], row["control_mean"], 0.2, relative=True,
                                    ratio=row["n_control"] / row["n_treatment"],
                                    comparisons=len(numbers["comparisons"]))
    assert row["power"] == pytest.approx(expected_power, rel=1e-12)
    sequential = sequential_test(data, metric="visit", date="entered_on", control=CONTROL)
    last = sequential.to_frame().groupby("arm", sort=False).tail(1).set_index("arm")
    assert {s["arm"] for s in numbers["sequential"]} == set(last.index)
    for look in numbers["sequential"]:
        assert look["date"] == f"2008-03-{DAYS:02d}"
        for key in ("abs_lift", "cs_low", "cs_high", "p_value_always_valid"):
            assert look[key] == pytest.approx(last.loc[look["arm"], key], rel=1e-9, abs=1e-15)


def test_hillstrom_html_has_charts_escapes_arms_and_no_email(hillstrom_run, workspace_run):
    run, _ = hillstrom_run
    page = run.html_path.read_text()
    body = page.replace(vega_bundle(), "")
    assert HOSTILE_ARM not in page  # the hostile arm label never appears unescaped
    assert body.count('class="sk-chart"') == 3  # lift forest, cumulative lift, segment forest
    assert "from segkit" not in body
    for run, _ in (hillstrom_run, workspace_run):
        assert not EMAIL_PATTERN.search(run.html_path.read_text().replace(vega_bundle(), ""))
    ws_body = workspace_run[0].html_path.read_text().replace(vega_bundle(), "")
    assert ws_body.count('class="sk-chart"') >= 1 and "entered the test on one day" in ws_body


def test_segment_breakdown_matches(hillstrom_run):
    run, _ = hillstrom_run
    expected = analyze_segments(hillstrom_with_days(), "channel", control=CONTROL, metrics=["visit"])
    page = run.html_path.read_text()
    for row in expected.to_frame().itertuples():
        assert f"{row.rel_lift:+.1%}" in page


def test_report_declares_scale_and_tests_and_shows_the_cost_of_peeking(hillstrom_run):
    run, summary = hillstrom_run
    numbers = summary["numbers"]
    assert numbers["scale"] == "relative" and numbers["alternative"] == "two-sided"
    tests = {c["metric"]: c["test"] for c in numbers["comparisons"]}
    assert tests["visit"] == "pooled two-proportion z-test (score)"
    assert tests["spend"] == "Welch t-test"
    page = run.html_path.read_text()
    assert "Which test each comparison used, and why" in page
    assert "decisions quoted on the relative scale" in page and "Fieller" in page
    cost = numbers["sequential_power"]
    assert 0 <= cost["always_valid"] <= cost["fixed_horizon"] <= 1
    assert cost["false_positive_rate"] <= 0.05
    assert "always-valid vs fixed-horizon" in page
    for row in numbers["comparisons"]:  # the quoted intervals agree with "significant"
        low, high = row["rel_lift_adj_ci_low"], row["rel_lift_adj_ci_high"]
        assert (low > 0 or high < 0) == row["significant"]


def test_refusals_and_exact_tests_in_plain_words(small_workspace, tmp_path):
    """A tiny file: the rare conversion gets Barnard's exact test, the constant spend is refused
    in plain words, and the declared absolute scale and one-sided test are carried through."""
    arms = ["control"] * 12 + ["b"] * 12
    conversion = [1] + [0] * 11 + [1] * 4 + [0] * 8
    pd.DataFrame({"arm": arms, "conversion": conversion, "spend": 5.0}).to_csv(
        tmp_path / "tiny.csv", index=False)
    run = run_report("ab_test", workspace=small_workspace, out_dir=tmp_path, parameters={
        "csv": str(tmp_path / "tiny.csv"), "metrics": "conversion,spend", "segment": "",
        "scale": "absolute", "alternative": "larger"})
    assert run.ok, run.error
    numbers = json.loads(run.summary_path.read_text())["numbers"]
    assert numbers["scale"] == "absolute" and numbers["alternative"] == "larger"
    rows = {c["metric"]: c for c in numbers["comparisons"]}
    assert rows["conversion"]["test"] == "Barnard exact unconditional test"
    assert rows["conversion"]["enough_data"]
    assert rows["spend"]["test"] == "not tested" and not rows["spend"]["enough_data"]
    page = run.html_path.read_text()
    assert "not tested, because no variation within either arm" in page
    assert "smallest expected cell count" in page and "larger tests" in page
    assert numbers["decision"] == "inconclusive"


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM_MISSING, reason="needs /usr/bin/chromium")
def test_ab_test_in_headless_chromium(hillstrom_run, tmp_path):
    run, _ = hillstrom_run
    with rendered(run.html_path, title="A/B test", n_charts=3) as browser:
        text = browser.evaluate("document.body.innerText")
        assert HOSTILE_ARM in text  # shown as text, not run: the title above is unchanged
        assert "Recommendation" in text and "Ship" in text
        assert browser.evaluate("document.querySelectorAll('.sk-toc a').length") >= 8
        browser.screenshot(tmp_path / "ab_test.png")


def test_read_experiment_csv_types_columns_and_errors(tmp_path):
    from segkit.errors import InputError
    from segkit.io import read_experiment_csv

    path = tmp_path / "units.csv"
    path.write_text("arm,visit,spend,channel\nA,1,2.5,Web\nB,0,,Phone\n")
    frame = read_experiment_csv(path)
    assert frame["visit"].tolist() == [1, 0] and frame["spend"].dtype == float
    assert frame["channel"].tolist() == ["Web", "Phone"] and len(frame.attrs["sha256"]) == 64
    with pytest.raises(InputError, match="missing column.*day, group; the file has: arm, visit"):
        read_experiment_csv(path, arm="group", required=["day"])


def test_experiment_units_rejects_unknown_experiment_and_check_metrics_lists_columns(small_workspace):
    from segkit.errors import InputError, ValidationError
    from segkit.reports.sections.ab import check_metrics

    with Workspace(small_workspace, read_only=True) as ws:
        with pytest.raises(ValidationError, match="unknown experiment 'nope'; valid: exp_subject_offer"):
            experiment_units(ws, "nope")
        units = experiment_units(ws, window_days=1)
    assert units.attrs == {"experiment_id": "exp_subject_offer", "window_days": 1.0}
    assert set(units["sent"]) <= {0, 1} and (units["human_open"] <= units["open"]).all()
    with pytest.raises(InputError, match="'opens' not found or not numeric; numeric columns: sent, open"):
        check_metrics(units, ["click", "opens"], source="exp")


def test_experiment_units_match_an_independent_pandas_computation(small_workspace):
    window = pd.Timedelta(days=3)
    with Workspace(small_workspace, read_only=True) as ws:
        units = experiment_units(ws, window_days=3).set_index("subscriber_id")
        events, campaigns = ws.table("events"), ws.table("campaigns")
        assignments = ws.table("assignments")
    arms = campaigns.dropna(subset=["experiment_id"])
    ev = events[events["campaign_id"].isin(arms["campaign_id"])]
    first = ev[ev["event_type"] == "send"].groupby("subscriber_id")["ts"].min().rename("first_send")
    ev = ev.join(first, on="subscriber_id")
    ev = ev[(ev["ts"] >= ev["first_send"]) & (ev["ts"] < ev["first_send"] + window)]
    flags = pd.DataFrame(index=assignments["subscriber_id"].astype(str))
    human = ev[(ev["event_type"] == "open") & ~ev["machine_open"].fillna(False).astype(bool)]
    for name, rows in (("open", ev[ev["event_type"] == "open"]), ("human_open", human),
                       ("click", ev[ev["event_type"] == "click"]),
                       ("conversion", ev[ev["event_type"] == "purchase"])):
        flags[name] = flags.index.isin(rows["subscriber_id"]).astype(int)
    purchases = ev[ev["event_type"] == "purchase"].groupby("subscriber_id")
    flags["orders"] = purchases.size().reindex(flags.index, fill_value=0)
    flags["revenue"] = purchases["value"].sum().reindex(flags.index, fill_value=0.0)
    flags["sent"] = flags.index.isin(first.index).astype(int)
    assert len(units) == len(assignments) and units["arm"].to_dict() == dict(
        zip(assignments["subscriber_id"].astype(str), assignments["arm"], strict=True))
    for column in ("sent", "open", "human_open", "click", "conversion", "orders"):
        assert units[column].to_dict() == flags[column].to_dict(), column
    assert units["revenue"].to_numpy() == pytest.approx(flags.loc[units.index, "revenue"].to_numpy())
    assert flags["click"].sum() > 0 and flags["conversion"].sum() > 0
