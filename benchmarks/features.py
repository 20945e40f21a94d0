"""Benchmark: segkit's feature table (DuckDB via Ibis) against straightforward pandas.

Generates events and subscribers with vectorised numpy (no dependency on the synthetic
generator), stores them in a DuckDB file, then runs each contender in its own subprocess so peak
RSS is attributable:

* segkit: ``segkit.features.compute(ibis.duckdb.connect(db), as_of)`` (query + to pandas);
* pandas: the same features written the way an analyst would in pandas, on DataFrames already in
  memory (loading them from DuckDB is timed separately and NOT counted against pandas).

Both tables are compared column by column (every column, exact for counts, 1e-9 relative for
floats, NaN where NaN). Prints times, the speed ratio and peak RSS; exits 1 if they disagree.

    python benchmarks/features.py            # 10M events / 500k subscribers
    python benchmarks/features.py --small    # 200k events / 10k subscribers (or SEGKIT_BENCH_SMALL=1)
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_result, format_mb, run_child, timer

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
WINDOWS = (30, 90, 365)
CART_HOURS = 24
ZONES = np.array(
    ["America/New_York", "America/Los_Angeles", "America/Chicago", "Europe/London",
     "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney", "Australia/Adelaide",
     "America/Sao_Paulo", "Pacific/Auckland", "UTC"],
    dtype=object,
)  # fmt: skip
EVENT_MIX = {
    "send": 0.38, "delivery": 0.02, "open": 0.22, "click": 0.06, "purchase": 0.03,
    "web_visit": 0.12, "product_view": 0.10, "cart_add": 0.065, "unsubscribe": 0.005,
}  # fmt: skip


# --------------------------------------------------------------------------- data


def _raw_columns(n_events: int, n_subscribers: int, seed: int) -> tuple[dict, dict]:
    """Integer-coded columns drawn with numpy (strings are made by DuckDB, which is faster)."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(0.7, 1.0, n_subscribers)  # skewed activity per subscriber
    start = int((AS_OF - pd.Timedelta(days=730)).timestamp())
    end = int((AS_OF + pd.Timedelta(days=30)).timestamp())  # some events after as_of
    kind = rng.choice(len(EVENT_MIX), size=n_events, p=list(EVENT_MIX.values())).astype(np.int8)
    names = list(EVENT_MIX)
    emailish = np.isin(kind, [names.index(t) for t in ("send", "delivery", "open", "click")])
    purchase = kind == names.index("purchase")
    value = np.where(purchase, np.round(rng.lognormal(3.5, 0.8, n_events), 2), np.nan)
    value[purchase & (rng.random(n_events) < 0.02)] = np.nan  # some purchases without a value
    events = {
        "i": np.arange(n_events, dtype=np.int64),
        "owner": rng.choice(n_subscribers, size=n_events, p=weights / weights.sum()).astype(
            np.int32
        ),
        "kind": kind,
        "seconds": rng.integers(start, end, n_events),
        "campaign": np.where(emailish, rng.integers(0, 400, n_events), -1).astype(np.int16),
        "value": value,
        "machine": (kind == names.index("open")) & (rng.random(n_events) < 0.3),
        # web visits: 0 no properties, 1 the pricing page, 2 another page
        "page": np.where(
            kind == names.index("web_visit"), rng.choice(3, n_events, p=[0.5, 0.15, 0.35]), 0
        ).astype(np.int8),
    }
    signup = rng.integers(start - 365 * 86400, end, n_subscribers)
    subscribers = {
        "owner": np.arange(n_subscribers, dtype=np.int32),
        "signup": signup,
        "unsub": np.where(
            rng.random(n_subscribers) < 0.05,
            signup + rng.integers(0, 400 * 86400, n_subscribers),
            -1,
        ),
        "zone": np.where(
            rng.random(n_subscribers) < 0.03, -1, rng.integers(0, len(ZONES), n_subscribers)
        ).astype(np.int8),
        "consent": rng.random(n_subscribers) < 0.9,
    }
    return events, subscribers


def write_generated(con, n_events: int, n_subscribers: int, seed: int = 0) -> None:
    """Create canonical ``events`` and ``subscribers`` tables in the DuckDB connection ``con``."""
    events, subscribers = _raw_columns(n_events, n_subscribers, seed)
    types = "[" + ", ".join(f"'{t}'" for t in EVENT_MIX) + "]"
    zones = "[" + ", ".join(f"'{z}'" for z in ZONES) + "]"
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.register("raw_events", pd.DataFrame(events))
    con.execute(
        f"""CREATE TABLE events AS SELECT
            'e' || CAST(i AS VARCHAR) AS event_id,
            's' || lpad(CAST(owner AS VARCHAR), 7, '0') AS subscriber_id,
            {types}[kind + 1] AS event_type,
            to_timestamp(seconds) AS ts,
            CASE WHEN campaign >= 0 THEN 'c' || lpad(CAST(campaign AS VARCHAR), 3, '0') END AS campaign_id,
            CASE WHEN isnan(value) THEN NULL ELSE value END AS value,
            CASE page WHEN 1 THEN '{{"page": "pricing", "url": "/pricing"}}'
                      WHEN 2 THEN '{{"page": "home", "url": "/"}}' END AS properties,
            machine AS machine_open
        FROM raw_events"""
    )
    con.register("raw_subscribers", pd.DataFrame(subscribers))
    con.execute(
        f"""CREATE TABLE subscribers AS SELECT
            's' || lpad(CAST(owner AS VARCHAR), 7, '0') AS subscriber_id,
            CAST(NULL AS VARCHAR) AS email,
            to_timestamp(signup) AS signup_at,
            CASE WHEN zone >= 0 THEN {zones}[zone + 1] END AS timezone,
            consent,
            CASE WHEN unsub >= 0 THEN to_timestamp(unsub) END AS unsubscribed_at,
            CAST(NULL AS VARCHAR) AS attributes
        FROM raw_subscribers"""
    )
    con.unregister("raw_events")
    con.unregister("raw_subscribers")


def generate(n_events: int, n_subscribers: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The generated tables as pandas DataFrames (for small sizes and tests)."""
    import duckdb

    con = duckdb.connect()
    write_generated(con, n_events, n_subscribers, seed)
    return _fetch(con)


def _fetch(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    events = con.sql("SELECT * FROM events").to_arrow_table().to_pandas()
    subscribers = con.sql("SELECT * FROM subscribers").to_arrow_table().to_pandas()
    return events, subscribers


def read_duckdb(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return _fetch(con)
    finally:
        con.close()


# --------------------------------------------------------------------------- pandas baseline


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return numerator / denominator.where(denominator != 0)


def _cart_abandoned(events: pd.DataFrame, as_of: pd.Timestamp, hours: float) -> pd.DataFrame:
    """Cart adds judged by as_of with no purchase in [t, t + hours] (merge_asof forward)."""
    span = pd.Timedelta(hours=hours)
    adds = events.loc[
        (events.event_type == "cart_add") & (events.ts <= as_of - span), ["subscriber_id", "ts"]
    ]
    buys = events.loc[events.event_type == "purchase", ["subscriber_id", "ts"]]
    nxt = pd.merge_asof(
        adds.sort_values("ts"),
        buys.rename(columns={"ts": "next_purchase"}).assign(ts=lambda d: d.next_purchase).sort_values("ts"),
        on="ts", by="subscriber_id", direction="forward",
    )  # fmt: skip
    return nxt[nxt.next_purchase.isna() | (nxt.next_purchase > nxt.ts + span)]


def _rfm(purchases: pd.DataFrame, as_of: pd.Timestamp, unit_days: int) -> pd.DataFrame:
    day = purchases.assign(day=purchases.ts.dt.floor("D"))
    per_day = day.groupby(["subscriber_id", "day"]).value.sum().reset_index()
    g = per_day.groupby("subscriber_id")
    first, last = g.day.min(), g.day.max()
    frequency = g.size() - 1
    first_value = per_day.sort_values("day").groupby("subscriber_id").value.first()
    monetary = ((g.value.sum() - first_value) / frequency.where(frequency > 0)).fillna(0.0)
    return pd.DataFrame(
        {
            "frequency": frequency.astype(float),
            "recency": (last - first).dt.days / unit_days,
            "T": (as_of.floor("D") - first).dt.days / unit_days,
            "monetary_value": monetary,
        }
    )


def _local_opens(opens: pd.DataFrame, zones: pd.Series) -> pd.DataFrame:
    zone = opens.subscriber_id.map(zones).fillna("UTC")
    hour = pd.Series(0, index=opens.index)
    weekday = pd.Series(0, index=opens.index)
    for name, idx in opens.groupby(zone).groups.items():
        local = opens.loc[idx, "ts"].dt.tz_convert(name)
        hour[idx] = local.dt.hour
        weekday[idx] = local.dt.day_of_week
    hours = pd.crosstab(opens.subscriber_id, hour).reindex(columns=range(24), fill_value=0)
    days = pd.crosstab(opens.subscriber_id, weekday).reindex(columns=range(7), fill_value=0)
    hours.columns = [f"opens_hour_{h:02d}" for h in range(24)]
    days.columns = [f"opens_weekday_{d}" for d in range(7)]
    return hours.join(days)


PRICING_PAGE = r'(?i)"(?:page|url|path)"\s*:\s*"[^"]*pricing'


def pandas_features(
    events: pd.DataFrame, subscribers: pd.DataFrame, as_of: pd.Timestamp,
    windows: tuple[int, ...] = WINDOWS, cart_hours: float = CART_HOURS, unit_days: int = 1,
) -> pd.DataFrame:  # fmt: skip
    """The feature table in straightforward pandas (the baseline, and an independent oracle)."""
    ev = events[events.ts <= as_of]
    subs = subscribers.set_index("subscriber_id")
    known = subs.index[subs.signup_at.isna() | (subs.signup_at <= as_of)]
    index = known.union(pd.Index(ev.subscriber_id.unique())).sort_values()
    out = pd.DataFrame(index=index)
    is_open = ev.event_type == "open"
    human = is_open & ~ev.machine_open.astype(bool)
    abandoned = _cart_abandoned(ev, as_of, cart_hours)
    visits = ev[ev.event_type == "web_visit"]
    pricing = visits[visits.properties.str.contains(PRICING_PAGE, regex=True, na=False)]
    names = {"send": "sends", "open": "opens", "click": "clicks", "purchase": "purchase_count",
             "web_visit": "web_visits", "product_view": "product_views", "cart_add": "cart_adds",
             "unsubscribe": "unsubscribes"}  # fmt: skip
    for w in windows:
        inside = ev.ts > as_of - pd.Timedelta(days=w)
        e = ev[inside]
        counts = e.groupby(["subscriber_id", "event_type"]).size().unstack(fill_value=0)
        col = {
            n: counts.get(t, pd.Series(dtype="int64")).reindex(index, fill_value=0)
            for t, n in names.items()
        }
        col["human_opens"] = (
            e[human[inside]].groupby("subscriber_id").size().reindex(index, fill_value=0)
        )
        col["pricing_page_visits"] = (
            pricing[pricing.ts > as_of - pd.Timedelta(days=w)]
            .groupby("subscriber_id")
            .size()
            .reindex(index, fill_value=0)
        )
        tagged = e[e.campaign_id.notna()]
        col["unique_opens"] = (
            tagged[human[inside & ev.campaign_id.notna()]]
            .groupby("subscriber_id")
            .campaign_id.nunique()
            .reindex(index, fill_value=0)
        )
        col["unique_clicks"] = (
            tagged[tagged.event_type == "click"]
            .groupby("subscriber_id")
            .campaign_id.nunique()
            .reindex(index, fill_value=0)
        )
        buys = e[e.event_type == "purchase"].groupby("subscriber_id").value
        col["revenue"] = buys.sum().reindex(index, fill_value=0.0)
        col["open_rate"] = _ratio(col["unique_opens"], col["sends"])
        col["click_rate"] = _ratio(col["unique_clicks"], col["sends"])
        col["click_to_open_rate"] = _ratio(col["unique_clicks"], col["unique_opens"])
        col["average_order_value"] = _ratio(
            col["revenue"], buys.count().reindex(index, fill_value=0)
        )
        col["cart_abandonments"] = (
            abandoned[abandoned.ts > as_of - pd.Timedelta(days=w)]
            .groupby("subscriber_id")
            .size()
            .reindex(index, fill_value=0)
        )
        for stem in ("sends", "opens", "human_opens", "unique_opens", "clicks", "unique_clicks",
                     "open_rate", "click_rate", "click_to_open_rate", "purchase_count", "revenue",
                     "average_order_value", "web_visits", "pricing_page_visits", "product_views",
                     "cart_adds",
                     "cart_abandonments", "unsubscribes"):  # fmt: skip
            out[f"{stem}_{w}d"] = col[stem]

    def days_since(mask: pd.Series) -> pd.Series:
        last = ev[mask].groupby("subscriber_id").ts.max().reindex(index)
        return (as_of - last).dt.total_seconds() / 86400

    out["days_since_last_open"] = days_since(human)
    out["days_since_last_click"] = days_since(ev.event_type == "click")
    out["days_since_last_purchase"] = days_since(ev.event_type == "purchase")
    first_event = ev.groupby("subscriber_id").ts.min().reindex(index)
    signup = subs.signup_at.reindex(index)
    signup = signup.where(signup <= as_of)
    out["tenure_days"] = (
        as_of - pd.concat([signup, first_event], axis=1).min(axis=1)
    ).dt.total_seconds() / 86400
    out = out.join(_rfm(ev[ev.event_type == "purchase"], as_of, unit_days))
    out = out.join(_local_opens(ev[human], subs.timezone.dropna()))
    hour_cols = [
        c for c in out.columns if c.startswith("opens_hour_") or c.startswith("opens_weekday_")
    ]
    out[hour_cols] = out[hour_cols].fillna(0).astype("int64")
    unsub_event = ev[ev.event_type == "unsubscribe"].subscriber_id.unique()
    out["unsubscribed"] = (subs.unsubscribed_at.reindex(index) <= as_of).fillna(False).astype(
        bool
    ) | index.isin(unsub_event)
    out["consent"] = subs.consent.reindex(index).astype("boolean")
    out["timezone"] = subs.timezone.reindex(index).astype("string")
    out.index.name = "subscriber_id"
    return out


# --------------------------------------------------------------------------- comparison


def compare(ours: pd.DataFrame, theirs: pd.DataFrame, rtol: float = 1e-9) -> list[str]:
    """Differences between two feature tables (empty when they agree on every column)."""
    problems = []
    if not ours.index.equals(theirs.index):
        return [f"index differs: {len(ours)} vs {len(theirs)} rows"]
    missing = sorted(set(ours.columns) ^ set(theirs.columns))
    if missing:
        problems.append(f"columns only in one table: {missing}")
    for column in [c for c in ours.columns if c in theirs.columns]:
        a, b = ours[column], theirs[column]
        if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
            x, y = a.to_numpy(float), b.to_numpy(float)
            bad = ~(np.isclose(x, y, rtol=rtol, atol=1e-9) | (np.isnan(x) & np.isnan(y)))
        else:
            bad = ~((a.astype(object) == b.astype(object)) | (a.isna() & b.isna())).to_numpy(bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            problems.append(
                f"{column}: {int(bad.sum())} rows differ, e.g. {ours.index[i]}: {a.iloc[i]!r} vs {b.iloc[i]!r}"
            )
    return problems


# --------------------------------------------------------------------------- children


def child_segkit(db: Path, out: Path) -> None:
    import ibis

    from segkit.features import compute

    with timer() as t:
        con = ibis.duckdb.connect(str(db), read_only=True)
        frame = compute(con, AS_OF, windows=WINDOWS, cart_abandon_hours=CART_HOURS)
    frame.to_parquet(out)
    emit_result(seconds=t["seconds"], cpu_seconds=t["cpu_seconds"], rows=len(frame))


def child_pandas(db: Path, out: Path) -> None:
    with timer() as load:
        events, subscribers = read_duckdb(db)
    with timer() as t:
        frame = pandas_features(events, subscribers, AS_OF)
    frame.to_parquet(out)
    emit_result(
        seconds=t["seconds"],
        cpu_seconds=t["cpu_seconds"],
        load_seconds=load["seconds"],
        rows=len(frame),
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--small", action="store_true", default=bool(os.environ.get("SEGKIT_BENCH_SMALL"))
    )
    parser.add_argument("--events", type=int)
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=["segkit", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {"segkit": child_segkit, "pandas": child_pandas}[args.child](args.db, args.out)
        return 0
    n_events = args.events or (200_000 if args.small else 10_000_000)
    n_subs = args.subscribers or (10_000 if args.small else 500_000)
    with tempfile.TemporaryDirectory(prefix="segkit-bench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        with timer() as gen:
            import duckdb

            con = duckdb.connect(str(db))
            write_generated(con, n_events, n_subs, args.seed)
            con.close()
        print(f"generated {n_events:,} events / {n_subs:,} subscribers in {gen['seconds']:.1f} s")
        script = str(Path(__file__).resolve())
        results = {}
        for name in ("segkit", "pandas"):
            out = Path(tmp) / f"{name}.parquet"
            results[name] = run_child([script, "--child", name, "--db", str(db), "--out", str(out)])
            results[name]["frame"] = pd.read_parquet(out)
        problems = compare(results["segkit"]["frame"], results["pandas"]["frame"])
    seg, pds = results["segkit"], results["pandas"]
    print(f"rows: {seg['rows']:,}, columns compared: {seg['frame'].shape[1]}")
    print(
        f"segkit (DuckDB via Ibis, queries + to pandas): {seg['seconds']:.2f} s wall, "
        f"{seg['cpu_seconds']:.2f} s CPU, peak RSS {format_mb(seg['peak_rss_mb'])}"
    )
    print(
        f"pandas (in-memory DataFrames; load {pds['load_seconds']:.1f} s not counted): "
        f"{pds['seconds']:.2f} s wall, {pds['cpu_seconds']:.2f} s CPU, peak RSS {format_mb(pds['peak_rss_mb'])}"
    )
    print(
        f"speed-up: {pds['seconds'] / seg['seconds']:.1f}x wall, "
        f"{pds['cpu_seconds'] / seg['cpu_seconds']:.1f}x CPU (target >= 5x); "
        f"segkit peak RSS {format_mb(seg['peak_rss_mb'])} (target <= 4 GiB)"
    )
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if problems:
        print("MISMATCH between segkit and pandas:\n  " + "\n  ".join(problems))
        return 1
    print("segkit and pandas agree on every column")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
