"""Holdout evaluation of send-time recommendations against two baselines."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.sendtime._inputs import prepare
from segkit.sendtime._local_time import hour_of_day, local_seconds
from segkit.sendtime._recommend import DEFAULT_EXPOSURE_HOURS, fit

__all__ = ["HoldoutEvaluation", "evaluate_holdout"]

METHODS = ("segkit", "global_hour", "subscriber_mode")
WINDOWS = (1, 2)


@dataclass(frozen=True)
class HoldoutEvaluation:
    """Hit rates of the next human open within +-1 and +-2 hours, per method, and lifts.

    ``rates``: method, window_hours, hits, n, hit_rate, ci_low, ci_high (Wilson).
    ``lifts``: baseline, window_hours, segkit_rate, baseline_rate, lift (absolute difference),
    ci_low, ci_high (paired bootstrap percentile interval over subscribers).
    ``per_subscriber``: subscriber_id, next_open_local_hour and each method's local hour.
    """

    cutoff: pd.Timestamp
    end: pd.Timestamp
    n_subscribers: int
    global_hour: int
    rates: pd.DataFrame
    lifts: pd.DataFrame
    per_subscriber: pd.DataFrame
    alpha: float
    n_boot: int
    seed: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """Lifts of segkit over each baseline, with both hit rates and the interval."""
        return self.lifts.copy()

    def summary(self) -> str:
        level = f"{1 - self.alpha:.0%}"
        lines = [
            f"Send-time holdout {self.cutoff.date()} -> {self.end.date()}: "
            f"{self.n_subscribers:,} subscribers with a human open in the holdout "
            f"(global best hour {self.global_hour:02d}:00 local).",
        ]
        for row in self.rates.itertuples():
            lines.append(f"  {row.method:<16} +-{row.window_hours} h: {row.hit_rate:.1%} "
                         f"[{row.ci_low:.1%}, {row.ci_high:.1%}]")
        for row in self.lifts.itertuples():
            lines.append(f"  segkit vs {row.baseline:<16} +-{row.window_hours} h: "
                         f"{row.lift:+.1%} ({level} CI {row.ci_low:+.1%} to {row.ci_high:+.1%})")
        lines.append(f"method: {self.method}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<pre>{html.escape(self.summary())}</pre>" + self.rates.to_html(index=False)
                + self.lifts.to_html(index=False))


def circular_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance between hours of the day on the 24-hour circle (0..12)."""
    diff = np.abs(np.asarray(a) - np.asarray(b)) % 24
    return np.minimum(diff, 24 - diff)


def _next_opens(source: Any, cutoff: pd.Timestamp, end: pd.Timestamp, frame: pd.DataFrame) -> pd.DataFrame:
    later = prepare(source, end)
    after = later.open_ts > cutoff.value // 10**9
    sub, ts = later.open_sub[after], later.open_ts[after]
    first = np.unique(sub, return_index=True)[1]  # sorted by (subscriber, ts)
    ids = later.subscribers["subscriber_id"].to_numpy()[sub[first]]
    position = pd.Index(frame["subscriber_id"]).get_indexer(ids)
    known = position >= 0
    zones = sorted(pd.unique(frame["timezone"]))
    zone_code = pd.Categorical(frame["timezone"], categories=zones).codes[position[known]]
    local = local_seconds(ts[first][known], zone_code.astype(np.int64), zones)
    return pd.DataFrame({"row": position[known], "next_open_local_hour": hour_of_day(local)})


def _baselines(result) -> tuple[int, np.ndarray]:
    data = result.data
    local = local_seconds(data.open_ts, data.zone_code[data.open_sub], data.zones)
    hours = hour_of_day(local)
    n = len(data.subscribers)
    counts = np.bincount(data.open_sub * 24 + hours, minlength=n * 24).reshape(n, 24)
    global_hour = int(np.argmax(counts.sum(axis=0)))
    mode = np.where(counts.sum(axis=1) > 0, np.argmax(counts, axis=1), global_hour)
    return global_hour, mode


def _paired_bootstrap(diff: np.ndarray, n_boot: int, alpha: float, rng) -> tuple[float, float]:
    """Percentile interval of the mean of per-subscriber differences in {-1, 0, 1}.

    Resampling subscribers with replacement only changes how many of each value are drawn, so
    the bootstrap draws those counts from the multinomial directly (exactly the same law)."""
    values = np.array([-1.0, 0.0, 1.0])
    share = np.array([(diff == v).mean() for v in values])
    draws = rng.multinomial(len(diff), share, size=n_boot) @ values / len(diff)
    return float(np.quantile(draws, alpha / 2)), float(np.quantile(draws, 1 - alpha / 2))


def evaluate_holdout(
    workspace_or_tables: Any,
    cutoff: str | pd.Timestamp,
    end: str | pd.Timestamp,
    *,
    exposure_hours: int = DEFAULT_EXPOSURE_HOURS,
    alpha: float = 0.05,
    n_boot: int = 2000,
    seed: int = 0,
) -> HoldoutEvaluation:
    """Fit on events up to ``cutoff``; score the first human open in ``(cutoff, end]``.

    A method "hits" within +-w hours when the local hour of the subscriber's next human open is
    within w hours (on the 24-hour circle) of the recommended local hour. Methods: ``segkit``
    (:func:`recommend`), ``global_hour`` (the single local hour with most human opens before
    the cutoff, for everyone) and ``subscriber_mode`` (each subscriber's most frequent human
    open hour, no exposure correction, no shrinkage; the global hour when they have no opens).
    Hit rates get Wilson intervals; lifts (segkit minus baseline, same subscribers) get paired
    bootstrap percentile intervals (``n_boot`` resamples of subscribers, ``seed``).
    """
    start = utc_timestamp(cutoff, "cutoff", naive_as_utc=True)
    stop = utc_timestamp(end, "end", naive_as_utc=True)
    if stop <= start:
        raise ValidationError(f"end ({stop}) must be after cutoff ({start})")
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must be in (0, 1), got {alpha!r}")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 100:
        raise ValidationError(f"n_boot must be an integer >= 100, got {n_boot!r}")
    result = fit(workspace_or_tables, start, exposure_hours=exposure_hours)
    nxt = _next_opens(workspace_or_tables, start, stop, result.frame)
    if nxt.empty:
        raise ValidationError(f"no human opens between cutoff {start} and end {stop}; "
                              "choose an earlier cutoff or a later end")
    global_hour, mode = _baselines(result)
    picks = {
        "segkit": result.frame["recommended_local_hour"].to_numpy()[nxt["row"]],
        "global_hour": np.full(len(nxt), global_hour),
        "subscriber_mode": mode[nxt["row"]],
    }
    actual = nxt["next_open_local_hour"].to_numpy()
    hits = {(m, w): circular_distance(p, actual) <= w for m, p in picks.items() for w in WINDOWS}
    rates = []
    for (m, w), hit in hits.items():
        low, high = proportion_confint(hit.sum(), len(hit), alpha=alpha, method="wilson")
        rates.append((m, w, int(hit.sum()), len(hit), float(hit.mean()), float(low), float(high)))
    rates = pd.DataFrame(rates, columns=["method", "window_hours", "hits", "n", "hit_rate", "ci_low", "ci_high"])
    rng = np.random.default_rng(seed)
    lifts = []
    for base in METHODS[1:]:
        for w in WINDOWS:
            diff = hits[("segkit", w)].astype(float) - hits[(base, w)]
            low, high = _paired_bootstrap(diff, n_boot, alpha, rng)
            lifts.append((base, w, hits[("segkit", w)].mean(), hits[(base, w)].mean(), diff.mean(), low, high))
    lifts = pd.DataFrame(lifts, columns=["baseline", "window_hours", "segkit_rate", "baseline_rate",
                                         "lift", "ci_low", "ci_high"])
    per_sub = pd.DataFrame({"subscriber_id": result.frame["subscriber_id"].to_numpy()[nxt["row"]],
                            "next_open_local_hour": actual,
                            **{f"{m}_local_hour": p for m, p in picks.items()}})
    return HoldoutEvaluation(
        cutoff=start, end=stop, n_subscribers=len(nxt), global_hour=global_hour, rates=rates,
        lifts=lifts, per_subscriber=per_sub, alpha=float(alpha), n_boot=int(n_boot), seed=int(seed),
        method="next human open within +-w h of the local hour; Wilson intervals for rates; "
        "paired bootstrap percentile intervals for lifts; segkit: " + result.frame.attrs["method"],
    )
