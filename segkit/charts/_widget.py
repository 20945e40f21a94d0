"""Charts in JupyterLab, Notebook 7 and VS Code without a CDN: a small anywidget that draws a
Vega-Lite spec with the Vega bundle segkit already inlines into its HTML reports.

Why a widget (see ``docs/design/lab-charts.md``): the widget's JavaScript travels from the kernel
to the page over the widget protocol, which every Jupyter front end with ipywidgets speaks, so it
needs no JupyterLab extension build, no CDN, no trusted-HTML ``<script>`` and no Vega-Lite
version support in the front end (JupyterLab 4 renders only Vega-Lite 5 specs; altair 6 emits 6).
The bundle is evaluated once per page (guarded by its version key); later charts only parse it.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import anywidget
import traitlets

from segkit.charts._bundle import bundle_key, vega_bundle

__all__ = ["VegaChart", "enable_offline_renderer", "offline_renderer"]

_RENDER_JS = """
const embedFor = () => globalThis.__segkitVega[KEY];

function render({ model, el }) {
  el.classList.add("segkit-chart");
  let view = null;
  let queue = Promise.resolve();
  const draw = () => {
    queue = queue.then(async () => {
      const target = document.createElement("div");
      target.className = "segkit-chart-view";
      target.style.cssText = "position:absolute;visibility:hidden";
      el.style.position = "relative";
      el.appendChild(target);
      try {
        const drawn = await embedFor()(target, model.get("spec"),
                                       { actions: false, renderer: model.get("renderer") });
        if (view) view.finalize();
        view = drawn;
        for (const child of [...el.children]) if (child !== target) child.remove();
        target.style.cssText = "";
        el.dataset.segkitDraws = String(Number(el.dataset.segkitDraws || 0) + 1);
      } catch (error) {
        target.remove();
        const message = document.createElement("pre");
        message.className = "segkit-chart-error";
        message.textContent = "chart error: " + (error && error.message ? error.message : error);
        el.replaceChildren(message);
        console.error(error);
      }
    });
  };
  model.on("change:spec", draw);
  model.on("change:renderer", draw);
  draw();
  return () => {
    model.off("change:spec", draw);
    model.off("change:renderer", draw);
    if (view) view.finalize();
  };
}

export default { render };
"""


@functools.cache
def _module(key: str) -> str:
    """The widget's ES module: the bundle, evaluated only if this page has not yet done so, then
    the render function."""
    return (
        f"const KEY = {json.dumps(key)};\n"
        "if (!(globalThis.__segkitVega && globalThis.__segkitVega[KEY])) {\n"
        f"{vega_bundle()}\n"
        "globalThis.__segkitVega = Object.assign(globalThis.__segkitVega || {}, "
        "{ [KEY]: window.vegaEmbed });\n"
        "}\n" + _RENDER_JS
    )


class VegaChart(anywidget.AnyWidget):
    """A Vega-Lite chart as a Jupyter widget, drawn offline by the bundled Vega libraries.

    Set :attr:`spec` (or call :meth:`show`) to redraw in place: only the spec travels to the
    page, so an explorer that keeps its chart widgets updates them without re-sending the
    JavaScript. ``renderer`` is ``"svg"`` (default) or ``"canvas"``.
    """

    _esm = traitlets.Unicode().tag(sync=True)
    spec = traitlets.Dict().tag(sync=True)
    renderer = traitlets.Enum(("svg", "canvas"), default_value="svg").tag(sync=True)

    def __init__(self, chart: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if chart is not None:
            self.show(chart)

    @traitlets.default("_esm")
    def _default_esm(self) -> str:
        return _module(bundle_key())

    def show(self, chart: Any) -> None:
        """Draw ``chart``: an altair chart or a Vega-Lite spec (a dict)."""
        self.spec = chart if isinstance(chart, dict) else chart.to_dict()

    def __repr__(self) -> str:
        title = self.spec.get("title", "chart") if self.spec else "chart"
        if isinstance(title, dict):
            title = title.get("text", "chart")
        return f"<chart: {title}>"


def offline_renderer(spec: dict[str, Any], **_metadata: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """altair renderer: every displayed chart becomes a :class:`VegaChart`."""
    bundle = VegaChart(spec)._repr_mimebundle_()
    return bundle if isinstance(bundle, tuple) else (bundle, {})


def enable_offline_renderer() -> None:
    """Make altair draw every chart displayed in this kernel as a :class:`VegaChart`
    (``alt.renderers.enable("segkit")``): offline in JupyterLab, Notebook 7 and VS Code."""
    import altair as alt

    if "segkit" not in alt.renderers.names():
        alt.renderers.register("segkit", offline_renderer)
    alt.renderers.enable("segkit")
