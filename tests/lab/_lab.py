"""A real JupyterLab in headless Chromium (Playwright driving Debian's /usr/bin/chromium).

``JupyterLab`` starts ``jupyter lab`` on a free localhost port with a token, in a temporary
root folder, with its own config, settings, workspaces and runtime folders (nothing shared with
the user's Lab) and a ``segkit`` kernelspec that runs this interpreter. ``LabPage`` opens a
notebook, runs all cells through the Run menu, and records every request the page makes so a
test can assert that none left localhost. Timings of interactions are taken in the browser
(``performance.now()``) from the input event to the chart's redraw.

Used by ``tests/lab`` and ``benchmarks/lab.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

CHROMIUM = Path("/usr/bin/chromium")
#: Chromium flags for running as root in a container with no background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
    "--disable-extensions", "--disable-default-apps",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
#: Screenshots of the explorer for a person to look at (kept after the run; git ignores reports/).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "reports" / "screenshots"


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install playwright; its browsers are not needed)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found (apt-get install chromium)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` serving ``root`` on 127.0.0.1 with a random token."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.home = Path(tempfile.mkdtemp(prefix="segkit-lab-"))
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        kernel = self.home / "share" / "jupyter" / "kernels" / "segkit"
        kernel.mkdir(parents=True)
        (kernel / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--IPKernelApp.exec_lines=import sys; sys.modules.setdefault('rfc3987_syntax', None)"],
            "display_name": "Python (segkit)", "language": "python"}))
        env = {**os.environ,
               "JUPYTER_CONFIG_DIR": str(self.home / "config"),
               "JUPYTER_DATA_DIR": str(self.home / "data"),
               "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
               "JUPYTERLAB_SETTINGS_DIR": str(self.home / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
               "JUPYTER_PATH": str(self.home / "share" / "jupyter")}
        news = self.home / "settings" / "@jupyterlab" / "apputils-extension"
        news.mkdir(parents=True)
        (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        self.log = (self.home / "lab.log").open("w")
        from segkit.lab import lab_command

        command = lab_command(root, port=self.port, open_browser=False, extra=[
            "--ip=127.0.0.1", f"--IdentityProvider.token={self.token}", "--allow-root"])
        self.process = subprocess.Popen(command, cwd=root, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {(self.home / 'lab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url('api/status')}", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("jupyter lab did not start")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        shutil.rmtree(self.home, ignore_errors=True)


class LabPage:
    """One Chromium page on a JupyterLab, recording every request it makes."""

    def __init__(self, lab: JupyterLab, *, width: int = 1280, height: int = 900) -> None:
        from playwright.sync_api import sync_playwright

        self.lab = lab
        self._playwright = sync_playwright().start()
        self.profile = Path(tempfile.mkdtemp(prefix="segkit-chromium-"))
        self.context = self._playwright.chromium.launch_persistent_context(
            str(self.profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.requests: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page.on("websocket", lambda socket: self.requests.append(socket.url))

    def outside_requests(self) -> list[str]:
        """Requests to anything but this machine (blob: and data: URLs stay in the page)."""
        return [u for u in self.requests if urlparse(u).scheme not in ("blob", "data")
                and urlparse(u).hostname not in LOCAL_HOSTS]

    def open(self, notebook: str) -> None:
        # reset: a fresh layout with only this notebook (no tabs restored from an earlier page)
        self.page.goto(self.lab.url(f"lab/tree/{notebook}") + "&reset")
        self.page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
        self.wait_kernel_idle()

    def wait_kernel_idle(self, timeout: float = 120.0) -> None:
        """Until the status bar says the kernel is idle (``Python (segkit) | Idle``)."""
        self.page.wait_for_function(
            "() => /\\| Idle/.test(document.querySelector('#jp-main-statusbar')?.innerText || '')",
            timeout=timeout * 1000)

    def dirty_tabs(self) -> list[str]:
        """Titles of the tabs that show unsaved changes."""
        return self.page.evaluate(
            "() => [...document.querySelectorAll('.lm-TabBar-tab.jp-mod-dirty')].map(t => t.innerText)")

    def kernel_name(self) -> str:
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) "
                                 ".jp-KernelName").first.inner_text()

    def command(self, menu: str, item: str) -> None:
        self.page.locator(".lm-MenuBar-itemLabel", has_text=menu).first.click()
        self.page.locator(".lm-Menu-itemLabel").get_by_text(item, exact=True).first.click()

    def run_all(self, timeout: float = 300.0) -> None:
        """Run → Run All Cells, then wait until every code cell has run (a number in its
        prompt). Clicked again if the first click found the notebook not yet ready."""
        prompts = ("[...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) "
                   ".jp-CodeCell .jp-InputPrompt')]")
        for _attempt in range(3):
            self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.click()
            self.command("Run", "Run All Cells")
            try:
                self.page.wait_for_function(
                    f"() => {prompts}.some(e => /\\[[*\\d]+\\]/.test(e.textContent))",
                    timeout=15_000)
                break
            except Exception:
                continue
        self.page.wait_for_function(
            f"() => {{ const p = {prompts}; "
            "return p.length > 0 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }",
            timeout=timeout * 1000)

    def evaluate(self, expression: str, argument: Any = None) -> Any:
        return self.page.evaluate(expression, argument)

    def close(self) -> None:
        try:
            self.context.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self.profile, ignore_errors=True)


#: Every chart in the open notebook: how many, and how many are drawn (an svg or canvas with
#: Vega marks inside a segkit chart).
CHARTS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const charts = [...panel.querySelectorAll('.segkit-chart')];
  const drawn = charts.filter(c => {
    const svgMarks = c.querySelectorAll('svg .role-mark > *').length;
    const canvas = c.querySelector('canvas');
    return svgMarks > 0 || (canvas && canvas.width > 0);
  });
  return {charts: charts.length, drawn: drawn.length,
          text: [...panel.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)
                  .filter(t => t.startsWith('<chart:'))};
}"""

#: Outputs that show an error: tracebacks, stderr errors, widget or chart failures.
ERRORS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const found = [];
  for (const o of panel.querySelectorAll('[data-mime-type="application/vnd.jupyter.error"], .segkit-chart-error'))
    found.push(o.innerText.slice(0, 300));
  for (const o of panel.querySelectorAll('.jp-OutputArea-output'))
    if (/Error displaying widget|Error loading script|JavaScript Error|Traceback/.test(o.innerText))
      found.push(o.innerText.slice(0, 300));
  return found;
}"""

#: Run an action on the explorer and return the milliseconds from it to the size chart's redraw,
#: measured in the page. ``kind``: "slider" (type a value into the first slider's readout),
#: "scheme" (pick a scheme) or "as_of" (type a date into the date picker).
TIME_ACTION = """async ([kind, value]) => {
  const root = document.querySelector('.segkit-explorer');
  const chart = root.querySelector('.segkit-results .segkit-chart');
  const before = Number(chart.dataset.segkitDraws || 0);
  const redrawn = new Promise((resolve, reject) => {
    const watch = new MutationObserver(() => {
      if (Number(chart.dataset.segkitDraws || 0) > before) { watch.disconnect(); resolve(performance.now()); }
    });
    watch.observe(chart, {attributes: true, attributeFilter: ['data-segkit-draws']});
    setTimeout(() => { watch.disconnect(); reject(new Error('no redraw within 60 s')); }, 60000);
  });
  const start = performance.now();
  if (kind === 'scheme') {
    const select = root.querySelector('.segkit-controls .widget-dropdown select');
    select.value = value;
    select.dispatchEvent(new Event('change', {bubbles: true}));
  } else if (kind === 'slider') {
    const readout = root.querySelector('.segkit-controls .widget-hslider .widget-readout');
    readout.focus();
    readout.textContent = value;
    readout.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', keyCode: 13, bubbles: true}));
    readout.blur();
  } else if (kind === 'as_of') {
    const input = root.querySelector('.segkit-controls .widget-datepicker input');
    input.value = value;
    input.dispatchEvent(new Event('change', {bubbles: true}));
  }
  return (await redrawn) - start;
}"""

#: Layout facts of the explorer: the controls column's width and minimum, and every control
#: label whose text does not fit (truncated with an ellipsis).
LAYOUT = """() => {
  const root = document.querySelector('.segkit-explorer');
  const controls = root.querySelector('.segkit-controls');
  const results = root.querySelector('.segkit-results');
  const labels = [...controls.querySelectorAll('.widget-label, label')]
    .filter(l => l.offsetParent !== null && l.textContent.trim());
  const rules = root.querySelector('.segkit-rules textarea');
  const c = controls.getBoundingClientRect(), r = results.getBoundingClientRect();
  return {
    controls: c.width, controls_min: parseFloat(getComputedStyle(controls).minWidth),
    results_below: r.top >= c.bottom - 1, results_left: r.left,
    truncated: labels.filter(l => l.scrollWidth > l.clientWidth + 1).map(l => l.textContent),
    labels: labels.map(l => l.textContent),
    null_titles: [...root.querySelectorAll('[title]')].filter(
      e => e.title === 'null' && e.offsetParent !== null).map(e => e.textContent),
    rules_width: rules ? rules.getBoundingClientRect().width : null,
    horizontal_scroll: [...controls.querySelectorAll('*')].filter(
      e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
           && e.tagName !== 'SELECT').length,
  };
}"""
