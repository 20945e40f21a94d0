"""Benchmark: segkit at 10M and 100M events on one machine (issue 21 targets).

For each size the events are generated as ONE Parquet file in bounded memory (subscriber blocks
of the ``benchmarks/features.py`` generator, each written as row groups), then every step runs
in its own subprocess so its time and peak RSS are its own:

* ``ingest``: ``Workspace.ingest`` of the subscribers and the events Parquet (the route of
  ``segkit ingest events``) into a fresh workspace; the child runs under an address-space limit
  (``--ingest-limit-gb``) so an ingest that is not bounded fails instead of exhausting the
  shared machine;
* ``features``: ``features.compute`` on a DuckDB database loaded from the same Parquet;
* ``features_expr``: ``features.compute_expr(...).to_parquet`` (the table never reaches Python);
* ``sendtime``: ``sendtime.recommend`` on the same database;
* ``sendtime_pandas`` (10M only): the plain pandas per-subscriber mode of the human-open local
  hour, the peer the issue names, on events already in memory (their loading is reported, not
  counted);
* ``frequency``: ``sendtime.frequency.analyze`` (volume response, caps, fatigue flags) on the
  same database;
* ``clv``: ``features.rfm`` then BG/NBD, Pareto/NBD and Gamma-Gamma fits;
* ``spark`` (10M, optional): ``features.compute`` on Spark local when pyspark and a segkit
  Spark entry point (``Workspace.connect``) exist; skipped with a note otherwise.

DuckDB runs with ``memory_limit`` 4GB (``SEGKIT_BENCH_DUCKDB_MEMORY``) in every step: its
default, 80% of the RAM, is not what a shared machine should allow.
Prints time and peak RSS per step and size, the 100M/10M ratios and the issue's targets.
Data live under ``--data`` (default /work/bench-data/scale) and are deleted afterwards unless
``--keep`` (``--reuse`` runs the steps again on kept data). Steps over ~20M events must run while holding the machine's big-memory lock::

    flock /work/wt/bigmem.lock python benchmarks/scale.py --sizes 10M,100M
    python benchmarks/scale.py --small        # 200k and 1M events, a smoke run
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_result, format_mb, run_child, timer
from features import AS_OF, CART_HOURS, EVENT_MIX, WINDOWS, ZONES, _raw_columns

#: Events per subscriber (as in benchmarks/features.py: 10M events, 500k subscribers).
EVENTS_PER_SUBSCRIBER = 20
#: Events generated and written per block (bounds the generator's memory).
BLOCK_EVENTS = 2_000_000
#: DuckDB's memory limit in every step (its default, 80% of RAM, is not for a shared machine).
DUCKDB_MEMORY_LIMIT = os.environ.get("SEGKIT_BENCH_DUCKDB_MEMORY", "4GB")
STEPS = ("ingest", "features", "features_expr", "sendtime", "sendtime_pandas", "frequency", "clv",
         "spark")
TYPES = "[" + ", ".join(f"'{t}'" for t in EVENT_MIX) + "]"
ZONE_LIST = "[" + ", ".join(f"'{z}'" for z in ZONES) + "]"


def parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


# --------------------------------------------------------------------------- data


def generate(n_events: int, directory: Path, seed: int = 0) -> dict[str, Path]:
    """``events.parquet`` and ``subscribers.parquet`` in ``directory``, block by block."""
    import duckdb
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    paths = {"events": directory / "events.parquet", "subscribers": directory / "subscribers.parquet"}
    n_subs = max(n_events // EVENTS_PER_SUBSCRIBER, 1)
    n_blocks = max(1, -(-n_events // BLOCK_EVENTS))
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    writers: dict[str, pq.ParquetWriter] = {}
    try:
        for block in range(n_blocks):
            lo_e, hi_e = block * n_events // n_blocks, (block + 1) * n_events // n_blocks
            lo_s, hi_s = block * n_subs // n_blocks, (block + 1) * n_subs // n_blocks
            events, subscribers = _raw_columns(hi_e - lo_e, hi_s - lo_s, seed * 100_003 + block)
            events["i"] += lo_e
            events["owner"] = events["owner"].astype(np.int64) + lo_s
            subscribers["owner"] = subscribers["owner"].astype(np.int64) + lo_s
            con.register("raw_events", pd.DataFrame(events))
            con.register("raw_subscribers", pd.DataFrame(subscribers))
            tables = {
                "events": con.sql(f"""SELECT
                    'e' || CAST(i AS VARCHAR) AS event_id,
                    's' || lpad(CAST(owner AS VARCHAR), 8, '0') AS subscriber_id,
                    {TYPES}[kind + 1] AS event_type,
                    to_timestamp(seconds) AS ts,
                    CASE WHEN campaign >= 0 THEN 'c' || lpad(CAST(campaign AS VARCHAR), 3, '0') END
                        AS campaign_id,
                    CASE WHEN isnan(value) THEN NULL ELSE value END AS value,
                    CASE page WHEN 1 THEN '{{"page": "pricing", "url": "/pricing"}}'
                              WHEN 2 THEN '{{"page": "home", "url": "/"}}' END AS properties
                    FROM raw_events""").to_arrow_table(),
                "subscribers": con.sql(f"""SELECT
                    's' || lpad(CAST(owner AS VARCHAR), 8, '0') AS subscriber_id,
                    's' || lpad(CAST(owner AS VARCHAR), 8, '0') || '@example.com' AS email,
                    to_timestamp(signup) AS signup_at,
                    CASE WHEN zone >= 0 THEN {ZONE_LIST}[zone + 1] END AS timezone,
                    consent,
                    CASE WHEN unsub >= 0 THEN to_timestamp(unsub) END AS unsubscribed_at
                    FROM raw_subscribers""").to_arrow_table(),
            }
            con.unregister("raw_events")
            con.unregister("raw_subscribers")
            for name, table in tables.items():
                if name not in writers:
                    writers[name] = pq.ParquetWriter(paths[name], table.schema)
                writers[name].write_table(table, row_group_size=500_000)
            del events, subscribers, tables
    finally:
        for writer in writers.values():
            writer.close()
        con.close()
    return paths


def load_database(paths: dict[str, Path], db: Path) -> None:
    """A DuckDB file with canonical ``events`` (machine opens flagged by the ingest rule) and
    ``subscribers`` tables, loaded straight from the Parquet (what the analysis steps read)."""
    import duckdb

    from segkit.io._machine import DEFAULT_MACHINE_OPEN_SECONDS, refresh_machine_opens

    con = duckdb.connect(str(db), config={"memory_limit": DUCKDB_MEMORY_LIMIT})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"CREATE TABLE events AS SELECT *, CAST(NULL AS BOOLEAN) AS machine_open "
                    f"FROM read_parquet('{paths['events']}')")  # fmt: skip
        con.execute(f"CREATE TABLE subscribers AS SELECT * FROM read_parquet('{paths['subscribers']}')")
        con.execute("CREATE TABLE _affected AS SELECT subscriber_id FROM subscribers")
        refresh_machine_opens(con, "_affected", DEFAULT_MACHINE_OPEN_SECONDS)
        con.execute("DROP TABLE _affected")
        con.execute("UPDATE events SET machine_open = false WHERE machine_open IS NULL")
    finally:
        con.close()


# --------------------------------------------------------------------------- steps (children)


def step_ingest(paths: dict[str, Path], db: Path, work: Path) -> dict:
    from segkit.io import Workspace

    target = work / "ingested.duckdb"
    target.unlink(missing_ok=True)
    with timer() as t, Workspace(target) as ws:
        subs = ws.ingest("subscribers", paths["subscribers"])
        events = ws.ingest("events", paths["events"])
    target.unlink(missing_ok=True)
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"],
            "rows": events.rows_loaded + subs.rows_loaded}  # fmt: skip


def _backend(db: Path):
    import ibis

    return ibis.duckdb.connect(str(db), read_only=True, memory_limit=DUCKDB_MEMORY_LIMIT)


def step_features(paths: dict[str, Path], db: Path, work: Path) -> dict:
    from segkit.features import compute

    with timer() as t:
        frame = compute(_backend(db), AS_OF, windows=WINDOWS, cart_abandon_hours=CART_HOURS)
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(frame)}


def step_features_expr(paths: dict[str, Path], db: Path, work: Path) -> dict:
    import pyarrow.parquet as pq

    from segkit.features import compute_expr

    out = work / "features.parquet"
    with timer() as t:
        expr = compute_expr(_backend(db), AS_OF, windows=WINDOWS, cart_abandon_hours=CART_HOURS)
        expr.to_parquet(out)
    rows = pq.read_metadata(out).num_rows
    out.unlink()
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": rows}


class _DuckDBTables:
    """The analysis database seen as a workspace (``.table``/``.ibis``), read-only."""

    def __init__(self, db: Path) -> None:
        self._backend = _backend(db)

    def ibis(self):
        return self._backend

    def table(self, name: str) -> pd.DataFrame:
        return self._backend.table(name).to_pyarrow().to_pandas()


def step_sendtime(paths: dict[str, Path], db: Path, work: Path) -> dict:
    from segkit.sendtime import recommend

    with timer() as t:
        frame = recommend(_DuckDBTables(db), AS_OF)
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(frame)}


def step_sendtime_pandas(paths: dict[str, Path], db: Path, work: Path) -> dict:
    """The plain pandas per-subscriber mode (benchmarks/sendtime.py), data read first (timed)."""
    from sendtime import pandas_mode

    with timer() as load:
        backend = _backend(db)
        events = backend.table("events").select("subscriber_id", "event_type", "ts",
                                                "machine_open").to_pyarrow().to_pandas()  # fmt: skip
        subscribers = backend.table("subscribers").to_pyarrow().to_pandas()
    with timer() as t:
        events = events[events["ts"] <= AS_OF]
        subscribers["timezone"] = subscribers["timezone"].fillna("UTC")
        modes = pandas_mode({"events": events, "subscribers": subscribers})
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(modes),
            "load_seconds": load["seconds"]}  # fmt: skip


def step_frequency(paths: dict[str, Path], db: Path, work: Path) -> dict:
    from segkit.sendtime.frequency import analyze

    with timer() as t:
        result = analyze(_DuckDBTables(db), AS_OF)
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(result.subscribers)}


def step_clv(paths: dict[str, Path], db: Path, work: Path) -> dict:
    import warnings

    from segkit.clv import BetaGeo, GammaGamma, ParetoNBD
    from segkit.features import rfm

    times = {}
    with timer() as t:
        with timer() as tr:
            data = rfm(_backend(db), AS_OF)
        times["rfm_seconds"] = tr["seconds"]
        x, tx, age, m = (data[c].to_numpy(float) for c in ("frequency", "recency", "T",
                                                          "monetary_value"))  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, model in (("bgnbd", BetaGeo), ("pnbd", ParetoNBD)):
                with timer() as tm:
                    model().fit(x, tx, age)
                times[f"{name}_seconds"] = tm["seconds"]
            buyers = (x > 0) & (m > 0)
            with timer() as tm:
                GammaGamma().fit(x[buyers], m[buyers])
            times["gg_seconds"] = tm["seconds"]
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(data), **times}


def step_spark(paths: dict[str, Path], db: Path, work: Path) -> dict:
    """``features.compute`` on Spark local[2] through ``Workspace.connect`` (benchmarks/_spark.py);
    the time is the compute alone, the session start is reported beside it."""
    from _spark import spark_features

    return spark_features(paths, AS_OF, windows=WINDOWS, cart_hours=CART_HOURS)


def child(step: str, data: Path, limit_gb: float | None) -> None:
    if limit_gb:
        limit = int(limit_gb * 2**30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    paths = {"events": data / "events.parquet", "subscribers": data / "subscribers.parquet"}
    result = globals()[f"step_{step}"](paths, data / "analysis.duckdb", data)
    emit_result(**result)


# --------------------------------------------------------------------------- driver


def run_size(n_events: int, root: Path, steps: list[str], args) -> dict[str, dict]:
    data = root / f"{n_events}"
    paths = {"events": data / "events.parquet", "subscribers": data / "subscribers.parquet"}
    database = data / "analysis.duckdb"
    header = f"\n## {n_events:,} events, {n_events // EVENTS_PER_SUBSCRIBER:,} subscribers: "
    if args.reuse and database.exists() and all(p.exists() for p in paths.values()):
        size_mb = sum(p.stat().st_size for p in paths.values()) / 2**20
        print(f"{header}reusing {format_mb(size_mb)} of Parquet and the analysis database in "
              f"{data}", flush=True)  # fmt: skip
    else:
        with timer() as gen:
            paths = generate(n_events, data, args.seed)
        size_mb = sum(p.stat().st_size for p in paths.values()) / 2**20
        print(f"{header}generated {format_mb(size_mb)} of Parquet in {gen['seconds']:.1f} s",
              flush=True)  # fmt: skip
        with timer() as load:
            load_database(paths, database)
        print(f"   analysis database loaded from Parquet in {load['seconds']:.1f} s", flush=True)
    results = {}
    for step in steps:
        if step in ("sendtime_pandas", "spark") and n_events > args.peer_max:
            continue
        cmd = [__file__, "--child", step, "--data", str(data)]
        if step == "ingest" and args.ingest_limit_gb:
            cmd += ["--limit-gb", str(args.ingest_limit_gb)]
        try:
            result = run_child(cmd)
        except RuntimeError as error:
            last = str(error).strip().splitlines()[-1][:200]
            result = {"failed": last}
        results[step] = result
        print("   " + describe(step, result), flush=True)
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    return results


def describe(step: str, result: dict) -> str:
    if "skipped" in result:
        return f"{step:<16} skipped: {result['skipped']}"
    if "failed" in result:
        return f"{step:<16} FAILED: {result['failed']}"
    extra = ""
    if "load_seconds" in result:
        extra = f"  (+ {result['load_seconds']:.1f} s loading 4 event columns, not counted)"
    if step == "clv":
        extra = "  (" + ", ".join(f"{k[:-8]} {result[k]:.1f} s" for k in result
                                  if k.endswith("_seconds") and k != "cpu_seconds") + ")"  # fmt: skip
    return (f"{step:<16} {result['seconds']:8.1f} s wall {result['cpu_seconds']:8.1f} s CPU  "
            f"peak RSS {format_mb(result['peak_rss_mb']):>9}  rows {result.get('rows', 0):,}{extra}")  # fmt: skip


def verdicts(by_size: dict[int, dict[str, dict]]) -> list[str]:
    """The issue's targets against what was measured."""
    lines = []
    sizes = sorted(by_size)
    small, big = sizes[0], sizes[-1]
    ok = lambda step, n: step in by_size[n] and "seconds" in by_size[n][step]  # noqa: E731
    if len(sizes) > 1:
        factor = big / small
        for step, rss_target in (("features", 6), ("features_expr", 6), ("ingest", 4),
                                 ("sendtime", 6), ("clv", None)):  # fmt: skip
            if ok(step, small) and ok(step, big):
                ratio = by_size[big][step]["seconds"] / by_size[small][step]["seconds"]
                rss = by_size[big][step]["peak_rss_mb"] / 1024
                text = f"{step}: {big:,}/{small:,} time ratio {ratio:.1f}x (target <= {factor:.0f}x)"
                if rss_target:
                    text += f", peak RSS {rss:.2f} GiB (target <= {rss_target} GB)"
                lines.append(text)
    for n in sizes:
        if ok("sendtime", n) and ok("sendtime_pandas", n):
            seg, pds = by_size[n]["sendtime"]["seconds"], by_size[n]["sendtime_pandas"]["seconds"]
            verdict = "met" if seg < pds else "MISSED"
            lines.append(f"sendtime at {n:,}: segkit {seg:.1f} s vs pandas per-subscriber mode "
                         f"{pds:.1f} s ({verdict}: segkit must be faster)")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10M,100M", help="comma-separated, e.g. 10M,100M")
    parser.add_argument("--small", action="store_true",
                        default=bool(os.environ.get("SEGKIT_BENCH_SMALL")),
                        help="a smoke run at 200k and 1M events")  # fmt: skip
    parser.add_argument("--steps", default=",".join(STEPS), help=f"subset of {','.join(STEPS)}")
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/scale"))
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse data kept by an earlier --keep run (same seed) instead of "
                             "generating it again; implies --keep")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ingest-limit-gb", type=float, default=12.0,
                        help="address-space limit of the ingest child (0: none)")  # fmt: skip
    parser.add_argument("--peer-max", type=parse_size, default=parse_size("10M"),
                        help="largest size for the pandas send-time peer and Spark")  # fmt: skip
    parser.add_argument("--child", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--limit-gb", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.limit_gb)
        return 0
    sizes = [200_000, 1_000_000] if args.small else [parse_size(s) for s in args.sizes.split(",")]
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown step(s) {unknown}; valid: {', '.join(STEPS)}")
    args.keep = args.keep or args.reuse
    started = time.time()
    by_size = {n: run_size(n, args.data, steps, args) for n in sizes}
    print(f"\n## targets ({time.time() - started:.0f} s in all; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
    for line in verdicts(by_size):
        print("   " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
