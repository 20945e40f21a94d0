"""Benchmark: 10 rule segments + built-in schemes + primary segment on a 1M-subscriber feature table.

segkit (parse + validate + evaluate the YAML rules, engagement tiers, RFM, lifecycle, primary
segment) against the pandas code an analyst would otherwise write by hand (boolean masks,
``np.select``, ``qcut``-style ranks), in the same run; both must agree. Target: segkit <= 5 s.

    python benchmarks/segments.py            # 1,000,000 subscribers
    python benchmarks/segments.py --small    # 50,000 (or SEGKIT_BENCH_SMALL=1)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import peak_rss_mb, timer

from segkit.segments import (
    engagement_tiers,
    lifecycle_stages,
    parse_rules,
    primary_segment,
    rfm_scores,
)

RULES = """
segments:
  - {name: vip, where: {all: ["purchase_count_365d >= 3", "revenue_365d > 200"]}}
  - {name: cart_abandoners, where: {all: ["cart_abandonments_30d >= 1", "purchase_count_30d == 0"]}}
  - {name: lapsed_buyers, where: {all: ["purchase_count_365d >= 1", "days_since_last_purchase > 180"]}}
  - {name: browsers, where: {all: ["product_views_90d >= 3", "days_since_last_purchase is_null"]}}
  - {name: non_clickers, where: {all: [{feature: open_rate_90d, op: between, value: [0.4, 1.0]},
                                       "click_to_open_rate_90d < 0.05"]}}
  - {name: sleeping, where: {any: ["days_since_last_open is_null", "days_since_last_open > 90"]}}
  - {name: newcomers, where: "tenure_days < 30"}
  - {name: eu_zones, where: {feature: timezone, op: in, value: [Europe/London, Europe/Berlin]}}
  - {name: not_us, where: {not: {feature: timezone, op: in, value: [America/New_York]}}}
  - {name: heavy_web, where: {any: ["web_visits_30d >= 5", "cart_adds_30d >= 2"]}}
"""


def make_features(n: int, seed: int = 0) -> pd.DataFrame:
    """A feature table shaped like segkit.features.compute's (NaN where undefined)."""
    rng = np.random.default_rng(seed)
    sends = rng.poisson(12, n)
    opens = rng.binomial(sends, rng.beta(2, 3, n))
    clicks = rng.binomial(opens, rng.beta(1, 6, n))
    purchases = rng.poisson(rng.gamma(0.5, 1.0, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        frame = pd.DataFrame({
            "sends_90d": sends, "unique_opens_90d": opens, "unique_clicks_90d": clicks,
            "open_rate_90d": np.where(sends > 0, opens / sends, np.nan),
            "click_rate_90d": np.where(sends > 0, clicks / sends, np.nan),
            "click_to_open_rate_90d": np.where(opens > 0, clicks / opens, np.nan),
            "purchase_count_365d": purchases,
            "purchase_count_30d": rng.binomial(purchases, 0.1),
            "revenue_365d": purchases * rng.gamma(6, 8, n),
            "days_since_last_purchase": np.where(purchases > 0, rng.uniform(0, 365, n), np.nan),
            "days_since_last_open": np.where(rng.random(n) < 0.85, rng.exponential(40, n), np.nan),
            "days_since_last_click": np.where(rng.random(n) < 0.5, rng.exponential(80, n), np.nan),
            "cart_abandonments_30d": rng.poisson(0.2, n), "product_views_90d": rng.poisson(2, n),
            "web_visits_30d": rng.poisson(1.5, n), "cart_adds_30d": rng.poisson(0.3, n),
            "tenure_days": rng.uniform(0, 1500, n), "unsubscribed": rng.random(n) < 0.05,
            "timezone": pd.array(rng.choice(["America/New_York", "Europe/London", "Europe/Berlin",
                                             "Asia/Tokyo", None], n), dtype="string"),
        }, index=pd.Index([f"s{i:07d}" for i in range(n)], name="subscriber_id"))
    return frame


def run_segkit(frame: pd.DataFrame) -> pd.DataFrame:
    rules = parse_rules(RULES)
    membership = rules.evaluate(frame)
    return membership.assign(
        primary=primary_segment(membership, rules.priority).astype(str),
        engagement=engagement_tiers(frame).astype(str),
        rfm=rfm_scores(frame)["rfm_group"].astype(str),
        lifecycle=lifecycle_stages(frame).astype(str),
    )


def _pandas_rfm(f: pd.DataFrame) -> np.ndarray:
    buyers = f["purchase_count_365d"] > 0
    def score(values: pd.Series) -> pd.Series:
        return np.clip(np.ceil(values.rank(method="average", pct=True) * 5), 1, 5).astype(int)
    r = score(-f.loc[buyers, "days_since_last_purchase"])
    fr = score(f.loc[buyers, "purchase_count_365d"].astype(float))
    names = np.array([
        ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
        ["hibernating", "hibernating", "at_risk", "at_risk", "at_risk"],
        ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
        ["promising", "potential_loyalists", "potential_loyalists", "loyal", "loyal"],
        ["new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    ])
    out = np.full(len(f), "no_purchase", dtype=object)
    out[buyers.to_numpy()] = names[r.to_numpy() - 1, fr.to_numpy() - 1]
    return out


def run_pandas(f: pd.DataFrame) -> pd.DataFrame:
    """What an analyst writes by hand (same definitions)."""
    dsp, dso = f["days_since_last_purchase"], f["days_since_last_open"]
    m = pd.DataFrame(index=f.index)
    m["vip"] = (f["purchase_count_365d"] >= 3) & (f["revenue_365d"] > 200)
    m["cart_abandoners"] = (f["cart_abandonments_30d"] >= 1) & (f["purchase_count_30d"] == 0)
    m["lapsed_buyers"] = (f["purchase_count_365d"] >= 1) & (dsp > 180)
    m["browsers"] = (f["product_views_90d"] >= 3) & dsp.isna()
    m["non_clickers"] = f["open_rate_90d"].between(0.4, 1.0) & (f["click_to_open_rate_90d"] < 0.05)
    m["sleeping"] = dso.isna() | (dso > 90)
    m["newcomers"] = f["tenure_days"] < 30
    m["eu_zones"] = f["timezone"].isin(["Europe/London", "Europe/Berlin"]).fillna(False).astype(bool)
    # a null never matches a comparison, so `not` of it matches (as in the rules)
    m["not_us"] = ~f["timezone"].isin(["America/New_York"]).fillna(False).astype(bool)
    m["heavy_web"] = (f["web_visits_30d"] >= 5) | (f["cart_adds_30d"] >= 2)
    first = np.where(m.to_numpy().any(axis=1), m.to_numpy().argmax(axis=1), len(m.columns))
    m["primary"] = np.array([*m.columns, "unassigned"], dtype=object)[first]
    o, c = f["open_rate_90d"], f["click_rate_90d"]
    m["engagement"] = np.select(
        [~(dso < 90), (o >= 0.5) & (c >= 0.1), (o >= 0.2) & (c >= 0.02)],
        ["inactive", "highly_engaged", "moderately_engaged"], default="low")
    m["rfm"] = _pandas_rfm(f)
    recent = f[["days_since_last_open", "days_since_last_click", "days_since_last_purchase"]].min(axis=1)
    m["lifecycle"] = np.select(
        [f["unsubscribed"], f["tenure_days"] < 30, recent < 90, recent < 180],
        ["churned", "new", "active", "at_risk"], default="lapsed")
    return m


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="50,000 subscribers")
    args = parser.parse_args()
    n = 50_000 if args.small or os.environ.get("SEGKIT_BENCH_SMALL") else 1_000_000
    frame = make_features(n)
    with timer() as t_segkit:
        ours = run_segkit(frame)
    with timer() as t_pandas:
        theirs = run_pandas(frame)
    mismatched = [c for c in theirs.columns if not (ours[c].to_numpy() == theirs[c].to_numpy()).all()]
    print(f"subscribers: {n:,}; 10 rule segments + primary + engagement, RFM, lifecycle")
    print(f"segkit: {t_segkit['seconds']:.2f} s (target <= 5 s)  pandas by hand: "
          f"{t_pandas['seconds']:.2f} s  ratio segkit/pandas: {t_segkit['seconds'] / t_pandas['seconds']:.2f}")
    print(f"peak RSS (this process): {peak_rss_mb():.0f} MiB")
    print("agree: " + ("yes" if not mismatched else f"NO, columns differ: {mismatched}"))
    if mismatched:
        sys.exit(1)


if __name__ == "__main__":
    main()
