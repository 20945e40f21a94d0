"""Experiment data for analysis: one row per randomised subscriber, from the workspace or a CSV.

:func:`list_experiments` lists the workspace's experiments (most recent first);
:func:`experiment_units` joins an experiment's ``assignments`` with the events of its campaigns
into one row per assigned subscriber (intention to treat: a subscriber assigned but never sent
counts with zero outcomes); :func:`read_experiment_csv` reads a file that already has one row per
unit (the Hillstrom file, an export from an email platform) with numeric columns as numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from segkit.errors import InputError, ValidationError
from segkit.io._read import file_sha256, read_source
from segkit.io._sql import literal

__all__ = ["EXPERIMENT_METRICS", "experiment_units", "list_experiments",
           "read_experiment_csv"]

#: Per-unit outcome columns of :func:`experiment_units`: 0/1 flags and sums over the window.
EXPERIMENT_METRICS = ("sent", "open", "human_open", "click", "conversion", "orders", "revenue")

_EXPERIMENTS_SQL = """
SELECT a.experiment_id,
       count(*) AS units,
       count(DISTINCT a.arm) AS arms,
       min(a.assigned_at) AS first_assigned,
       max(a.assigned_at) AS last_assigned,
       max(c.first_sent) AS sent_at
FROM assignments a
LEFT JOIN (SELECT experiment_id, min(sent_at) AS first_sent FROM campaigns
           WHERE experiment_id IS NOT NULL GROUP BY experiment_id) c USING (experiment_id)
GROUP BY a.experiment_id
ORDER BY coalesce(max(c.first_sent), max(a.assigned_at)) DESC NULLS LAST, a.experiment_id
"""

_UNITS_SQL = """
WITH camp AS (
    SELECT campaign_id FROM campaigns WHERE experiment_id = {experiment}
), unit AS (
    SELECT subscriber_id, arm, assigned_at FROM assignments WHERE experiment_id = {experiment}
), ev AS (
    SELECT e.subscriber_id, e.event_type, e.ts, e.value, e.machine_open
    FROM events e JOIN camp USING (campaign_id)
    WHERE e.subscriber_id IN (SELECT subscriber_id FROM unit)
), first_send AS (
    SELECT subscriber_id, min(ts) AS sent_at FROM ev WHERE event_type = 'send' GROUP BY subscriber_id
), outcome AS (
    SELECT ev.subscriber_id,
           max(CASE WHEN event_type = 'open' THEN 1 ELSE 0 END) AS open,
           max(CASE WHEN event_type = 'open' AND NOT coalesce(machine_open, FALSE) THEN 1 ELSE 0 END)
               AS human_open,
           max(CASE WHEN event_type = 'click' THEN 1 ELSE 0 END) AS click,
           max(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS conversion,
           sum(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS orders,
           sum(CASE WHEN event_type IN ('purchase', 'refund') THEN coalesce(value, 0) ELSE 0 END)
               AS revenue
    FROM ev JOIN first_send USING (subscriber_id)
    WHERE ev.event_type <> 'send' AND ev.ts >= first_send.sent_at
      AND ev.ts < first_send.sent_at + to_microseconds({window_us})
    GROUP BY ev.subscriber_id
)
SELECT unit.subscriber_id, unit.arm, unit.assigned_at, first_send.sent_at,
       CAST(coalesce(first_send.sent_at, unit.assigned_at) AS DATE) AS entered_on,
       CASE WHEN first_send.sent_at IS NULL THEN 0 ELSE 1 END AS sent,
       coalesce(outcome.open, 0) AS open, coalesce(outcome.human_open, 0) AS human_open,
       coalesce(outcome.click, 0) AS click, coalesce(outcome.conversion, 0) AS conversion,
       coalesce(outcome.orders, 0) AS orders, coalesce(outcome.revenue, 0.0) AS revenue
       {attributes}
FROM unit
LEFT JOIN first_send USING (subscriber_id)
LEFT JOIN outcome USING (subscriber_id)
LEFT JOIN subscribers s ON s.subscriber_id = unit.subscriber_id
ORDER BY unit.subscriber_id
"""


def _frame(ws: Any, sql: str) -> pd.DataFrame:
    # via Arrow: DuckDB's .df() trips a pandas 3.1 deprecation warning
    return ws.connection.sql(sql).to_arrow_table().to_pandas()


def list_experiments(ws: Any) -> pd.DataFrame:
    """The workspace's experiments, most recent first.

    Columns: ``experiment_id``, ``units`` (assigned subscribers), ``arms``, ``first_assigned``,
    ``last_assigned`` and ``sent_at`` (first send of its campaigns; missing when no campaign
    names the experiment). "Most recent" orders by ``sent_at``, else the last assignment.
    """
    return _frame(ws, _EXPERIMENTS_SQL)


def _attribute_sql(attributes: Sequence[str]) -> str:
    columns = []
    for name in attributes:
        if not name or not name.replace("_", "").isalnum():
            raise ValidationError(
                f"attribute names are letters, digits and underscores; got {name!r}"
            )
        columns.append(f", json_extract_string(s.attributes, {literal('$.' + name)}) AS {name}")
    return "".join(columns)


def experiment_units(
    ws: Any,
    experiment_id: str | None = None,
    *,
    window_days: float = 7.0,
    attributes: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per subscriber assigned to ``experiment_id``, with outcome flags and sums.

    Parameters
    ----------
    ws
        An open :class:`~segkit.io.Workspace`.
    experiment_id
        The experiment; ``None`` takes the most recent one (:func:`list_experiments`).
    window_days
        Outcomes count when they happen within ``window_days`` days after the subscriber's first
        send of the experiment (events of the experiment's campaigns only, by ``campaign_id``).
    attributes
        Keys of ``subscribers.attributes`` to add as text columns (e.g. ``country``) for a
        segment breakdown; a key nobody has gives an all-missing column.

    Returns
    -------
    pandas.DataFrame
        ``subscriber_id, arm, assigned_at, sent_at`` (first send, missing when never sent),
        ``entered_on`` (UTC date of the first send, else of the assignment), then the 0/1 flags
        ``sent, open, human_open`` (an open not flagged as a machine open), ``click``,
        ``conversion`` (any purchase attributed to the campaign), the sums ``orders`` and
        ``revenue``, and the attribute columns. ``attrs`` holds ``experiment_id`` and
        ``window_days``.

    Raises
    ------
    ValidationError
        No experiments, an unknown ``experiment_id`` (the message lists the valid ones) or a
        non-positive window.
    """
    if not window_days > 0:
        raise ValidationError(f"window_days must be positive, got {window_days!r}")
    experiments = list_experiments(ws)
    known = experiments["experiment_id"].tolist()
    if not known:
        raise ValidationError(
            "the workspace has no experiments: ingest assignments with `segkit ingest assignments FILE`"
        )
    if experiment_id is None:
        experiment_id = known[0]
    elif experiment_id not in known:
        raise ValidationError(f"unknown experiment {experiment_id!r}; valid: {', '.join(known)}")
    sql = _UNITS_SQL.format(
        experiment=literal(experiment_id),
        window_us=int(round(window_days * 86_400 * 1_000_000)),
        attributes=_attribute_sql(attributes),
    )
    frame = _frame(ws, sql)
    for column in ("sent", "open", "human_open", "click", "conversion", "orders"):
        frame[column] = frame[column].astype("int64")
    frame["revenue"] = frame["revenue"].astype("float64")
    frame["entered_on"] = pd.to_datetime(frame["entered_on"]).dt.date
    frame.attrs.update(experiment_id=experiment_id, window_days=float(window_days))
    return frame


def read_experiment_csv(
    path: str | Path, *, arm: str = "arm", required: Sequence[str] = (), sep: str | None = None
) -> pd.DataFrame:
    """Read a CSV (or Parquet) file with one row per randomised unit for :func:`segkit.stats.analyze`.

    Columns whose every non-missing cell is a number become numbers; the rest stay text. The
    Hillstrom (2008) file as returned by :func:`segkit.datasets.hillstrom` works as is (arm column
    ``arm``, control ``"No E-Mail"``, metrics ``visit``, ``conversion``, ``spend``); the original
    MineThatData file names its arm column ``segment``.

    Parameters
    ----------
    path
        The file; structural problems raise :class:`~segkit.errors.InputError` (see
        :func:`segkit.io.Workspace.ingest`).
    arm
        The column holding each unit's arm.
    required
        Other columns that must be present (metrics, date, segment).

    Returns
    -------
    pandas.DataFrame
        ``attrs["source"]`` is the path and ``attrs["sha256"]`` the file's SHA-256.

    Raises
    ------
    InputError
        Missing columns (all listed, with the columns the file has), no rows, or an arm column
        with missing values.
    """
    raw = read_source(Path(path), sep=sep)
    frame = raw.frame
    missing = sorted({arm, *required} - set(frame.columns))
    if missing:
        raise InputError(
            f"{path}: missing column(s) {', '.join(missing)}; the file has: "
            f"{', '.join(map(str, frame.columns))}"
        )
    if frame.empty:
        raise InputError(f"{path}: the file has a header but no data rows")
    if frame[arm].isna().any():
        row = int(frame.index[frame[arm].isna()][0]) + 1
        raise InputError(f"{path}: arm column {arm!r} is empty in data row {row}")
    frame = frame.apply(_numeric_if_possible)
    frame.attrs.update(source=str(path), sha256=raw.sha256 or file_sha256(Path(path)))
    return frame


def _numeric_if_possible(column: pd.Series) -> pd.Series:
    converted = pd.to_numeric(column, errors="coerce")
    if converted.notna().sum() == column.notna().sum() and column.notna().any():
        return converted
    return column
