"""Send frequency and fatigue: engagement and unsubscribes against recent email volume.

Per send ``j`` to subscriber ``i`` at time ``t``: the volume ``V_w`` = sends to ``i`` in
``(t - w days, t]`` (this send included) for ``w`` = 7 and 30; the outcomes ``open`` (a human
open), ``click`` and ``unsubscribe`` attributed to the send (the latest send at or before the
event, within ``attribution_hours``). Engagement level (the tiers of
:data:`segkit.sendtime.ENGAGEMENT_TIERS`, human opens per send up to ``as_of``) is the stratum,
so heavy readers who get more mail do not make volume look harmless.

* Rates by volume are directly standardized over the engagement strata (weights: the
  segment's share of sends per stratum), with normal-approximation intervals
  ``sum_k w_k^2 p_k (1 - p_k) / n_k``.
* The weekly cap is a change point: for each candidate ``c`` a binomial GLM (statsmodels) on the
  (stratum x volume) cells with one intercept per stratum and a step ``1[V_7 > c]``; the ``c``
  with the highest likelihood wins, tested against the no-step model by a likelihood-ratio test,
  Bonferroni-corrected for the number of candidates. A significant rise in unsubscribes or fall
  in opens/clicks makes ``c`` the recommended cap for that metric; the segment's recommended cap
  is the smallest such ``c`` over the metrics.
* A subscriber is flagged as fatigued when their human-open rate on sends above the threshold
  (the segment cap, else the segment's median weekly volume) is lower than below it: one-sided
  pooled two-proportion z-test, Benjamini-Hochberg adjusted over the subscribers tested.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from segkit.sendtime._inputs import TS_BITS, SendTimeData
from segkit.sendtime._local_time import SECONDS_PER_DAY, SECONDS_PER_HOUR

__all__: list[str] = []

METRICS = {"open": "fall", "click": "fall", "unsubscribe": "rise"}
MAX_WEEKLY_BIN = 10
MONTHLY_BIN_WIDTH = 4
MONTHLY_BINS = 6
MIN_SENDS_PER_SIDE = 5


def volume(data: SendTimeData, days: int) -> np.ndarray:
    """Sends in ``(t - days, t]`` for every send (sends sorted by subscriber and time)."""
    key = data.send_sub << TS_BITS | data.send_ts
    start = np.searchsorted(key, key - days * SECONDS_PER_DAY, side="right")
    return np.arange(len(key)) - start + 1


def attributed(data: SendTimeData, sub: np.ndarray, ts: np.ndarray, hours: int) -> np.ndarray:
    """Per send: was at least one of these events attributed to it (latest send, within hours)."""
    send_key = data.send_sub << TS_BITS | data.send_ts
    j = np.searchsorted(send_key, sub << TS_BITS | ts, side="right") - 1
    ok = j >= 0
    ok[ok] = (data.send_sub[j[ok]] == sub[ok]) & (ts[ok] - data.send_ts[j[ok]] < hours * SECONDS_PER_HOUR)
    hit = np.zeros(len(send_key), dtype=bool)
    hit[j[ok]] = True
    return hit


def send_table(data: SendTimeData, tiers: np.ndarray, segments: np.ndarray, hours: int) -> pd.DataFrame:
    """One row per send: subscriber row, segment, engagement, volumes and outcomes."""
    return pd.DataFrame({
        "row": data.send_sub,
        "segment": segments[data.send_sub],
        "engagement": tiers[data.send_sub],
        "volume_7d": volume(data, 7),
        "volume_30d": volume(data, 30),
        "open": attributed(data, data.open_sub, data.open_ts, hours),
        "click": attributed(data, data.click_sub, data.click_ts, hours),
        "unsubscribe": attributed(data, data.unsub_sub, data.unsub_ts, hours),
    })


def _bins(sends: pd.DataFrame, window: int) -> pd.Series:
    if window == 7:
        return sends["volume_7d"].clip(upper=MAX_WEEKLY_BIN)
    low = (sends["volume_30d"] - 1) // MONTHLY_BIN_WIDTH * MONTHLY_BIN_WIDTH + 1
    return low.clip(upper=(MONTHLY_BINS - 1) * MONTHLY_BIN_WIDTH + 1)


def standardized_rates(sends: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Engagement-standardized rate per (segment, window, volume bin, metric)."""
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for window in (7, 30):
        frame = sends.assign(volume=_bins(sends, window))
        for segment, seg in frame.groupby("segment", sort=True):
            weights = seg["engagement"].value_counts(normalize=True)
            cells = seg.groupby(["volume", "engagement"])[list(METRICS)].agg(["sum", "count"])
            for vol, cell in cells.groupby(level="volume"):
                cell = cell.droplevel("volume")
                w = weights.reindex(cell.index).to_numpy()
                w = w / w.sum()
                for metric in METRICS:
                    n = cell[(metric, "count")].to_numpy(dtype=float)
                    k = cell[(metric, "sum")].to_numpy(dtype=float)
                    p = k / n
                    rate = float((w * p).sum())
                    se = float(np.sqrt((w**2 * p * (1 - p) / n).sum()))
                    rows.append((segment, window, int(vol), metric, int(n.sum()), int(k.sum()),
                                 rate, max(rate - z * se, 0.0), min(rate + z * se, 1.0),
                                 float(k.sum() / n.sum())))
    return pd.DataFrame(rows, columns=["segment", "window_days", "volume_from", "metric", "n_sends",
                                       "events", "rate", "ci_low", "ci_high", "crude_rate"])


def _glm_loglik(cells: pd.DataFrame, metric: str, step: np.ndarray | None) -> tuple[float, float, float]:
    design = pd.get_dummies(cells["engagement"], dtype=float)
    if step is not None:
        design["step"] = step.astype(float)
    endog = np.column_stack([cells[(metric)], cells["n"] - cells[metric]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = sm.GLM(endog, design, family=sm.families.Binomial()).fit()
    if step is None:
        return float(result.llf), np.nan, np.nan
    return float(result.llf), float(result.params["step"]), float(result.bse["step"])


def change_point(seg: pd.DataFrame, metric: str, alpha: float) -> dict:
    """Best step in the 7-day volume for one metric within one segment."""
    cells = (seg.assign(v=seg["volume_7d"].clip(upper=MAX_WEEKLY_BIN))
             .groupby(["engagement", "v"]).agg(n=(metric, "size"), **{metric: (metric, "sum")})
             .reset_index())
    sides = seg["volume_7d"].clip(upper=MAX_WEEKLY_BIN)
    candidates = [c for c in range(1, MAX_WEEKLY_BIN)
                  if (sides <= c).sum() >= MIN_SENDS_PER_SIDE and (sides > c).sum() >= MIN_SENDS_PER_SIDE]
    out = {"metric": metric, "direction": METRICS[metric], "cap": np.nan, "rate_ratio": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "p_value": 1.0, "n_candidates": len(candidates),
           "max_weekly_volume": int(seg["volume_7d"].max()), "events": int(seg[metric].sum())}
    if not candidates or cells[metric].sum() == 0:
        return out
    null, _, _ = _glm_loglik(cells, metric, None)
    fits = [(c, *_glm_loglik(cells, metric, (cells["v"] > c).to_numpy())) for c in candidates]
    best, llf, coef, se = max(fits, key=lambda f: f[1])
    p_value = min(1.0, stats.chi2.sf(2 * max(llf - null, 0.0), 1) * len(candidates))
    z = stats.norm.ppf(1 - alpha / 2)
    harmful = coef > 0 if METRICS[metric] == "rise" else coef < 0
    # with no events on one side the step's standard error is huge (separation): the interval
    # is then unbounded, exp overflows to inf on purpose
    with np.errstate(over="ignore"):
        out.update({"rate_ratio": float(np.exp(coef)), "ci_low": float(np.exp(coef - z * se)),
                    "ci_high": float(np.exp(coef + z * se)), "p_value": float(p_value)})
    if harmful and p_value < alpha:
        out["cap"] = int(best)
    return out


def fatigue_flags(sends: pd.DataFrame, threshold: pd.Series, alpha: float) -> pd.DataFrame:
    """Per subscriber open rates at or below vs above their segment's threshold; BH-adjusted."""
    high = sends["volume_7d"].to_numpy() > threshold.reindex(sends["segment"]).to_numpy()
    grouped = sends.assign(high=high).groupby(["row", "high"])["open"].agg(["sum", "count"]).unstack(fill_value=0)
    get = lambda col, side: grouped[(col, side)] if (col, side) in grouped else 0  # noqa: E731
    k0, n0, k1, n1 = get("sum", False), get("count", False), get("sum", True), get("count", True)
    frame = pd.DataFrame({"n_low": n0, "open_rate_low": k0 / np.maximum(n0, 1),
                          "n_high": n1, "open_rate_high": k1 / np.maximum(n1, 1)}, index=grouped.index)
    pooled = (k0 + k1) / np.maximum(n0 + n1, 1)
    se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(n0, 1) + 1 / np.maximum(n1, 1)))
    zstat = np.divide(frame["open_rate_low"] - frame["open_rate_high"], se,
                      out=np.zeros(len(frame)), where=se > 0)
    tested = (n0 >= MIN_SENDS_PER_SIDE) & (n1 >= MIN_SENDS_PER_SIDE)
    frame["p_value"] = np.where(tested, stats.norm.sf(zstat), np.nan)
    adjusted = np.full(len(frame), np.nan)
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        adjusted[tested.to_numpy()] = multipletests(frame.loc[tested, "p_value"], method="fdr_bh")[1]
    frame["p_adjusted"] = adjusted
    frame["fatigued"] = np.nan_to_num(adjusted, nan=1.0) < alpha
    return frame
