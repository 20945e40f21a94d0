"""Benchmark: erasure, re-ingest suppression and retention on a synthetic workspace.

Contenders, in the same run, on two copies of one workspace:

* segkit: ``forget(ws, ids)`` -- discovers every subscriber table, quarantine, audit, suppression,
  one transaction, then rewrites the file (compaction);
* baseline: the SQL an analyst would write by hand -- ``DELETE`` from events, subscribers and
  assignments in one transaction, then ``CHECKPOINT``.

Both must delete the same rows from those three tables. The script also checks the file bytes
for a planted email after each (the baseline leaves it in free blocks) when the email is
findable before erasure at all (in large files DuckDB compresses the column), and times an events
ingest with a non-empty suppression list against one without, and ``prune``.

    python benchmarks/privacy.py            # 20,000 subscribers
    python benchmarks/privacy.py --small    # 2,000 (or SEGKIT_BENCH_SMALL=1)
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, timer

from segkit.datasets import synthetic
from segkit.io import Workspace
from segkit.privacy import forget, prune

N_FORGET = 25
CANARY = "benchmark.canary.5c1e9a7f3d20b846@erasure-check.example.org"


def _build(path: Path, n: int) -> tuple[list[str], pd.DataFrame]:
    data = synthetic(n, seed=11)
    subscribers = data.subscribers.copy()
    ids = subscribers["subscriber_id"].iloc[:: max(1, n // N_FORGET)].iloc[:N_FORGET].tolist()
    subscribers.loc[subscribers["subscriber_id"] == ids[0], "email"] = CANARY
    with Workspace(path) as ws:
        ws.ingest("subscribers", subscribers)
        ws.ingest("campaigns", data.campaigns)
        ws.ingest("events", data.events)
        ws.connection.execute("CHECKPOINT")
    return ids, data.events


def _in_file(path: Path) -> bool:
    wal = path.with_name(path.name + ".wal")
    blob = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    return CANARY.encode() in blob


def _baseline(path: Path, ids: list[str]) -> dict[str, int]:
    with Workspace(path) as ws:
        con = ws.connection
        con.register("ids", pd.DataFrame({"subscriber_id": ids}))
        con.execute("BEGIN TRANSACTION")
        counts = {table: con.execute(f"DELETE FROM {table} WHERE subscriber_id IN "
                                     "(SELECT subscriber_id FROM ids)").fetchall()[0][0]
                  for table in ("events", "subscribers", "assignments")}
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2,000 subscribers")
    args = parser.parse_args()
    n = 2_000 if args.small or os.environ.get("SEGKIT_BENCH_SMALL") else 20_000
    root = Path(tempfile.mkdtemp(prefix="segkit-bench-privacy-"))
    try:
        ids, events = _build(root / "ours.duckdb", n)
        shutil.copy(root / "ours.duckdb", root / "theirs.duckdb")
        size_mb = (root / "ours.duckdb").stat().st_size / 2**20
        print(f"workspace: {n:,} subscribers, {len(events):,} events, {size_mb:.1f} MiB; "
              f"forgetting {len(ids)} subscribers")
        control = _in_file(root / "ours.duckdb")
        with timer() as t_base:
            base = _baseline(root / "theirs.duckdb", ids)
        with Workspace(root / "ours.duckdb") as ws, timer() as t_ours:
            report = forget(ws, ids, at=pd.Timestamp("2025-01-02", tz="UTC"))
        ours = report.to_frame().set_index("table")["rows"]
        for table, rows in base.items():
            assert ours[table] == rows, f"{table}: segkit {ours[table]} vs baseline {rows}"
        print(f"forget  segkit {t_ours['seconds']:.2f} s (incl. compaction)  baseline "
              f"{t_base['seconds']:.2f} s  ratio {t_ours['seconds'] / t_base['seconds']:.1f}x; "
              f"rows removed agree ({sum(base.values()):,})")
        if control:
            print(f"canary email left in file bytes: segkit {_in_file(root / 'ours.duckdb')}, "
                  f"baseline {_in_file(root / 'theirs.duckdb')}")
        else:  # DuckDB compressed the column (FSST): a byte search cannot tell either way
            print("canary email not findable in the file bytes even before erasure "
                  "(string compression); byte check skipped")
        with Workspace(root / "ours.duckdb") as ws, timer() as t_sup:
            sup = ws.ingest("events", events)
        with Workspace(root / "theirs.duckdb") as ws, timer() as t_plain:
            ws.ingest("events", events)
        print(f"re-ingest of all events  with suppression {t_sup['seconds']:.2f} s  without "
              f"{t_plain['seconds']:.2f} s  ({sup.rows_suppressed:,} rows suppressed)")
        with Workspace(root / "ours.duckdb") as ws, timer() as t_prune:
            pruned = prune(ws, "180d", pd.Timestamp("2025-01-01", tz="UTC"))
        print(f"prune 180d  {t_prune['seconds']:.2f} s  ({pruned.total_rows:,} rows)")
        print(f"peak RSS {peak_rss_mb():.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
