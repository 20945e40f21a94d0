"""The ``recommendations`` report: holdout table, lift by history segment, examples, verdict."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.recommend import (
    EASE,
    BuyAgain,
    Cooccurrence,
    HoldoutResult,
    Popularity,
    Recommender,
    online_retail_interactions,
    weight_events,
)
from segkit.reports.sections.period import Sufficiency

__all__ = ["HISTORY_SEGMENTS", "NO_FEATURES", "SOURCES", "example_lists", "holdout_verdict", "lift_by_scheme",
           "lift_by_segment", "load_interactions", "report_models", "resolve_split", "scheme_segments"]

#: where the report reads interactions from
SOURCES = ("workspace", "online_retail")

#: training history segments (distinct items bought before the cutoff): label -> (low, high]
HISTORY_SEGMENTS = {"cold start (no history)": (-1, 0), "1-4 items": (0, 4), "5-19 items": (4, 19),
                    "20+ items": (19, np.inf)}


def load_interactions(source: str, workspace: Any = None) -> pd.DataFrame:
    """Interactions from the workspace's product events, or the vendored Online Retail lines."""
    if source not in SOURCES:
        raise ValidationError(f"unknown source {source!r}; valid: {', '.join(SOURCES)}")
    if source == "online_retail":
        from segkit.datasets import online_retail

        return online_retail_interactions(online_retail())
    from segkit.io import read_interactions

    return weight_events(read_interactions(workspace))


def resolve_split(interactions: pd.DataFrame, cutoff: str, end: str, holdout_days: float
                  ) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(cutoff, end): as given (a bare date is the end of that day, UTC), else the end of the data
    and ``holdout_days`` before it."""
    last = pd.to_datetime(interactions["ts"], utc=True).max()
    stop = _end_of_day(end) if end else last
    start = _end_of_day(cutoff) if cutoff else stop - pd.Timedelta(days=holdout_days)
    if start >= stop:
        raise ValidationError(f"cutoff {start.isoformat()} must be before end {stop.isoformat()}")
    return start, stop


def _end_of_day(text: str) -> pd.Timestamp:
    stamp = pd.Timestamp(text)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1) if len(text) == 10 else stamp


def report_models(*, popularity_days: float = 90.0) -> list[Recommender]:
    """The models the report compares (popularity first: it is the baseline)."""
    shared = {"popularity_days": popularity_days}
    return [Popularity(window_days=popularity_days, **shared), BuyAgain(**shared),
            Cooccurrence(**shared), EASE(**shared)]


def lift_by_segment(result: HoldoutResult, models: list[Recommender]) -> pd.DataFrame:
    """Mean recall@k per history segment and model, and each model minus the baseline."""
    fitted = models[0].data_
    history = pd.Series(np.diff(fitted.binary.indptr), index=fitted.subscribers)
    items = history.reindex(result.per_subscriber.index, fill_value=0).to_numpy()
    labels = np.empty(len(items), dtype=object)
    for label, (low, high) in HISTORY_SEGMENTS.items():
        labels[(items > low) & (items <= high)] = label
    recall = result.per_subscriber.xs("recall", axis=1, level="metric")
    means = recall.groupby(labels).mean()
    lifts = means.sub(means[result.baseline], axis=0).drop(columns=result.baseline).add_suffix(" lift")
    table = pd.concat([recall.groupby(labels).size().rename("subscribers"), means, lifts], axis=1)
    return table.reindex([s for s in HISTORY_SEGMENTS if s in table.index]).rename_axis("segment").reset_index()


#: segment label of test subscribers absent from the feature table at the cutoff (no event before it)
NO_FEATURES = "(no history at cutoff)"


def scheme_segments(interactions: pd.DataFrame, cutoff: pd.Timestamp, scheme: str, workspace: Any = None
                    ) -> pd.Series:
    """Labels of built-in segment ``scheme`` (:data:`segkit.segments.SCHEMES`) as of ``cutoff``,
    indexed by subscriber id: from the workspace's feature table, or, without a workspace (the
    Online Retail lines), from one purchase event per subscriber and interaction time (enough for
    the RFM groups, which read recency and frequency; engagement needs email events)."""
    from segkit.features import compute
    from segkit.segments import scheme_labels

    if workspace is not None:
        features = compute(workspace, cutoff)
    else:
        purchases = interactions[["subscriber_id", "ts"]].drop_duplicates()
        events = pd.DataFrame({"subscriber_id": purchases["subscriber_id"].astype(str).to_numpy(),
                               "event_type": "purchase", "ts": pd.to_datetime(purchases["ts"], utc=True).dt.floor("us").array,
                               "campaign_id": None, "value": np.nan})
        features = compute({"events": events}, cutoff)
    labels = scheme_labels(features, scheme)
    return pd.Series(np.asarray(labels, dtype=object), index=features.index.astype(str), name=scheme)


def lift_by_scheme(result: HoldoutResult, labels: pd.Series, *, n_boot: int | None = None,
                   seed: int = 0) -> pd.DataFrame:
    """Recall@k lift of every model over the baseline within each segment, with a paired
    percentile bootstrap interval over the segment's test subscribers (same level as ``result``).

    One row per segment and model: ``segment``, ``model``, ``subscribers``, ``recall``,
    ``baseline_recall``, ``lift``, ``lift_low``, ``lift_high``. Test subscribers missing from
    ``labels`` (no event before the cutoff) form the segment :data:`NO_FEATURES`.
    """
    recall = result.per_subscriber.xs("recall", axis=1, level="metric")
    segment = labels.reindex(recall.index.astype(str)).fillna(NO_FEATURES).to_numpy(dtype=object)
    boots = result.n_boot if n_boot is None else n_boot
    tail = (1.0 - result.confidence_level) / 2.0
    rng = np.random.default_rng(seed)
    rows = []
    sizes = pd.Series(segment).value_counts()
    order = [s for s in sizes.index if s != NO_FEATURES] + [s for s in sizes.index if s == NO_FEATURES]
    for name in order:
        members = recall.loc[segment == name]
        n = len(members)
        weights = rng.multinomial(n, np.full(n, 1.0 / n), size=boots) / n
        base = members[result.baseline].to_numpy()
        for model in members.columns:
            if model == result.baseline:
                continue
            diff = members[model].to_numpy() - base
            low, high = np.quantile(weights @ diff, [tail, 1 - tail])
            rows.append({"segment": name, "model": model, "subscribers": n, "recall": members[model].mean(),
                         "baseline_recall": base.mean(), "lift": diff.mean(), "lift_low": low, "lift_high": high})
    return pd.DataFrame(rows, columns=["segment", "model", "subscribers", "recall", "baseline_recall", "lift",
                                       "lift_low", "lift_high"])


def example_lists(model: Recommender, result: HoldoutResult, *, n: int = 3, k: int = 5,
                  seed: int = 0) -> pd.DataFrame:
    """Top-``k`` lists of ``n`` warm test subscribers (by pseudonym), marking what they bought next."""
    from segkit.reports.display import pseudonymize_ids

    warm = result.per_subscriber.index[~result.per_subscriber[("cold_start", "")].to_numpy()]
    if len(warm) == 0:
        return pd.DataFrame(columns=["subscriber", "rank", "product_id", "name", "model"])
    chosen = np.random.default_rng(seed).choice(np.asarray(warm), size=min(n, len(warm)), replace=False)
    recs = model.recommend(chosen, k=k)
    names = dict(zip(chosen, pseudonymize_ids(list(chosen)), strict=True))
    recs.insert(0, "subscriber", recs.pop("subscriber_id").map(names))
    return recs.drop(columns="score")


def holdout_verdict(result: HoldoutResult, *, min_subscribers: int = 200) -> Sufficiency:
    """Sufficient when enough subscribers were scored and the best non-baseline model's recall
    lift over the baseline has an interval above zero."""
    table = result.table.drop(index=result.baseline)
    best = str(table["recall"].idxmax())
    row = table.loc[best]
    scored = int(row["subscribers"])
    interval = f"[{row['recall_lift_low']:+.3f}, {row['recall_lift_high']:+.3f}]"
    if scored < min_subscribers:
        return Sufficiency(False, f"only {scored:,} test subscribers (need {min_subscribers:,}); the "
                                  "differences between models are not reliable")
    if row["recall_lift_low"] <= 0:
        return Sufficiency(False, f"no model beats {result.baseline} clearly: best {best} "
                                  f"recall@{result.k} lift {row['recall_lift']:+.3f} {interval}")
    return Sufficiency(True, f"{best} beats {result.baseline} on recall@{result.k} by "
                             f"{row['recall_lift']:+.3f} {interval} over {scored:,} subscribers "
                             f"({result.cold_start:,} cold start)")
