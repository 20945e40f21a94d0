"""Report section computations (``segkit.reports.sections``) and their charts, on small
hand-made or simulated data where the right answer is known."""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from segkit.charts import (
    clv_holdout_segment_chart,
    frequency_response_chart,
    recommended_hours_chart,
    segment_churn_risk_chart,
    segment_value_chart,
)
from segkit.clv import clv_intervals
from segkit.datasets._synthetic import synthetic
from segkit.errors import ValidationError
from segkit.features import compute
from segkit.reports.sections.churn import check_churn_method, churn_by_segment, engagement_events
from segkit.reports.sections.period import data_period, days_before, resolve_as_of
from segkit.reports.sections.segments import (
    cluster_table,
    cluster_verdict,
    fit_clusters,
    performance_overview,
    performance_verdict,
    significant_differences,
    size_table,
    transition_table,
    trigger_table,
    value_by_segment,
)
from segkit.reports.sections.sendtime import (
    EXPORT_FILE,
    cap_table,
    frequency_verdict,
    heatmap_shares,
    holdout_verdict,
    hour_distribution,
    source_summary,
    write_sendtime_export,
)
from segkit.segments import membership_history, segment_performance

UTC = "UTC"
PERIOD = (pd.Timestamp("2024-01-01", tz=UTC), pd.Timestamp("2024-12-31 23:00", tz=UTC))


# --------------------------------------------------------------------------- period
def test_resolve_as_of_defaults_to_end_and_reads_naive_as_utc():
    assert resolve_as_of("", PERIOD) == PERIOD[1]
    assert resolve_as_of("2024-06-30", PERIOD) == pd.Timestamp("2024-06-30 23:59:59.999999", tz=UTC)  # end of day
    assert resolve_as_of("2024-06-30T02:00+02:00", PERIOD) == pd.Timestamp("2024-06-30", tz=UTC)
    with pytest.raises(ValidationError, match="before the first event"):
        resolve_as_of("2023-12-31", PERIOD)
    with pytest.raises(ValidationError, match="no events"):
        resolve_as_of("", None)
    with pytest.raises(ValidationError, match="cannot parse"):
        resolve_as_of("yesterday", PERIOD)


def test_days_before_refuses_reaching_past_the_data():
    assert days_before(PERIOD[1], 30, PERIOD, "period_days") == PERIOD[1] - pd.Timedelta(days=30)
    with pytest.raises(ValidationError, match="period_days=400 reaches back to 2023-11-27.*at most 364"):
        days_before(PERIOD[1], 400, PERIOD, "period_days")
    with pytest.raises(ValidationError, match="whole number of days"):
        days_before(PERIOD[1], 0, PERIOD, "period_days")


def test_data_period_in_the_database(small_workspace):
    from segkit.io import Workspace

    with Workspace(small_workspace, read_only=True) as ws:
        start, end = data_period(ws)
        events = ws.table("events")
    assert start == events["ts"].min() and end == events["ts"].max() and str(end.tz) == UTC


# --------------------------------------------------------------------------- segments
def test_size_table_counts_missing_labels_as_none():
    labels = pd.Series(["a", "b", "a", None], index=list("wxyz"))
    table = size_table(labels)
    assert table.set_index("segment")["subscribers"].to_dict() == {"a": 2, "b": 1, "(none)": 1}
    assert table["share"].sum() == pytest.approx(1.0)


def test_transition_table_accounts_for_every_subscriber():
    before = pd.Series({"s1": "a", "s2": "a", "s3": "b", "s4": "b", "s5": "a"})
    after = pd.Series({"s1": "a", "s2": "b", "s3": "b", "s4": "a", "s6": "b"})
    history = membership_history({"2024-01-01T00:00Z": before, "2024-02-01T00:00Z": after})
    table = transition_table(history).set_index("segment")
    assert table.loc["a"].to_dict() == {"before": 3, "after": 2, "stayed": 1, "moved_in": 1, "new": 0,
                                        "moved_out": 1, "gone": 1, "net_change": -1}
    assert table.loc["b"].to_dict() == {"before": 2, "after": 3, "stayed": 1, "moved_in": 1, "new": 1,
                                        "moved_out": 1, "gone": 0, "net_change": 1}
    balance = table["before"] - table["moved_out"] - table["gone"] + table["moved_in"] + table["new"]
    assert (balance == table["after"]).all()
    with pytest.raises(ValidationError, match="no snapshot"):
        transition_table(history, start="2023-01-01T00:00Z", end="2024-02-01T00:00Z")
    with pytest.raises(ValidationError, match="no snapshot at 2023-06-01"):
        transition_table(history, end="2023-06-01T00:00Z")
    with pytest.raises(ValidationError, match="no previous one"):
        transition_table(history, end="2024-01-01T00:00Z")


def _features(n: int, seed: int = 0, window: int = 90) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sends = rng.integers(1, 20, n).astype(float)
    opens = rng.binomial(sends.astype(int), 0.3).astype(float)
    clicks = rng.binomial(opens.astype(int), 0.2).astype(float)
    purchases = rng.poisson(0.3, n).astype(float)
    return pd.DataFrame({
        f"sends_{window}d": sends, f"unique_opens_{window}d": opens, f"unique_clicks_{window}d": clicks,
        f"unsubscribes_{window}d": np.zeros(n), f"revenue_{window}d": purchases * 20,
        f"purchase_count_{window}d": purchases,
    }, index=pd.Index([f"s{i:04d}" for i in range(n)], name="subscriber_id"))


def test_performance_overview_and_verdict_flag_small_segments():
    features = _features(400)
    labels = pd.Series(np.where(np.arange(400) < 30, "tiny", "big"), index=features.index)
    performance = segment_performance(features, labels)
    overview = performance_overview(performance, "open_rate")
    assert list(overview["segment"]) == ["big", "tiny"] and "95% interval" in overview.columns
    assert overview["adjusted p"].str.match(r"^(< 0\.0001|[01]\.\d{4})$").all()
    verdict = performance_verdict(performance)
    assert not verdict.sufficient and "tiny" in verdict.message and "100 recipients" in verdict.message
    assert performance_verdict(performance, min_recipients=20).sufficient
    assert set(significant_differences(performance).columns) >= {"segment", "metric", "adjusted p"}
    with pytest.raises(ValidationError, match="valid: click_rate"):
        performance_overview(performance, "opn_rate")


def test_clusters_find_planted_groups_and_the_verdict_follows_the_silhouette():
    rng = np.random.default_rng(3)
    n = 600
    group = rng.integers(0, 2, n)
    features = pd.DataFrame({
        "open_rate_365d": np.where(group == 1, 0.6, 0.05) + rng.normal(0, 0.02, n),
        "click_rate_365d": np.where(group == 1, 0.2, 0.0) + rng.normal(0, 0.01, n).clip(0),
        "purchase_count_365d": np.where(group == 1, 5, 0) + rng.poisson(0.2, n),
        "web_visits_365d": np.where(group == 1, 30, 1) + rng.poisson(1, n),
        "tenure_days": rng.uniform(300, 320, n),
        "days_since_last_open": np.where(group == 1, 3, 200) + rng.uniform(0, 2, n),
    }, index=pd.Index([f"s{i}" for i in range(n)]))
    clusterer, rows = fit_clusters(features, max_clusters=4, sample=500)
    assert len(rows) == 500 and clusterer.k_ == 2
    table = cluster_table(clusterer, rows)
    assert table["subscribers"].sum() == 500 and "open rate 365d" in table.columns
    assert sorted(table["open rate 365d"]) == pytest.approx([0.05, 0.6], abs=0.02)
    assert cluster_verdict(clusterer).sufficient
    weak = SimpleNamespace(silhouette_scores_=pd.Series({2: 0.12}), k_=2)
    verdict = cluster_verdict(weak)
    assert not verdict.sufficient and "no substantial cluster structure" in verdict.message
    with pytest.raises(ValidationError, match="max_clusters"):
        fit_clusters(features, max_clusters=1)


@pytest.fixture(scope="module")
def simulated_features():
    data = synthetic(n_subscribers=800, seed=4)
    tables = data.tables() if callable(data.tables) else data.tables
    as_of = tables["events"]["ts"].max()
    features = compute({"events": tables["events"], "subscribers": tables["subscribers"]}, as_of)
    return features


def test_value_by_segment_totals_and_intervals_agree_with_clv(simulated_features):
    features = simulated_features
    labels = pd.Series(np.where(features["open_rate_365d"].fillna(0) > 0.2, "engaged", "quiet"),
                       index=features.index)
    value = value_by_segment(features, labels, n_draws=50, random_state=1)
    assert value.verdict.sufficient, value.verdict.message
    table = value.table.set_index("segment")
    customers = features[features["frequency"].notna() & (features["T"] > 0)]
    assert table["customers"].sum() == len(customers) and table["subscribers"].sum() == len(features)
    assert (table["clv_low"] < table["clv_total"]).all() and (table["clv_total"] < table["clv_high"]).all()
    # the segment total's interval is the same draws restricted to the segment
    members = customers.index[labels.reindex(customers.index) == "engaged"]
    rows = customers.loc[members]
    draw = clv_intervals(value.transaction_model, value.spend_model, rows["frequency"], rows["recency"],
                         rows["T"], rows["monetary_value"].fillna(0), n_draws=50, random_state=1)
    assert table.loc["engaged", "clv_low"] == pytest.approx(draw.total_lower)
    assert table.loc["engaged", "clv_total"] == pytest.approx(draw.clv.sum())
    assert table["churn_risk"].between(0, 1).all()
    assert value.per_customer["p_alive"].between(0, 1).all()


def test_value_by_segment_refuses_thin_data():
    features = pd.DataFrame({"frequency": [0.0, 1.0, 0.0, np.nan], "recency": [0.0, 5.0, 0.0, np.nan],
                             "T": [10.0, 20.0, 30.0, np.nan], "monetary_value": [0.0, 12.0, 0.0, np.nan]},
                            index=pd.Index(["a", "b", "c", "d"]))
    labels = pd.Series(["x", "x", "y", "y"], index=features.index)
    value = value_by_segment(features, labels)
    assert not value.verdict.sufficient and "Only 3 customers" in value.verdict.message
    assert value.table["clv_total"].isna().all() and value.transaction_model is None
    assert value.table.set_index("segment")["customers"].to_dict() == {"x": 2, "y": 1}


def test_trigger_table_spreads_eligible_subscribers_over_segments():
    audience = SimpleNamespace(to_frame=lambda: pd.DataFrame({
        "subscriber_id": ["a", "b", "c", "a"],
        "trigger": ["inactivity", "inactivity", "cart_abandonment", "cart_abandonment"]}))
    labels = pd.Series({"a": "x", "b": "y", "c": "x"})
    table = trigger_table(audience, labels).set_index("trigger")
    assert table.loc["inactivity", "eligible subscribers"] == 2
    assert table.loc["cart_abandonment", ["x", "y"]].tolist() == [2, 0]
    assert table.loc["new_subscriber", "eligible subscribers"] == 0
    assert table.loc["cart_abandonment", "action"] == "cart reminder"


def test_churn_method_is_checked():
    assert check_churn_method("bgnbd") == "bgnbd"
    with pytest.raises(ValidationError, match="unknown churn_method 'magic'; valid: bgnbd, classifier"):
        check_churn_method("magic")


def test_churn_by_segment_is_validated_before_scores_are_shown(small_workspace):
    from segkit.io import Workspace

    horizon = 30
    with Workspace(small_workspace, read_only=True) as ws:
        as_of = data_period(ws)[1]
        events = engagement_events(ws, as_of - pd.Timedelta(days=2 * horizon + 180), as_of)
        reference = min(as_of, events["ts"].max())
        now = compute(ws, as_of)
        eval_x = compute(ws, reference - pd.Timedelta(days=horizon))
        train_x = compute(ws, reference - pd.Timedelta(days=2 * horizon))
    assert events["event_type"].isin(["open", "click", "purchase"]).all() and events["ts"].max() <= as_of
    labels = pd.Series(np.where(now["open_rate_90d"].fillna(0) > 0.2, "engaged", "quiet"), index=now.index)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        churn = churn_by_segment(now, labels, eval_x, train_x, events, as_of, horizon_days=horizon)
    assert churn.evaluation is not None, churn.verdict.message
    metrics = churn.evaluation.metrics.set_index("model")
    assert {"logistic", "recency_rule", "bgnbd_inactive", "base_rate"} <= set(metrics.index)
    assert metrics.loc["base_rate", "roc_auc"] == pytest.approx(0.5)
    table = churn.table.set_index("segment")
    assert table["subscribers"].sum() == len(now) and (table["scored"] <= table["subscribers"]).all()
    if churn.verdict.sufficient:
        assert table["mean_churn_probability"].between(0, 1).all()
        assert (table.loc["quiet", "mean_churn_probability"] > table.loc["engaged", "mean_churn_probability"])
    else:
        assert table["mean_churn_probability"].isna().all()


# --------------------------------------------------------------------------- send time
def _recs() -> pd.DataFrame:
    return pd.DataFrame({
        "subscriber_id": ["a", "b", "c", "d"], "recommended_local_hour": [8, 8, 20, 9],
        "recommended_utc_hour": [13, 7, 1, 14], "timezone": ["America/New_York", "Europe/Paris",
                                                             "America/New_York", "America/New_York"],
        "source": ["personal", "global", "personal", "segment"], "confidence": [0.9, 0.0, 0.7, 0.3],
        "n_opens": [20, 0, 10, 2],
    })


def test_source_summary_and_hour_distribution():
    recs = _recs()
    summary = source_summary(recs).set_index("source")
    assert summary["subscribers"].to_dict() == {"personal": 2, "segment": 1, "global": 1}
    assert summary.loc["personal", "median confidence"] == pytest.approx(0.8)
    dist = hour_distribution(recs)
    assert len(dist) == 72 and dist["subscribers"].sum() == 4
    assert dist.query("local_hour == 8 and source == 'global'")["subscribers"].item() == 1


def test_heatmap_shares_sum_to_one_per_segment_and_drop_segments_without_opens():
    heat = pd.DataFrame({"segment": ["x", "x", "y", "y"], "weekday": ["Mon", "Tue", "Mon", "Tue"],
                         "local_hour": [8, 9, 8, 9], "opens": [3, 1, 0, 0]})
    shares = heatmap_shares(heat)
    assert shares["segment"].unique().tolist() == ["x"] and shares["share"].tolist() == [0.75, 0.25]


def _evaluation(n: int) -> SimpleNamespace:
    lifts = pd.DataFrame({"baseline": ["global_hour"], "window_hours": [1], "segkit_rate": [0.7],
                          "baseline_rate": [0.3], "lift": [0.4], "ci_low": [0.35], "ci_high": [0.45]})
    return SimpleNamespace(lifts=lifts, alpha=0.05, n_subscribers=n)


def test_holdout_verdict_needs_enough_subscribers():
    ok = holdout_verdict(_evaluation(500))
    assert ok.sufficient and "+40.0%" in ok.message and "95% interval +35.0% to +45.0%" in ok.message
    thin = holdout_verdict(_evaluation(50))
    assert not thin.sufficient and "At least 200" in thin.message


def test_cap_table_and_frequency_verdict():
    result = SimpleNamespace(
        caps=pd.DataFrame({"segment": ["high", "low"], "recommended_weekly_cap": [3.0, np.nan],
                           "set_by": ["open", None], "max_weekly_volume": [6, 4]}),
        evidence=pd.DataFrame({"segment": ["high", "low"], "n_candidates": [5, 0]}),
        subscribers=pd.DataFrame({"segment": ["high", "high", "low"],
                                  "cap_source": ["personal", "segment", "segment"],
                                  "fatigued": [False, True, False]}))
    table = cap_table(result).set_index("segment")
    assert table.loc["high", ["personal caps", "fatigued", "subscribers with sends"]].tolist() == [1, 1, 2]
    assert np.isnan(table.loc["low", "weekly cap"])
    verdict = frequency_verdict(result)
    assert not verdict.sufficient and "low" in verdict.message
    result.evidence["n_candidates"] = [5, 3]
    assert frequency_verdict(result).sufficient


def test_export_goes_through_the_consent_gate(tmp_path):
    recs = _recs()
    subscribers = pd.DataFrame({"subscriber_id": ["a", "b", "c", "d"], "email": ["a@x.org", "b@x.org", "c@x.org",
                                                                                  "d@x.org"],
                                "consent": [True, True, False, True],
                                "unsubscribed_at": [pd.NaT, pd.Timestamp("2024-03-01", tz=UTC), pd.NaT, pd.NaT]})
    events = pd.DataFrame({"subscriber_id": ["d"], "event_type": ["unsubscribe"],
                           "ts": [pd.Timestamp("2024-05-01", tz=UTC)]})
    export = write_sendtime_export(recs, subscribers, events, tmp_path, include_pii=True)
    assert export.path == tmp_path / EXPORT_FILE and export.rows == 1
    written = pd.read_csv(export.path)
    assert written["subscriber_id"].tolist() == ["a"] and "email" not in written.columns
    assert export.consent.counts[export.consent.counts > 0].to_dict() == {"unsubscribed": 2, "no consent": 1}
    dry = write_sendtime_export(recs, subscribers, events, None)
    assert dry.path is None and dry.rows == 1
    export.path.unlink()
    withheld = write_sendtime_export(recs, subscribers, events, tmp_path)
    assert withheld.path is None and withheld.rows == 1 and not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- charts
def test_charts_build_specs_and_name_missing_columns():
    value = pd.DataFrame({"segment": ["x", "y"], "customers": [3, 4], "clv_total": [10.0, np.nan],
                          "clv_low": [8.0, np.nan], "clv_high": [12.0, np.nan], "churn_risk": [0.2, 0.4]})
    spec = segment_value_chart(value).to_dict()
    assert len(spec["layer"]) == 2 and len(spec["datasets"][next(iter(spec["datasets"]))]) == 1
    assert segment_churn_risk_chart(value).to_dict()["mark"]["type"] == "bar"
    holdout = pd.DataFrame({"segment": ["x"], "actual": [5.0], "predicted": [6.0]})
    assert clv_holdout_segment_chart(holdout).to_dict()["encoding"]["yOffset"]["field"] == "series"
    assert recommended_hours_chart(hour_distribution(_recs())).to_dict()["mark"]["type"] == "bar"
    rates = pd.DataFrame({"segment": ["x", "x"], "window_days": [7, 7], "volume_from": [1, 2],
                          "metric": ["open", "open"], "rate": [0.3, 0.2], "ci_low": [0.25, 0.15],
                          "ci_high": [0.35, 0.25], "n_sends": [100, 80]})
    assert len(frequency_response_chart(rates).to_dict()["layer"]) == 2
    with pytest.raises(ValidationError, match="no rows for metric 'click'"):
        frequency_response_chart(rates, metric="click")
    with pytest.raises(ValidationError, match="missing column"):
        segment_value_chart(value.drop(columns="clv_low"))


def test_fit_models_names_each_note_once_and_keeps_the_pareto_nbd_ridge_note():
    """On data without dropout heterogeneity Pareto/NBD stops on its bound; the report's notes
    say so, prefixed by the report's model name only (not also the class name)."""
    import importlib.util
    from pathlib import Path

    from segkit.reports.sections.ltv import fit_models

    path = Path(__file__).parents[1] / "clv" / "clv_simulate.py"
    spec = importlib.util.spec_from_file_location("_clv_simulate", path)
    simulate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(simulate)
    x, tx, age = simulate.simulate_common_dropout(3000, 2.9, 290.0, 0.0014, 270.0, np.random.default_rng(1))
    customers = pd.DataFrame({"frequency": x, "recency": tx, "T": age,
                              "monetary_value": np.where(x > 0, 30.0 + 5 * np.random.default_rng(2).random(len(x)), np.nan)})
    fitted = fit_models(customers, pareto_nbd=True)
    ridge = [n for n in fitted.notes if "heterogeneity is not identified" in n]
    assert ridge and all(n.startswith("Pareto/NBD: dropout heterogeneity") for n in ridge), fitted.notes
    assert not any("ParetoNBD:" in n or "BetaGeo:" in n for n in fitted.notes)
