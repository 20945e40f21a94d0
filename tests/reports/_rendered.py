"""Checks every rendered report must pass in headless Chromium (network disabled)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _browser import Browser

from segkit.reports.display import EMAIL_PATTERN

CHROMIUM_MISSING = not Path("/usr/bin/chromium").exists()
CHARTS_DRAWN = ("Array.from(document.querySelectorAll('.sk-chart')).every(d => {"
                " const g = d.querySelector('svg, canvas');"
                " return g && g.getBoundingClientRect().width > 0; })")
CHART_AREAS = """Array.from(document.querySelectorAll('.sk-chart')).map(d => {
    const g = d.querySelector('svg, canvas'); if (!g) return 0;
    const r = g.getBoundingClientRect(); return r.width * r.height; })"""


@contextmanager
def rendered(html_path: Path, *, title: str, n_charts: int) -> Iterator[Browser]:
    """Open a report and check: the title, ``n_charts`` charts drawn with a real size, no console
    error, no request leaving the page and no email address in the text; yield the browser."""
    browser = Browser()
    try:
        browser.open(html_path, settle=0.5)
        assert browser.wait_for(CHARTS_DRAWN)
        browser.pump(0.5)  # let late console messages arrive
        assert browser.evaluate("document.title") == f"{title} · segkit report"
        areas = browser.evaluate(CHART_AREAS)
        assert len(areas) == n_charts and all(a > 1000 for a in areas), areas
        assert browser.console_errors() == []
        assert [u for u in browser.requests() if not u.startswith(("file:", "data:", "blob:"))] == []
        assert not EMAIL_PATTERN.search(browser.evaluate("document.body.innerText"))
        yield browser
    finally:
        browser.close()
