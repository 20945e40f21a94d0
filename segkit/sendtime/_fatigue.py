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
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from segkit.errors import ValidationError
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


@dataclass(frozen=True)
class SendCells:
    """Sends counted per (subscriber row, 7-day volume, 30-day volume bin), unique and sorted.

    ``volume_7d`` is the unclipped 7-day volume; ``volume_30d`` the lower edge of its 30-day
    bin (:func:`monthly_bin`). ``n`` sends fall in the cell; ``open``, ``click`` and
    ``unsubscribe`` count those with at least one such event attributed to them.
    """

    row: np.ndarray
    volume_7d: np.ndarray
    volume_30d: np.ndarray
    n: np.ndarray
    open: np.ndarray
    click: np.ndarray
    unsubscribe: np.ndarray


#: Outcome bits of a send: open 4, click 2, unsubscribe 1.
OUTCOME_BITS = {"open": 4, "click": 2, "unsubscribe": 1}


def monthly_bin(volume_30d: np.ndarray) -> np.ndarray:
    """Index (0 .. MONTHLY_BINS - 1) of the 30-day volume's bin of width MONTHLY_BIN_WIDTH."""
    return np.minimum((volume_30d - 1) // MONTHLY_BIN_WIDTH, MONTHLY_BINS - 1)


#: Packed cell keys: the 30-day bin in the low 3 bits, then the 7-day volume in VOLUME_BITS.
VOLUME_BITS = 28


def _check_volume(volume_7d: np.ndarray) -> None:
    if len(volume_7d) and int(volume_7d.max()) >= 1 << VOLUME_BITS:
        raise ValidationError(f"a subscriber received {int(volume_7d.max()):,} emails in 7 days; "
                              f"frequency supports fewer than {1 << VOLUME_BITS:,}")


def send_cells(row: np.ndarray, volume_7d: np.ndarray, bin_30d: np.ndarray, outcomes: np.ndarray,
               n: np.ndarray) -> SendCells:
    """Cells from ``n`` sends per (row, volume_7d, 30-day bin index, outcome bits)."""
    _check_volume(volume_7d)
    key = (row.astype(np.int64) << (VOLUME_BITS + 3)) | (volume_7d.astype(np.int64) << 3) | bin_30d
    codes, uniques = pd.factorize(key, sort=True)
    n = np.asarray(n, dtype=np.int64)
    count = lambda w: np.bincount(codes, weights=w, minlength=len(uniques)).astype(np.int64)  # noqa: E731
    return SendCells(
        row=uniques >> (VOLUME_BITS + 3),
        volume_7d=(uniques >> 3) & ((1 << VOLUME_BITS) - 1),
        volume_30d=(uniques & 7) * MONTHLY_BIN_WIDTH + 1,
        n=count(n),
        **{m: count(np.where(outcomes & bit, n, 0)) for m, bit in OUTCOME_BITS.items()},
    )


def event_cells(data: SendTimeData, hours: int) -> SendCells:
    """:class:`SendCells` from the event arrays (the reference for the engine's cells)."""
    outcomes = np.zeros(len(data.send_sub), dtype=np.int64)
    for (sub, ts), bit in zip(((data.open_sub, data.open_ts), (data.click_sub, data.click_ts),
                               (data.unsub_sub, data.unsub_ts)), OUTCOME_BITS.values(), strict=True):
        outcomes |= np.where(attributed(data, sub, ts, hours), bit, 0)
    return send_cells(data.send_sub, volume(data, 7), monthly_bin(volume(data, 30)), outcomes,
                      np.ones(len(data.send_sub), dtype=np.int64))


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each value's position among them."""
    codes, names = pd.factorize(values)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return np.asarray(names, dtype=object)[order], rank[codes]


def volume_grid(cells: SendCells, segments: np.ndarray, tiers: np.ndarray) -> pd.DataFrame:
    """Sends and outcomes per (segment, engagement, volume_7d, volume_30d bin): the cells summed
    over subscribers (``segments`` and ``tiers`` are per subscriber row)."""
    used = np.unique(cells.row)
    seg_names, seg_code = _codes(segments[used])
    tier_names, tier_code = _codes(tiers[used])
    group = np.zeros(len(segments), np.int64)
    group[used] = seg_code * len(tier_names) + tier_code
    key = (group[cells.row] << (VOLUME_BITS + 3)) | (cells.volume_7d << 3) | (
        (cells.volume_30d - 1) // MONTHLY_BIN_WIDTH)
    codes, uniques = pd.factorize(key, sort=True)
    group = uniques >> (VOLUME_BITS + 3)
    frame = pd.DataFrame({
        "segment": seg_names[group // len(tier_names)],
        "engagement": tier_names[group % len(tier_names)],
        "volume_7d": (uniques >> 3) & ((1 << VOLUME_BITS) - 1),
        "volume_30d": (uniques & 7) * MONTHLY_BIN_WIDTH + 1,
    })
    for name in ("n", *METRICS):
        frame[name] = np.bincount(codes, weights=getattr(cells, name), minlength=len(uniques)).astype(np.int64)
    return frame


def _bins(grid: pd.DataFrame, window: int) -> pd.Series:
    if window == 7:
        return grid["volume_7d"].clip(upper=MAX_WEEKLY_BIN)
    return grid["volume_30d"]


def weekly_median(grid: pd.DataFrame) -> pd.Series:
    """Median 7-day volume over the sends of each segment (the mean of the middle two when even)."""
    out = {}
    for segment, seg in grid.groupby("segment", sort=True):
        counts = seg.groupby("volume_7d")["n"].sum()
        upto = np.cumsum(counts.to_numpy())
        middle = counts.index[np.searchsorted(upto, [(upto[-1] - 1) // 2, upto[-1] // 2], side="right")]
        out[segment] = (middle[0] + middle[1]) / 2
    return pd.Series(out, name="volume_7d").rename_axis("segment")


def standardized_rates(grid: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Engagement-standardized rate per (segment, window, volume bin, metric)."""
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for window in (7, 30):
        frame = grid.assign(volume=_bins(grid, window))
        for segment, seg in frame.groupby("segment", sort=True):
            counts = seg.groupby("engagement")["n"].sum()
            weights = counts / counts.sum()
            cells = seg.groupby(["volume", "engagement"])[["n", *METRICS]].sum()
            for vol, cell in cells.groupby(level="volume"):
                cell = cell.droplevel("volume")
                w = weights.reindex(cell.index).to_numpy()
                w = w / w.sum()
                n = cell["n"].to_numpy(dtype=float)
                for metric in METRICS:
                    k = cell[metric].to_numpy(dtype=float)
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
    """Best step in the 7-day volume for one metric within one segment (``seg``: rows of
    :func:`volume_grid`, ``n`` sends with ``seg[metric]`` events each)."""
    cells = (seg.assign(v=seg["volume_7d"].clip(upper=MAX_WEEKLY_BIN))
             .groupby(["engagement", "v"]).agg(n=("n", "sum"), **{metric: (metric, "sum")})
             .reset_index())
    sides, weight = seg["volume_7d"].clip(upper=MAX_WEEKLY_BIN).to_numpy(), seg["n"].to_numpy()
    candidates = [c for c in range(1, MAX_WEEKLY_BIN)
                  if weight[sides <= c].sum() >= MIN_SENDS_PER_SIDE
                  and weight[sides > c].sum() >= MIN_SENDS_PER_SIDE]
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


def fatigue_flags(cells: SendCells, threshold: np.ndarray, alpha: float) -> pd.DataFrame:
    """Per subscriber open rates at or below vs above their segment's threshold (``threshold``
    per subscriber row); BH-adjusted. One row per subscriber row with sends, sorted."""
    rows, inverse = np.unique(cells.row, return_inverse=True)
    high = cells.volume_7d > threshold[cells.row]
    side = lambda w, h: np.bincount(inverse[high == h], weights=w[high == h],  # noqa: E731
                                    minlength=len(rows)).astype(np.int64)
    k0, n0 = side(cells.open, False), side(cells.n, False)
    k1, n1 = side(cells.open, True), side(cells.n, True)
    frame = pd.DataFrame({"n_low": n0, "open_rate_low": k0 / np.maximum(n0, 1),
                          "n_high": n1, "open_rate_high": k1 / np.maximum(n1, 1)},
                         index=pd.Index(rows, name="row"))  # fmt: skip
    pooled = (k0 + k1) / np.maximum(n0 + n1, 1)
    se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(n0, 1) + 1 / np.maximum(n1, 1)))
    zstat = np.divide(frame["open_rate_low"] - frame["open_rate_high"], se,
                      out=np.zeros(len(frame)), where=se > 0)
    tested = (n0 >= MIN_SENDS_PER_SIDE) & (n1 >= MIN_SENDS_PER_SIDE)
    frame["p_value"] = np.where(tested, stats.norm.sf(zstat), np.nan)
    adjusted = np.full(len(frame), np.nan)
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        adjusted[tested] = multipletests(frame.loc[tested, "p_value"], method="fdr_bh")[1]
    frame["p_adjusted"] = adjusted
    frame["fatigued"] = np.nan_to_num(adjusted, nan=1.0) < alpha
    return frame
