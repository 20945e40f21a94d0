"""Benchmark: segkit.recommend.Cooccurrence fit + top-10 vs a plain scipy.sparse implementation.

Generates purchases (numpy, seeded): ``--subscribers`` subscribers, ``--items`` items with
Zipf-like popularity in 200 taste groups (each subscriber buys mostly inside one group), and
``--interactions`` rows over 2024. Each contender runs in its own subprocess on the same data so
peak RSS is attributable; data generation is not timed.

* segkit: ``Cooccurrence(similarity="cosine", shrinkage=10, neighbours=100).fit(frame, as_of)``
  then ``recommend(k=10)`` for every subscriber (popularity fallback, labelled rows);
* scipy: the same cosine co-occurrence written directly with scipy.sparse (codes already
  integers, no shrinkage, no pruning, no fallback) and top-10 by argpartition in batches.

Target (issue 22): 1M subscribers x 20k items from 20M interactions in <= 60 s and <= 6 GB.

    .venv/bin/python benchmarks/recommend.py            # 1M x 20k, 20M interactions
    .venv/bin/python benchmarks/recommend.py --small    # 50k x 5k, 1M interactions
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import emit_result, format_mb, run_child, timer

AS_OF = pd.Timestamp("2025-01-01", tz="UTC")
GROUPS = 200


def generate(subscribers: int, items: int, interactions: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    user = rng.integers(0, subscribers, interactions)
    group_of_user = rng.integers(0, GROUPS, subscribers)
    in_group = rng.random(interactions) < 0.7
    rank = np.minimum(rng.zipf(1.3, interactions) - 1, items // GROUPS - 1)
    grouped = group_of_user[user] * (items // GROUPS) + rank
    anywhere = np.minimum(rng.zipf(1.2, interactions) - 1, items - 1)
    item = np.where(in_group, grouped, anywhere)
    ts = AS_OF - pd.to_timedelta(rng.integers(1, 365 * 86400, interactions), unit="s")
    return pd.DataFrame({"subscriber_id": user, "product_id": item, "ts": ts})


def run_segkit(frame: pd.DataFrame) -> dict[str, object]:
    from segkit.recommend import Cooccurrence

    with timer() as t:
        recs = Cooccurrence(similarity="cosine", shrinkage=10, neighbours=100).fit(frame, AS_OF).recommend(k=10)
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": len(recs)}


def run_scipy(frame: pd.DataFrame) -> dict[str, object]:
    from scipy import sparse

    with timer() as t:
        users, items = frame["subscriber_id"].to_numpy(), frame["product_id"].to_numpy()
        shape = (users.max() + 1, items.max() + 1)
        x = sparse.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=shape)
        x.data[:] = 1.0  # duplicates summed: back to binary
        counts = (x.T @ x).tocsr()
        counts.setdiag(0)
        counts.eliminate_zeros()
        norm = 1.0 / np.sqrt(np.maximum(np.asarray(x.sum(axis=0)).ravel(), 1.0))
        sim = sparse.diags(norm) @ counts @ sparse.diags(norm)
        rows = 0
        batch = max(1, 20_000_000 // shape[1])
        for start in range(0, shape[0], batch):
            scores = (x[start:start + batch] @ sim).toarray()
            np.argpartition(-scores, 9, axis=1)[:, :10]
            rows += len(scores) * 10
    return {"seconds": t["seconds"], "cpu_seconds": t["cpu_seconds"], "rows": rows}


def child(args: argparse.Namespace) -> None:
    frame = generate(args.subscribers, args.items, args.interactions)
    result = (run_segkit if args.child == "segkit" else run_scipy)(frame)
    emit_result(**result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--interactions", type=int, default=20_000_000)
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--child", choices=["segkit", "scipy"])
    args = parser.parse_args()
    if args.small or os.environ.get("SEGKIT_BENCH_SMALL") == "1":
        args.subscribers, args.items, args.interactions = 50_000, 5_000, 1_000_000
    if args.child:
        child(args)
        return
    sizes = ["--subscribers", str(args.subscribers), "--items", str(args.items),
             "--interactions", str(args.interactions)]
    print(f"{args.subscribers:,} subscribers x {args.items:,} items, {args.interactions:,} interactions")
    results = {name: run_child([__file__, *sizes, "--child", name]) for name in ("segkit", "scipy")}
    for name, res in results.items():
        print(f"{name:>7}: {res['seconds']:7.1f} s wall, {res['cpu_seconds']:7.1f} s CPU, "
              f"peak {format_mb(float(res['peak_rss_mb']))}")
    seg, ref = results["segkit"], results["scipy"]
    print(f"ratios segkit/scipy: wall {seg['seconds'] / ref['seconds']:.2f}, "
          f"CPU {seg['cpu_seconds'] / ref['cpu_seconds']:.2f}, "
          f"peak memory {float(seg['peak_rss_mb']) / float(ref['peak_rss_mb']):.2f}")
    print(f"target <= 60 s and <= 6 GB: wall {'met' if seg['seconds'] <= 60 else 'NOT met'}, "
          f"memory {'met' if float(seg['peak_rss_mb']) <= 6144 else 'NOT met'}")


if __name__ == "__main__":
    main()
