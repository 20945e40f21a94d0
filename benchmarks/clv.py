"""Benchmark: segkit.clv vs lifetimes on three data sets, on the same rows in the same run.

* ``cdnow``: the CDNOW cohort (23,570 customers, calibration to 1997-09-30, weeks; several
  purchases on one day count once), resampled with replacement to ``--n`` customers;
* ``online_retail``: the vendored UCI Online Retail log, one purchase per invoice (cancellations
  and lines without a customer left out), days: the whole log to 2011-12-09 and the ltv_churn
  report's calibration to 2011-09-10 (where dropout is not identified: the "ridge" path);
* ``synthetic``: the buyers of the 10M-event log of ``benchmarks/features.py`` (its generator,
  1,000,000 subscribers, seed 0: 214,755 buyers with a purchase by its as-of date), days;
  ``--synthetic-events`` scales it. Holding the 10M events takes about 0.6 GB for a few seconds
  (run the script under ``flock /work/wt/bigmem.lock`` on the shared machine); ``--cache DIR``
  keeps the purchases as Parquet so later runs skip the generation;
* ``ridge``: the same number of customers simulated with ONE common dropout rate (the Pareto/NBD
  fit ends on its homogeneous-dropout bound s, beta -> inf, the slow path before the gradient
  was analytic) and, as the ordinary reference, as many with heterogeneous dropout (an interior
  fit); lifetimes fits the first ``--ridge-lifetimes`` customers of each (its time extrapolated
  linearly and labelled so);
* ``program``: the purchases of ``segkit.datasets.synthetic(--program-subscribers)``, days.

For each, BG/NBD, Pareto/NBD and Gamma-Gamma are fitted with segkit and with lifetimes and the
script prints times (wall and CPU: the machine is shared, so CPU seconds are the steadier
measure and the ratio column uses them), speed ratios, parameter differences, the
log-likelihood at both parameter sets and peak memory.

    .venv/bin/python benchmarks/clv.py                  # all data sets, CDNOW at 1,000,000
    .venv/bin/python benchmarks/clv.py --small          # CDNOW at 50,000, synthetic at 5,000
    .venv/bin/python benchmarks/clv.py --data online_retail
    flock /work/wt/bigmem.lock .venv/bin/python benchmarks/clv.py --data synthetic,ridge --models pnbd \
        --cache /work/bench-data/clv
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
from segkit.errors import ConvergenceError

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
    """(result, CPU seconds, wall seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    out = func(*args)
    return out, time.process_time() - cpu, time.perf_counter() - start


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compare(name, seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt, walls=(np.nan, np.nan)):
    seg_params = seg_sub.params_.to_numpy()
    lt_params = lt_model.params_[list(seg_sub.param_names)].to_numpy()
    rel = np.abs(seg_params / lt_params - 1)
    ratio_note = ""
    t_lt_full = t_lt
    if n_lt < n:
        t_lt_full = t_lt * n / n_lt
        ratio_note = f" (lifetimes timed on {n_lt:,} customers, {t_lt:.2f} s, extrapolated linearly to {n:,})"
    print(f"\n== {name}")
    print(f"segkit    {t_seg:8.2f} s CPU ({walls[0]:.2f} s wall) on {n:,} customers  "
          f"params {np.round(seg_full.params_.to_numpy(), 6)} via {seg_full.optimizer_}")
    print(f"lifetimes {t_lt_full:8.2f} s CPU ({walls[1] * t_lt_full / t_lt:.2f} s wall){ratio_note}")
    print(f"speed-up  {t_lt_full / t_seg:8.1f}x (CPU)")
    print(f"params on the {n_lt:,}-customer set: segkit {np.round(seg_params, 6)} lifetimes {np.round(lt_params, 6)}")
    print(f"max relative parameter difference {rel.max():.2e}; segkit converged={seg_sub.converged_} via {seg_sub.optimizer_}")
    return {"model": name, "segkit_cpu_s": t_seg, "lifetimes_cpu_s": t_lt_full, "ratio": t_lt_full / t_seg,
            "segkit_wall_s": walls[0], "max_rel_param_diff": rel.max()}


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


def program_set(n_subscribers: int) -> tuple[str, pd.DataFrame]:
    """RFM (days) of the buyers in a ``segkit.datasets.synthetic`` email program."""
    from segkit.datasets import synthetic
    from segkit.features import rfm

    data = synthetic(n_subscribers, 0)
    events = data.events[data.events["event_type"] == "purchase"][["subscriber_id", "event_type", "ts", "value"]]
    label = f"program, {n_subscribers:,} subscribers ({len(data.events):,} events)"
    return label, rfm({"events": events}, data.events["ts"].max())


def synthetic_set(n_events: int, cache: str | None) -> tuple[str, pd.DataFrame]:
    """RFM (days) at its as-of date of the buyers in the event log of ``benchmarks/features.py``
    (one subscriber per 10 events, seed 0); only the purchases are kept once generated."""
    import sys
    from pathlib import Path

    from segkit.features import rfm

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from features import AS_OF, EVENT_MIX, _raw_columns

    n_subscribers = n_events // 10
    path = Path(cache) / f"features_{n_events}_purchases.parquet" if cache else None
    if path is not None and path.exists():
        purchases = pd.read_parquet(path)
    else:
        events, _ = _raw_columns(n_events, n_subscribers, 0)
        keep = (events["kind"] == list(EVENT_MIX).index("purchase")) & (events["seconds"] <= int(AS_OF.timestamp()))
        purchases = pd.DataFrame({column: events[column][keep] for column in ("owner", "seconds", "value")})
        del events
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            purchases.to_parquet(path)
    events = pd.DataFrame({"subscriber_id": purchases["owner"].to_numpy(), "event_type": "purchase",
                           "ts": pd.to_datetime(purchases["seconds"], unit="s", utc=True), "value": purchases["value"]})
    label = f"synthetic, {n_events:,} events, {n_subscribers:,} subscribers (benchmarks/features.py)"
    return label, rfm({"events": events}, AS_OF)


def ridge_sets(n: int) -> list[tuple[str, pd.DataFrame]]:
    """``n`` customers with one common dropout rate (Pareto/NBD ends on s, beta -> inf) and ``n``
    with gamma-distributed dropout rates (an interior fit), daily ages of 1 to 275 days."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "clv"))
    from clv_simulate import simulate_common_dropout, simulate_pareto_nbd

    out = []
    for label, common in (("ridge: one dropout rate", True), ("ordinary: heterogeneous dropout", False)):
        rng = np.random.default_rng(1)
        ages = np.floor(rng.uniform(1, 276, n))
        if common:
            x, tx, age = simulate_common_dropout(n, 2.9, 290.0, 0.0014, ages, rng)
        else:
            x, tx, age = simulate_pareto_nbd(n, 2.9, 290.0, 1.0, 700.0, ages, rng)
        tx = np.where(x > 0, np.clip(np.round(tx), 1, age), 0.0)
        out.append((f"{label}, {n:,} customers",
                    pd.DataFrame({"frequency": x, "recency": tx, "T": age, "monetary_value": 0.0})))
    return out


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
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seg_full, t_seg, wall_seg = timed(seg_cls().fit, x, tx, age)
                seg_sub = seg_full if n_lt == n else seg_cls().fit(x[:n_lt], tx[:n_lt], age[:n_lt])
        except ConvergenceError as error:  # reported, not fatal: the other fits still run
            print(f"\n== {name}\nsegkit failed: {str(error)[:300]}")
            rows.append({"data": label, "model": name, "segkit_cpu_s": float("nan"), "lifetimes_cpu_s": float("nan"),
                         "ratio": float("nan"), "segkit_wall_s": float("nan"), "max_rel_param_diff": float("nan")})
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                lt_model, t_lt, wall_lt = timed(lt_cls().fit, x[:n_lt].astype(int), tx[:n_lt], age[:n_lt])
        except Exception as error:  # lifetimes raises its own ConvergenceError on flat likelihoods
            print(f"\n== {name}\nsegkit    {t_seg:8.2f} s CPU  params {np.round(seg_full.params_.to_numpy(), 6)}"
                  f" via {seg_full.optimizer_}\nlifetimes failed: {type(error).__name__}")
            rows.append({"data": label, "model": name, "segkit_cpu_s": t_seg, "lifetimes_cpu_s": float("nan"),
                         "ratio": float("nan"), "segkit_wall_s": wall_seg, "max_rel_param_diff": float("nan")})
            continue
        rows.append({"data": label, **compare(name, seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt,
                                              (wall_seg, wall_lt))})
        ll_seg = seg_sub.log_likelihood_
        ll_lt = seg_sub._log_likelihood_rows(lt_model.params_[list(seg_sub.param_names)].to_numpy(), x[:n_lt], tx[:n_lt], age[:n_lt]).sum()
        print(f"log-likelihood (segkit's formula) at segkit's params {ll_seg:.4f}, at lifetimes' {ll_lt:.4f} "
              f"(segkit - lifetimes = {ll_seg - ll_lt:+.2e})")
    if "gg" in models:
        buyers = (x > 0) & (m > 0)  # a few repeat purchases are recorded at 0
        seg_full, t_seg, wall_seg = timed(GammaGamma().fit, x[buyers], m[buyers])
        sub = buyers & (np.arange(n) < n_lt)
        seg_sub = seg_full if n_lt == n else GammaGamma().fit(x[sub], m[sub])
        lt_model, t_lt, wall_lt = timed(GammaGammaFitter().fit, x[sub].astype(int), m[sub])
        rows.append({"data": label, **compare("Gamma-Gamma", seg_full, seg_sub, lt_model, t_seg, t_lt, n, n_lt,
                                              (wall_seg, wall_lt))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="CDNOW customers after resampling")
    parser.add_argument("--small", action="store_true",
                        help="CDNOW at 50,000, synthetic at 200,000 events, ridge at 20,000, program at 5,000")
    parser.add_argument("--lifetimes-max", type=int, default=None, help="cap the customers lifetimes fits (CDNOW)")
    parser.add_argument("--models", default="bgnbd,pnbd,gg", help="comma list of bgnbd, pnbd, gg")
    parser.add_argument("--data", default="cdnow,online_retail,synthetic",
                        help="comma list of cdnow, online_retail, synthetic, ridge, program")
    parser.add_argument("--synthetic-events", type=int, default=10_000_000,
                        help="events in the benchmarks/features.py log (one subscriber per 10 events)")
    parser.add_argument("--cache", default=None, help="directory to keep the synthetic purchases in (Parquet)")
    parser.add_argument("--ridge-n", type=int, default=215_000, help="customers in each ridge/ordinary set")
    parser.add_argument("--ridge-lifetimes", type=int, default=3_000,
                        help="customers lifetimes fits in the ridge/ordinary sets (time extrapolated)")
    parser.add_argument("--program-subscribers", type=int, default=85_000,
                        help="size of the segkit.datasets.synthetic program (85,000 give about 10M events)")
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
        label, data = synthetic_set(200_000 if small else args.synthetic_events, args.cache)
        rows += fit_all(label, data, models, len(data), "D")
    if "ridge" in sets:
        n_ridge = 20_000 if small else args.ridge_n
        for label, data in ridge_sets(n_ridge):
            rows += fit_all(label, data, models - {"gg"}, min(n_ridge, args.ridge_lifetimes), "D")
    if "program" in sets:
        label, data = program_set(5_000 if small else args.program_subscribers)
        rows += fit_all(label, data, models, len(data), "D")
    print(f"\npeak RSS {peak_rss_mib():,.0f} MiB")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.4g}"))


if __name__ == "__main__":
    main()
