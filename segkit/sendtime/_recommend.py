"""``segkit.sendtime.recommend``: per-subscriber send hour and weekdays, in local time."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from segkit._timestamps import utc_timestamp
from segkit.errors import DataSufficiencyWarning, ValidationError
from segkit.sendtime._engine import EngineInputs, engine_profiles
from segkit.sendtime._engine import usable as engine_usable
from segkit.sendtime._exposure import Profiles, profiles
from segkit.sendtime._inputs import SendTimeData, prepare
from segkit.sendtime._local_time import WEEKDAY_NAMES, utc_hour_on
from segkit.sendtime._shrinkage import (
    ALPHA_MAX,
    alpha_from_sums,
    moment_sums,
    normalized,
    scaled_exposure,
    shrink,
)

__all__ = ["ENGAGEMENT_TIERS", "PERSONAL_CREDIBILITY", "SEGMENT_CREDIBILITY", "recommend"]

#: Fallback segments when no mapping is given: human opens per send up to ``as_of``.
#: ``high`` >= 0.30, ``medium`` >= 0.10, ``low`` > 0, ``none`` (no human open or no send).
ENGAGEMENT_TIERS: dict[str, float] = {"high": 0.30, "medium": 0.10, "low": 0.0}
#: ``source`` is ``personal`` when the subscriber's own credibility Z is at least this ...
PERSONAL_CREDIBILITY = 0.5
#: ... else ``segment`` when the segment's credibility against the global profile is at least
#: this, else ``global``.
SEGMENT_CREDIBILITY = 0.5
DEFAULT_EXPOSURE_HOURS = 72
MAX_PREFERRED_WEEKDAYS = 3
#: Subscribers per block of the (n, 24) arrays: memory stays bounded at millions of them.
BLOCK_ROWS = 500_000

OUTPUT_COLUMNS = [
    "subscriber_id", "timezone", "timezone_fallback", "recommended_local_hour",
    "recommended_utc_hour", "second_best_local_hour", "preferred_weekdays", "confidence",
    "n_opens", "n_sends", "source", "segment",
]


@dataclass(frozen=True)
class Fit:
    """Everything :func:`recommend` computed (used by the evaluation and the charts)."""

    frame: pd.DataFrame
    data: SendTimeData | None  # None when aggregated in the engine (fit(..., events=False))
    profiles: Profiles
    segment_hour: pd.DataFrame  # segment x hour prior profiles
    segment_weekday: pd.DataFrame


def _tier_ids(n_opens: np.ndarray, n_sends: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Tier names and each subscriber's index into them (see :data:`ENGAGEMENT_TIERS`)."""
    names = [*ENGAGEMENT_TIERS, "none"]
    rate = np.divide(n_opens, n_sends, out=np.zeros(len(n_opens)), where=n_sends > 0)
    tier = np.full(len(rate), len(names) - 1, dtype=np.int64)
    for name, low in sorted(ENGAGEMENT_TIERS.items(), key=lambda kv: kv[1]):
        tier[(rate > low) if low == 0 else (rate >= low)] = names.index(name)
    tier[n_opens == 0] = len(names) - 1
    return names, tier


def engagement_tiers(n_opens: np.ndarray, n_sends: np.ndarray) -> np.ndarray:
    names, tier = _tier_ids(n_opens, n_sends)
    return np.array(names, dtype=object)[tier]


def _segment_codes(segment: pd.Series, prof: Profiles) -> tuple[np.ndarray, np.ndarray]:
    """Sorted segment names and each subscriber's code (engagement tiers without a mapping)."""
    if not segment.isna().all():
        return np.unique(segment.to_numpy(dtype=object).astype(str), return_inverse=True)
    names, tier = _tier_ids(prof.n_opens, prof.n_sends)
    present = np.flatnonzero(np.bincount(tier, minlength=len(names)))
    seg_names = np.array(sorted(names[i] for i in present))
    lookup = np.zeros(len(names), dtype=np.int64)
    lookup[present] = np.searchsorted(seg_names, [names[i] for i in present])
    return seg_names, lookup[tier]


def _segment_sums(values: np.ndarray, codes: np.ndarray, n_segments: int) -> np.ndarray:
    """Per segment, the sum of the rows of ``values`` (row order: as ``np.add.at``)."""
    onehot = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))),
                           shape=(n_segments, len(codes)))  # fmt: skip
    return np.asarray(onehot @ values)


def _top_two(rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-rate, axis=1, kind="stable")
    return order[:, 0], order[:, 1]


def _weekday_labels(rate: np.ndarray) -> np.ndarray:
    order = np.argsort(-rate, axis=1, kind="stable")[:, :MAX_PREFERRED_WEEKDAYS]
    above = np.take_along_axis(rate, order, axis=1) >= 1.0 - 1e-12
    # one label per distinct (order, above) pattern: few patterns, many subscribers
    code = (order * np.array([49, 7, 1])).sum(axis=1) * 8 + (above * np.array([4, 2, 1])).sum(axis=1)
    patterns, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    names = np.array(WEEKDAY_NAMES, dtype=object)
    labels = np.array([",".join(names[order[i][above[i]]]) for i in first], dtype=object)
    return labels[inverse.ravel()]


def fit(
    source: Any, as_of: Any, exposure_hours: int = DEFAULT_EXPOSURE_HOURS, *, events: bool = True
) -> Fit:
    """The full computation behind :func:`recommend`.

    With ``events=False`` a workspace or Ibis backend is aggregated in the engine
    (:mod:`segkit.sendtime._engine`) and ``Fit.data`` is None; callers that need the event
    arrays (the heatmap, the holdout evaluation) keep the default.
    """
    if not isinstance(exposure_hours, (int, np.integer)) or not 1 <= exposure_hours <= 24 * 14:
        raise ValidationError(f"exposure_hours must be an integer in [1, 336], got {exposure_hours!r}")
    stamp = utc_timestamp(as_of, "as_of", naive_as_utc=True)
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    data: SendTimeData | EngineInputs | None
    if not events and engine_usable(backend):
        data, prof = engine_profiles(backend, stamp, int(exposure_hours))
    else:
        data = prepare(source, stamp)
        prof = profiles(data, stamp.value // 10**9, int(exposure_hours))
    if prof.n_opens.sum() == 0:
        warnings.warn(
            f"no human opens up to as_of {stamp.date()}: every profile is flat and every "
            "recommended hour is 0 by convention; ingest open events or choose a later as_of",
            DataSufficiencyWarning, stacklevel=3)
    subs = data.subscribers
    n = len(subs)
    seg_names, seg_codes = _segment_codes(subs["segment"].astype("string"), prof)
    blocks = [(lo, min(lo + BLOCK_ROWS, n)) for lo in range(0, n, BLOCK_ROWS)] or [(0, 0)]
    whole = prof.block(0, n) if len(blocks) == 1 else None

    def arrays(lo: int, hi: int) -> tuple[np.ndarray, ...]:
        return whole if whole is not None else prof.block(lo, hi)

    # Pass 1: the segment and global sums (blocks of subscribers bound the memory).
    k = len(seg_names)
    sums = [np.zeros((k, 24)), np.zeros((k, 24)), np.zeros((k, 7)), np.zeros((k, 7))]
    day_opens, day_expected = np.zeros(7), np.zeros(7)
    for lo, hi in blocks:
        block = arrays(lo, hi)
        for total, values in zip(sums, block, strict=True):
            total += _segment_sums(values, seg_codes[lo:hi], k)
        day_opens += block[2].sum(axis=0)
        day_expected += block[3].sum(axis=0)
    global_day = normalized(day_opens / np.maximum(day_expected, 1e-12))[0]
    seg_hour_fit = shrink(sums[0], sums[1], normalized(prof.global_hour)[0])
    seg_hour = normalized(seg_hour_fit.rate)
    seg_day = normalized(shrink(sums[2], sums[3], normalized(global_day)[0]).rate)
    # Pass 2: the subscribers' prior strengths (method of moments over every subscriber).
    moments = {"hour": [False, 0.0, 0.0], "day": [False, 0.0, 0.0]}
    exposures: dict[str, np.ndarray] = {}  # one block: kept for pass 3
    for lo, hi in blocks:
        opens_hour, expected_hour, opens_day, expected_day = arrays(lo, hi)
        codes = seg_codes[lo:hi]
        for key, opens, expected, prior in (("hour", opens_hour, expected_hour, seg_hour[codes]),
                                            ("day", opens_day, expected_day, seg_day[codes])):
            exposure = scaled_exposure(opens, expected, prior)
            if whole is not None:
                exposures[key] = exposure
            used, excess, signal = moment_sums(opens, exposure, prior)
            moments[key] = [moments[key][0] or used, moments[key][1] + excess, moments[key][2] + signal]
    alpha = {key: alpha_from_sums(*sums_) for key, sums_ in moments.items()}
    alpha = {key: ALPHA_MAX if np.isnan(value) else value for key, value in alpha.items()}
    # Pass 3: posterior rates, block by block; only the per-subscriber answers are kept.
    parts: dict[str, list[np.ndarray]] = {"best": [], "second": [], "confidence": [], "weekdays": [],
                                          "source": []}  # fmt: skip
    for lo, hi in blocks:
        opens_hour, expected_hour, opens_day, expected_day = arrays(lo, hi)
        codes = seg_codes[lo:hi]
        hour = shrink(opens_hour, expected_hour, seg_hour[codes], alpha["hour"], exposures.get("hour"))
        day = shrink(opens_day, expected_day, seg_day[codes], alpha["day"], exposures.get("day"))
        best, second = _top_two(hour.rate)
        parts["best"].append(best)
        parts["second"].append(second)
        parts["confidence"].append(hour.credibility)
        parts["weekdays"].append(_weekday_labels(day.rate))
        parts["source"].append(np.where(
            hour.credibility >= PERSONAL_CREDIBILITY, "personal",
            np.where(seg_hour_fit.credibility[codes] >= SEGMENT_CREDIBILITY, "segment", "global")))
    best, second, confidence, weekdays, source_label = (np.concatenate(parts[key]) for key in parts)
    frame = pd.DataFrame({
        "subscriber_id": subs["subscriber_id"].array,
        "timezone": subs["timezone"].array,
        "timezone_fallback": subs["timezone_fallback"].to_numpy(dtype=bool),
        "recommended_local_hour": best.astype(np.int64),
        "second_best_local_hour": second.astype(np.int64),
        "preferred_weekdays": weekdays,
        "confidence": confidence,
        "n_opens": prof.n_opens.astype(np.int64),
        "n_sends": prof.n_sends.astype(np.int64),
        "source": source_label,
        "segment": seg_names[seg_codes],
    })
    frame["recommended_utc_hour"] = utc_hour_on(stamp, frame["timezone"], frame["recommended_local_hour"])
    frame = frame[OUTPUT_COLUMNS]
    frame.attrs.update({
        "as_of": stamp.isoformat(),
        "method": prof.method + "; gamma-Poisson empirical Bayes (Clayton & Kaldor 1987), "
        "subscriber -> segment -> global",
        "exposure_hours": int(exposure_hours),
        "prior_strength_hour": float(alpha["hour"]),
        "prior_strength_weekday": float(alpha["day"]),
        "prior_strength_segment": seg_hour_fit.alpha,
        "dominant_timezone": data.dominant_zone,
        "segments": "given" if subs["segment"].notna().any() else "engagement tiers",
    })
    return Fit(
        frame=frame, data=data if isinstance(data, SendTimeData) else None, profiles=prof,
        segment_hour=pd.DataFrame(seg_hour, index=pd.Index(seg_names, name="segment")),
        segment_weekday=pd.DataFrame(seg_day, index=pd.Index(seg_names, name="segment"),
                                     columns=list(WEEKDAY_NAMES)),
    )


def recommend(
    workspace_or_tables: Any,
    as_of: str | pd.Timestamp,
    *,
    exposure_hours: int = DEFAULT_EXPOSURE_HOURS,
) -> pd.DataFrame:
    """Recommend a local send hour (and weekdays) per subscriber.

    Parameters
    ----------
    workspace_or_tables
        A :class:`segkit.io.Workspace` (anything with ``.table(name)``) or a mapping
        ``{"events": DataFrame, "subscribers": DataFrame, "segments": Series}`` (``segments``
        optional: subscriber_id -> segment label, a Series or a DataFrame with those columns).
    as_of
        Only events with ``ts <= as_of`` are used; ``recommended_utc_hour`` is for the local
        calendar date of ``as_of`` (UTC date) in each zone, because the UTC hour of a local hour
        changes with daylight saving time.
    exposure_hours
        ``K``: how many hours after a send an open is attributed to that send.

    Returns
    -------
    DataFrame
        One row per subscriber (the subscribers table, plus subscribers seen only in events):
        ``subscriber_id``, ``timezone`` (IANA; the dominant zone when missing),
        ``timezone_fallback`` (the zone was missing), ``recommended_local_hour`` (0-23),
        ``recommended_utc_hour``, ``second_best_local_hour``, ``preferred_weekdays`` (up to three
        of ``Mon..Sun`` with an above-average posterior rate, best first, comma-separated),
        ``confidence`` (the credibility ``Z`` in [0, 1]), ``n_opens`` (human opens up to
        ``as_of``), ``n_sends``, ``source`` and ``segment``. ``frame.attrs`` records the method,
        ``as_of`` and the estimated prior strengths.

    Notes
    -----
    1. Machine opens are excluded (``events.machine_open``; computed with the ingest rule when
       the column is absent), so a subscriber whose opens are all machine opens has no personal
       data and gets the segment/global profile, never the delivery hour.
    2. Exposure correction (:mod:`segkit.sendtime._exposure`): observed human opens per local
       hour are compared with the opens expected from the subscriber's own send times under a
       fitted time-to-open curve with no hour preference, so frequent send hours are not
       mistaken for preferred hours.
    3. Shrinkage (:mod:`segkit.sendtime._shrinkage`): gamma-Poisson empirical Bayes towards the
       segment profile, itself shrunk towards the global profile; prior strengths estimated by
       moments. Without a segment mapping the segments are engagement tiers
       (:data:`ENGAGEMENT_TIERS`).
    4. ``recommended_local_hour`` is the hour with the highest posterior rate;
       ``second_best_local_hour`` the next. ``source`` is ``personal`` when ``confidence >=
       PERSONAL_CREDIBILITY`` (0.5, the subscriber's data outweigh the prior), else ``segment``
       when the segment's own credibility is >= ``SEGMENT_CREDIBILITY`` (0.5), else ``global``.
    5. Local times are DST-correct (IANA database). An invalid zone string raises
       :class:`~segkit.errors.ValidationError` naming it.
    6. A workspace or an Ibis backend whose events carry ``machine_open`` is aggregated in the
       engine (:mod:`segkit.sendtime._engine`): per subscriber two counts and two compact
       lists (attributed opens, send cells) come back, never the events; the result equals the
       one computed from the events in pandas.
    """
    return fit(workspace_or_tables, as_of, exposure_hours=exposure_hours, events=False).frame
