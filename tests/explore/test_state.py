"""The pure layer: ExplorerState -> explore -> sizes, performance, rules (checked with pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segkit.errors import ValidationError
from segkit.explore import SCHEME_PARAMETERS, ExplorerState, default_parameters, explore
from segkit.segments import engagement_tiers, lifecycle_stages, parse_rules, scheme_labels

from ._expected import open_rates, sizes, tiers
from .conftest import AS_OF


def result_sizes(result) -> dict[str, int]:
    return {r.segment: int(r.subscribers) for r in result.sizes.itertuples() if r.subscribers}


def test_defaults_are_the_scheme_defaults():
    assert default_parameters("engagement") == {
        "window": 90, "inactive_days": 90, "high_open_rate": 0.5, "high_click_rate": 0.1,
        "moderate_open_rate": 0.2, "moderate_click_rate": 0.02}
    assert default_parameters("lifecycle") == {"new_days": 30, "active_days": 90, "lapsed_days": 180}
    assert default_parameters("rfm") == {"window": 365}
    assert default_parameters("value") == {"high_quantile": 0.8, "low_engagement": 20.0}
    assert set(SCHEME_PARAMETERS) == {"engagement", "rfm", "lifecycle", "value", "rules"}


@pytest.mark.parametrize("scheme", ["engagement", "lifecycle", "rfm", "value"])
def test_default_labels_equal_the_built_in_scheme(data, features, scheme):
    result = explore(data, ExplorerState(as_of=AS_OF, scheme=scheme), performance=False)
    expected = scheme_labels(features, scheme).astype(str)
    assert (result.labels.astype(str).to_numpy() == expected.to_numpy()).all()
    assert result_sizes(result) == sizes(expected)


def test_threshold_change_gives_the_pandas_sizes(data, features):
    state = ExplorerState(as_of=AS_OF).with_parameters(high_open_rate=0.4, inactive_days=60)
    result = explore(data, state)
    assert result_sizes(result) == sizes(tiers(features, high_open_rate=0.4, inactive_days=60))
    default = explore(data, ExplorerState(as_of=AS_OF))
    assert result_sizes(result) != result_sizes(default)


def test_filters_match_pandas(data, features, countries):
    state = ExplorerState(as_of=AS_OF, countries=("GB", "DE"), consent="consented")
    result = explore(data, state)
    country = countries.reindex(features.index)
    keep = country.isin(["GB", "DE"]) & features["consent"].fillna(False).astype(bool)
    assert 0 < keep.sum() < len(features)
    assert result.selected.sum() == keep.sum()
    assert result_sizes(result) == sizes(tiers(features), keep)


def test_emailable_and_cohort_filters(data, features, planted):
    subs = planted["subscribers"].set_index("subscriber_id")
    cohort = subs["signup_at"].dt.tz_localize(None).dt.to_period("Q").astype(str).reindex(features.index)
    chosen = tuple(sorted(cohort.dropna().unique())[-3:])
    result = explore(data, ExplorerState(as_of=AS_OF, cohorts=chosen, consent="emailable"),
                     performance=False)
    keep = (cohort.isin(chosen) & features["consent"].fillna(False).astype(bool)
            & ~features["unsubscribed"].fillna(False).astype(bool))
    assert result.selected.sum() == keep.sum() > 0


def test_performance_matches_pandas_and_moves_with_the_slider(data, features, countries):
    keep = countries.reindex(features.index).eq("US").to_numpy()
    for rate in (0.5, 0.35):
        state = ExplorerState(as_of=AS_OF, countries=("US",)).with_parameters(high_open_rate=rate)
        result = explore(data, state)
        rows = result.performance_rows("open_rate").set_index("segment")
        expected = open_rates(features, tiers(features, high_open_rate=rate), keep)
        for segment, row in rows.iterrows():
            assert row["recipients"] == expected.loc[segment, "recipients"]
            assert row["value"] == pytest.approx(expected.loc[segment, "value"], rel=1e-12)
            assert row["rest_value"] == pytest.approx(expected.loc[segment, "rest_value"], rel=1e-12)
            assert row["ci_low"] <= row["value"] <= row["ci_high"]
            assert row["ci_low"] < row["ci_high"] or row["value"] == 0
        if rate == 0.5:
            before = rows.loc["highly_engaged", "recipients"]
    assert rows.loc["highly_engaged", "recipients"] > before


STATES = [
    ExplorerState(as_of=AS_OF).with_parameters(high_open_rate=0.37, moderate_click_rate=0.05),
    ExplorerState(as_of=AS_OF, scheme="engagement", consent="not_consented").with_parameters(window=30),
    ExplorerState(as_of=AS_OF, scheme="lifecycle", countries=("US",)).with_parameters(active_days=45),
    ExplorerState(as_of=AS_OF, scheme="rfm", consent="emailable"),
    ExplorerState(as_of=AS_OF, scheme="rfm").with_parameters(window=90),
    ExplorerState(as_of=AS_OF, scheme="value", countries=("GB", "US")).with_parameters(
        high_quantile=0.7, low_engagement=35),
    ExplorerState(as_of=AS_OF, scheme="rules", consent="consented"),
]


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s.scheme}-{s.consent}")
def test_saved_rules_round_trip(data, features, state):
    result = explore(data, state, performance=False)
    membership = parse_rules(result.rule_yaml()).evaluate(features)
    assert list(membership.columns) == list(result.rule_names.values())
    for label, name in result.rule_names.items():
        expected = (result.labels.astype(str) == label).to_numpy() & result.selected
        np.testing.assert_array_equal(membership[name].to_numpy(), expected, err_msg=label)
    assert membership.sum(axis=1).max() <= 1  # one segment per subscriber
    assert membership.sum().sum() == result.selected.sum()


def test_rules_scheme_uses_priority(data, features):
    text = """
segments:
  - {name: openers, where: "open_rate_90d >= 0.3"}
  - {name: buyers, where: "purchase_count_365d >= 1"}
priority: [buyers, openers]
"""
    result = explore(data, ExplorerState(as_of=AS_OF, scheme="rules", rules=text), performance=False)
    buyers = features["purchase_count_365d"].fillna(0) >= 1
    openers = (features["open_rate_90d"] >= 0.3).fillna(False) & ~buyers
    got = result_sizes(result)
    assert got["buyers"] == buyers.sum() and got["openers"] == openers.sum()
    assert got["unassigned"] == len(features) - buyers.sum() - openers.sum()


def test_labels_use_the_segkit_functions(data, features):
    state = ExplorerState(as_of=AS_OF, scheme="lifecycle").with_parameters(new_days=60)
    result = explore(data, state, performance=False)
    expected = lifecycle_stages(features, new_days=60)
    assert (result.labels.astype(str) == expected.astype(str)).all()
    tiers_ = explore(data, ExplorerState(as_of=AS_OF).with_parameters(window=365), performance=False).labels
    assert (tiers_.astype(str) == engagement_tiers(features, window=365).astype(str)).all()


def test_bad_settings_raise_clear_errors(data):
    with pytest.raises(ValidationError, match="valid: engagement, rfm, lifecycle, value, rules"):
        ExplorerState(as_of=AS_OF, scheme="engagment")
    with pytest.raises(ValidationError, match="did you mean 'high_open_rate'"):
        explore(data, ExplorerState(as_of=AS_OF, parameters={"high_open_rat": 0.3}))
    with pytest.raises(ValidationError, match="valid: any, consented"):
        ExplorerState(as_of=AS_OF, consent="yes")
    with pytest.raises(ValidationError, match="active_days < lapsed_days"):
        explore(data, ExplorerState(as_of=AS_OF, scheme="lifecycle").with_parameters(active_days=200))
    with pytest.raises(ValidationError, match="time zone"):
        ExplorerState(as_of=pd.Timestamp("2024-12-31"))


def test_value_scheme_needs_enough_buyers(features):
    from segkit.explore import ExplorerData

    few = features.head(30).copy()
    few.attrs = {"as_of": AS_OF.isoformat(), "windows": (30, 90, 365)}
    tiny = ExplorerData(few)
    with pytest.raises(ValidationError, match="value scheme is unavailable"):
        explore(tiny, ExplorerState(as_of=AS_OF, scheme="value"))
    assert explore(tiny, ExplorerState(as_of=AS_OF)).sizes["subscribers"].sum() == 30


def test_public_names_are_exported():
    import segkit.explore as explore_package

    assert explore_package.__all__ == sorted(explore_package.__all__)
    public = {name for name in dir(explore_package) if not name.startswith("_")}
    modules = {"_app", "_conditions", "_data", "_export", "_params", "_rulefile", "_state"}
    assert set(explore_package.__all__) == public - modules - {"annotations"}
