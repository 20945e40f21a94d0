"""The segment explorer in real JupyterLab + Chromium at 100k subscribers: each interaction
(slider, scheme, new as-of date) timed in the browser from the input event to the chart's redraw.

Builds a demo workspace (``segkit.datasets.build_demo_workspace``), copies explore.ipynb beside
it as ``segkit lab`` does, starts JupyterLab on a free localhost port, runs all cells, then drives
the widgets through the page. Target: every interaction <= 1.5 s. Also checks that no request
left localhost and saves screenshots at 1280 and 1920 px under reports/screenshots/.
``--small`` (or ``SEGKIT_BENCH_SMALL``) uses 5,000 subscribers. Needs /usr/bin/chromium and the
playwright package (tests/lab/_lab.py says which is missing).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _common import timer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lab"))

from _lab import (
    CHARTS,
    ERRORS,
    SCREENSHOTS,
    TIME_ACTION,
    JupyterLab,
    LabPage,
    missing_browser,
)

TARGET_MS = 1500
#: (kind, value) in order; each changes what the size chart shows.
STEPS = [("slider", "200"), ("slider", "30"), ("slider", "120"),
         ("scheme", "rfm"), ("scheme", "lifecycle"), ("scheme", "engagement"),
         ("as_of", "2024-09-30"), ("as_of", "2024-06-30"), ("as_of", "2024-11-15")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", default=bool(os.environ.get("SEGKIT_BENCH_SMALL")))
    parser.add_argument("--n", type=int, default=None, help="subscribers (overrides --small)")
    parser.add_argument("--workspace", type=Path, default=None,
                        help="use this demo workspace instead of building one")
    args = parser.parse_args()
    if reason := missing_browser():
        print(f"skipped: {reason}")
        return
    from segkit.datasets import build_demo_workspace
    from segkit.lab import copy_explorer

    n = args.n or (5_000 if args.small else 100_000)
    folder = Path(tempfile.mkdtemp(prefix="segkit-bench-lab-"))
    (folder / "data").mkdir()
    if args.workspace:
        (folder / "data" / "workspace.duckdb").symlink_to(args.workspace.resolve())
        print(f"workspace: {args.workspace}")
    else:
        with timer() as t_ws:
            build_demo_workspace(folder / "data" / "workspace.duckdb", n_subscribers=n, seed=7)
        print(f"demo workspace: {n:,} subscribers in {t_ws['seconds']:.1f} s")
    copy_explorer(folder)

    lab = JupyterLab(folder)
    page = LabPage(lab, width=1280, height=1500)
    try:
        page.open("explore.ipynb")
        with timer() as t_run:
            page.run_all(timeout=900)
            page.page.wait_for_function(f"() => ({CHARTS})().drawn >= 2", timeout=120_000)
        print(f"Run All (open the workspace, index the events, first view): {t_run['seconds']:.1f} s")
        timings: dict[str, list[float]] = {}
        print(f"\n{'interaction':<10} {'value':<12} {'ms in browser':>14}")
        for kind, value in STEPS:
            ms = page.evaluate(TIME_ACTION, [kind, value])
            timings.setdefault(kind, []).append(ms)
            print(f"{kind:<10} {value:<12} {ms:14.0f}")
        errors, outside = page.evaluate(ERRORS), page.outside_requests()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for width in (1280, 1920):
            page.page.set_viewport_size({"width": width, "height": 1500})
            page.page.wait_for_timeout(500)
            page.page.locator(".segkit-explorer").scroll_into_view_if_needed()
            page.page.screenshot(path=str(SCREENSHOTS / f"explorer-{n}-{width}.png"))
    finally:
        page.close()
        lab.close()
        shutil.rmtree(folder, ignore_errors=True)  # the built workspace too (a given one stays)
    print()
    over = {}
    for kind, values in timings.items():
        print(f"  {kind:<8} median {statistics.median(values):.0f} ms, max {max(values):.0f} ms")
        if max(values) > TARGET_MS:
            over[kind] = max(values)
    print(f"  load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"error outputs: {errors or 'none'}; requests leaving localhost: {outside or 'none'}")
    print(f"screenshots: {SCREENSHOTS}")
    print(f"target <= {TARGET_MS} ms per interaction in the browser: "
          + ("met" if not over else "missed by " + ", ".join(f"{k} ({v:.0f} ms)" for k, v in over.items())))
    if over or errors or outside:
        sys.exit(1)


if __name__ == "__main__":
    main()
