"""Benchmark: `segkit ingest events` of one large CSV (the README route), time and peak RSS.

The events come from the generator of ``benchmarks/features.py`` (same columns, same mix),
written as ONE CSV file in blocks of 10M events, so generating 100M events stays in bounded
memory too. The ingest runs in a child process (peak RSS is per process) into a fresh
workspace, through :meth:`segkit.io.Workspace.ingest` exactly as the CLI calls it.

    python benchmarks/ingest.py                       # 10M events (or SEGKIT_BENCH_SMALL=1: 200k)
    python benchmarks/ingest.py --events 100000000 --dir /big/disk   # the 100M target
    python benchmarks/ingest.py --events 10000000 --events 100000000  # both, with the ratio

Targets (issue 21): peak RSS at 100M <= 4 GB; time at 100M <= 10x the time at 10M.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_result, format_mb, run_child, timer

BLOCK = 10_000_000
SUBSCRIBERS_PER_EVENT = 0.05  # 500k subscribers for 10M events, as benchmarks/features.py


def write_events_csv(path: Path, n_events: int, *, seed: int = 0) -> None:
    """Write ``n_events`` generated events to one CSV at ``path``, ``BLOCK`` events at a time."""
    import duckdb
    from features import write_generated

    n_subscribers = max(1_000, int(min(n_events, BLOCK) * SUBSCRIBERS_PER_EVENT))
    parts = []
    for block, start in enumerate(range(0, n_events, BLOCK)):
        size = min(BLOCK, n_events - start)
        con = duckdb.connect()
        write_generated(con, size, n_subscribers, seed + block)
        part = path.with_name(f"{path.name}.part{block:03d}")
        con.execute(
            f"""COPY (SELECT 'e' || ({start} + CAST(substr(event_id, 2) AS BIGINT)) AS event_id,
                       subscriber_id, event_type, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts,
                       campaign_id, value, properties
                FROM events ORDER BY CAST(substr(event_id, 2) AS BIGINT))
                TO '{part}' (HEADER {'true' if block == 0 else 'false'})"""
        )
        con.close()
        parts.append(part)
    with path.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while chunk := handle.read(1 << 24):
                    out.write(chunk)
            part.unlink()


def own_peak_rss_mb() -> float:
    """This process's peak RSS since exec (``VmHWM``), in MiB. ``ru_maxrss`` is not used: Linux
    carries the parent's high-water mark over fork and exec, and the parent generated the data."""
    status = Path("/proc/self/status").read_text().split("VmHWM:")[1].split()
    return int(status[0]) / 1024


def child_ingest(csv: Path, db: Path) -> None:
    from segkit.io import Workspace

    with timer() as took, Workspace(db) as ws:
        report = ws.ingest("events", csv)
    emit_result(seconds=took["seconds"], cpu_seconds=took["cpu_seconds"],
                own_peak_rss_mb=own_peak_rss_mb(),
                rows_read=report.rows_read, rows_loaded=report.rows_loaded,
                rows_duplicate=report.rows_duplicate, rows_quarantined=report.rows_quarantined)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true",
                        default=bool(os.environ.get("SEGKIT_BENCH_SMALL")))
    parser.add_argument("--events", type=int, action="append",
                        help="events per run (repeat for several sizes)")
    parser.add_argument("--dir", type=Path, help="where the CSV and workspace go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV files")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_ingest(args.csv, args.db)
        return 0
    sizes = args.events or [200_000 if args.small else 10_000_000]
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="segkit-bench-ingest-", dir=args.dir) as tmp:
        for n in sizes:
            csv = (args.dir or Path(tmp)) / f"events_{n}.csv"
            if not csv.exists():
                with timer() as gen:
                    write_events_csv(csv, n)
                print(f"generated {n:,} events ({csv.stat().st_size / 2**30:.2f} GiB CSV) "
                      f"in {gen['seconds']:.1f} s")
            db = Path(tmp) / f"ws_{n}.duckdb"
            result = run_child([str(Path(__file__).resolve()), "--child", "--csv", str(csv),
                                "--db", str(db)])
            results[n] = result
            print(f"ingest {n:,} events: {result['seconds']:.1f} s wall, "
                  f"{result['cpu_seconds']:.1f} s CPU, peak RSS {format_mb(result['own_peak_rss_mb'])}; "
                  f"read {result['rows_read']:,} = loaded {result['rows_loaded']:,} + duplicate "
                  f"{result['rows_duplicate']:,} + quarantined {result['rows_quarantined']:,}")
            if not args.keep and args.dir:
                csv.unlink()
            subprocess.run(["rm", "-f", str(db), f"{db}.wal"], check=False)
    if len(results) > 1:
        small, large = min(results), max(results)
        ratio = results[large]["seconds"] / results[small]["seconds"]
        print(f"time ratio {large:,}/{small:,} events: {ratio:.1f}x "
              f"(target <= {large / small:.0f}x); peak RSS at {large:,}: "
              f"{format_mb(results[large]['own_peak_rss_mb'])} (target <= 4 GB)")
    print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
