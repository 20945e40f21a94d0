"""Executed notebook → one self-contained HTML file that renders offline.

nbconvert's stock templates load require.js, MathJax and the widget manager from CDNs, and
altair's HTML output loads Vega from a CDN. This exporter instead:

* uses the ``segkit_report`` template (``templates/segkit_report``), which replaces the whole
  ``<head>`` (own CSS, no remote scripts, a Content-Security-Policy that forbids any request)
  and adds a header (report, parameters, data period, generation time, segkit version, input
  fingerprint) and a table of contents;
* inlines the Vega, Vega-Lite and Vega-Embed JavaScript once (built by ``vl_convert``);
* turns every Vega-Lite output into an inline ``vegaEmbed`` call whose spec is encoded by
  :func:`safe_json` (``<``, ``>``, ``&``, U+2028 and U+2029 escaped, so data such as
  ``</script><script>...`` stays a string);
* hides all code (``exclude_input``), keeps outputs and errors.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

__all__ = ["ReportHeader", "export_html", "safe_json", "vega_bundle"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "segkit_report"
TOC_PLACEHOLDER = "<!--segkit:toc-->"
_VEGALITE_MIME = re.compile(r"^application/vnd\.vegalite\.v\d+\+json$")


def safe_json(value: Any) -> str:
    """JSON that can sit inside an HTML ``<script>`` element: no ``</script>``, ``<!--`` or
    line separators can end or confuse it (all escaped as ``\\uXXXX`` inside strings)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                          ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def vega_bundle() -> str:
    """The Vega + Vega-Lite + Vega-Embed JavaScript inlined into reports (see
    :func:`segkit.charts._bundle.vega_bundle`; imported on use, so importing the reports
    package does not import altair)."""
    from segkit.charts._bundle import vega_bundle as bundle

    return bundle()


def _chart_html(spec: Any, number: int) -> str:
    chart_id = f"sk-chart-{number}"
    title = spec.get("title", "") if isinstance(spec, dict) else ""
    if isinstance(title, dict):
        title = title.get("text", "")
    label = html.escape(str(title) or "chart", quote=True)
    return (
        f'<div class="sk-chart" id="{chart_id}" role="img" aria-label="{label}"></div>\n'
        "<script>(function () {\n"
        f"  var spec = {safe_json(spec)};\n"
        f'  vegaEmbed("#{chart_id}", spec, {{"actions": false, "renderer": "svg"}})\n'
        "    .catch(function (error) { console.error(error); });\n"
        "})();</script>"
    )


def _charts_to_html(notebook: Any) -> int:
    """Replace each Vega-Lite output with its inline embed; return how many charts there are."""
    count = 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            mime = next((m for m in data if _VEGALITE_MIME.match(m)), None)
            if mime is None:
                continue
            count += 1
            output["data"] = {"text/html": _chart_html(data[mime], count)}
    return count


class _Headings(HTMLParser):
    """Collect ``<h2>``/``<h3>`` ids and text (nbconvert gives Markdown headings ids)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str, str]] = []
        self._open: tuple[int, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        ident = dict(attrs).get("id")
        if tag in ("h2", "h3") and ident:
            self._open, self._text = (int(tag[1]), ident), []

    def handle_data(self, data: str) -> None:
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open and tag == f"h{self._open[0]}":
            text = "".join(self._text).replace("\u00b6", "").strip()
            self.found.append((self._open[0], self._open[1], text))
            self._open = None


def _toc(body: str) -> str:
    parser = _Headings()
    parser.feed(body)
    if not parser.found:
        return ""
    items = "".join(
        f'<li class="sk-toc-h{level}"><a href="#{html.escape(ident, quote=True)}">'
        f"{html.escape(text)}</a></li>"
        for level, ident, text in parser.found
    )
    return f'<nav class="sk-toc" aria-label="Contents"><h2>Contents</h2><ol>{items}</ol></nav>'


@dataclass(frozen=True)
class ReportHeader:
    """What the report's header shows."""

    name: str
    title: str
    parameters: dict[str, Any]
    generated_at: str
    segkit_version: str
    data_period: tuple[str, str] | None = None
    input_fingerprint: str | None = None
    status: str = "succeeded"
    error: str | None = None
    reason: str | None = None
    run_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def export_html(notebook: Any, header: ReportHeader) -> str:
    """Render an executed notebook (an ``nbformat`` node, modified in place) to HTML text."""
    from nbconvert import HTMLExporter

    chart_count = _charts_to_html(notebook)
    exporter = HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    resources = {
        "segkit": header,
        "segkit_css": (TEMPLATES_DIR / TEMPLATE_NAME / "report.css").read_text(encoding="utf-8"),
        "vega_bundle": vega_bundle() if chart_count else "",
        "metadata": {"name": header.name},
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body.replace(TOC_PLACEHOLDER, _toc(body), 1)
