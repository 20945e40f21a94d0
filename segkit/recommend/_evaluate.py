"""Time-split holdout: fit on the past, score the next period's purchases, bootstrap over subscribers."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.recommend._base import Recommender
from segkit.recommend._data import _utc, check_interactions

__all__ = ["HoldoutResult", "evaluate", "holdout_metrics"]

METRICS = ("recall", "ndcg", "hit_rate")


@dataclass(frozen=True, eq=False)
class HoldoutResult:
    """Holdout metrics per model with bootstrap intervals over subscribers.

    ``table`` has one row per model: ``recall``, ``ndcg``, ``hit_rate`` (means over the test
    subscribers) with ``*_low``/``*_high`` intervals, ``coverage`` (share of the training catalogue
    recommended to anyone), ``recall_lift`` over ``baseline`` with its interval, and
    ``subscribers``/``cold_start`` counts. ``per_subscriber`` holds each test subscriber's metrics
    per model (for slicing by segment).
    """

    table: pd.DataFrame
    per_subscriber: pd.DataFrame
    k: int
    cutoff: pd.Timestamp
    end: pd.Timestamp
    baseline: str
    confidence_level: float
    n_boot: int
    cold_start: int
    notes: tuple[str, ...] = field(default=())

    @property
    def best(self) -> str:
        """The model with the highest recall@k."""
        return str(self.table["recall"].idxmax())

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        row = self.table.loc[self.best]
        level = f"{self.confidence_level:.0%}"
        return (
            f"holdout {self.cutoff.date()} -> {self.end.date()}, k={self.k}: "
            f"{int(row['subscribers']):,} test subscribers ({self.cold_start:,} cold start, served by "
            f"{self.baseline}); best {self.best} recall@{self.k} {row['recall']:.3f} "
            f"[{row['recall_low']:.3f}, {row['recall_high']:.3f}], {row['recall_lift']:+.3f} over "
            f"{self.baseline} ({level} interval {row['recall_lift_low']:+.3f} to {row['recall_lift_high']:+.3f})"
        )

    def _repr_html_(self) -> str:
        notes = "".join(f"<li>{html.escape(note)}</li>" for note in self.notes)
        return (f"<p>{html.escape(self.summary())}</p>" + self.table.round(4).to_html()
                + (f"<ul>{notes}</ul>" if notes else ""))


def holdout_metrics(recommended: Sequence[str], relevant: set[str], k: int) -> dict[str, float]:
    """recall@k (hits / min(k, |relevant|), as in Steck 2019), NDCG@k (binary gains, log2
    discount) and hit (any relevant item in the top k) of one subscriber's list."""
    top = list(recommended)[:k]
    gains = np.array([item in relevant for item in top], dtype=float)
    ideal = min(k, len(relevant))
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((gains * discounts[: len(gains)]).sum())
    return {"recall": float(gains.sum()) / ideal, "ndcg": dcg / float(discounts[:ideal].sum()),
            "hit_rate": float(gains.sum() > 0)}


def evaluate(
    models: Sequence[Recommender],
    interactions: pd.DataFrame,
    cutoff: object,
    end: object,
    *,
    k: int = 10,
    baseline: str = "popularity",
    n_boot: int = 1000,
    confidence_level: float = 0.95,
    random_state: int = 0,
) -> HoldoutResult:
    """Fit every model on ``ts <= cutoff`` and score it on the purchases in ``(cutoff, end]``.

    The test subscribers are everyone with an interaction in the test period; those unseen in
    training (cold start) get each model's popularity fallback and are counted in the table.
    Intervals are percentile bootstraps over test subscribers, resampled jointly for all models
    so the lift over ``baseline`` (a model name in ``models``) is a paired difference.
    """
    check_interactions(interactions)
    start, stop = utc_timestamp(cutoff, "cutoff"), utc_timestamp(end, "end")
    if stop <= start:
        raise ValidationError(f"end {stop.isoformat()} must be after cutoff {start.isoformat()}")
    names = [model.name for model in models]
    if len(set(names)) != len(names):
        raise ValidationError(f"models need distinct names; got {', '.join(names)}")
    if baseline not in names:
        raise ValidationError(f"baseline {baseline!r} is not among the models; valid: {', '.join(names)}")
    ts = _utc(interactions["ts"])
    future = interactions.loc[((ts > start) & (ts <= stop)).to_numpy()]
    relevant = future.groupby(future["subscriber_id"].astype(str))["product_id"].agg(
        lambda s: set(s.astype(str)))
    if relevant.empty:
        raise ValidationError(f"no interactions between cutoff {start.date()} and end {stop.date()}")
    per_model, coverage = {}, {}
    for model in models:
        model.fit(interactions, start)
        recs = model.recommend(relevant.index, k=k)
        lists = recs.groupby("subscriber_id", sort=False)["product_id"].agg(list)
        rows = [holdout_metrics(lists.get(sub, []), items, k) for sub, items in relevant.items()]
        per_model[model.name] = pd.DataFrame(rows, index=relevant.index)
        coverage[model.name] = recs["product_id"].nunique() / len(model.data_.items)
    cold = ~relevant.index.isin(models[0].data_.subscribers)
    per_subscriber = pd.concat(per_model, axis=1, names=["model", "metric"])
    per_subscriber[("cold_start", "")] = cold
    table = _table(per_model, coverage, baseline, n_boot, confidence_level, random_state, int(cold.sum()))
    return HoldoutResult(table=table, per_subscriber=per_subscriber, k=int(k), cutoff=start, end=stop,
                         baseline=baseline, confidence_level=confidence_level, n_boot=n_boot,
                         cold_start=int(cold.sum()), notes=_notes(models, interactions))


def _table(per_model: dict[str, pd.DataFrame], coverage: dict[str, float], baseline: str, n_boot: int,
           level: float, seed: int, cold: int) -> pd.DataFrame:
    n = len(next(iter(per_model.values())))
    weights = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=n_boot) / n
    tail = (1.0 - level) / 2.0
    base_recall = weights @ per_model[baseline]["recall"].to_numpy()
    rows = {}
    for name, metrics in per_model.items():
        row: dict[str, float] = {}
        for metric in METRICS:
            values = metrics[metric].to_numpy()
            boot = weights @ values
            row[metric] = values.mean()
            row[f"{metric}_low"], row[f"{metric}_high"] = np.quantile(boot, [tail, 1 - tail])
        lift = weights @ metrics["recall"].to_numpy() - base_recall
        row["recall_lift"] = metrics["recall"].mean() - per_model[baseline]["recall"].mean()
        row["recall_lift_low"], row["recall_lift_high"] = np.quantile(lift, [tail, 1 - tail])
        row["coverage"] = coverage[name]
        row["subscribers"], row["cold_start"] = n, cold
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _notes(models: Sequence[Recommender], interactions: pd.DataFrame) -> tuple[str, ...]:
    notes = ["recall@k = hits / min(k, items bought in the test period); items first sold after the "
             "cutoff count as misses for every model"]
    if "category" not in interactions.columns:
        notes.append("no category column: category popularity, diversity and next category are not "
                     "available (nothing is derived)")
    return tuple(notes)
