"""Benchmark: segkit's feature table (DuckDB via Ibis) against straightforward pandas.

Generates events and subscribers with vectorised numpy (no dependency on the synthetic
generator), stores them in a DuckDB file, then runs each contender in its own subprocess so peak
RSS is attributable:

* segkit: ``segkit.features.compute(ibis.duckdb.connect(db), as_of)`` (query + to pandas);
* pandas: the same features written the way an analyst would in pandas, on DataFrames already in
  memory (loading them from DuckDB is timed separately and NOT counted against pandas);
* Polars: the same features as one hand-written Polars lazy query (what a user who cares about
  speed would write), on in-memory frames, loading not counted;
* floor: one DuckDB scan reading every event column once (``max`` of each), the least an
  engine-side feature query can cost on this machine.

segkit's table is compared with pandas' and with Polars' column by column (every column, exact
for counts, 1e-9 relative for floats, NaN where NaN). Prints times, the ratios and peak RSS;
exits 1 if they disagree.

    python benchmarks/features.py            # 10M events / 500k subscribers
    python benchmarks/features.py --small    # 200k events / 10k subscribers (or SEGKIT_BENCH_SMALL=1)
    # 100M: skip the pandas peer (hours), read the database benchmarks/scale.py loaded
    python benchmarks/features.py --peers floor,segkit,polars \
        --database /path/to/scale/100000000/analysis.duckdb
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


# --------------------------------------------------------------------------- Polars peer


def polars_features(
    events, subscribers, as_of: pd.Timestamp,
    windows: tuple[int, ...] = WINDOWS, cart_hours: float = CART_HOURS, unit_days: int = 1,
):  # fmt: skip
    """The same feature table as one hand-written Polars lazy query (what a speed-minded user
    would write instead of pandas). ``events``/``subscribers`` are Polars DataFrames or
    LazyFrames with the canonical columns; returns a pandas DataFrame like ``compute``'s."""
    import polars as pl

    cut = as_of.to_pydatetime()
    day_us = 86_400_000_000
    ev = events.lazy().filter(pl.col("ts") <= cut)
    subs = subscribers.lazy()
    et, ts = pl.col("event_type"), pl.col("ts")
    human = (et == "open") & ~pl.col("machine_open").fill_null(False)
    names = {"sends": "send", "opens": "open", "clicks": "click", "purchase_count": "purchase",
             "web_visits": "web_visit", "product_views": "product_view", "cart_adds": "cart_add",
             "unsubscribes": "unsubscribe"}  # fmt: skip
    pricing = (et == "web_visit") & pl.col("properties").str.contains(PRICING_PAGE).fill_null(False)
    aggs = []
    for w in windows:
        inside = ts > (as_of - pd.Timedelta(days=w)).to_pydatetime()
        aggs += [(inside & (et == t)).sum().alias(f"{n}_{w}d") for n, t in names.items()]
        aggs += [
            (inside & human).sum().alias(f"human_opens_{w}d"),
            (inside & pricing).sum().alias(f"pricing_page_visits_{w}d"),
            pl.col("value").filter(inside & et.is_in(["purchase", "refund"])).sum()
            .alias(f"revenue_{w}d"),
            pl.col("value").filter(inside & (et == "purchase")).count().alias(f"valued_{w}d"),
        ]  # fmt: skip
    aggs += [
        ts.filter(human).max().alias("last_open"),
        ts.filter(et == "click").max().alias("last_click"),
        ts.filter(et == "purchase").max().alias("last_purchase"),
        ts.min().alias("first_event"),
        (et == "unsubscribe").any().alias("any_unsubscribe"),
    ]
    per_event = ev.group_by("subscriber_id").agg(aggs)

    touches = ev.filter(pl.col("campaign_id").is_not_null() & (human | (et == "click")))
    last = touches.group_by("subscriber_id", "campaign_id", "event_type").agg(ts.max())
    campaigns = last.group_by("subscriber_id").agg(
        [((et == kind) & (ts > (as_of - pd.Timedelta(days=w)).to_pydatetime())).sum()
         .alias(f"unique_{stem}_{w}d")
         for w in windows for kind, stem in (("open", "opens"), ("click", "clicks"))]
    )  # fmt: skip

    span = pd.Timedelta(hours=cart_hours)
    adds = ev.filter((et == "cart_add") & (ts <= (as_of - span).to_pydatetime()))
    buys = ev.filter(et == "purchase").select("subscriber_id", ts.alias("next_purchase"))
    nxt = adds.select("subscriber_id", "ts").sort("ts").join_asof(
        buys.sort("next_purchase"), left_on="ts", right_on="next_purchase", by="subscriber_id",
        strategy="forward",
    )  # fmt: skip
    abandoned = nxt.filter(
        pl.col("next_purchase").is_null() | (pl.col("next_purchase") > ts + span.to_pytimedelta())
    )
    cart = abandoned.group_by("subscriber_id").agg(
        [(ts > (as_of - pd.Timedelta(days=w)).to_pydatetime()).sum().alias(f"cart_abandonments_{w}d")
         for w in windows]
    )  # fmt: skip

    day = (ts.dt.epoch("s") // 86_400).alias("day")
    days = (ev.filter(et == "purchase").group_by("subscriber_id", day)
            .agg(pl.col("value").sum().alias("day_value")))  # fmt: skip
    buyer = days.group_by("subscriber_id").agg(
        pl.len().alias("n_days"), pl.col("day").min().alias("first_day"),
        pl.col("day").max().alias("last_day"), pl.col("day_value").sum().alias("total"),
        pl.col("day_value").sort_by("day").first().alias("first_value"),
    )  # fmt: skip
    refunds = (ev.filter(et == "refund").with_columns(day)
               .join(buyer.select("subscriber_id", "first_day"), on="subscriber_id")
               .filter(pl.col("day") > pl.col("first_day"))
               .group_by("subscriber_id").agg(pl.col("value").sum().alias("later_refunds")))  # fmt: skip
    frequency = pl.col("n_days") - 1
    repeat = pl.col("total") - pl.col("first_value") + pl.col("later_refunds").fill_null(0.0)
    as_of_day = int(as_of.timestamp() // 86_400)
    rfm = buyer.join(refunds, on="subscriber_id", how="left").select(
        "subscriber_id",
        frequency.cast(pl.Float64).alias("frequency"),
        ((pl.col("last_day") - pl.col("first_day")) / unit_days).alias("recency"),
        ((as_of_day - pl.col("first_day")) / unit_days).alias("T"),
        pl.when(frequency > 0).then(pl.max_horizontal(repeat / frequency, 0.0)).otherwise(0.0)
        .alias("monetary_value"),
    )  # fmt: skip

    zones = subs.select("subscriber_id", pl.col("timezone").alias("zone"))
    opens = (ev.filter(human).select("subscriber_id", "ts")
             .join(zones, on="subscriber_id", how="left")
             .with_columns(pl.col("zone").fill_null("UTC")))  # fmt: skip
    zone_names = sorted({"UTC", *subscribers.lazy().select("timezone").drop_nulls().unique()
                         .collect()["timezone"].to_list()})  # fmt: skip
    local = pl.concat([
        opens.filter(pl.col("zone") == zone).select(
            "subscriber_id", ts.dt.convert_time_zone(zone).dt.replace_time_zone(None).alias("local"))
        for zone in zone_names
    ])  # fmt: skip
    hour, weekday = pl.col("local").dt.hour(), pl.col("local").dt.weekday() - 1
    slots = local.group_by("subscriber_id").agg(
        [(hour == h).sum().alias(f"opens_hour_{h:02d}") for h in range(24)]
        + [(weekday == d).sum().alias(f"opens_weekday_{d}") for d in range(7)]
    )

    listed = subs.select(
        "subscriber_id", "consent", "timezone",
        (pl.col("signup_at").is_null() | (pl.col("signup_at") <= cut)).alias("listed"),
        pl.when(pl.col("signup_at") <= cut).then(pl.col("signup_at")).alias("signup"),
        (pl.col("unsubscribed_at") <= cut).fill_null(False).alias("unsubscribed_at_flag"),
    )  # fmt: skip
    known = pl.concat([
        ev.select("subscriber_id").unique(),
        listed.filter(pl.col("listed")).select("subscriber_id"),
    ]).unique()  # fmt: skip
    table = known
    for part in (per_event, campaigns, cart, rfm, slots, listed.drop("listed")):
        table = table.join(part, on="subscriber_id", how="left")

    def since(column: str) -> pl.Expr:
        return (cut - pl.col(column)).dt.total_microseconds() / day_us

    def ratio(num: str, den: str) -> pl.Expr:
        return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den)).otherwise(float("nan"))

    count_columns = [c for c in table.collect_schema().names() if c.startswith(
        ("sends_", "opens_", "human_opens_", "unique_", "clicks_", "purchase_count_", "web_visits_",
         "pricing_page_visits_", "product_views_", "cart_", "unsubscribes_", "valued_"))]  # fmt: skip
    table = table.with_columns(
        [pl.col(c).fill_null(0).cast(pl.Int64) for c in count_columns]
        + [pl.col(f"revenue_{w}d").fill_null(0.0) for w in windows]
    )
    derived = []
    for w in windows:
        derived += [
            ratio(f"unique_opens_{w}d", f"sends_{w}d").alias(f"open_rate_{w}d"),
            ratio(f"unique_clicks_{w}d", f"sends_{w}d").alias(f"click_rate_{w}d"),
            ratio(f"unique_clicks_{w}d", f"unique_opens_{w}d").alias(f"click_to_open_rate_{w}d"),
            ratio(f"revenue_{w}d", f"valued_{w}d").alias(f"average_order_value_{w}d"),
        ]
    derived += [
        since("last_open").alias("days_since_last_open"),
        since("last_click").alias("days_since_last_click"),
        since("last_purchase").alias("days_since_last_purchase"),
        ((cut - pl.min_horizontal("signup", "first_event")).dt.total_microseconds() / day_us)
        .alias("tenure_days"),
        (pl.col("unsubscribed_at_flag").fill_null(False)
         | pl.col("any_unsubscribe").fill_null(False)).alias("unsubscribed"),
    ]  # fmt: skip
    table = table.with_columns(derived).sort("subscriber_id")
    from segkit.features import feature_columns

    columns = feature_columns(windows)
    out = table.select("subscriber_id", *columns).collect().to_pandas()
    out = out.set_index("subscriber_id")
    for name in RATE_AND_DAY_COLUMNS:  # Polars keeps null for "no value"; segkit uses NaN
        for column in [c for c in columns if c.startswith(name)]:
            out[column] = out[column].astype(float)
    out["consent"] = out["consent"].astype("boolean")
    out["timezone"] = out["timezone"].astype("string")
    return out


RATE_AND_DAY_COLUMNS = ("days_since_", "tenure_days", "frequency", "recency", "T",
                        "monetary_value")  # fmt: skip


def polars_frames(path: Path):
    """The DuckDB tables as Polars DataFrames (through Arrow; not timed against Polars)."""
    import duckdb
    import polars as pl

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return (pl.from_arrow(con.sql("SELECT * FROM events").to_arrow_table()),
                pl.from_arrow(con.sql("SELECT * FROM subscribers").to_arrow_table()))  # fmt: skip
    finally:
        con.close()


def floor_scan(path: Path) -> None:
    """The floor: one DuckDB scan reading every event column once (a cheap aggregate each)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("SET enable_progress_bar = false")
        columns = [row[0] for row in con.execute("DESCRIBE events").fetchall()]
        aggregates = ", ".join(f'max("{c}")' for c in columns)
        con.execute(f"SELECT {aggregates} FROM events").fetchall()
    finally:
        con.close()


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


def child_polars(db: Path, out: Path) -> None:
    with timer() as load:
        events, subscribers = polars_frames(db)
    with timer() as t:
        frame = polars_features(events, subscribers, AS_OF)
    frame.to_parquet(out)
    emit_result(seconds=t["seconds"], cpu_seconds=t["cpu_seconds"], load_seconds=load["seconds"],
                rows=len(frame))  # fmt: skip


def child_floor(db: Path, out: Path) -> None:
    with timer() as t:
        floor_scan(db)
    emit_result(seconds=t["seconds"], cpu_seconds=t["cpu_seconds"])


#: Contenders in the order they run.
PEERS = ("floor", "segkit", "polars", "pandas")
CHILDREN = {"segkit": child_segkit, "pandas": child_pandas, "polars": child_polars,
            "floor": child_floor}  # fmt: skip


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
    parser.add_argument(
        "--peers", default=",".join(PEERS),
        help=f"comma-separated contenders to run (segkit always runs; default {','.join(PEERS)})",
    )  # fmt: skip
    parser.add_argument(
        "--database", type=Path,
        help="an existing DuckDB file with events and subscribers (e.g. benchmarks/scale.py's "
        "analysis.duckdb) instead of generating one",
    )  # fmt: skip
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        CHILDREN[args.child](args.db, args.out)
        return 0
    peers = [name for name in PEERS if name in {"segkit", *args.peers.split(",")}]
    unknown = set(args.peers.split(",")) - set(PEERS)
    if unknown:
        parser.error(f"unknown --peers {sorted(unknown)}; choose from {','.join(PEERS)}")
    n_events = args.events or (200_000 if args.small else 10_000_000)
    n_subs = args.subscribers or (10_000 if args.small else 500_000)
    with tempfile.TemporaryDirectory(prefix="segkit-bench-") as tmp:
        if args.database:
            db = args.database
            print(f"reading {db}")
        else:
            db = Path(tmp) / "bench.duckdb"
            with timer() as gen:
                import duckdb

                con = duckdb.connect(str(db))
                write_generated(con, n_events, n_subs, args.seed)
                con.close()
            print(f"generated {n_events:,} events / {n_subs:,} subscribers in {gen['seconds']:.1f} s")
        script = str(Path(__file__).resolve())
        results = {}
        for name in peers:
            out = Path(tmp) / f"{name}.parquet"
            results[name] = run_child([script, "--child", name, "--db", str(db), "--out", str(out)])
            if name != "floor":
                results[name]["frame"] = pd.read_parquet(out)
        problems = {
            peer: compare(results["segkit"]["frame"], results[peer]["frame"])
            for peer in ("pandas", "polars") if peer in results
        }  # fmt: skip
    seg = results["segkit"]
    print(f"rows: {seg['rows']:,}, columns compared: {seg['frame'].shape[1]}")
    print(
        f"segkit (DuckDB via Ibis, queries + to pandas): {seg['seconds']:.2f} s wall, "
        f"{seg['cpu_seconds']:.2f} s CPU, peak RSS {format_mb(seg['peak_rss_mb'])}"
    )
    for name, key in (("polars (lazy query, in-memory DataFrames", "polars"),
                      ("pandas (in-memory DataFrames", "pandas")):  # fmt: skip
        if key in results:
            peer = results[key]
            print(
                f"{name}; load {peer['load_seconds']:.1f} s not counted): {peer['seconds']:.2f} s "
                f"wall, {peer['cpu_seconds']:.2f} s CPU, peak RSS {format_mb(peer['peak_rss_mb'])}"
            )
    if "floor" in results:
        floor = results["floor"]
        print(
            f"floor (one DuckDB scan reading every event column once): {floor['seconds']:.2f} s "
            f"wall, {floor['cpu_seconds']:.2f} s CPU"
        )
    if "pandas" in results:
        pds = results["pandas"]
        print(
            f"speed-up over pandas: {pds['seconds'] / seg['seconds']:.1f}x wall, "
            f"{pds['cpu_seconds'] / seg['cpu_seconds']:.1f}x CPU (target >= 5x); "
            f"segkit peak RSS {format_mb(seg['peak_rss_mb'])} (target <= 4 GiB)"
        )
    if "polars" in results:
        pls = results["polars"]
        print(
            f"segkit/Polars: {seg['seconds'] / pls['seconds']:.2f} wall, "
            f"{seg['cpu_seconds'] / pls['cpu_seconds']:.2f} CPU (target <= 1)"
        )
    if "floor" in results:
        print(f"segkit/floor: {seg['seconds'] / results['floor']['seconds']:.2f} wall (target <= 2)")
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    failed = False
    for peer, found in problems.items():
        if found:
            print(f"MISMATCH between segkit and {peer}:\n  " + "\n  ".join(found))
            failed = True
        else:
            print(f"segkit and {peer} agree on every column")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
