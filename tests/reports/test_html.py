"""Export of an executed notebook to one offline HTML file (no kernel needed here)."""

from __future__ import annotations

import json
import re

import altair as alt
import nbformat
import pandas as pd
import pytest

from segkit.reports._html import ReportHeader, export_html, safe_json, vega_bundle

HOSTILE = "</script><script>document.title='x'</script><!--"


def _executed_notebook():
    spec = alt.Chart(pd.DataFrame({"arm": [HOSTILE, "b"], "n": [1, 2]})).mark_bar().encode(
        x="arm", y="n").properties(title="Arms").to_dict()
    code = nbformat.v4.new_code_cell("secret_code_marker = 1")
    code.outputs = [nbformat.v4.new_output("display_data", data={"application/vnd.vegalite.v6+json": spec,
                                                                  "text/plain": "<chart>"})]
    code2 = nbformat.v4.new_code_cell("print(1)")
    code2.outputs = [nbformat.v4.new_output("display_data", data={"application/vnd.vegalite.v6+json": spec})]
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("Purpose.\n\n## First section\n\n### Detail"),
                      code, nbformat.v4.new_markdown_cell("## Second & last"), code2]
    return notebook


@pytest.fixture(scope="module")
def page():
    header = ReportHeader(name="demo", title="Demo <b>report</b>", parameters={"arm": HOSTILE},
                          generated_at="2024-07-01T00:00:00+00:00", segkit_version="0.1.0",
                          data_period=("2024-01-01", "2024-06-30"), input_fingerprint="f00d",
                          run_id="r1")
    return export_html(_executed_notebook(), header)


def _body(page: str) -> str:
    return page.replace(vega_bundle(), "")


def test_vega_is_inlined_once_and_nothing_is_loaded_from_elsewhere(page):
    assert page.count(vega_bundle()) == 1
    body = _body(page)
    assert not re.search(r"<script[^>]+src=", body) and not re.search(r"<link[^>]+href=", body)
    for marker in ("require.js", "requirejs", "MathJax", "cdn.jsdelivr", "unpkg.com", "@jupyter-widgets"):
        assert marker not in body, marker
    assert "Content-Security-Policy" in body and "default-src 'none'" in body


def test_code_is_hidden(page):
    assert "secret_code_marker" not in page and "print(1)" not in page


def test_each_chart_gets_an_embed_with_escaped_json(page):
    body = _body(page)
    assert body.count('class="sk-chart"') == 2 and body.count("vegaEmbed(") == 2
    # the hostile label cannot close the script element or open a comment
    scripts = re.findall(r"<script>(.*?)</script>", body, flags=re.S)
    assert len(scripts) == 3  # bundle placeholder removed → the two embeds + the empty bundle tag
    assert all("<" not in s for s in scripts if "vegaEmbed" in s)
    assert "<script>document.title" not in body and "\\u003c/script\\u003e\\u003cscript\\u003e" in body


def test_header_shows_run_facts_escaped(page):
    body = _body(page)
    for text in ("Demo &lt;b&gt;report&lt;/b&gt;", "2024-01-01 – 2024-06-30", "f00d", "0.1.0",
                 "2024-07-01T00:00:00+00:00", "&lt;/script&gt;&lt;script&gt;"):
        assert text in body, text


def test_table_of_contents_lists_sections(page):
    toc = re.search(r'<nav class="sk-toc".*?</nav>', page, flags=re.S).group(0)
    assert ">First section<" in toc and ">Detail<" in toc and "Second &amp; last" in toc


def test_safe_json_round_trips_and_cannot_end_a_script():
    value = {"a": "</script><!-- \u2028 \u2029 & >", "b": [1, 2.5, None]}
    text = safe_json(value)
    assert "<" not in text and ">" not in text and "\u2028" not in text and "&" not in text
    assert json.loads(text) == value


@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_hostile_chart_labels_render_as_text_in_chromium(page, tmp_path):
    from _browser import Browser

    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    browser = Browser()
    try:
        browser.open(path, settle=0.5)
        assert browser.wait_for("document.querySelectorAll('.sk-chart svg').length == 2")
        browser.pump(0.5)
        assert browser.evaluate("document.title") == "Demo <b>report</b> · segkit report"
        assert browser.evaluate("document.querySelectorAll('.sk-chart svg').length") == 2
        labels = browser.evaluate("Array.from(document.querySelectorAll('.sk-chart svg text'))"
                                  ".map(t => t.textContent).join('|')")
        assert "document.title='x'" in labels  # the label is drawn as text, not run
        assert browser.console_errors() == []
        assert [u for u in browser.requests() if not u.startswith("file:")] == []
    finally:
        browser.close()


@pytest.mark.browser
@pytest.mark.skipif(not __import__("pathlib").Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_browser_harness_detects_external_requests_and_console_errors(tmp_path):
    """Negative control: the checks used on reports do fire on a page that misbehaves."""
    from _browser import Browser

    path = tmp_path / "bad.html"
    path.write_text('<html><body><img src="http://example.invalid/pixel.png">'
                    "<script>console.error('boom')</script></body></html>")
    browser = Browser()
    try:
        browser.open(path, settle=1.0)
        assert "http://example.invalid/pixel.png" in browser.requests()
        assert any("boom" in e for e in browser.console_errors())
    finally:
        browser.close()
