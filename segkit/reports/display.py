"""What report notebooks call to show things: safe tables, charts, text, and the final summary.

Everything that comes from data is escaped here, at the source: table cells, column names and
values interpolated into text go through :func:`html.escape` (and a Markdown escape), and email
addresses are masked and ``subscriber_id`` values replaced by salted pseudonyms
(:func:`pseudonym`) unless the run was started with ``--include-pii``. Charts are emitted as a
Vega-Lite spec; the report exporter turns each into an inline ``vegaEmbed`` call with safely
encoded JSON (see :mod:`segkit.reports._html`); run interactively, the output also carries a
:class:`segkit.charts.VegaChart` widget that JupyterLab draws offline.

The runner passes its context to the kernel through environment variables
(:data:`RUN_DIR_ENV`, :data:`INCLUDE_PII_ENV`); run interactively, nothing is written and
emails are masked.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import math
import os
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, NoReturn

from segkit._files import atomic_write_text
from segkit._version import __version__

__all__ = [
    "ASSUME_UTC_ENV",
    "BACKEND_URL_ENV",
    "EMAIL_PATTERN",
    "INCLUDE_PII_ENV",
    "PSEUDONYM_COLUMNS",
    "PSEUDONYM_SALT_ENV",
    "RUN_DIR_ENV",
    "include_pii",
    "mask_emails",
    "method_card_html",
    "not_applicable",
    "pseudonym",
    "pseudonymize",
    "pseudonymize_ids",
    "record_period",
    "show_chart",
    "show_markdown",
    "show_method_card",
    "show_table",
    "table_html",
    "write_summary",
]

RUN_DIR_ENV = "SEGKIT_REPORT_DIR"
INCLUDE_PII_ENV = "SEGKIT_INCLUDE_PII"
#: The full URL of the engine a run reads (``segkit --backend``): the kernel's environment
#: carries it so that the notebook's ``backend`` parameter (and so every record of the run) can
#: hold it with its secrets masked.
BACKEND_URL_ENV = "SEGKIT_REPORT_BACKEND"
#: "1" when that engine's zone-less timestamps are read as UTC (``segkit --assume-utc``).
ASSUME_UTC_ENV = "SEGKIT_REPORT_ASSUME_UTC"
#: Salt of :func:`pseudonym`; set it to get the same pseudonyms across runs and processes.
PSEUDONYM_SALT_ENV = "SEGKIT_PSEUDONYM_SALT"
#: Identifier columns that reports show pseudonymously.
PSEUDONYM_COLUMNS = ("subscriber_id",)
#: What counts as an email address in report output (and in the runner's final HTML scan).
EMAIL_PATTERN = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
EMAIL_MASK = "[email hidden]"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]{}()+!|~>])")


def include_pii() -> bool:
    """True only when the runner was asked for ``--include-pii``."""
    return os.environ.get(INCLUDE_PII_ENV, "") == "1"


def mask_emails(text: str) -> str:
    """Replace email addresses with ``[email hidden]`` unless PII is included."""
    return text if include_pii() else EMAIL_PATTERN.sub(EMAIL_MASK, text)


@functools.cache
def _process_salt() -> str:
    return secrets.token_hex(16)


def pseudonym(value: Any) -> str:
    """A stable pseudonym for an identifier: ``"p-"`` + 16 hex digits of
    ``sha256(salt + US + str(value))``.

    The salt is ``$SEGKIT_PSEUDONYM_SALT`` when set (same pseudonyms in every run that shares
    it), else a random salt drawn once per process (stable within one report, unlinkable across
    reports). Without the salt a pseudonym cannot be traced back by hashing candidate ids.
    """
    salt = os.environ.get(PSEUDONYM_SALT_ENV) or _process_salt()
    digest = hashlib.sha256(f"{salt}\x1f{value}".encode()).hexdigest()
    return f"p-{digest[:16]}"


def pseudonymize(frame: Any) -> Any:
    """``frame`` with :data:`PSEUDONYM_COLUMNS` replaced by :func:`pseudonym` (missing values
    kept) unless PII is included; the input is not modified."""
    columns = [c for c in frame.columns if str(c).lower() in PSEUDONYM_COLUMNS]
    if include_pii() or not columns:
        return frame
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(pseudonym, na_action="ignore").astype(object)
    return frame


def pseudonymize_ids(values: Any) -> list[str]:
    """Identifiers as a report may store them in ``summary.json`` or any other file: as text
    with ``--include-pii``, else as :func:`pseudonym` values (the ones the report's tables
    show in the same run)."""
    texts = [str(v) for v in values]
    return texts if include_pii() else [pseudonym(t) for t in texts]


def _display(bundle: dict[str, Any]) -> None:
    from IPython.display import display

    display(bundle, raw=True)


def _missing(value: Any) -> bool:
    import pandas as pd

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # list-like cells
        return False


def _format_cell(value: Any, digits: int) -> str:
    if value is None or _missing(value):
        return ""
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    if isinstance(value, bool) or kind == "b":
        return "yes" if value else "no"
    if isinstance(value, int) or kind in ("i", "u"):
        return f"{int(value):,}"
    if isinstance(value, float) or kind == "f":
        return f"{float(value):,.{digits}f}"
    return str(value)


def table_html(df: Any, *, digits: int = 2, index: bool = False, max_rows: int = 50,
               caption: str | None = None) -> str:
    """An escaped HTML table for a DataFrame (no Styler: every cell goes through ``html.escape``).

    Unless PII is included, columns whose name contains ``email`` are dropped, email-like values
    masked and a ``subscriber_id`` column shows :func:`pseudonym` values. At most ``max_rows``
    rows are shown; a note says how many were left out.
    """
    frame = _safe_frame(df, index)
    shown = frame.head(max_rows)
    numeric = {c for c in shown.columns if getattr(shown[c].dtype, "kind", "") in "iuf"}

    def cell(value: Any, column: Any, tag: str = "td") -> str:
        css = ' class="num"' if column in numeric else ""
        return f"<{tag}{css}>{html.escape(mask_emails(_format_cell(value, digits)))}</{tag}>"

    head = "".join(f"<th>{html.escape(mask_emails(str(c)))}</th>" for c in shown.columns)
    rows = "".join(
        "<tr>" + "".join(cell(v, c) for c, v in zip(shown.columns, row, strict=True)) + "</tr>"
        for row in shown.itertuples(index=False, name=None)
    )
    note = ""
    if len(frame) > len(shown):
        note = f'<p class="sk-note">Showing {len(shown):,} of {len(frame):,} rows.</p>'
    cap = f"<caption>{html.escape(mask_emails(caption))}</caption>" if caption else ""
    return (f'<table class="sk-table">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>{note}")


def _safe_frame(df: Any, index: bool) -> Any:
    frame = df.reset_index() if index else df
    if not include_pii():
        frame = pseudonymize(frame[[c for c in frame.columns if "email" not in str(c).lower()]])
    return frame


def show_table(df: Any, *, digits: int = 2, index: bool = False, max_rows: int = 50,
               caption: str | None = None) -> None:
    """Display a DataFrame as an escaped HTML table (see :func:`table_html`)."""
    if include_pii():
        text = df.head(max_rows).to_string(index=index)
    else:
        text = _safe_frame(df.head(max_rows), index).to_string(index=False)
    _display({
        "text/html": table_html(df, digits=digits, index=index, max_rows=max_rows, caption=caption),
        "text/plain": mask_emails(text),
    })


def _escape_value(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value  # keeps format specs such as {share:.1%} working
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(mask_emails(str(value)), quote=False))


def show_markdown(template: str, **values: Any) -> None:
    """Display Markdown written by the notebook author, with data values escaped.

    ``template`` is trusted text using ``str.format`` fields; each value is HTML- and
    Markdown-escaped (numbers are passed through so format specs apply)::

        show_markdown("Campaign **{name}** reached {share:.1%} of subscribers.", name=n, share=s)
    """
    _display({"text/markdown": template.format(**{k: _escape_value(v) for k, v in values.items()})})


def _mask_spec(value: Any) -> Any:
    if include_pii():
        return value
    if isinstance(value, str):
        return mask_emails(value)
    if isinstance(value, dict):
        return {mask_emails(k) if isinstance(k, str) else k: _mask_spec(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_spec(v) for v in value]
    return value


def show_chart(chart: Any) -> None:
    """Display an altair chart as a Vega-Lite spec (emails masked).

    In a report run the report exporter inlines the spec into the offline HTML. Run
    interactively (JupyterLab, Notebook 7, VS Code) the same output also carries a
    :class:`segkit.charts.VegaChart` widget, which front ends prefer and which draws the chart
    with the bundled Vega libraries: no CDN, and no Vega-Lite version support needed in the
    front end (JupyterLab 4 renders only Vega-Lite 5 specs).
    """
    import altair as alt

    spec = _mask_spec(chart.to_dict())
    major = alt.SCHEMA_VERSION.split(".")[0]
    title = spec.get("title", "chart")
    if isinstance(title, dict):
        title = title.get("text", "chart")
    bundle = {
        f"application/vnd.vegalite.{major}+json": spec,
        "text/plain": f"<chart: {mask_emails(str(title))}>",
    }
    if not os.environ.get(RUN_DIR_ENV):
        bundle.update(_widget_view(spec))
    _display(bundle)


def _widget_view(spec: dict[str, Any]) -> dict[str, Any]:
    """The widget-view entry of a :class:`~segkit.charts.VegaChart` drawing ``spec``."""
    from segkit.charts import VegaChart

    shown = VegaChart(spec)._repr_mimebundle_()
    data = shown[0] if isinstance(shown, tuple) else (shown or {})
    return {k: v for k, v in data.items() if k != "text/plain"}


def method_card_html(
    method: str,
    *,
    data_window: str,
    assumptions: str | Sequence[str],
    validation: str,
    verdict: str,
    sufficient: bool = True,
) -> str:
    """An escaped HTML "method card": how a number was made and whether the data suffice.

    ``method`` names the model or test, ``data_window`` the data it saw, ``assumptions`` what it
    takes for granted, ``validation`` how well it did on held-out data (or why it was not
    validated), and ``verdict`` the data-sufficiency verdict in plain words. With
    ``sufficient=False`` the card is styled as a warning so readers do not trust the number.
    """
    items = [assumptions] if isinstance(assumptions, str) else list(assumptions)
    esc = lambda text: html.escape(mask_emails(str(text)))  # noqa: E731
    status = "sk-card-ok" if sufficient else "sk-card-warn"
    label = "Data suffice" if sufficient else "Data do not suffice"
    rows = [("Method", esc(method)), ("Data window", esc(data_window)),
            ("Assumptions", "<br>".join(esc(a) for a in items) or "none stated"),
            ("Validation", esc(validation)), (label, esc(verdict))]
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<aside class="sk-method-card {status}"><table>{body}</table></aside>'


def show_method_card(
    method: str,
    *,
    data_window: str,
    assumptions: str | Sequence[str],
    validation: str,
    verdict: str,
    sufficient: bool = True,
) -> None:
    """Display a method card next to a model's or a test's numbers (see :func:`method_card_html`)."""
    text = (f"Method: {method}\nData window: {data_window}\nValidation: {validation}\n"
            f"{'Data suffice' if sufficient else 'Data do not suffice'}: {verdict}")
    _display({
        "text/html": method_card_html(method, data_window=data_window, assumptions=assumptions,
                                      validation=validation, verdict=verdict, sufficient=sufficient),
        "text/plain": mask_emails(text),
    })


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)) or value.__class__.__name__ == "Timestamp":
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()  # numpy scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def record_period(data_period: Sequence[Any] | None, *, fingerprint: str | None = None) -> None:
    """Record the data period (first event, the instant used) as soon as it is known, so a run
    that fails in a later cell still shows it in the report header; :func:`write_summary`
    replaces it with the full summary in the final cell."""
    write_summary({}, parameters={}, data_period=data_period, fingerprint=fingerprint)


def not_applicable(
    reason: str,
    *,
    parameters: Mapping[str, Any],
    data_period: Sequence[Any] | None = None,
    fingerprint: str | None = None,
) -> NoReturn:
    """End a report whose analysis does not apply to the data: show the one line "**Not
    applicable:** <reason>.", write ``summary.json`` (numbers ``{"applicable": False, "reason":
    reason}``) and raise :class:`~segkit.errors.ReportNotApplicable`, which the report runner
    records as a ``not_applicable`` run (exit code 0; the page ends after this line)."""
    from segkit.errors import ReportNotApplicable

    reason = reason.strip().rstrip(".")
    show_markdown("**Not applicable:** {reason}.", reason=reason)
    write_summary({"applicable": False, "reason": reason}, parameters=parameters,
                  data_period=data_period, fingerprint=fingerprint)
    raise ReportNotApplicable(reason)


def write_summary(
    numbers: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any],
    data_period: Sequence[Any] | None,
    fingerprint: str | None,
) -> dict[str, Any]:
    """Write the run's ``summary.json`` (call it in the notebook's final cell).

    Contents: ``numbers`` (the report's key numbers), ``parameters``, ``data_period``
    (``[start, end]`` as ISO text), ``input_fingerprint`` and ``segkit_version``. Written into
    the run directory when run by :func:`segkit.reports.run_report`; otherwise only returned.
    Unless PII is included, email addresses in any text are masked (an id that is an email
    address included); store subscriber ids through :func:`pseudonymize_ids`.
    """
    summary = {
        "numbers": _jsonable(numbers),
        "parameters": _jsonable(parameters),
        "data_period": _jsonable(list(data_period)) if data_period is not None else None,
        "input_fingerprint": fingerprint,
        "segkit_version": __version__,
    }
    summary = _mask_spec(summary)
    run_dir = os.environ.get(RUN_DIR_ENV)
    if run_dir:
        atomic_write_text(Path(run_dir) / "summary.json",
                          json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary
