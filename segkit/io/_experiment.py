"""Experiment data for analysis: one row per randomised subscriber, from the workspace or a CSV.

:func:`list_experiments` lists the workspace's experiments (most recent first);
:func:`experiment_units` joins an experiment's ``assignments`` with the events of its campaigns
into one row per assigned subscriber (intention to treat: a subscriber assigned but never sent
counts with zero outcomes); :func:`read_experiment_csv` reads a file that already has one row per
unit (the Hillstrom file, an export from an email platform) with numeric columns as numbers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from segkit.errors import InputError, ValidationError
from segkit.io._read import describe_columns, file_sha256, read_source

__all__ = ["EXPERIMENT_METRICS", "experiment_units", "list_experiments",
           "read_experiment_csv"]

#: Per-unit outcome columns of :func:`experiment_units`: 0/1 flags and sums over the window.
EXPERIMENT_METRICS = ("sent", "open", "human_open", "click", "conversion", "orders", "revenue")

#: Columns of :func:`list_experiments`.
_EXPERIMENT_COLUMNS = ("experiment_id", "units", "arms", "first_assigned", "last_assigned", "sent_at")


def _tables(ws: Any) -> dict[str, Any]:
    """The workspace tables an experiment reads, as Ibis tables (timestamps UTC on any engine;
    None for a table the source lacks)."""
    from segkit.features._source import source_table

    return {name: source_table(ws, name) for name in ("assignments", "campaigns", "events", "subscribers")}


def list_experiments(ws: Any) -> pd.DataFrame:
    """The workspace's experiments, most recent first.

    Columns: ``experiment_id``, ``units`` (assigned subscribers), ``arms``, ``first_assigned``,
    ``last_assigned`` and ``sent_at`` (first send of its campaigns; missing when no campaign
    names the experiment). "Most recent" orders by ``sent_at``, else the last assignment.
    Computed in the workspace's engine with portable Ibis (the DuckDB file, or a workspace on
    another engine, ``Workspace.connect``, which may lack the tables: then there are none).
    """
    return _experiments(_tables(ws))


def _experiments(tables: dict[str, Any]) -> pd.DataFrame:
    assignments, campaigns = tables["assignments"], tables["campaigns"]
    if assignments is None:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("units", "arms") else object)
                             for c in _EXPERIMENT_COLUMNS})
    per = assignments.group_by("experiment_id").aggregate(
        units=assignments.count(), arms=assignments.arm.nunique(),
        first_assigned=assignments.assigned_at.min(), last_assigned=assignments.assigned_at.max())
    frame = per.to_pyarrow().to_pandas()
    for column in ("first_assigned", "last_assigned"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    sent = pd.Series(pd.NaT, index=frame.index, dtype=frame["last_assigned"].dtype)
    if campaigns is not None and len(frame):
        named = campaigns.filter(campaigns.experiment_id.notnull())
        first = named.group_by("experiment_id").aggregate(sent_at=named.sent_at.min())
        first = first.to_pyarrow().to_pandas().set_index("experiment_id")["sent_at"]
        sent = pd.to_datetime(frame["experiment_id"].map(first), utc=True).astype(sent.dtype)
    frame["sent_at"] = sent
    order = frame["sent_at"].fillna(frame["last_assigned"])
    frame = frame.assign(_order=order).sort_values(["_order", "experiment_id"], ascending=[False, True],
                                                   na_position="last", ignore_index=True)
    return frame[list(_EXPERIMENT_COLUMNS)].astype({"units": "int64", "arms": "int64"})


def _check_attributes(attributes: Sequence[str]) -> list[str]:
    for name in attributes:
        if not name or not name.replace("_", "").isalnum():
            raise ValidationError(
                f"attribute names are letters, digits and underscores; got {name!r}"
            )
    return list(attributes)


def _json_text(value: Any) -> str | None:
    """A JSON value as ``json_extract_string`` gives it: strings as they are, everything else
    (numbers, booleans, objects) as its JSON text, null as missing."""
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def _attribute_columns(subscribers: Any, units: Any, names: list[str]) -> pd.DataFrame:
    """``subscriber_id`` plus one text column per attribute key, for the assigned subscribers
    (their ``attributes`` JSON is parsed here: portable across engines)."""
    columns = pd.DataFrame({"subscriber_id": pd.Series(dtype=object)})
    if subscribers is None or "attributes" not in subscribers.columns:
        return columns.assign(**{name: pd.Series(dtype=object) for name in names})
    rows = subscribers.semi_join(units, "subscriber_id").select(
        subscriber_id=subscribers.subscriber_id.cast("string"),
        attributes=subscribers.attributes.cast("string")).to_pyarrow().to_pandas()
    parsed = [json.loads(text) if isinstance(text, str) and text else {} for text in rows["attributes"]]
    parsed = [value if isinstance(value, dict) else {} for value in parsed]
    frame = pd.DataFrame({"subscriber_id": rows["subscriber_id"].astype("str")})
    for name in names:
        frame[name] = pd.Series([_json_text(value.get(name)) for value in parsed], dtype=object)
    return frame


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
    names = _check_attributes(attributes)
    tables = _tables(ws)
    experiments = _experiments(tables)
    known = experiments["experiment_id"].tolist()
    if not known:
        raise ValidationError(
            "the workspace has no experiments: ingest assignments with `segkit ingest assignments FILE`"
        )
    if experiment_id is None:
        experiment_id = known[0]
    elif experiment_id not in known:
        raise ValidationError(f"unknown experiment {experiment_id!r}; valid: {', '.join(known)}")
    frame = _units(tables, experiment_id, int(round(window_days * 86_400 * 1_000_000)))
    if names:
        units = tables["assignments"].filter(tables["assignments"].experiment_id == experiment_id)
        extra = _attribute_columns(tables["subscribers"], units, names)
        frame = frame.merge(extra, on="subscriber_id", how="left", validate="one_to_one")
        for name in names:
            frame[name] = frame[name].astype("str").where(frame[name].notna(), None)
    frame.attrs.update(experiment_id=experiment_id, window_days=float(window_days))
    return frame


def _units(tables: dict[str, Any], experiment_id: str, window_us: int) -> pd.DataFrame:
    """The unit table of :func:`experiment_units` (without attributes), aggregated in the engine."""
    import ibis

    assignments, campaigns, events = tables["assignments"], tables["campaigns"], tables["events"]
    unit = assignments.filter(assignments.experiment_id == experiment_id).select(
        "subscriber_id", "arm", "assigned_at")
    frame = unit.to_pyarrow().to_pandas()
    sent = pd.DataFrame({"subscriber_id": pd.Series(dtype=object)})
    outcome = sent.copy()
    if campaigns is not None and events is not None:
        camp = campaigns.filter(campaigns.experiment_id == experiment_id).select("campaign_id")
        machine = (events.machine_open.cast("boolean").fill_null(False) if "machine_open" in events.columns
                   else ibis.literal(False))
        ev = events.select("subscriber_id", "event_type", "ts", "campaign_id",
                           value=events.value.cast("float64"), machine=machine)
        ev = ev.semi_join(camp, "campaign_id").semi_join(unit, "subscriber_id")
        sends = ev.filter(ev.event_type == "send")
        first = sends.group_by("subscriber_id").aggregate(sent_at=sends.ts.min())
        joined = ev.inner_join(first, "subscriber_id")
        inside = joined.filter((joined.event_type != "send") & (joined.ts >= joined.sent_at)
                               & (joined.ts < joined.sent_at + ibis.interval(microseconds=window_us)))
        kind = inside.event_type
        flag = lambda condition: condition.ifelse(1, 0)  # noqa: E731
        outcome = inside.group_by("subscriber_id").aggregate(
            open=flag(kind == "open").max(),
            human_open=flag((kind == "open") & ~inside.machine).max(),
            click=flag(kind == "click").max(),
            conversion=flag(kind == "purchase").max(),
            orders=flag(kind == "purchase").sum(),
            revenue=kind.isin(["purchase", "refund"]).ifelse(inside.value.fill_null(0.0), 0.0).sum(),
        ).to_pyarrow().to_pandas()
        sent = first.to_pyarrow().to_pandas()
    frame = frame.merge(sent, on="subscriber_id", how="left").merge(outcome, on="subscriber_id", how="left")
    if "sent_at" not in frame.columns:
        frame["sent_at"] = pd.Series(pd.NaT, index=frame.index, dtype=frame["assigned_at"].dtype)
    entered = frame["sent_at"].fillna(frame["assigned_at"])
    frame.insert(4, "entered_on", pd.to_datetime(entered, utc=True).dt.date)
    frame.insert(5, "sent", frame["sent_at"].notna().astype("int64"))
    for column in ("open", "human_open", "click", "conversion", "orders"):
        frame[column] = (frame[column] if column in frame.columns else 0)
        frame[column] = frame[column].fillna(0).astype("int64")
    frame["revenue"] = (frame["revenue"] if "revenue" in frame.columns else 0.0)
    frame["revenue"] = frame["revenue"].fillna(0.0).astype("float64")
    columns = ["subscriber_id", "arm", "assigned_at", "sent_at", "entered_on", *EXPERIMENT_METRICS]
    frame = frame[columns].astype({"subscriber_id": "str", "arm": "str"})
    return frame.sort_values("subscriber_id", ignore_index=True)


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
            f"{describe_columns(frame.columns, quote=False)}"
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
