"""The explorer's chart widgets, layout, tooltips and saved-rule box (issue 20)."""

from __future__ import annotations

import ipywidgets as widgets
import pytest

from segkit.charts import VegaChart
from segkit.explore import SegmentExplorer
from segkit.explore._app import CONTROLS_MIN_WIDTH

from .conftest import AS_OF


@pytest.fixture
def explorer(data, planted):
    return SegmentExplorer(data, suppressed=planted["suppressed"], as_of=AS_OF)


def _described(explorer) -> list[widgets.Widget]:
    controls = [explorer.scheme, explorer.as_of, explorer.countries, explorer.cohorts,
                explorer.consent, explorer.window, explorer.metric]
    return controls + [c for scheme in explorer.sliders.values() for c in scheme.values()]


def test_charts_are_offline_widgets_redrawn_in_place(explorer):
    assert isinstance(explorer.sizes_chart, VegaChart)
    before = explorer.sizes_chart.spec
    assert "engagement segment sizes" in str(before.get("title"))
    explorer.scheme.value = "lifecycle"
    assert explorer.sizes_chart.spec != before and "lifecycle" in str(explorer.sizes_chart.spec["title"])
    assert explorer.charts.children == (explorer.sizes_chart, explorer.performance_chart)


def test_every_described_control_has_a_tooltip_and_full_label_width(explorer):
    for control in _described(explorer):
        assert control.tooltip, f"{control.description}: no tooltip (the page would show 'null')"
        assert control.style.description_width == "150px", control.description


def test_controls_keep_a_minimum_width_and_results_wrap(explorer):
    row = explorer.widget.children[1]
    controls, results = row.children
    assert controls.layout.min_width == CONTROLS_MIN_WIDTH == "400px"
    assert controls.layout.flex == "0 0 auto"
    assert row.layout.flex_flow == "row wrap" and results.layout.min_width == "0"
    assert explorer.rules_text.description == ""  # the editor gets the column's whole width


def test_saved_rule_box_is_emptied_when_the_selection_changes(explorer):
    saved = explorer.save_as_rule()
    assert explorer.rule_output.value == saved
    explorer.sliders["engagement"]["inactive_days"].value = 200
    assert explorer.rule_output.value == ""
    assert "changed since the last save" in explorer.rule_output.placeholder
    assert explorer.save_as_rule() != saved and "200" in explorer.rule_output.value
