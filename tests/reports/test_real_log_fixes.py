"""Regression tests for what a real retailer's log broke in the reports (issue 18, items 1, 9,
10 and 12): CLV without intervals, the end-of-day rule for dates, the data period in the header
of a failed run, which sections apply to which data, and the noise a user saw."""

from __future__ import annotations

import asyncio
import tomllib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_notebook

import segkit.reports.sections.ltv as ltv
from segkit._timestamps import decision_time, instant_text
from segkit.clv import BetaGeo, GammaGamma, customer_lifetime_value
from segkit.errors import ValidationError
from segkit.features import CalibrationHoldout
from segkit.overview import DataShape
from segkit.reports import run_report
from segkit.reports.sections.period import as_of_text, resolve_as_of
from segkit.reports.sections.shape import (
    applicable_churn_method,
    applicable_metric,
    applicable_scheme,
    applicable_triggers,
)

REPO = Path(__file__).resolve().parents[2]
PERIOD = (pd.Timestamp("2010-12-01 08:26", tz="UTC"), pd.Timestamp("2011-12-09 12:50", tz="UTC"))


# ---------------------------------------------------------------- item 1: CLV without intervals
@pytest.fixture(scope="module")
def fitted_and_current():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.poisson(2.0, n).astype(float)
    age = rng.uniform(100, 300, n).round()
    tx = np.where(x > 0, np.minimum(age, rng.uniform(0, 1, n) * age).round(), 0.0)
    m = np.where(x > 0, rng.gamma(4.0, 20.0, n), 0.0)
    ids = pd.Index([f"{12346 + i}" for i in range(n)], name="subscriber_id")  # integer-looking ids
    current = pd.DataFrame({"frequency": x, "recency": tx, "T": age, "monetary_value": m}, index=ids)
    fitted = ltv.fit_models(current, pareto_nbd=False)
    return fitted, current


def test_customer_value_falls_back_to_point_clv_when_intervals_cannot_be_drawn(fitted_and_current, monkeypatch):
    """Online Retail: BG/NBD's Hessian is not positive definite, clv_intervals raises; the
    report must still show each customer's CLV, with a plain note, instead of nothing."""
    fitted, current = fitted_and_current

    def no_covariance(*args, **kwargs):
        raise ValidationError("BetaGeo has no usable parameter covariance (Hessian not positive definite)")

    monkeypatch.setattr(ltv, "clv_intervals", no_covariance)
    value = ltv.customer_value(fitted, current, months=12, discount_rate=0.01)
    expected = customer_lifetime_value(fitted.transaction["BG/NBD"], fitted.spend, current["frequency"],
                                       current["recency"], current["T"], current["monetary_value"],
                                       periods=12, discount_rate=0.01)
    np.testing.assert_allclose(value.values["clv"].to_numpy(), np.asarray(expected), rtol=1e-12)
    assert value.intervals is None and value.values[["lower", "upper"]].isna().all().all()
    assert "Intervals cannot be computed (BetaGeo has no usable parameter covariance" in value.note
    deciles = ltv.clv_deciles(value)
    assert deciles["customers"].sum() == len(current) and deciles["lower_mean"].isna().all()
    numbers = ltv.key_numbers(fitted, pd.DataFrame(), value, customers=len(current))
    assert numbers["clv_total"] == pytest.approx(float(np.sum(expected)))
    assert not numbers["clv_intervals"] and "clv_total_lower" not in numbers


def test_attach_clv_matches_ids_as_text(fitted_and_current):
    """The crash: a merge of str subscriber ids with an int64 fallback index."""
    fitted, current = fitted_and_current
    value = ltv.customer_value(fitted, current, months=6, discount_rate=0.01, n_draws=20)
    scores = pd.DataFrame({"subscriber_id": [12346, 12347, 99999], "churn_probability": [0.9, 0.8, 0.7]})
    table = ltv.attach_clv(scores, value)
    assert table["clv"].iloc[:2].tolist() == pytest.approx(value.values["clv"].iloc[:2].tolist())
    assert np.isnan(table["clv"].iloc[2])
    none = ltv.attach_clv(scores.astype({"subscriber_id": str}), None)
    assert none["clv"].isna().all() and list(none["subscriber_id"]) == ["12346", "12347", "99999"]


def test_fit_models_says_why_when_nobody_bought_twice():
    once = pd.DataFrame({"frequency": [0.0] * 5, "recency": [0.0] * 5, "T": [10.0, 20, 30, 40, 50],
                         "monetary_value": [0.0] * 5}, index=list("abcde"))
    fitted = ltv.fit_models(once)
    assert not fitted.verdict.sufficient and "no customer made a repeat purchase" in fitted.verdict.message
    assert set(fitted.failures) == {"BG/NBD", "Pareto/NBD", "Gamma-Gamma"} and not fitted.transaction
    table, _ = ltv.validation_table(fitted, once, pd.Series(dtype=float), 30.0)
    assert ltv.validation_verdict(table, fitted) == fitted.verdict  # one verdict, not two


def test_a_failed_model_fit_does_not_leave_a_sufficient_card(monkeypatch):
    customers = pd.DataFrame({"frequency": [1.0, 2, 0, 3] * 100, "recency": [5.0, 9, 0, 30] * 100,
                              "T": [50.0, 60, 70, 120] * 100, "monetary_value": [10.0, 20, 0, 5] * 100},
                             index=[f"c{i}" for i in range(400)])

    def fails(self, *args, **kwargs):
        from segkit.errors import ConvergenceError

        raise ConvergenceError("did not converge")

    monkeypatch.setattr(BetaGeo, "fit", fails)
    fitted = ltv.fit_models(customers, pareto_nbd=False)
    assert not fitted.verdict.sufficient and "BG/NBD: did not converge" in fitted.verdict.message
    assert isinstance(fitted.spend, GammaGamma)


# ---------------------------------------------------------------- item 9: a date is the end of the day
def test_a_date_without_a_time_is_the_end_of_that_day():
    assert decision_time("2011-12-09") == pd.Timestamp("2011-12-09 23:59:59.999999", tz="UTC")
    assert decision_time(pd.Timestamp("2011-12-09").date()) == decision_time("2011-12-09")
    assert decision_time("2011-12-09T00:00") == pd.Timestamp("2011-12-09", tz="UTC")  # a time is kept
    assert decision_time("2011-12-09T10:00+01:00") == pd.Timestamp("2011-12-09 09:00", tz="UTC")
    with pytest.raises(ValidationError, match="time zone"):
        decision_time("2011-12-09 10:00", naive_as_utc=False)
    assert instant_text(decision_time("2011-12-09")) == "2011-12-09 23:59:59.999999 UTC"
    assert instant_text(pd.Timestamp("2011-12-09 12:50", tz="UTC")) == "2011-12-09 12:50:00 UTC"


def test_reports_resolve_as_of_with_the_one_rule():
    assert resolve_as_of("2011-12-09", PERIOD) == pd.Timestamp("2011-12-09 23:59:59.999999", tz="UTC")
    assert resolve_as_of("", PERIOD) == PERIOD[1]  # the end of the data
    assert "the end of 2011-12-09" in as_of_text("2011-12-09", resolve_as_of("2011-12-09", PERIOD))
    assert as_of_text("", PERIOD[1]).startswith("As of 2011-12-09 12:50:00 UTC: the last event")


def test_cli_dates_include_their_last_day():
    from segkit.cli._app import parse_as_of

    assert parse_as_of("2011-12-09") == pd.Timestamp("2011-12-09 23:59:59.999999", tz="UTC")


def test_a_failed_run_still_shows_the_data_period(tmp_path):
    """The header said "DATA PERIOD unknown" above the error: the period is recorded early."""
    notebooks = tmp_path / "notebooks"
    write_notebook(
        notebooks / "early.ipynb", "limit = 1",
        "import pandas as pd\nfrom segkit.reports.display import record_period\n"
        "record_period((pd.Timestamp('2010-12-01 08:26', tz='UTC'), "
        "pd.Timestamp('2011-12-09 23:59:59.999999', tz='UTC')), fingerprint='abc')",
        "raise ValueError('a later cell fails')",
    )
    run = run_report("early", out_dir=tmp_path / "out", notebooks=notebooks, update_index=False)
    assert not run.ok and "a later cell fails" in run.error
    page = run.html_path.read_text(encoding="utf-8")
    assert "2010-12-01 08:26:00 UTC – 2011-12-09 23:59:59.999999 UTC" in page
    assert "unknown" not in page.split("Data period")[1][:200]


# ---------------------------------------------------------------- item 10: what applies to the data
PURCHASE_LOG = DataShape({"purchase": 18532}, subscribers=0, customers=4338, repeat_customers=2790)
ONE_PURCHASE_EACH = DataShape({"purchase": 4338}, subscribers=4338, customers=4338, repeat_customers=0)
EMAIL = DataShape({"send": 900, "open": 300, "purchase": 40, "cart_add": 5}, subscribers=100,
                  customers=30, repeat_customers=10)
NO_CLICKS = DataShape({"send": 900, "open": 300}, subscribers=100)


def test_data_shape_says_what_is_missing():
    assert PURCHASE_LOG.purchase_only and not PURCHASE_LOG.has_email_events
    assert PURCHASE_LOG.missing("email") == "the data hold no email events (no sends, opens or clicks)"
    assert PURCHASE_LOG.missing("purchases", "subscribers").startswith("the workspace has no subscribers table")
    assert EMAIL.missing("email", "subscribers", "cart_adds") is None
    assert ONE_PURCHASE_EACH.missing("repeat_purchases") == "no customer bought on more than one day"
    assert "no email events; no subscribers table" in PURCHASE_LOG.describe()
    with pytest.raises(ValidationError, match="unknown data need"):
        EMAIL.missing("opnes")


def test_sections_choose_what_applies():
    assert applicable_scheme("engagement", EMAIL).note is None
    engagement = applicable_scheme("engagement", PURCHASE_LOG)
    assert engagement.value == "rfm" and "hold no email events" in engagement.note
    assert applicable_scheme("engagement", ONE_PURCHASE_EACH).value == "lifecycle"
    assert "frequency score cannot tell customers apart" in applicable_scheme("rfm", ONE_PURCHASE_EACH).note
    assert applicable_metric("click_rate", NO_CLICKS).value == "open_rate"
    assert applicable_metric("click_rate", EMAIL.__class__({"send": 1, "click": 1})).note is None
    assert applicable_churn_method("classifier", PURCHASE_LOG).value == "bgnbd"
    assert applicable_churn_method("classifier", EMAIL).value == "classifier"
    kept, notes = applicable_triggers(PURCHASE_LOG)
    assert kept == [] and len(notes) == 4
    kept, notes = applicable_triggers(EMAIL)
    assert kept == ["cart_abandonment", "inactivity", "high_value_falling_engagement", "new_subscriber"]


def test_data_shape_is_counted_in_the_workspace(tmp_path):
    from segkit.io import Workspace
    from segkit.overview import data_shape

    ts = pd.to_datetime(["2024-01-01 10:00", "2024-01-01 15:00", "2024-02-01 09:00", "2024-03-01 09:00"], utc=True)
    events = pd.DataFrame({"event_id": list("abcd"), "subscriber_id": ["1", "1", "1", "2"],
                           "event_type": "purchase", "ts": ts, "value": [5.0, 6.0, 7.0, 8.0]})
    with Workspace(tmp_path / "ws.duckdb") as ws:
        ws.ingest("events", events)
        shape = data_shape(ws)
        early = data_shape(ws, pd.Timestamp("2024-01-31", tz="UTC"))
    assert shape == DataShape({"purchase": 4}, subscribers=0, customers=2, repeat_customers=1)
    assert early.repeat_customers == 0 and early.count("purchase") == 2  # two purchases on one day


def test_clusters_use_only_inputs_that_vary():
    from segkit.reports.sections.segments import fit_clusters, varying_inputs

    rng = np.random.default_rng(0)
    n = 300
    features = pd.DataFrame({"open_rate_365d": np.nan, "click_rate_365d": np.nan,
                             "purchase_count_365d": rng.poisson(3, n), "web_visits_365d": 0,
                             "tenure_days": rng.uniform(10, 400, n), "days_since_last_open": np.nan},
                            index=[f"s{i}" for i in range(n)])
    assert varying_inputs(features) == ["purchase_count_365d", "tenure_days"]
    clusterer, _ = fit_clusters(features, max_clusters=3, sample=300)
    assert list(clusterer.features) == ["purchase_count_365d", "tenure_days"]
    assert not clusterer.names_.str.contains("open").any()
    with pytest.raises(ValidationError, match="only 1 of the clustering inputs"):
        fit_clusters(features.assign(tenure_days=5.0), max_clusters=3, sample=300)


# ---------------------------------------------------------------- item 12: noise
def test_calibration_holdout_frame_is_not_fragmented():
    wide = pd.DataFrame(index=pd.Index([f"s{i}" for i in range(5)], name="subscriber_id"))
    with warnings.catch_warnings():  # a fragmented table, as compute() may return
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        for i in range(120):
            wide[f"feature_{i}"] = float(i)
    outcomes = pd.DataFrame({"holdout_purchases": [1, 0, 2, 0, 1]}, index=wide.index)
    split = CalibrationHoldout(wide, outcomes, pd.Timestamp("2024-01-01", tz="UTC"),
                                     pd.Timestamp("2024-02-01", tz="UTC"), "D", 31.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        frame = split.to_frame()
    assert frame["duration_holdout"].eq(31.0).all() and frame["holdout_purchases"].tolist() == [1, 0, 2, 0, 1]


def test_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    """A TOML table made setuptools print "project.license as a TOML table is deprecated"."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["license"] == "BSD-3-Clause"
    requires = " ".join(project["build-system"]["requires"])
    assert "setuptools>=77" in requires  # PEP 639 license expressions


def test_report_kernels_are_not_interrupted_on_shutdown():
    """jupyter_client sends SIGINT before a shutdown request; the kernel then logged
    "[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel" on the user's terminal."""
    from segkit.reports._runner import _kernel_manager_class

    manager = _kernel_manager_class({})()
    manager.shutting_down = True
    asyncio.run(manager._async_interrupt_kernel())  # no kernel, no signal, no error
    manager.shutting_down = False
    with pytest.raises(RuntimeError, match="No kernel is running"):
        asyncio.run(manager._async_interrupt_kernel())
