"""The widget layer driven programmatically: set values, check what the explorer shows."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from segkit.explore import SegmentExplorer
from segkit.segments import parse_rules

from ._expected import open_rates, sizes, tiers
from .conftest import AS_OF, EARLIER


@pytest.fixture
def explorer(data, planted):
    with contextlib.redirect_stdout(io.StringIO()):  # charts print their repr outside a kernel
        yield SegmentExplorer(data, suppressed=planted["suppressed"], as_of=AS_OF)


def shown_sizes(explorer) -> dict[str, int]:
    return {r.segment: int(r.subscribers) for r in explorer.result.sizes.itertuples() if r.subscribers}


def test_sliders_start_at_the_scheme_defaults(explorer):
    sliders = explorer.sliders["engagement"]
    assert sliders["high_open_rate"].value == 0.5 and sliders["inactive_days"].value == 90
    assert explorer.sliders["lifecycle"]["lapsed_days"].value == 180
    assert explorer.sliders["rfm"]["window"].value == 365
    assert explorer.state.values == {"window": 90, "inactive_days": 90.0, "high_open_rate": 0.5,
                                     "high_click_rate": 0.1, "moderate_open_rate": 0.2,
                                     "moderate_click_rate": 0.02}


def test_slider_moves_update_sizes_and_performance(explorer, features):
    with contextlib.redirect_stdout(io.StringIO()):
        assert shown_sizes(explorer) == sizes(tiers(features))
        explorer.sliders["engagement"]["high_open_rate"].value = 0.4
        assert shown_sizes(explorer) == sizes(tiers(features, high_open_rate=0.4))
        explorer.sliders["engagement"]["moderate_click_rate"].value = 0.05
    expected_labels = tiers(features, high_open_rate=0.4, moderate_click_rate=0.05)
    assert shown_sizes(explorer) == sizes(expected_labels)
    rows = explorer.result.performance_rows("open_rate").set_index("segment")
    expected = open_rates(features, expected_labels, np.ones(len(features), bool))
    assert rows.loc["highly_engaged", "recipients"] == expected.loc["highly_engaged", "recipients"]
    assert rows.loc["highly_engaged", "value"] == pytest.approx(expected.loc["highly_engaged", "value"])
    assert "<table" in explorer.sizes_html.value and "open_rate" not in explorer.performance_html.value
    explorer.metric.value = "open_rate"  # re-renders only
    assert "<b>open_rate</b>" in explorer.performance_html.value
    assert [kind for kind, *_ in explorer.timings] == ["start", "slider", "slider"]


def test_filters_and_scheme_dropdown(explorer, features, countries):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.countries.value = ("GB",)
        keep = countries.reindex(features.index).eq("GB").to_numpy()
        assert shown_sizes(explorer) == sizes(tiers(features), keep)
        explorer.scheme.value = "lifecycle"
        assert list(explorer.parameters.children) == list(explorer.sliders["lifecycle"].values())
        assert explorer.result.state.scheme == "lifecycle"
        assert explorer.result.sizes["subscribers"].sum() == keep.sum()
        explorer.scheme.value = "rules"
        assert explorer.rules_text in explorer.parameters.children
        explorer.rules_text.value = "segments:\n  - {name: openers, where: 'open_rate_90d >= 0.3'}\n"
        explorer.apply_rules.click()
    openers = (features["open_rate_90d"] >= 0.3).fillna(False).to_numpy() & keep
    assert shown_sizes(explorer)["openers"] == openers.sum()


def test_invalid_settings_show_a_message_and_keep_the_last_view(explorer):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.scheme.value = "lifecycle"
        before = explorer.result
        explorer.sliders["lifecycle"]["active_days"].value = 300  # >= lapsed_days 180
    assert explorer.result is before
    assert "active_days &lt; lapsed_days" in explorer.message.value


def test_save_as_rule_round_trip(explorer, tmp_path, features):
    with contextlib.redirect_stdout(io.StringIO()):
        explorer.scheme.value = "lifecycle"
        explorer.consent.value = "emailable"
        explorer.sliders["lifecycle"]["new_days"].value = 45
    explorer.rule_path.value = str(tmp_path / "saved.yaml")
    text = explorer.save_as_rule()
    assert (tmp_path / "saved.yaml").read_text(encoding="utf-8") == text == explorer.rule_output.value
    membership = parse_rules(text).evaluate(explorer.features)
    labels = explorer.result.labels.astype(str).to_numpy()
    for label, name in explorer.result.rule_names.items():
        np.testing.assert_array_equal(membership[name].to_numpy(),
                                      (labels == label) & explorer.result.selected)


def test_as_of_change_recomputes_features(explorer, planted):
    from segkit.features import compute

    with contextlib.redirect_stdout(io.StringIO()):
        explorer.set_as_of(EARLIER)
    assert explorer.result.state.as_of == EARLIER
    earlier = compute({"events": planted["events"], "subscribers": planted["subscribers"]}, EARLIER)
    assert explorer.features.index.equals(earlier.index)
    assert shown_sizes(explorer) == sizes(tiers(earlier))
    assert explorer.timings[-1][0] == "as_of"
