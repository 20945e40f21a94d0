"""Benchmark: segkit.sendtime.recommend vs a straightforward pandas per-subscriber mode.

Generates an email program with planted preferred local hours (numpy, seeded): 500,000
subscribers in 8 IANA zones, ~32 sends each over 2024 at varied UTC hours, and about 10 million
open events (human opens timed around each subscriber's preferred local hour or soon after the
send, repeat opens, and machine opens 3 s after delivery for 15% of subscribers, flagged in
``machine_open`` as ingest does). Each contender runs in its own subprocess on the same data
(same seed) so peak RSS is attributable:

* segkit: ``recommend({"events": ..., "subscribers": ...}, as_of)`` (exposure correction,
  empirical-Bayes shrinkage, DST-correct local time, UTC hour for the as_of date);
* pandas: the mode of each subscriber's human-open local hour (tz_convert per zone, groupby).

Both answers are compared with each other and with the planted hours (share within +-1 h,
subscribers with >= 10 human opens). Target: segkit <= 10 s at full size.

    .venv/bin/python benchmarks/sendtime.py            # 500,000 subscribers, ~10M opens
    .venv/bin/python benchmarks/sendtime.py --small    # 25,000 subscribers

Environment: SEGKIT_BENCH_SMALL=1 is the same as --small.
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

ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London",
         "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo")
ZONE_SHARES = (0.3, 0.12, 0.15, 0.15, 0.12, 0.06, 0.05, 0.05)
HOUR_WEIGHTS = np.array([0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 3, 5, 6, 4, 2, 2, 3, 2.5, 1.5, 1, 1, 1.5,
                         3, 4, 5, 4, 2, 0.8])
CAMPAIGNS = 150
SENDS_PER_SUBSCRIBER = 32
HUMAN_OPEN_PROB = 0.4
REOPEN_MEAN = 0.25
MACHINE_SHARE = 0.15
START = pd.Timestamp("2024-01-01", tz="UTC")
AS_OF = pd.Timestamp("2025-01-01", tz="UTC")


def _local_offset(utc_s: np.ndarray, zone_idx: np.ndarray) -> np.ndarray:
    out = np.empty(len(utc_s), dtype=np.int64)
    for z, zone in enumerate(ZONES):
        rows = np.flatnonzero(zone_idx == z)
        idx = pd.DatetimeIndex(utc_s[rows].astype("datetime64[s]")).tz_localize("UTC")
        out[rows] = idx.tz_convert(zone).tz_localize(None).as_unit("s").asi8 - utc_s[rows]
    return out


def generate(n: int, seed: int) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Events and subscribers (canonical shape) plus the planted preferred local hour."""
    rng = np.random.default_rng(seed)
    zone = rng.choice(len(ZONES), n, p=ZONE_SHARES)
    preferred = rng.choice(24, n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    machine = rng.random(n) < MACHINE_SHARE
    start_s = START.value // 10**9
    slot_t = np.sort(start_s + rng.integers(0, 355 * 86400, CAMPAIGNS) // 900 * 900)
    pick = rng.random((CAMPAIGNS, n)) < SENDS_PER_SUBSCRIBER / CAMPAIGNS
    slot, sub = np.nonzero(pick)
    del pick
    send_t = slot_t[slot] + rng.integers(0, 300, len(slot))
    human = rng.random(len(send_t)) < HUMAN_OPEN_PROB
    h_sub, h_send = sub[human], send_t[human]
    offset = _local_offset(h_send, zone[h_sub])
    local = h_send + offset
    target = local // 86400 * 86400 + preferred[h_sub] * 3600 + rng.integers(0, 3600, len(h_sub))
    target = np.where(target < local + 60, target + 86400, target)
    target += (rng.geometric(0.65, len(h_sub)) - 1) * 86400
    immediate = rng.random(len(h_sub)) < 0.25
    open_t = np.where(immediate, h_send + 60 + rng.exponential(1500, len(h_sub)).astype(np.int64),
                      target - offset)
    extra = rng.poisson(REOPEN_MEAN, len(h_sub))
    r_sub = np.repeat(h_sub, extra)
    r_t = np.repeat(open_t, extra) + rng.integers(60, 6 * 3600, extra.sum())
    m = machine[sub] & (rng.random(len(sub)) < 0.97)
    ids = pd.Series([f"s{i:07d}" for i in range(n)], dtype="str")
    parts = [(sub, send_t, "send", False), (h_sub, open_t, "open", False),
             (r_sub, r_t, "open", False), (sub[m], send_t[m] + 3, "open", True)]
    subs = np.concatenate([p[0] for p in parts])
    ts = np.concatenate([p[1] for p in parts])
    keep = ts < AS_OF.value // 10**9
    kind = np.concatenate([np.full(len(p[0]), p[2] == "open") for p in parts])
    flag = np.concatenate([np.full(len(p[0]), p[3]) for p in parts])
    events = pd.DataFrame({
        "subscriber_id": ids.to_numpy()[subs[keep]],
        "event_type": pd.Series(np.where(kind[keep], "open", "send"), dtype="str"),
        "ts": pd.to_datetime(ts[keep], unit="s", utc=True),
        "machine_open": flag[keep],
    })
    events["subscriber_id"] = events["subscriber_id"].astype("str")
    subscribers = pd.DataFrame({"subscriber_id": ids, "timezone": pd.Series(np.array(ZONES)[zone], dtype="str")})
    return {"events": events, "subscribers": subscribers}, pd.Series(preferred, index=ids)


def pandas_mode(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """What an analyst would write: local hour of each human open, then each subscriber's mode."""
    events, subscribers = tables["events"], tables["subscribers"]
    opens = events[(events["event_type"] == "open") & ~events["machine_open"]]
    opens = opens.merge(subscribers[["subscriber_id", "timezone"]], on="subscriber_id", how="left")
    hour = pd.Series(0, index=opens.index, dtype="int64")
    for zone, rows in opens.groupby("timezone").groups.items():
        hour.loc[rows] = opens.loc[rows, "ts"].dt.tz_convert(zone).dt.hour.to_numpy()
    counts = opens.assign(hour=hour).groupby(["subscriber_id", "hour"]).size()
    return counts.groupby(level="subscriber_id").idxmax().map(lambda key: key[1])


def child(role: str, n: int, seed: int, out: Path) -> None:
    tables, _ = generate(n, seed)
    n_opens = int((tables["events"]["event_type"] == "open").sum())
    if role == "segkit":
        from segkit.sendtime import recommend

        with timer() as t:
            recs = recommend(tables, as_of=AS_OF)
        result = recs.set_index("subscriber_id")["recommended_local_hour"]
    else:
        with timer() as t:
            result = pandas_mode(tables)
    result.rename("hour").to_frame().to_parquet(out)
    emit_result(seconds=t["seconds"], cpu_seconds=t["cpu_seconds"], events=len(tables["events"]),
                opens=n_opens)


def _distance(a: pd.Series, b: pd.Series) -> np.ndarray:
    d = np.abs(a.to_numpy() - b.to_numpy()) % 24
    return np.minimum(d, 24 - d)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500_000, help="subscribers")
    parser.add_argument("--small", action="store_true", help="25,000 subscribers")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--role", choices=["segkit", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = 25_000 if args.small or os.environ.get("SEGKIT_BENCH_SMALL") else args.n
    if args.role:
        child(args.role, n, args.seed, args.out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        res = {}
        for role in ("segkit", "pandas"):
            path = Path(tmp) / f"{role}.parquet"
            res[role] = run_child([__file__, "--role", role, "--n", str(n), "--seed", str(args.seed),
                                   "--out", str(path)])
            res[role]["hours"] = pd.read_parquet(path)["hour"]
    tables, truth = generate(n, args.seed)
    events = tables["events"]
    human = events[(events["event_type"] == "open") & ~events["machine_open"]]
    n_human = human.groupby("subscriber_id").size().reindex(truth.index, fill_value=0)
    rich = n_human[n_human >= 10].index
    seg, pdm = res["segkit"]["hours"], res["pandas"]["hours"]
    print(f"{n:,} subscribers, {len(events):,} events, {res['segkit']['opens']:,} open events "
          f"({len(human):,} human); as_of {AS_OF.date()}")
    for role, label in (("segkit", "segkit recommend"), ("pandas", "pandas per-subscriber mode")):
        r = res[role]
        print(f"  {label:<28} {r['seconds']:6.2f} s wall  {r['cpu_seconds']:6.2f} s CPU  "
              f"peak RSS {format_mb(r['peak_rss_mb'])} (data included)")
    print(f"  ratio pandas / segkit: {res['pandas']['seconds'] / res['segkit']['seconds']:.2f}x")
    agree = (_distance(seg.reindex(rich), pdm.reindex(rich)) <= 1).mean()
    print(f"  subscribers with >= 10 human opens: {len(rich):,}")
    print(f"    segkit vs pandas mode within +-1 h: {agree:.1%}")
    for label, hours in (("segkit", seg), ("pandas mode", pdm)):
        hit = (_distance(hours.reindex(rich), truth.reindex(rich)) <= 1).mean()
        print(f"    {label:<12} within +-1 h of the planted hour: {hit:.1%}")
    target = "met" if res["segkit"]["seconds"] <= 10 else "MISSED"
    print(f"  target segkit <= 10 s at 500k subscribers / 10M opens: {target} ({res['segkit']['seconds']:.2f} s)")


if __name__ == "__main__":
    main()
