"""Send frequency and fatigue: how engagement and unsubscribes respond to email volume.

``segkit.sendtime.frequency.analyze(workspace_or_tables, as_of) -> FrequencyResult``: rates of
open, click and unsubscribe by the number of emails received in the previous 7 and 30 days,
per segment, standardized over engagement level; a recommended weekly cap per segment with the
evidence (a change-point binomial GLM); a personal cap for subscribers whose own data support
it (an empirical-Bayes change point shrunk toward the segment cap); per-subscriber fatigue flags. Method details:
:mod:`segkit.sendtime._fatigue`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.sendtime._engine import usable as engine_usable
from segkit.sendtime._fatigue import (
    METRICS,
    _codes,
    change_point,
    event_cells,
    fatigue_flags,
    standardized_rates,
    volume_grid,
    weekly_median,
)
from segkit.sendtime._fatigue_engine import FrequencyInputs, engine_inputs
from segkit.sendtime._inputs import prepare
from segkit.sendtime._personal_cap import personal_caps
from segkit.sendtime._recommend import engagement_tiers

__all__ = ["FrequencyResult", "analyze"]

DEFAULT_ATTRIBUTION_HOURS = 72


@dataclass(frozen=True)
class FrequencyResult:
    """Volume response, weekly caps and fatigue flags.

    Attributes
    ----------
    rates
        segment, window_days (7 or 30), volume_from (emails in the window, the lower edge of the
        bin; the last bin is open-ended), metric, n_sends, events, rate (engagement-standardized),
        ci_low, ci_high, crude_rate.
    evidence
        One row per (segment, metric): the best change point ``cap`` (NaN when no significant
        harmful step), rate_ratio above vs at-or-below it with its interval, the
        Bonferroni-corrected likelihood-ratio p-value, the number of candidates, the segment's
        maximum weekly volume and the number of events.
    caps
        One row per segment: ``recommended_weekly_cap`` (smallest significant cap over the
        metrics; NaN: no evidence of fatigue up to ``max_weekly_volume``), the metric that set
        it, ``max_weekly_volume``.
    subscribers
        One row per subscriber with sends: segment, threshold used, n_low, open_rate_low,
        n_high, open_rate_high, p_value, p_adjusted, fatigued; then the per-subscriber cap
        (:mod:`segkit.sendtime._personal_cap`): personal_cap_estimate (posterior-mode change
        point in the subscriber's human-open rate, NaN when no fall), personal_n_below /
        personal_n_above (sends at-or-below / above it), the raw and shrunk open rates on each
        side, shrinkage_weight_below / _above (``n / (n + prior_strength)``), human_opens,
        bayes_factor (step vs no step, the subscriber's own data), posterior_prob,
        prior_strength, ``cap_source`` (``"personal"`` when the sufficiency rule holds, else
        ``"segment"``) and recommended_weekly_cap (the personal cap, else the segment cap).
    """

    as_of: pd.Timestamp
    rates: pd.DataFrame
    evidence: pd.DataFrame
    caps: pd.DataFrame
    subscribers: pd.DataFrame
    alpha: float
    attribution_hours: int
    method: str

    def to_frame(self) -> pd.DataFrame:
        """The per-segment caps."""
        return self.caps.copy()

    def summary(self) -> str:
        lines = [f"Send frequency as of {self.as_of.date()} (alpha {self.alpha:g}):"]
        for row in self.caps.itertuples():
            cap = ("no evidence of fatigue up to " f"{row.max_weekly_volume} emails/7 days"
                   if np.isnan(row.recommended_weekly_cap)
                   else f"cap {int(row.recommended_weekly_cap)} emails/7 days (from {row.set_by})")
            lines.append(f"  {row.segment}: {cap}")
        flagged = int(self.subscribers["fatigued"].sum())
        personal = int((self.subscribers["cap_source"] == "personal").sum())
        lines.append(f"  personal caps: {personal:,} of {len(self.subscribers):,} subscribers")
        lines.append(f"  fatigued subscribers: {flagged:,} of {len(self.subscribers):,}")
        lines.append(f"method: {self.method}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (f"<pre>{html.escape(self.summary())}</pre>" + self.caps.to_html(index=False)
                + self.evidence.to_html(index=False))


def _caps(evidence: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for segment, group in evidence.groupby("segment", sort=True):
        found = group.dropna(subset=["cap"]).sort_values(["cap", "p_value"])
        rows.append({
            "segment": segment,
            "recommended_weekly_cap": float(found["cap"].iloc[0]) if len(found) else np.nan,
            "set_by": found["metric"].iloc[0] if len(found) else None,
            "max_weekly_volume": int(group["max_weekly_volume"].max()),
        })
    return pd.DataFrame(rows)


def _inputs(source: Any, as_of: pd.Timestamp, hours: int) -> FrequencyInputs:
    """Send cells and per-subscriber tallies: aggregated in the engine for a workspace or an
    Ibis backend (:mod:`segkit.sendtime._fatigue_engine`), else from the event arrays."""
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if engine_usable(backend):
        return engine_inputs(backend, as_of, hours)
    data = prepare(source, as_of)
    n = len(data.subscribers)
    return FrequencyInputs(
        subscriber_id=data.subscribers["subscriber_id"].to_numpy(),
        n_opens=np.bincount(data.open_sub, minlength=n), n_sends=np.bincount(data.send_sub, minlength=n),
        segment=data.subscribers["segment"].astype("string").fillna("all").to_numpy(dtype=object),
        cells=event_cells(data, hours),
    )


def analyze(
    workspace_or_tables: Any,
    as_of: str | pd.Timestamp,
    *,
    alpha: float = 0.05,
    attribution_hours: int = DEFAULT_ATTRIBUTION_HOURS,
) -> FrequencyResult:
    """Estimate how email volume changes engagement and unsubscribes; recommend weekly caps.

    Parameters
    ----------
    workspace_or_tables
        As for :func:`segkit.sendtime.recommend` (``segments`` optional; without it every
        subscriber is in segment ``"all"``). Events with ``ts <= as_of`` only.
    as_of
        Cut-off timestamp.
    alpha
        Significance level for the change-point tests, the intervals and the fatigue flags.
    attribution_hours
        An open, click or unsubscribe belongs to the latest send before it within this window.

    Notes
    -----
    Volume is observational: programs send more to some people for reasons that also drive
    engagement. Stratifying on engagement level removes the largest such confounder, not all.
    """
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must be in (0, 1), got {alpha!r}")
    if not isinstance(attribution_hours, (int, np.integer)) or attribution_hours < 1:
        raise ValidationError(f"attribution_hours must be a positive integer, got {attribution_hours!r}")
    stamp = utc_timestamp(as_of, "as_of", naive_as_utc=True)
    data = _inputs(workspace_or_tables, stamp, int(attribution_hours))
    if data.n_sends.sum() == 0:
        raise ValidationError("no 'send' events up to as_of; frequency needs send events")
    segments, cells = data.segment, data.cells
    grid = volume_grid(cells, segments, engagement_tiers(data.n_opens, data.n_sends))
    evidence = pd.DataFrame([{"segment": s, **change_point(g, m, alpha)}
                             for s, g in grid.groupby("segment", sort=True) for m in METRICS])
    caps = _caps(evidence)
    threshold = caps.set_index("segment")["recommended_weekly_cap"].fillna(weekly_median(grid)).astype(float)
    names, code = _codes(segments)
    by_row = threshold.reindex(names).to_numpy()[code]
    flags = fatigue_flags(cells, by_row, alpha)
    rows = flags.index.to_numpy()
    flags.insert(0, "subscriber_id", data.subscriber_id[rows])
    flags.insert(1, "segment", segments[rows])
    flags.insert(2, "threshold", by_row[rows])
    personal = personal_caps(cells, segments, caps.set_index("segment")["recommended_weekly_cap"])
    flags = flags.join(personal.drop(columns="segment_cap"))
    return FrequencyResult(
        as_of=stamp, rates=standardized_rates(grid, alpha), evidence=evidence, caps=caps,
        subscribers=flags.reset_index(drop=True), alpha=float(alpha),
        attribution_hours=int(attribution_hours),
        method="engagement-stratified binomial GLM change point in 7-day volume (LR test, "
        "Bonferroni over candidates); direct standardization for rates; per-subscriber one-sided "
        "two-proportion z-test with Benjamini-Hochberg; personal caps by empirical-Bayes "
        "beta-binomial change point in human opens, model prior shrunk toward the segment cap",
    )
