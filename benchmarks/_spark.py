"""Spark local: ``features.compute`` through ``Workspace.connect`` on Parquet files, timed, and
compared with DuckDB's table (to 1e-9).

The hook :func:`spark_features` is what ``benchmarks/scale.py`` calls for its Spark step (10M
events); run alone it generates the ``benchmarks/features.py`` data as Parquet and measures::

    python benchmarks/_spark.py --events 1000000          # Spark local[2] vs DuckDB, 1M events

Times are wall clock of the Python driver; Spark's work happens in its JVM (a child process),
so the driver's CPU time and peak RSS say little: the JVM's heap is bounded by
``driver_memory`` instead.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_seconds
from features import AS_OF, CART_HOURS, WINDOWS, compare

__all__ = ["spark_features", "spark_session"]


def spark_session(master: str = "local[2]", driver_memory: str = "4g") -> Any:
    """A Spark session in UTC (the zone segkit needs for Spark's zone-less timestamps)."""
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master(master)
        .appName("segkit-bench")
        .config("spark.driver.memory", driver_memory)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def spark_features(
    paths: dict[str, Path],
    as_of: pd.Timestamp = AS_OF,
    *,
    windows: tuple[int, ...] = WINDOWS,
    cart_hours: float = CART_HOURS,
    master: str = "local[2]",
    driver_memory: str = "4g",
    keep_frame: bool = False,
) -> dict[str, Any]:
    """Time ``features.compute`` on Spark over ``paths["events"]`` and ``paths["subscribers"]``
    (Parquet files, read by Spark as temporary views).

    Returns ``{"seconds", "cpu_seconds", "startup_seconds", "rows", "columns"}`` (JSON-friendly,
    for ``emit_result``), plus ``"frame"`` with ``keep_frame``. ``seconds`` is the compute alone
    (``cpu_seconds`` the Python driver's share of it; Spark works in its JVM);
    ``startup_seconds`` the session start and the views. A missing pyspark or Java gives
    ``{"skipped": reason}``.
    """
    import shutil

    try:
        import pyspark  # noqa: F401
    except ImportError:
        return {"skipped": "pyspark is not installed (pip install 'segkit[spark]')"}
    if shutil.which("java") is None:
        return {"skipped": "Java is not installed (apt-get install default-jre-headless)"}
    import ibis

    from segkit.features import compute
    from segkit.io import Workspace

    started = time.perf_counter()
    session = spark_session(master, driver_memory)
    try:
        for name in ("events", "subscribers"):
            session.read.parquet(str(paths[name])).createOrReplaceTempView(name)
        workspace = Workspace.connect(ibis.pyspark.connect(session))
        startup = time.perf_counter() - started
        began, began_cpu = time.perf_counter(), cpu_seconds()
        frame = compute(workspace, as_of, windows=windows, cart_abandon_hours=cart_hours)
        seconds, cpu = time.perf_counter() - began, cpu_seconds() - began_cpu
    finally:
        session.stop()
    result: dict[str, Any] = {"seconds": seconds, "cpu_seconds": cpu, "startup_seconds": startup,
                              "rows": len(frame), "columns": frame.shape[1]}
    if keep_frame:
        result["frame"] = frame
    return result


def _write_parquet(n_events: int, n_subscribers: int, folder: Path, seed: int) -> dict[str, Path]:
    import duckdb
    from features import write_generated

    con = duckdb.connect()
    write_generated(con, n_events, n_subscribers, seed)
    paths = {name: folder / f"{name}.parquet" for name in ("events", "subscribers")}
    for name, path in paths.items():
        con.execute(f"COPY {name} TO '{path}' (FORMAT parquet)")
    con.close()
    return paths


def _duckdb_features(paths: dict[str, Path]) -> tuple[pd.DataFrame, float]:
    import ibis

    from segkit.features import compute

    con = ibis.duckdb.connect()
    for name, path in paths.items():
        con.read_parquet(path, table_name=name)
    began = time.perf_counter()
    frame = compute(con, AS_OF, windows=WINDOWS, cart_abandon_hours=CART_HOURS)
    return frame, time.perf_counter() - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--subscribers", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    n_subs = args.subscribers or max(args.events // 20, 1)
    with tempfile.TemporaryDirectory(prefix="segkit-spark-") as tmp:
        paths = _write_parquet(args.events, n_subs, Path(tmp), args.seed)
        spark = spark_features(paths, master=args.master, keep_frame=True)
        if "skipped" in spark:
            print(f"Spark skipped: {spark['skipped']}")
            return 0
        duck, duck_seconds = _duckdb_features(paths)
    problems = compare(spark["frame"], duck)
    print(f"{args.events:,} events, {n_subs:,} subscribers; {spark['rows']:,} rows x "
          f"{spark['columns']} columns")
    print(f"Spark {args.master}: features.compute {spark['seconds']:.1f} s "
          f"(+ {spark['startup_seconds']:.1f} s session start and Parquet views)")
    print(f"DuckDB (in-memory, same Parquet): features.compute {duck_seconds:.1f} s")
    print("equal to DuckDB's table (1e-9): " + ("yes" if not problems else "NO"))
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
