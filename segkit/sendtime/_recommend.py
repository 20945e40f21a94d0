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
    MIN_OPENS_FOR_MOMENTS,
    alpha_from_sums,
    moment_terms,
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
#: Subscribers per block: the segment sums and the moment sums are taken per block, then over
#: blocks (so the numbers do not depend on how a block is cut into ranges).
BLOCK_ROWS = 500_000
#: Subscribers per range of the (rows, 24) work arrays (a few MB: reused, cache-friendly).
CHUNK_ROWS = 16_384
#: ``source`` labels by code.
SOURCES = np.array(["personal", "segment", "global"])

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
    """Columns of the highest and second highest rate per row, the first on ties (as a stable
    sort of ``-rate``); ``rate`` is overwritten."""
    best = rate.argmax(axis=1)
    rate[np.arange(len(rate)), best] = -np.inf
    return best, rate.argmax(axis=1)


def _weekday_codes(rate: np.ndarray) -> np.ndarray:
    """Per row, one integer for the up to three best weekdays and which of them are above
    average (:func:`_weekday_labels` turns codes into labels)."""
    order = np.argsort(-rate, axis=1, kind="stable")[:, :MAX_PREFERRED_WEEKDAYS]
    above = np.take_along_axis(rate, order, axis=1) >= 1.0 - 1e-12
    return (order * np.array([49, 7, 1])).sum(axis=1) * 8 + (above * np.array([4, 2, 1])).sum(axis=1)


def _weekday_labels(code: np.ndarray) -> np.ndarray:
    """``"Tue,Sat"``-like labels of :func:`_weekday_codes`: few patterns, many subscribers."""
    patterns, inverse = np.unique(code, return_inverse=True)
    names = np.array(WEEKDAY_NAMES, dtype=object)
    labels = []
    for pattern in patterns.tolist():
        days, bits = divmod(pattern, 8)
        order = (days // 49, days // 7 % 7, days % 7)
        labels.append(",".join(names[d] for d, bit in zip(order, (4, 2, 1), strict=True) if bits & bit))
    return np.array(labels, dtype=object)[inverse.ravel()]


def _ranges(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size, hi)) for start in range(lo, hi, size)]


@dataclass(frozen=True)
class _Priors:
    """The segment profiles every subscriber is shrunk towards (pass 1 of :func:`fit`)."""

    hour: np.ndarray  # (segments, 24), rows of mean 1
    weekday: np.ndarray  # (segments, 7)
    hour_credibility: np.ndarray  # (segments,) of the segment hour profiles against the global one
    hour_alpha: float


def _segment_priors(prof: Profiles, codes: np.ndarray, k: int, blocks: list[tuple[int, int]]) -> _Priors:
    """Pass 1: each segment's observed and expected opens, summed block by block (expected in
    subscriber order within a block, as a sparse segment x subscriber product sums them), then
    shrunk towards the global profiles."""
    expected_hour, expected_day, day_expected = np.zeros((k, 24)), np.zeros((k, 7)), np.zeros(7)
    for lo, hi in blocks:
        block_hour, block_day, block_total = np.zeros((k, 24)), np.zeros((k, 7)), np.zeros((1, 7))
        for start, stop in _ranges(lo, hi, CHUNK_ROWS):
            rows = codes[start:stop]
            np.add.at(block_hour, rows, prof.expected("hour", start, stop))
            day = prof.expected("weekday", start, stop)
            np.add.at(block_day, rows, day)
            np.add.at(block_total, np.zeros(len(rows), dtype=np.intp), day)
        expected_hour += block_hour
        expected_day += block_day
        day_expected += block_total[0]
    opens_day = prof.opens.totals("weekday", codes, k)
    global_day = normalized(opens_day.sum(axis=0) / np.maximum(day_expected, 1e-12))[0]
    hour_fit = shrink(prof.opens.totals("hour", codes, k), expected_hour, normalized(prof.global_hour)[0])
    weekday = normalized(shrink(opens_day, expected_day, normalized(global_day)[0]).rate)
    return _Priors(hour=normalized(hour_fit.rate), weekday=weekday,
                   hour_credibility=hour_fit.credibility, hour_alpha=hour_fit.alpha)


def _prior_strength(prof: Profiles, period: str, prior: np.ndarray, codes: np.ndarray,
                    blocks: list[tuple[int, int]]) -> float:
    """Pass 2: the subscribers' prior strength for ``period`` by the method of moments over
    every subscriber with enough opens (their terms summed per block as one array, then over
    blocks)."""
    enough = np.bincount(prof.opens.sub, minlength=len(codes)) >= MIN_OPENS_FOR_MOMENTS
    bins = prior.shape[1]
    most = max(int(enough[lo:hi].sum()) for lo, hi in blocks)
    excess_buffer, signal_buffer = np.empty(most * bins), np.empty(most * bins)
    used, excess, signal = False, 0.0, 0.0
    for lo, hi in blocks:
        count = int(enough[lo:hi].sum())
        if count == 0:
            continue
        terms = excess_buffer[: count * bins].reshape(count, bins)
        squares = signal_buffer[: count * bins].reshape(count, bins)
        filled = 0
        for start, stop in _ranges(lo, hi, CHUNK_ROWS):
            keep = enough[start:stop]
            rows = int(keep.sum())
            if rows == 0:
                continue
            opens, expected = prof.observed(period, start, stop), prof.expected(period, start, stop)
            prior_rows = prior[codes[start:stop]]
            exposure = scaled_exposure(opens, expected, prior_rows)
            moment_terms(opens[keep], exposure[keep], prior_rows[keep], terms[filled : filled + rows],
                         squares[filled : filled + rows])  # fmt: skip
            filled += rows
        used, excess, signal = True, excess + float(terms.sum()), signal + float(squares.sum())
    alpha = alpha_from_sums(used, excess, signal)
    return ALPHA_MAX if np.isnan(alpha) else alpha


@dataclass(frozen=True)
class _Answers:
    """Per subscriber: the best and second best local hour, the credibility, the preferred
    weekdays' code (:func:`_weekday_codes`) and the source (0 personal, 1 segment, 2 global)."""

    best: np.ndarray
    second: np.ndarray
    confidence: np.ndarray
    weekdays: np.ndarray
    source: np.ndarray


def _answers(prof: Profiles, priors: _Priors, alpha: dict[str, float], codes: np.ndarray) -> _Answers:
    """Pass 3: posterior rates range by range; only the per-subscriber answers are kept."""
    parts: list[tuple[np.ndarray, ...]] = []
    for start, stop in _ranges(0, len(codes), CHUNK_ROWS):
        rows = codes[start:stop]
        hour = shrink(prof.observed("hour", start, stop), prof.expected("hour", start, stop),
                      priors.hour[rows], alpha["hour"])  # fmt: skip
        day = shrink(prof.observed("weekday", start, stop), prof.expected("weekday", start, stop),
                     priors.weekday[rows], alpha["weekday"])  # fmt: skip
        best, second = _top_two(hour.rate)
        source = np.where(hour.credibility >= PERSONAL_CREDIBILITY, 0,
                          np.where(priors.hour_credibility[rows] >= SEGMENT_CREDIBILITY, 1, 2))
        parts.append((best, second, hour.credibility, _weekday_codes(day.rate), source))
    if not parts:
        empty = np.empty(0, dtype=np.int64)
        return _Answers(empty, empty, np.empty(0), empty, empty)
    return _Answers(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _profiles(source: Any, stamp: pd.Timestamp, hours: int, events: bool
              ) -> tuple[SendTimeData | EngineInputs, Profiles]:
    """The subscribers and their :class:`Profiles`: aggregated in the engine for a workspace
    or an Ibis backend when ``events`` is False, else from the event arrays."""
    backend = source.ibis() if callable(getattr(source, "ibis", None)) else source
    if not events and engine_usable(backend):
        return engine_profiles(backend, stamp, hours)
    data = prepare(source, stamp)
    return data, profiles(data, stamp.value // 10**9, hours)


def _frame(subs: pd.DataFrame, prof: Profiles, answers: _Answers, seg_names: np.ndarray,
           seg_codes: np.ndarray, stamp: pd.Timestamp) -> pd.DataFrame:
    frame = pd.DataFrame({
        "subscriber_id": subs["subscriber_id"].array,
        "timezone": subs["timezone"].array,
        "timezone_fallback": subs["timezone_fallback"].to_numpy(dtype=bool),
        "recommended_local_hour": answers.best.astype(np.int64),
        "second_best_local_hour": answers.second.astype(np.int64),
        "preferred_weekdays": _weekday_labels(answers.weekdays),
        "confidence": answers.confidence,
        "n_opens": prof.n_opens.astype(np.int64),
        "n_sends": prof.n_sends.astype(np.int64),
        "source": SOURCES[answers.source],
        "segment": seg_names[seg_codes],
    })  # fmt: skip
    frame["recommended_utc_hour"] = utc_hour_on(stamp, frame["timezone"], frame["recommended_local_hour"])
    return frame[OUTPUT_COLUMNS]


def fit(
    source: Any, as_of: Any, exposure_hours: int = DEFAULT_EXPOSURE_HOURS, *, events: bool = True
) -> Fit:
    """The full computation behind :func:`recommend`.

    With ``events=False`` a workspace or Ibis backend is aggregated in the engine
    (:mod:`segkit.sendtime._engine`) and ``Fit.data`` is None; callers that need the event
    arrays (the heatmap, the holdout evaluation) keep the default.

    Three passes over the subscribers, each on small ranges of rows (memory stays bounded):
    the segment priors (:func:`_segment_priors`), the subscribers' prior strengths
    (:func:`_prior_strength`) and the posterior answers (:func:`_answers`).
    """
    if not isinstance(exposure_hours, (int, np.integer)) or not 1 <= exposure_hours <= 24 * 14:
        raise ValidationError(f"exposure_hours must be an integer in [1, 336], got {exposure_hours!r}")
    stamp = utc_timestamp(as_of, "as_of", naive_as_utc=True)
    data, prof = _profiles(source, stamp, int(exposure_hours), events)
    if prof.n_opens.sum() == 0:
        warnings.warn(
            f"no human opens up to as_of {stamp.date()}: every profile is flat and every "
            "recommended hour is 0 by convention; ingest open events or choose a later as_of",
            DataSufficiencyWarning, stacklevel=3)
    subs = data.subscribers
    n = len(subs)
    seg_names, seg_codes = _segment_codes(subs["segment"].astype("string"), prof)
    blocks = _ranges(0, n, BLOCK_ROWS) or [(0, 0)]
    priors = _segment_priors(prof, seg_codes, len(seg_names), blocks)
    alpha = {period: _prior_strength(prof, period, prior, seg_codes, blocks)
             for period, prior in (("hour", priors.hour), ("weekday", priors.weekday))}
    frame = _frame(subs, prof, _answers(prof, priors, alpha, seg_codes), seg_names, seg_codes, stamp)
    frame.attrs.update({
        "as_of": stamp.isoformat(),
        "method": prof.method + "; gamma-Poisson empirical Bayes (Clayton & Kaldor 1987), "
        "subscriber -> segment -> global",
        "exposure_hours": int(exposure_hours),
        "prior_strength_hour": float(alpha["hour"]),
        "prior_strength_weekday": float(alpha["weekday"]),
        "prior_strength_segment": priors.hour_alpha,
        "dominant_timezone": data.dominant_zone,
        "segments": "given" if subs["segment"].notna().any() else "engagement tiers",
    })
    return Fit(
        frame=frame, data=data if isinstance(data, SendTimeData) else None, profiles=prof,
        segment_hour=pd.DataFrame(priors.hour, index=pd.Index(seg_names, name="segment")),
        segment_weekday=pd.DataFrame(priors.weekday, index=pd.Index(seg_names, name="segment"),
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
