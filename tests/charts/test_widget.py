"""VegaChart: the chart widget that draws with the bundled Vega libraries, never a CDN."""

from __future__ import annotations

import re

import altair as alt
import pandas as pd

from segkit.charts import VegaChart, enable_offline_renderer
from segkit.charts._bundle import vega_bundle

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _chart() -> alt.Chart:
    return alt.Chart(pd.DataFrame({"x": ["a", "b"], "n": [1, 2]}), title="t").mark_bar().encode(x="x", y="n")


def test_module_carries_the_bundle_and_imports_nothing_remote():
    widget = VegaChart(_chart())
    assert vega_bundle() in widget._esm  # the same JavaScript the HTML reports inline
    assert widget._esm.count("export default") == 1
    remote = re.findall(r"""(?:import\s*\(|from)\s*["']https?://""", widget._esm)
    assert remote == [] and "cdn.jsdelivr" not in widget._esm and "esm.sh" not in widget._esm


def test_spec_and_repr():
    widget = VegaChart(_chart())
    assert widget.spec["mark"]["type"] == "bar" and repr(widget) == "<chart: t>"
    widget.show({"mark": "point", "title": {"text": "u"}})
    assert widget.spec == {"mark": "point", "title": {"text": "u"}} and repr(widget) == "<chart: u>"


def test_altair_renderer_displays_a_widget():
    previous = alt.renderers.active
    try:
        enable_offline_renderer()
        bundle = _chart()._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        assert WIDGET_VIEW in data
    finally:
        alt.renderers.enable(previous)
