"""``SegmentExplorer``: the ipywidgets layer. Each callback reads the widgets into an
:class:`~segkit.explore.ExplorerState`, calls :func:`~segkit.explore.explore` and renders."""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from IPython.display import display

from segkit._timestamps import decision_time, instant_text, is_date_only, utc_timestamp
from segkit.charts import VegaChart
from segkit.errors import SegkitError, ValidationError
from segkit.explore._data import ExplorerData
from segkit.explore._export import export_audience, export_file_path, write_audience
from segkit.explore._params import EXPLORER_SCHEMES, SCHEME_PARAMETERS, SchemeParameter
from segkit.explore._rulefile import CONSENT_FILTERS
from segkit.explore._state import DEFAULT_RULES, ExplorerResult, ExplorerState, explore
from segkit.io import personal_data_note
from segkit.segments import PERFORMANCE_METRICS, SegmentExport

__all__ = ["SegmentExplorer"]

_FLOAT = "{:.4g}".format
#: The controls column never gets narrower than this (full slider labels, a rules editor of
#: about 45 characters); below it plus the results' own minimum the results wrap underneath.
CONTROLS_MIN_WIDTH = "400px"
#: Results take the rest of the row but wrap below the controls when narrower than this.
RESULTS_BASIS = "480px"
#: Every control's label gets this much room, enough for the longest ("moderate_click_rate").
_LABELS = {"description_width": "150px"}
_FULL = {"width": "calc(100% - 4px)"}  # ipywidgets add a 2 px margin each side
#: Monospace rules editor; tables that scroll inside the results column instead of widening it.
_CSS = """<style>
.segkit-rules textarea { font-family: var(--jp-code-font-family, monospace); font-size: 12px; }
.segkit-results .widget-html-content { max-width: 100%; overflow-x: auto; }
.segkit-chart { max-width: 100%; overflow-x: auto; }
</style>"""


class SegmentExplorer:
    """Interactive segment explorer for JupyterLab: display the instance (or ``.widget``).

    Parameters
    ----------
    source
        A :class:`segkit.io.Workspace`, a workspace path, a mapping ``{"events", "subscribers"}``
        of DataFrames, a feature table from :func:`segkit.features.compute`, or an
        :class:`~segkit.explore.ExplorerData` (shares its cached features).
    as_of
        Time-zone-aware time of the features, or a date without a time (``"2011-12-09"``, a
        ``datetime.date``: the end of that UTC day, as everywhere in segkit). Default: the end
        of the data (the last event; a feature table's ``attrs["as_of"]``), as in the reports.
        The status line under the date picker prints the instant used.
    subscribers, events
        With a feature table: enable the attribute filters and export (``subscribers``) and other
        as-of dates (both).
    rules
        YAML text of the ``rules`` scheme (default: a small example).
    suppressed
        Ids or emails never to export (passed to :func:`segkit.consent.eligible`).
    export_path
        CSV of "Export audience": absolute, or relative to the exports folder (default
        ``audience.csv`` in ``exports/`` under the repository root, ignored by git; the current
        directory's ``exports/`` outside a repository). The widget and the message show the full
        path; the file holds email addresses and is created owner-only (mode 0600).
    index_events
        ``"open"`` (default): index the events while opening (:meth:`ExplorerData.index_events`;
        about 8 s more at 11M events, under a second for small lists), after which every
        interaction, a new as-of date included, answers in well under a second.
        ``"background"``: open sooner and index in a background thread; a date picked before
        the index is ready is computed from the events (seconds at 100k subscribers).
        ``"off"``: every new date is computed from the events.
    prefetch_months
        Month starts before ``as_of`` (most recent first) whose features are computed in the
        same background thread, after the index, and kept. 0 (the default) turns it off;
        ignored when the source cannot change the as-of date.

    Every interaction records ``(kind, wall seconds, CPU seconds)`` in :attr:`timings`; :attr:`result` is the
    latest :class:`~segkit.explore.ExplorerResult` and :attr:`last_export` the latest export.
    """

    def __init__(
        self,
        source: Any,
        as_of: object | None = None,
        *,
        subscribers: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        rules: str | None = None,
        suppressed: Iterable[str] = (),
        export_path: str | Path | None = None,
        index_events: str = "open",
        prefetch_months: int = 0,
    ) -> None:
        if index_events not in INDEX_MODES:
            raise ValidationError(f"index_events must be one of {', '.join(map(repr, INDEX_MODES))}; "
                                  f"got {index_events!r}")
        self.data = (source if isinstance(source, ExplorerData)
                     else ExplorerData(source, subscribers=subscribers, events=events))
        if index_events == "open":
            self.data.index_events(wait=True)
        given = as_of is not None and not (isinstance(as_of, str) and not as_of.strip())
        stamp = decision_time(as_of, naive_as_utc=False) if given else self.data.data_end
        self._pending_stamp: pd.Timestamp | None = None
        self.suppressed = tuple(suppressed)
        self.timings: list[tuple[str, float, float]] = []
        self.last_export: SegmentExport | None = None
        self._busy = False
        state = ExplorerState(as_of=stamp, rules=rules or DEFAULT_RULES)
        self._build_widgets(state, export_path)
        self.result: ExplorerResult | None = None
        self._refresh_options()
        self._update("start")
        if index_events == "background":
            self.data.index_events(on_ready=self._show_as_of_status)
        self.data.prefetch(month_starts_before(state.as_of, prefetch_months),
                           on_ready=self._show_as_of_status)
        self._show_as_of_status()

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self, state: ExplorerState, export_path: str | Path | None) -> None:
        snapshot = self.data.snapshot(state.as_of)
        self.scheme = widgets.Dropdown(options=list(EXPLORER_SCHEMES), value=state.scheme,
                                       description="scheme", style=_LABELS, layout=_FULL,
                                       tooltip="segment scheme whose thresholds you adjust")
        self.sliders: dict[str, dict[str, widgets.Widget]] = {
            scheme: {p.name: self._parameter_widget(p, snapshot.windows) for p in parameters}
            for scheme, parameters in SCHEME_PARAMETERS.items()
        }
        self.rules_text = widgets.Textarea(value=state.rules, rows=12, layout=_FULL,
                                           tooltip="segkit.segments YAML rules")
        self.rules_text.add_class("segkit-rules")
        self.apply_rules = widgets.Button(description="Apply rules",
                                          tooltip="recompute the segments from the rules above")
        self.parameters = widgets.VBox()
        self.countries = widgets.SelectMultiple(description="country", rows=5, style=_LABELS,
                                                layout=_FULL, tooltip="none selected: all")
        self.cohorts = widgets.SelectMultiple(description="signup cohort", rows=5, style=_LABELS,
                                              layout=_FULL, tooltip="signup quarter (UTC); "
                                              "none selected: all")
        self.consent = widgets.Dropdown(options=list(CONSENT_FILTERS), value=state.consent,
                                        description="consent", style=_LABELS, layout=_FULL,
                                        tooltip="which consent states count as recipients")
        self.as_of = widgets.DatePicker(value=state.as_of.date(), description="as of",
                                        disabled=not self.data.can_change_as_of, style=_LABELS,
                                        tooltip="features as of the end of this day (UTC)")
        self._as_of_stamp = state.as_of
        self.as_of_status = widgets.HTML()
        self.window = widgets.Dropdown(options=list(snapshot.windows), description="perf. days",
                                       value=state.performance_window if state.performance_window
                                       in snapshot.windows else snapshot.windows[-1],
                                       style=_LABELS, layout=_FULL,
                                       tooltip="performance over the last N days")
        self.metric = widgets.Dropdown(options=list(PERFORMANCE_METRICS), value="click_rate",
                                       description="metric", style=_LABELS, layout=_FULL,
                                       tooltip="metric of the performance chart and table")
        self.segment = widgets.Dropdown(description="segment", tooltip="segment to export")
        self.save_rule = widgets.Button(description="Save as rule", icon="save",
                                        tooltip="show (and write) the selection as rules")
        self.rule_path = widgets.Text(value="", placeholder="optional .yaml path",
                                      description="rule file", tooltip="where Save as rule writes")
        self.rule_output = widgets.Textarea(placeholder=_NOT_SAVED, rows=10, layout=_FULL)
        self.rule_output.add_class("segkit-rules")
        self.export_button = widgets.Button(description="Export audience", icon="download",
                                            tooltip="write the segment's consent-safe audience")
        self.export_path = widgets.Text(value=str(export_file_path(export_path)), description="CSV",
                                        layout=_FULL, tooltip="where Export audience writes (a relative "
                                        "name goes into the exports folder)")
        self.message = widgets.HTML()
        self.sizes_html = widgets.HTML()
        self.performance_html = widgets.HTML()
        self.sizes_chart = VegaChart()
        self.performance_chart = VegaChart()
        self.charts = widgets.VBox([self.sizes_chart, self.performance_chart])
        self._connect()
        self.widget = self._layout()

    def _parameter_widget(self, parameter: SchemeParameter, windows: tuple[int, ...]) -> widgets.Widget:
        if parameter.kind == "window":
            default = int(parameter.default)
            return widgets.Dropdown(options=list(windows), description=parameter.label,
                                    value=default if default in windows else windows[-1],
                                    style=_LABELS, layout=_FULL, tooltip="feature window")
        return widgets.FloatSlider(value=parameter.default, min=parameter.low, max=parameter.high,
                                   step=parameter.step, description=parameter.name,
                                   continuous_update=False,
                                   readout_format=".0f" if parameter.unit == "days" else ".2f",
                                   tooltip=parameter.label, style=_LABELS, layout=_FULL)

    def _connect(self) -> None:
        self.scheme.observe(lambda _: self._on_scheme(), names="value")
        for scheme_widgets in self.sliders.values():
            for control in scheme_widgets.values():
                control.observe(lambda _: self._update("slider"), names="value")
        for control in (self.countries, self.cohorts, self.consent):
            control.observe(lambda _: self._update("filter"), names="value")
        self.as_of.observe(lambda _: self._on_as_of(), names="value")
        self.window.observe(lambda _: self._update("window"), names="value")
        self.metric.observe(lambda _: self._render(), names="value")
        self.apply_rules.on_click(lambda _: self._update("rules"))
        self.save_rule.on_click(lambda _: self.save_as_rule())
        self.export_button.on_click(lambda _: self._export_clicked())

    def _layout(self) -> widgets.Widget:
        """Controls on the left at a fixed minimum width, results to the right taking the rest;
        on a narrow notebook (a laptop with the file browser open) the results wrap below."""
        self.parameters.layout = widgets.Layout(width="100%")
        controls = widgets.VBox(
            [self.scheme, self.parameters, self.as_of, self.as_of_status,
             widgets.HTML("<b>Filters</b>"), self.countries, self.cohorts, self.consent,
             widgets.HTML("<b>Performance</b>"), self.window, self.metric],
            layout=widgets.Layout(flex="0 0 auto", width=CONTROLS_MIN_WIDTH,
                                  min_width=CONTROLS_MIN_WIDTH, margin="0 16px 0 0"))
        controls.add_class("segkit-controls")
        output = widgets.VBox([self.message, self.sizes_html, self.charts, self.performance_html],
                              layout=widgets.Layout(flex=f"1 1 {RESULTS_BASIS}", min_width="0"))
        output.add_class("segkit-results")
        row = widgets.Layout(display="flex", flex_flow="row wrap", align_items="flex-start",
                             width="100%")
        actions = widgets.VBox([self.segment,
                                widgets.HBox([self.save_rule, self.rule_path], layout=row),
                                widgets.HBox([self.export_button, self.export_path], layout=row)])
        explorer = widgets.VBox([widgets.HTML(_CSS), widgets.HBox([controls, output], layout=row),
                                 actions, self.rule_output])
        explorer.add_class("segkit-explorer")
        return explorer

    def _ipython_display_(self) -> None:
        display(self.widget)

    # ------------------------------------------------------------------ state
    @property
    def state(self) -> ExplorerState:
        """The current settings of the widgets."""
        scheme = self.scheme.value
        values = {name: (int(c.value) if isinstance(c, widgets.Dropdown) else float(c.value))
                  for name, c in self.sliders[scheme].items()}
        return ExplorerState(
            as_of=self._as_of_stamp, scheme=scheme, parameters=values,
            countries=tuple(self.countries.value), cohorts=tuple(self.cohorts.value),
            consent=self.consent.value, rules=self.rules_text.value,
            performance_window=int(self.window.value),
        )

    @property
    def features(self) -> pd.DataFrame:
        """The feature table as of the current date with the explorer's columns (the table the
        saved rules are evaluated on)."""
        return self.data.snapshot(self._as_of_stamp).features

    def _refresh_options(self) -> None:
        snapshot = self.data.snapshot(self._as_of_stamp)
        self._busy = True
        try:
            for control, column in ((self.countries, "country"), (self.cohorts, "signup_cohort")):
                kept = tuple(v for v in control.value if v in snapshot.options(column))
                control.options = snapshot.options(column)
                control.value = kept
        finally:
            self._busy = False
        self._show_parameters()

    def _show_parameters(self) -> None:
        """The chosen scheme's sliders (or the rules editor)."""
        self.parameters.children = (
            [self.rules_text, self.apply_rules] if self.scheme.value == "rules"
            else list(self.sliders[self.scheme.value].values())
        )

    # ------------------------------------------------------------------ callbacks
    def _on_scheme(self) -> None:
        self._show_parameters()
        self._update("scheme")

    def _on_as_of(self) -> None:
        if self.as_of.value is None:
            return
        pending, self._pending_stamp = self._pending_stamp, None  # an exact time from set_as_of
        self._as_of_stamp = pending if pending is not None else decision_time(self.as_of.value)
        start = (time.perf_counter(), time.process_time())
        if self._as_of_stamp not in self.data.ready_dates and not self.data.indexed:
            self.message.value = (f"<p>computing the features as of {self._as_of_stamp.date()} "
                                  "(a few seconds until the events are indexed)…</p>")
        try:
            self.data.snapshot(self._as_of_stamp)
        except SegkitError as error:
            self._show_error(error)
            return
        self._refresh_options()
        self._update("as_of", started=start)
        self._show_as_of_status()

    def _show_as_of_status(self) -> None:
        """Which dates answer at once: all of them once the events are indexed."""
        ready = [d.date().isoformat() for d in self.data.ready_dates]
        pending = len(self.data.prefetch_pending)
        used = f"as of {instant_text(self._as_of_stamp)}"
        if self.data.indexed:
            text = f"{used}; events indexed: any date answers at once"
        else:
            text = used + (f"; ready: {', '.join(ready)}" if ready else "")
            if self.data.indexing:
                text += "; indexing the events (other dates take a few seconds until done)"
            elif self.data.index_error:
                text += f"; events not indexed ({self.data.index_error}), other dates take seconds"
        if pending:
            text += f"; preparing {pending} more month start{'s' * (pending != 1)}"
        self.as_of_status.value = f"<small>{html.escape(text)}</small>"

    def _update(self, kind: str, started: tuple[float, float] | None = None) -> None:
        if self._busy:
            return
        start = (time.perf_counter(), time.process_time()) if started is None else started
        try:
            self.result = explore(self.data, self.state)
        except SegkitError as error:
            self._show_error(error)
            return
        self._sync_segments()
        self._render()
        self._forget_saved_rule()
        self.timings.append((kind, time.perf_counter() - start[0], time.process_time() - start[1]))

    def _sync_segments(self) -> None:
        labels = list(self.result.rule_names)
        if list(self.segment.options) != labels:
            current = self.segment.value
            self.segment.options = labels
            self.segment.value = current if current in labels else labels[0]

    def _forget_saved_rule(self) -> None:
        """The saved-rule box shows the selection of its last save: once the selection changes
        it is emptied, so it never shows rules that no longer match what is on screen."""
        if self.rule_output.value:
            self.rule_output.value = ""
            self.rule_output.placeholder = _CHANGED

    def _show_error(self, error: Exception) -> None:
        self.message.value = f"<p style='color:#b00020'>{html.escape(str(error))}</p>"

    def _render(self) -> None:
        result = self.result
        if result is None:
            return
        self.message.value = (f"<p>{html.escape(result.summary())}</p>")
        self.sizes_html.value = result.sizes.to_html(index=False, float_format=_FLOAT)
        rows = result.performance_rows(self.metric.value)
        caption = (f"<p><b>{self.metric.value}</b> over the last {result.state.performance_window} "
                   "days, each segment vs the rest of the filtered recipients (95% intervals, "
                   "Holm-adjusted p-values)</p>")
        self.performance_html.value = (
            caption + rows.to_html(index=False, float_format=_FLOAT) if len(rows)
            else f"<p>{html.escape(result.note or 'no performance rows')}</p>"
        )
        self.sizes_chart.show(result.sizes_chart())
        if result.performance is not None:
            self.performance_chart.show(result.performance_chart(self.metric.value))
        self.performance_chart.layout.display = None if result.performance is not None else "none"

    # ------------------------------------------------------------------ actions
    def save_as_rule(self) -> str:
        """YAML of the current selection (also shown, and written to the rule file if set)."""
        if self.result is None:
            raise ValidationError("nothing to save: the explorer has no valid selection")
        text = self.result.rule_yaml()
        self.rule_output.value = text
        if self.rule_path.value.strip():
            target = Path(self.rule_path.value.strip()).expanduser()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            self.message.value = f"<p>wrote the rules to {html.escape(str(target))}</p>"
        return text

    def export(self, segment: str | None = None, path: str | Path | None = None) -> SegmentExport:
        """Write the consent-safe audience of ``segment`` (default: the chosen one) as CSV to
        ``path`` (default: the path in the widget; a relative one is inside the exports folder,
        see :func:`segkit.explore.export_file_path`); the message shows the full path."""
        if self.result is None:
            raise ValidationError("nothing to export: the explorer has no valid selection")
        try:
            exported = export_audience(self.data, self.result, segment or self.segment.value,
                                       suppressed=self.suppressed)
        except SegkitError as error:
            self._show_error(error)
            raise
        try:
            target = write_audience(exported, path or self.export_path.value)
        except SegkitError as error:
            self._show_error(error)
            raise
        self.last_export = exported
        self.message.value = (
            f"<p>wrote {len(exported.audience):,} of {exported.members:,} members to "
            f"<code>{html.escape(str(target))}</code>; {html.escape(personal_data_note('email addresses'))}."
            f"<br>excluded {len(exported.consent.excluded):,}: {html.escape(exported.consent.reasons())} "
            "(consent is today's, whatever the as-of date)</p>")
        return exported

    def _export_clicked(self) -> None:
        with contextlib.suppress(SegkitError):  # already shown in the message area
            self.export()

    def close(self) -> None:
        """Stop the background indexing and prefetch (the widgets stay usable)."""
        self.data.close()

    def set_as_of(self, as_of: object) -> None:
        """Move to another as-of time: a date (``datetime.date`` or ``"2011-12-09"``) means the
        end of that UTC day, as the date picker does; a time-zone-aware time is used exactly
        (the picker then shows its UTC day)."""
        if is_date_only(as_of):
            as_of = decision_time(as_of)
            self._pending_stamp = None
        else:
            self._pending_stamp = utc_timestamp(as_of)
            as_of = self._pending_stamp
        day = dt.date(as_of.year, as_of.month, as_of.day)
        if self.as_of.value == day:  # the picker does not fire for an unchanged day
            if self._pending_stamp is None:
                self._pending_stamp = as_of
            self._on_as_of()
        else:
            self.as_of.value = day


_NOT_SAVED = "Save as rule shows the current selection here as segkit.segments YAML"
_CHANGED = "the selection changed since the last save: press Save as rule again"

#: What ``SegmentExplorer(index_events=...)`` accepts.
INDEX_MODES = ("open", "background", "off")


def month_starts_before(as_of: pd.Timestamp, months: int) -> list[pd.Timestamp]:
    """The instants that picking the first day of each of the ``months`` most recent months
    resolves to (the END of that UTC day, :func:`segkit._timestamps.decision_time`: a date means
    its last instant), those before ``as_of``, newest first. Prefetching them means that picking
    a month start in the date picker finds its snapshot ready."""
    if months < 0:
        raise ValidationError(f"prefetch_months must be >= 0, got {months}")
    first = as_of.tz_convert("UTC").normalize().replace(day=1)
    if decision_time(first.date()) >= as_of:
        first -= pd.DateOffset(months=1)
    return [decision_time((first - pd.DateOffset(months=k)).date()) for k in range(months)]
