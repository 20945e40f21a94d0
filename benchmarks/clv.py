"""Benchmark: segkit.clv vs lifetimes on the CDNOW cohort resampled to many customers.

Builds the full CDNOW cohort (23,570 customers, calibration to 1997-09-30, weeks; several purchases
on one day count once), resamples it with replacement to ``--n`` customers, then fits BG/NBD,
Pareto/NBD and Gamma-Gamma with segkit and with lifetimes IN THE SAME RUN on the same data, and
prints times, speed ratios, parameter differences and peak memory.

    .venv/bin/python benchmarks/clv.py                 # 1,000,000 customers
    .venv/bin/python benchmarks/clv.py --small         # 50,000 customers
    .venv/bin/python benchmarks/clv.py --lifetimes-max 100000
        # lifetimes fits only the first 100,000 customers (its time is measured there and ALSO
        # shown extrapolated linearly to --n, labelled as such); parameters are compared on that
        # same subset, which segkit fits too.

Environment: SEGKIT_BENCH_SMALL=1 is the same as --small.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np
import pandas as pd

from segkit.clv import BetaGeo, GammaGamma, ParetoNBD
from segkit.datasets import cdnow_raw

CUTOFF = pd.Timestamp("1997-09-30")


def cdnow_cohort() -> pd.DataFrame:
    """frequency, recency, T (weeks) and mean repeat spend for the 23,570 CDNOW customers."""
    raw = cdnow_raw()
    days = raw.groupby(["customer_id", "date"], as_index=False)["dollar_value"].sum()
    first = days.groupby("customer_id")["date"].transform("min")
    days = days.assign(first=first)
    cal = days[days["date"] <= CUTOFF]
    grouped = cal.groupby("customer_id")
    frequency = grouped.size() - 1
    recency = (grouped["date"].max() - grouped["first"].min()).dt.days / 7.0
    age = (CUTOFF - grouped["first"].min()).dt.days / 7.0
    repeat = cal[cal["date"] > cal["first"]].groupby("customer_id")["dollar_value"].mean()
    spend = repeat.reindex(frequency.index, fill_value=0.0)
    return pd.DataFrame({"frequency": frequency, "recency": recency, "T": age, "monetary_value": spend})


def timed(func, *args):
    start = time.perf_counter()
    out = func(*args)
    return out, time.perf_counter() - start


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(name, seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt):
    seg_params = seg_sub.params_.to_numpy()
    lt_params = lt_model.params_[list(seg_sub.param_names)].to_numpy()
    rel = np.abs(seg_params / lt_params - 1)
    ratio_note = ""
    t_lt_full = t_lt
    if n_lt < n:
        t_lt_full = t_lt * n / n_lt
        ratio_note = f" (lifetimes timed on {n_lt:,} customers, {t_lt:.2f} s, extrapolated linearly to {n:,})"
    print(f"\n== {name}")
    print(f"segkit    {t_seg:8.2f} s on {n:,} customers  params {np.round(seg_full.params_.to_numpy(), 6)}")
    print(f"lifetimes {t_lt_full:8.2f} s{ratio_note}")
    print(f"speed-up  {t_lt_full / t_seg:8.1f}x")
    print(f"params on the {n_lt:,}-customer set: segkit {np.round(seg_params, 6)} lifetimes {np.round(lt_params, 6)}")
    print(f"max relative parameter difference {rel.max():.2e}; segkit converged={seg_sub.converged_} via {seg_sub.optimizer_}")
    return {"model": name, "segkit_s": t_seg, "lifetimes_s": t_lt_full, "ratio": t_lt_full / t_seg, "max_rel_param_diff": rel.max()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="customers after resampling")
    parser.add_argument("--small", action="store_true", help="50,000 customers")
    parser.add_argument("--lifetimes-max", type=int, default=None, help="cap the customers lifetimes fits")
    parser.add_argument("--models", default="bgnbd,pnbd,gg", help="comma list of bgnbd, pnbd, gg")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n = 50_000 if args.small or os.environ.get("SEGKIT_BENCH_SMALL") else args.n
    n_lt = min(n, args.lifetimes_max or n)

    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    cohort = cdnow_cohort()
    rng = np.random.default_rng(args.seed)
    data = cohort.iloc[rng.integers(0, len(cohort), n)].reset_index(drop=True)
    x, tx, age, m = (data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    print(f"CDNOW cohort {len(cohort):,} customers resampled to {n:,} (seed {args.seed}); "
          f"{len(data.drop_duplicates(['frequency', 'recency', 'T'])):,} unique (x, t_x, T) rows")
    rows = []
    models = set(args.models.split(","))
    specs = [("bgnbd", "BG/NBD", BetaGeo, BetaGeoFitter), ("pnbd", "Pareto/NBD", ParetoNBD, ParetoNBDFitter)]
    for key, name, seg_cls, lt_cls in specs:
        if key not in models:
            continue
        seg_full, t_seg = timed(seg_cls().fit, x, tx, age)
        seg_sub = seg_full if n_lt == n else seg_cls().fit(x[:n_lt], tx[:n_lt], age[:n_lt])
        lt_model, t_lt = timed(lt_cls().fit, x[:n_lt].astype(int), tx[:n_lt], age[:n_lt])
        rows.append(compare(name, seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt))
        ll_seg = seg_sub.log_likelihood_
        ll_lt = seg_sub._log_likelihood_rows(lt_model.params_[list(seg_sub.param_names)].to_numpy(), x[:n_lt], tx[:n_lt], age[:n_lt]).sum()
        print(f"log-likelihood (segkit's formula) at segkit's params {ll_seg:.4f}, at lifetimes' {ll_lt:.4f} "
              f"(segkit - lifetimes = {ll_seg - ll_lt:+.2e})")
    if "gg" in models:
        buyers = (x > 0) & (m > 0)  # a few CDNOW repeat purchases are recorded at $0
        seg_full, t_seg = timed(GammaGamma().fit, x[buyers], m[buyers])
        sub = buyers & (np.arange(n) < n_lt)
        seg_sub = seg_full if n_lt == n else GammaGamma().fit(x[sub], m[sub])
        lt_model, t_lt = timed(GammaGammaFitter().fit, x[sub].astype(int), m[sub])
        rows.append(compare("Gamma-Gamma", seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt))
    print(f"\npeak RSS {peak_rss_mib():,.0f} MiB")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
