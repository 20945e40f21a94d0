"""``reports/index.html``: every run found under the reports directory, newest first."""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from segkit._files import atomic_write_text
from segkit._version import __version__
from segkit.reports._runner import OK_STATUSES

__all__ = ["build_index", "list_runs", "runs_mentioning"]

_CSS = """
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1f2933; margin: 0; font-size: 14.5px; }
header { background: linear-gradient(135deg, #102a43 0%, #1f5f8b 100%); color: #fff; padding: 26px 32px; }
header h1 { margin: 0; font-size: 26px; font-weight: 650; }
header p { margin: 4px 0 0; opacity: .8; font-size: 13px; }
main { max-width: 1240px; margin: 0 auto; padding: 20px 32px 40px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th { text-align: left; background: #f5f7fa; border-bottom: 2px solid #d9e2ec; padding: 7px 10px; font-weight: 600; }
td { border-bottom: 1px solid #d9e2ec; padding: 6px 10px; vertical-align: top; }
td.params code { display: inline-block; background: #f5f7fa; border-radius: 3px; padding: 0 4px; margin: 1px 4px 1px 0;
  font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
.status { display: inline-block; border-radius: 10px; padding: 1px 9px; font-size: 12px; font-weight: 600; }
.status.succeeded { background: #ecfdf3; color: #067647; } .status.not_applicable { background: #f2f4f7; color: #344054; } .status.failed { background: #fef3f2; color: #b42318; }
tr.failed td:first-child { box-shadow: inset 3px 0 0 #b42318; }
td.when { white-space: nowrap; }
.error { color: #b42318; font-size: 12.5px; margin-top: 3px; }
a { color: #1f5f8b; } .muted { color: #616e7c; }
"""


def list_runs(out_dir: str | Path) -> list[dict[str, Any]]:
    """Every ``run.json`` under ``out_dir`` (``<name>/<run_id>/run.json``), newest first."""
    runs = []
    for record in Path(out_dir).glob("*/*/run.json"):
        try:
            run = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        run["_dir"] = record.parent
        runs.append(run)
    return sorted(runs, key=lambda r: (r.get("started_at", ""), r.get("run_id", "")), reverse=True)


def runs_mentioning(out_dir: str | Path, texts: Iterable[str]) -> list[Path]:
    """Run directories under ``out_dir`` with a file that contains one of ``texts`` as a whole
    token (ignoring case), newest first: where the ids of erased subscribers may remain. Only
    runs made with ``--include-pii`` can hold ids; the others show pseudonyms."""
    wanted = sorted({t.strip() for t in texts if t.strip()}, key=len, reverse=True)
    if not wanted:
        return []
    pattern = re.compile(r"(?<![\w@.+\-])(?:" + "|".join(map(re.escape, wanted)) + r")(?![\w@\-])",
                         re.IGNORECASE)
    found = []
    for run in list_runs(out_dir):
        files = sorted(p for p in run["_dir"].iterdir() if p.is_file())
        if any(pattern.search(p.read_bytes().decode("utf-8", errors="replace")) for p in files):
            found.append(run["_dir"])
    return found


def _links(run: dict[str, Any], root: Path) -> str:
    links = []
    for filename, label in (("report.html", "report"), ("summary.json", "summary"),
                            ("executed.ipynb", "notebook")):
        if (run["_dir"] / filename).is_file():
            href = Path(os.path.relpath(run["_dir"] / filename, root)).as_posix()
            links.append(f'<a href="{html.escape(href, quote=True)}">{label}</a>')
    return " · ".join(links)


def _row(run: dict[str, Any], root: Path) -> str:
    e = html.escape
    status = str(run.get("status", "unknown"))
    params = "".join(f"<code>{e(str(k))}={e(str(v))}</code>"
                     for k, v in (run.get("parameters") or {}).items())
    detail = run.get("error") or run.get("reason")
    error = f'<div class="error">{e(str(detail))}</div>' if detail else ""
    duration = run.get("duration_seconds")
    return (
        f'<tr class="run {e(status)}" data-report="{e(str(run.get("name", "")), quote=True)}">'
        f'<td><strong>{e(str(run.get("name", "")))}</strong><div class="muted">{e(str(run.get("run_id", "")))}</div></td>'
        f'<td class="when">{e(str(run.get("started_at", ""))[:19].replace("T", " "))}</td>'
        f'<td><span class="status {e(status)}">{e(status)}</span>{error}</td>'
        f'<td class="params">{params}</td>'
        f'<td>{"" if duration is None else f"{float(duration):.1f} s"}</td>'
        f"<td>{_links(run, root)}</td></tr>"
    )


def build_index(out_dir: str | Path) -> Path:
    """Regenerate ``<out_dir>/index.html`` listing every run (name, time, status, parameters,
    duration, links); return its path. The page is static and needs no network."""
    root = Path(out_dir).resolve()
    root.mkdir(parents=True, exist_ok=True)
    runs = list_runs(root)
    failed = sum(r.get("status") not in OK_STATUSES for r in runs)
    rows = "\n".join(_row(r, root) for r in runs) or (
        '<tr><td colspan="6" class="muted">No report runs yet: try <code>segkit report '
        "workspace_overview</code>.</td></tr>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>segkit reports</title><style>{_CSS}</style></head>
<body><header><h1>segkit reports</h1>
<p>{len(runs)} run(s), {failed} failed · index generated by segkit {html.escape(__version__)}</p></header>
<main><table><thead><tr><th>Report</th><th>Started (UTC)</th><th>Status</th><th>Parameters</th>
<th>Duration</th><th>Files</th></tr></thead>
<tbody>
{rows}
</tbody></table></main></body></html>
"""
    return atomic_write_text(root / "index.html", page)
