"""Benchmark: segkit.clv vs lifetimes on three data sets, on the same rows in the same run.

* ``cdnow``: the CDNOW cohort (23,570 customers, calibration to 1997-09-30, weeks; several
  purchases on one day count once), resampled with replacement to ``--n`` customers;
* ``online_retail``: the vendored UCI Online Retail log, one purchase per invoice (cancellations
  and lines without a customer left out), days: the whole log to 2011-12-09 and the ltv_churn
  report's calibration to 2011-09-10 (where dropout is not identified: the "ridge" path);
* ``synthetic``: the purchases of ``segkit.datasets.synthetic(--synthetic-subscribers)`` (about
  120 events per subscriber: 85,000 subscribers give about 10M events), days, to its end.

For each, BG/NBD, Pareto/NBD and Gamma-Gamma are fitted with segkit and with lifetimes and the
script prints times (wall and CPU), speed ratios, parameter differences and peak memory.

    .venv/bin/python benchmarks/clv.py                  # all data sets, CDNOW at 1,000,000
    .venv/bin/python benchmarks/clv.py --small          # CDNOW at 50,000, synthetic at 5,000
    .venv/bin/python benchmarks/clv.py --data online_retail
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
import warnings

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


def online_retail_sets() -> list[tuple[str, pd.DataFrame]]:
    """RFM (days) of the Online Retail customers: the whole log and the report's calibration."""
    from segkit.datasets import online_retail
    from segkit.features import rfm

    lines = online_retail()
    lines = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    lines = lines.assign(value=lines["Quantity"] * lines["UnitPrice"])
    orders = lines.groupby("InvoiceNo").agg(subscriber_id=("CustomerID", "first"), ts=("InvoiceDate", "min"),
                                            value=("value", "sum"))
    events = orders.reset_index(drop=True).assign(
        event_type="purchase", ts=orders["ts"].dt.tz_localize("Europe/London").dt.tz_convert("UTC").to_numpy())
    return [(f"Online Retail to {day}", rfm({"events": events}, pd.Timestamp(f"{day} 23:59:59", tz="UTC")))
            for day in ("2011-12-09", "2011-09-09")]


def synthetic_set(n_subscribers: int) -> tuple[str, pd.DataFrame]:
    """RFM (days) of the buyers in a synthetic email program of ``n_subscribers``."""
    from segkit.datasets import synthetic
    from segkit.features import rfm

    data = synthetic(n_subscribers, 0)
    events = data.events[data.events["event_type"] == "purchase"][["subscriber_id", "event_type", "ts", "value"]]
    label = f"synthetic, {n_subscribers:,} subscribers ({len(data.events):,} events)"
    return label, rfm({"events": events}, data.events["ts"].max())


def fit_all(label: str, data: pd.DataFrame, models: set[str], n_lt: int, unit: str) -> list[dict]:
    """segkit and lifetimes on the same rows: transaction models and Gamma-Gamma."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    n = len(data)
    x, tx, age, m = (data[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T", "monetary_value"))
    print(f"\n#### {label}: {n:,} customers, {len(data.drop_duplicates(['frequency', 'recency', 'T'])):,} "
          f"unique (x, t_x, T) rows, time unit {unit}")
    rows = []
    specs = [("bgnbd", "BG/NBD", BetaGeo, BetaGeoFitter), ("pnbd", "Pareto/NBD", ParetoNBD, ParetoNBDFitter)]
    for key, name, seg_cls, lt_cls in specs:
        if key not in models:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg_full, t_seg = timed(seg_cls().fit, x, tx, age)
            seg_sub = seg_full if n_lt == n else seg_cls().fit(x[:n_lt], tx[:n_lt], age[:n_lt])
        try:
            lt_model, t_lt = timed(lt_cls().fit, x[:n_lt].astype(int), tx[:n_lt], age[:n_lt])
        except Exception as error:  # lifetimes raises its own ConvergenceError on flat likelihoods
            print(f"\n== {name}\nsegkit    {t_seg:8.2f} s  params {np.round(seg_full.params_.to_numpy(), 6)}"
                  f" via {seg_full.optimizer_}\nlifetimes failed: {type(error).__name__}")
            rows.append({"data": label, "model": name, "segkit_s": t_seg, "lifetimes_s": float("nan"),
                         "ratio": float("nan"), "max_rel_param_diff": float("nan")})
            continue
        rows.append({"data": label, **compare(name, seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt)})
        ll_seg = seg_sub.log_likelihood_
        ll_lt = seg_sub._log_likelihood_rows(lt_model.params_[list(seg_sub.param_names)].to_numpy(), x[:n_lt], tx[:n_lt], age[:n_lt]).sum()
        print(f"log-likelihood (segkit's formula) at segkit's params {ll_seg:.4f}, at lifetimes' {ll_lt:.4f} "
              f"(segkit - lifetimes = {ll_seg - ll_lt:+.2e})")
    if "gg" in models:
        buyers = (x > 0) & (m > 0)  # a few repeat purchases are recorded at 0
        seg_full, t_seg = timed(GammaGamma().fit, x[buyers], m[buyers])
        sub = buyers & (np.arange(n) < n_lt)
        seg_sub = seg_full if n_lt == n else GammaGamma().fit(x[sub], m[sub])
        lt_model, t_lt = timed(GammaGammaFitter().fit, x[sub].astype(int), m[sub])
        rows.append({"data": label, **compare("Gamma-Gamma", seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="CDNOW customers after resampling")
    parser.add_argument("--small", action="store_true", help="CDNOW at 50,000 and synthetic at 5,000 subscribers")
    parser.add_argument("--lifetimes-max", type=int, default=None, help="cap the customers lifetimes fits (CDNOW)")
    parser.add_argument("--models", default="bgnbd,pnbd,gg", help="comma list of bgnbd, pnbd, gg")
    parser.add_argument("--data", default="cdnow,online_retail,synthetic",
                        help="comma list of cdnow, online_retail, synthetic")
    parser.add_argument("--synthetic-subscribers", type=int, default=85_000,
                        help="size of the synthetic program (85,000 give about 10M events)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    small = args.small or bool(os.environ.get("SEGKIT_BENCH_SMALL"))
    n = 50_000 if small else args.n
    n_lt = min(n, args.lifetimes_max or n)
    models, sets = set(args.models.split(",")), set(args.data.split(","))
    rows: list[dict] = []
    if "cdnow" in sets:
        cohort = cdnow_cohort()
        rng = np.random.default_rng(args.seed)
        data = cohort.iloc[rng.integers(0, len(cohort), n)].reset_index(drop=True)
        label = f"CDNOW cohort ({len(cohort):,}) resampled to {n:,} (seed {args.seed})"
        rows += fit_all(label, data, models, n_lt, "W")
    if "online_retail" in sets:
        for label, data in online_retail_sets():
            rows += fit_all(label, data, models, len(data), "D")
    if "synthetic" in sets:
        label, data = synthetic_set(5_000 if small else args.synthetic_subscribers)
        rows += fit_all(label, data, models, len(data), "D")
    print(f"\npeak RSS {peak_rss_mib():,.0f} MiB")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
