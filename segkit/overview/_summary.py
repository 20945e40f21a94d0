"""What is in a workspace and how clean it is: the numbers behind the workspace overview report.

Pure summaries of the workspace tables (DataFrames in, DataFrames out): row counts, the ingest
log with its balance check (read = loaded + duplicates + quarantined), quarantine reasons by
column, events per type per week, the share of opens made by machines (Apple Mail Privacy
Protection, security scanners; flagged at ingest in ``events.machine_open``), subscribers by time
zone and by consent/subscription status, the order lines (lines, orders, products) when the
workspace holds any, and the data period.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import ValidationError

__all__ = ["WORKSPACE_SUMMARY_TABLES", "WorkspaceSummary", "summarize_tables", "workspace_summary"]

#: The tables a summary reads.
WORKSPACE_SUMMARY_TABLES: tuple[str, ...] = (
    "assignments", "campaigns", "events", "ingest_log", "order_lines", "quarantine", "subscribers",
)
#: key_numbers names of the order-line counts.
_ORDER_KEYS = {"lines": "order_lines", "orders": "orders", "products": "products",
               "customers": "order_customers", "return_lines": "order_return_lines"}
_NEEDED: dict[str, tuple[str, ...]] = {
    "events": ("event_type", "ts", "machine_open"),
    "subscribers": ("subscriber_id", "timezone", "consent", "unsubscribed_at"),
    "ingest_log": ("ingest_id", "table_name", "source", "finished_at", "rows_read", "rows_loaded",
                   "rows_duplicate", "rows_quarantined", "status"),
    "quarantine": ("table_name", "column_name", "reason"),
    "campaigns": ("campaign_id", "name", "sent_at", "experiment_id", "arm"),
}


@dataclass(frozen=True)
class WorkspaceSummary:
    """A workspace at a glance. Weeks start on Monday, 00:00 UTC.

    Attributes
    ----------
    table_rows
        ``table``, ``rows`` for every workspace table.
    ingests
        The ingest log, one row per ingest, plus ``balanced`` (read == loaded + duplicates +
        quarantined).
    quarantine_reasons
        ``table_name``, ``column_name``, ``reason``, ``rows``, most frequent first.
    weekly_events
        ``week`` (Monday, UTC, tz-naive date), ``event_type``, ``events``.
    weekly_opens
        ``week``, ``human_opens``, ``machine_opens``, ``machine_share``.
    machine_open_share
        Machine opens / all opens over the whole period (NaN without opens).
    subscribers_by_timezone
        ``timezone`` (``"(unknown)"`` when missing), ``subscribers``, ``share``, largest first.
    subscribers_by_status
        ``consent`` (yes/no/unknown), ``status`` (subscribed/unsubscribed), ``subscribers``.
    campaigns
        ``campaign_id``, ``name``, ``sent_at``, ``experiment_id``, ``arm``, ``sends`` (send events
        with that ``campaign_id``), latest first.
    data_period
        First and last event time (UTC), or None without events.
    order_lines
        ``lines``, ``orders``, ``products``, ``customers`` and ``return_lines`` (a negative
        quantity or value: cancellations and returns) of the ``order_lines`` table (``segkit
        ingest orders``); None when it holds no rows.
    absent_tables
        Tables the source does not have (a workspace on another engine usually holds only
        ``events`` and ``subscribers``: the ingest log and quarantine are written by ``segkit
        ingest`` into the DuckDB file); their sections are empty and say so.
    """

    table_rows: pd.DataFrame
    ingests: pd.DataFrame
    quarantine_reasons: pd.DataFrame
    weekly_events: pd.DataFrame
    weekly_opens: pd.DataFrame
    machine_open_share: float
    subscribers_by_timezone: pd.DataFrame
    subscribers_by_status: pd.DataFrame
    campaigns: pd.DataFrame
    data_period: tuple[pd.Timestamp, pd.Timestamp] | None
    order_lines: dict[str, int] | None = None
    absent_tables: tuple[str, ...] = ()
    method: str = "counts over whole workspace tables; weeks start Monday 00:00 UTC"

    @property
    def total_events(self) -> int:
        return int(self.weekly_events["events"].sum())

    @property
    def all_ingests_balanced(self) -> bool:
        return bool(self.ingests["balanced"].all()) if len(self.ingests) else True

    def key_numbers(self) -> dict[str, Any]:
        """The headline numbers (what ``summary.json`` records)."""
        rows = dict(zip(self.table_rows["table"], self.table_rows["rows"], strict=True))
        return {
            **{f"rows_{name}": int(count) for name, count in rows.items()},
            "ingests": len(self.ingests),
            "rows_quarantined": int(self.ingests["rows_quarantined"].sum()) if len(self.ingests) else 0,
            "all_ingests_balanced": self.all_ingests_balanced,
            "machine_open_share": None if np.isnan(self.machine_open_share) else float(self.machine_open_share),
            "timezones": int((self.subscribers_by_timezone["timezone"] != "(unknown)").sum()),
            **{_ORDER_KEYS[k]: v for k, v in (self.order_lines or {}).items()},
            "data_start": None if self.data_period is None else self.data_period[0].isoformat(),
            "data_end": None if self.data_period is None else self.data_period[1].isoformat(),
        }

    def to_frame(self) -> pd.DataFrame:
        """The key numbers as a two-column frame (``metric``, ``value``)."""
        return pd.DataFrame(list(self.key_numbers().items()), columns=["metric", "value"])

    def summary(self) -> str:
        numbers = self.key_numbers()
        share = numbers["machine_open_share"]
        period = "no events" if self.data_period is None else (
            f"{self.data_period[0]:%Y-%m-%d} to {self.data_period[1]:%Y-%m-%d}")
        return "\n".join([
            f"Workspace summary ({self.method})",
            f"  data period: {period}",
            "  rows: " + ", ".join(f"{t} {r:,}" for t, r in zip(self.table_rows["table"],
                                                              self.table_rows["rows"], strict=True)),
            f"  ingests: {numbers['ingests']}, quarantined rows: {numbers['rows_quarantined']:,}, "
            f"all balanced: {numbers['all_ingests_balanced']}",
            "  machine-open share: " + ("n/a (no opens)" if share is None else f"{share:.1%}"),
            *([self.order_lines_text()] if self.order_lines else []),
        ])

    def order_lines_text(self) -> str:
        """One line on the order lines ("" without any)."""
        o = self.order_lines
        if not o:
            return ""
        returns = f", {o['return_lines']:,} of them cancellations or returns" if o["return_lines"] else ""
        return (f"order lines: {o['lines']:,} lines{returns}, in {o['orders']:,} orders of "
                f"{o['customers']:,} customers, {o['products']:,} products")

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


def _check_columns(name: str, frame: pd.DataFrame) -> None:
    missing = sorted(set(_NEEDED.get(name, ())) - set(frame.columns))
    if missing:
        raise ValidationError(f"table {name!r} is missing column(s) {', '.join(missing)}")


def _week(ts: pd.Series) -> pd.Series:
    utc = pd.to_datetime(ts, utc=True).dt.tz_localize(None)
    return (utc.dt.normalize() - pd.to_timedelta(utc.dt.day_of_week, unit="D")).rename("week")


@dataclass(frozen=True)
class _EventCounts:
    """Event aggregates both paths (pandas, Ibis) produce: weekly counts by type, weekly opens
    by machine flag, send events per campaign, and the first/last event time."""

    weekly_events: pd.DataFrame  # week, event_type, events
    weekly_machine: pd.DataFrame  # week, machine, opens
    sends: pd.Series  # campaign_id -> sends
    period: tuple[pd.Timestamp, pd.Timestamp] | None


def _event_counts_pandas(events: pd.DataFrame) -> _EventCounts:
    week = _week(events["ts"])
    weekly = events.groupby([week, events["event_type"].astype(str)]).size().rename("events")
    opens = events["event_type"] == "open"
    machine = events.loc[opens, "machine_open"].fillna(False).astype(bool).rename("machine")
    by_machine = machine.groupby([week[opens], machine]).size().rename("opens")
    campaign = events.loc[events["event_type"] == "send", "campaign_id"]
    period = None
    if len(events):
        ts = pd.to_datetime(events["ts"], utc=True)
        period = (ts.min(), ts.max())
    return _EventCounts(weekly.reset_index(), by_machine.reset_index(),
                        campaign.value_counts(), period)


def _event_counts_ibis(events: Any) -> _EventCounts:
    """The same aggregates computed by the workspace's database (portable Ibis expressions)."""
    week = events.ts.truncate("W")  # ISO weeks: Monday 00:00 in the connection's zone (UTC)
    weekly = events.group_by(week=week, event_type=events.event_type).aggregate(events=events.count())
    opens = events.filter(events.event_type == "open")
    by_machine = opens.group_by(week=opens.ts.truncate("W"), machine=opens.machine_open.fill_null(False)
                                ).aggregate(opens=opens.count())
    sends = events.filter(events.event_type == "send")
    sends = sends.group_by("campaign_id").aggregate(sends=sends.count()).to_pandas()
    bounds = events.aggregate(start=events.ts.min(), end=events.ts.max()).to_pandas().iloc[0]
    period = None
    if pd.notna(bounds["start"]):
        period = (pd.Timestamp(bounds["start"]).tz_convert("UTC"), pd.Timestamp(bounds["end"]).tz_convert("UTC"))
    return _EventCounts(weekly.to_pandas(), by_machine.to_pandas(),
                        sends.set_index("campaign_id")["sends"], period)


def _weekly_events(counts: _EventCounts) -> pd.DataFrame:
    frame = counts.weekly_events
    return pd.DataFrame({
        "week": pd.to_datetime(frame["week"]).astype("datetime64[ns]"),
        "event_type": frame["event_type"].astype(str),
        "events": frame["events"].astype("int64"),
    }).sort_values(["week", "event_type"], ignore_index=True)


def _weekly_opens(counts: _EventCounts) -> tuple[pd.DataFrame, float]:
    frame = counts.weekly_machine.assign(machine=lambda d: d["machine"].astype(bool))
    table = frame.pivot_table(index="week", columns="machine", values="opens", aggfunc="sum",
                              fill_value=0).reindex(columns=[False, True], fill_value=0)
    weekly = pd.DataFrame({"week": pd.to_datetime(table.index).astype("datetime64[ns]"),
                           "human_opens": table[False].to_numpy(dtype="int64"),
                           "machine_opens": table[True].to_numpy(dtype="int64")})
    totals = weekly["human_opens"] + weekly["machine_opens"]
    weekly["machine_share"] = weekly["machine_opens"] / totals.where(totals > 0)
    all_opens = int(totals.sum())
    share = float(weekly["machine_opens"].sum() / all_opens) if all_opens else float("nan")
    return weekly.sort_values("week", ignore_index=True), share


def _ingests(log: pd.DataFrame) -> pd.DataFrame:
    columns = list(_NEEDED["ingest_log"])
    frame = log[columns].sort_values("ingest_id", ignore_index=True)
    frame["balanced"] = frame["rows_read"] == (
        frame["rows_loaded"] + frame["rows_duplicate"] + frame["rows_quarantined"])
    return frame


def _quarantine_reasons(quarantine: pd.DataFrame) -> pd.DataFrame:
    keys = ["table_name", "column_name", "reason"]
    counts = quarantine[keys].fillna("(none)").groupby(keys).size().rename("rows").reset_index()
    return counts.sort_values(["rows", *keys], ascending=[False, True, True, True], ignore_index=True)


def _by_timezone(subscribers: pd.DataFrame) -> pd.DataFrame:
    zones = subscribers["timezone"].fillna("(unknown)").astype(str)
    counts = zones.value_counts().rename_axis("timezone").rename("subscribers").reset_index()
    counts = counts.sort_values(["subscribers", "timezone"], ascending=[False, True], ignore_index=True)
    counts["share"] = counts["subscribers"] / max(len(subscribers), 1)
    return counts


def _by_status(subscribers: pd.DataFrame) -> pd.DataFrame:
    consent = subscribers["consent"].map({True: "yes", False: "no"}).fillna("unknown")
    status = np.where(subscribers["unsubscribed_at"].notna(), "unsubscribed", "subscribed")
    frame = pd.DataFrame({"consent": consent.to_numpy(), "status": status})
    return frame.groupby(["consent", "status"]).size().rename("subscribers").reset_index()


def _campaigns(campaigns: pd.DataFrame, sends: pd.Series) -> pd.DataFrame:
    frame = campaigns[list(_NEEDED["campaigns"])].copy()
    frame["sends"] = frame["campaign_id"].map(sends).fillna(0).astype("int64")
    return frame.sort_values(["sent_at", "campaign_id"], ascending=[False, True],
                             na_position="last", ignore_index=True)


def summarize_tables(tables: Mapping[str, pd.DataFrame]) -> WorkspaceSummary:
    """Summarize workspace tables given as DataFrames (see :class:`WorkspaceSummary`).

    Parameters
    ----------
    tables
        ``events``, ``subscribers``, ``campaigns``, ``ingest_log`` and ``quarantine`` are
        required (with the canonical columns); other tables only contribute row counts.

    Raises
    ------
    ValidationError
        A required table or column is missing (all missing columns are named).
    """
    missing = sorted(set(_NEEDED) - set(tables))
    if missing:
        raise ValidationError(f"missing table(s) {', '.join(missing)}; needed: {', '.join(sorted(_NEEDED))}")
    for name, frame in tables.items():
        _check_columns(name, frame)
    events = tables["events"]
    if "campaign_id" not in events.columns:
        events = events.assign(campaign_id=None)
    rows = {name: len(frame) for name, frame in tables.items()}
    return _assemble(rows, _event_counts_pandas(events), tables, _order_lines_pandas(tables.get("order_lines")))


def _order_lines_pandas(lines: pd.DataFrame | None) -> dict[str, int] | None:
    if lines is None or lines.empty:
        return None
    negative = pd.Series(False, index=lines.index)
    for column in ("quantity", "value"):
        if column in lines.columns:
            negative |= lines[column].lt(0)
    return {"lines": len(lines), "orders": int(lines["order_id"].nunique()),
            "products": int(lines["product_id"].nunique()) if "product_id" in lines.columns else 0,
            "customers": int(lines["subscriber_id"].nunique()), "return_lines": int(negative.sum())}


def _order_lines_ibis(lines: Any) -> dict[str, int] | None:
    negative = (lines.quantity < 0).fill_null(False) | (lines.value < 0).fill_null(False)
    row = lines.aggregate(
        lines=lines.count(), orders=lines.order_id.nunique(), products=lines.product_id.nunique(),
        customers=lines.subscriber_id.nunique(), return_lines=negative.sum(),
    ).to_pyarrow().to_pylist()[0]
    if not row["lines"]:
        return None
    return {key: int(value or 0) for key, value in row.items()}


def _assemble(rows: Mapping[str, int], counts: _EventCounts,
              small: Mapping[str, pd.DataFrame], order_lines: dict[str, int] | None = None,
              absent_tables: tuple[str, ...] = ()) -> WorkspaceSummary:
    weekly_opens, share = _weekly_opens(counts)
    return WorkspaceSummary(
        table_rows=pd.DataFrame({"table": sorted(rows), "rows": [int(rows[t]) for t in sorted(rows)]}),
        ingests=_ingests(small["ingest_log"]),
        quarantine_reasons=_quarantine_reasons(small["quarantine"]),
        weekly_events=_weekly_events(counts),
        weekly_opens=weekly_opens,
        machine_open_share=share,
        subscribers_by_timezone=_by_timezone(small["subscribers"]),
        subscribers_by_status=_by_status(small["subscribers"]),
        campaigns=_campaigns(small["campaigns"], counts.sends),
        data_period=counts.period,
        order_lines=order_lines,
        absent_tables=absent_tables,
    )


def workspace_summary(ws: Any) -> WorkspaceSummary:
    """Summarize a :class:`segkit.io.Workspace` without loading the events into memory.

    Event counts are computed in the database with portable Ibis expressions (``ws.ibis()``);
    the small tables (subscribers, campaigns, ingest log, quarantine) are read with
    ``ws.table``. Gives the same result as :func:`summarize_tables` on the full tables.

    ``ws`` may be a workspace on another engine (``Workspace.connect``): zone-less timestamps are
    read as :mod:`segkit.features` reads them, and the tables it lacks (often all but
    ``events`` and ``subscribers``) are listed in ``absent_tables`` and summarized as empty.
    """
    from segkit.features._source import source_table

    tables = {name: source_table(ws, name) for name in WORKSPACE_SUMMARY_TABLES}
    if tables["events"] is None:
        raise ValidationError(f"no 'events' table in {getattr(ws, 'path', 'the source')}")
    small = {name: _empty(name) if tables[name] is None else ws.table(name)
             for name in ("campaigns", "ingest_log", "quarantine", "subscribers")}
    for name, frame in small.items():
        _check_columns(name, frame)
    rows = {name: int(table.count().execute()) for name, table in tables.items() if table is not None}
    lines = _order_lines_ibis(tables["order_lines"]) if tables["order_lines"] is not None else None
    absent = tuple(name for name, table in tables.items() if table is None)
    return _assemble(rows, _event_counts_ibis(tables["events"]), small, lines, absent)


#: dtypes of the columns an absent table is summarized with (others: text).
_EMPTY_TYPES = {"finished_at": "datetime64[us, UTC]", "sent_at": "datetime64[us, UTC]",
                "unsubscribed_at": "datetime64[us, UTC]", "rows_read": "int64", "rows_loaded": "int64",
                "rows_duplicate": "int64", "rows_quarantined": "int64", "ingest_id": "int64",
                "consent": "boolean"}


def _empty(name: str) -> pd.DataFrame:
    """Table ``name`` with no rows and the columns a summary reads."""
    return pd.DataFrame({c: pd.Series(dtype=_EMPTY_TYPES.get(c, object)) for c in _NEEDED[name]})
