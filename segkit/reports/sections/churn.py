"""Churn risk by segment for the segment-analysis report, from :mod:`segkit.churn`.

The design is a one-step time split with horizon ``H`` (see :func:`churn_by_segment`):

* validate: a :class:`segkit.churn.ChurnModel` trained at ``as_of - 2H`` (labels over
  ``(as_of - 2H, as_of - H]``) scores the subscribers engaged at ``as_of - H`` and is judged on
  what they did in ``(as_of - H, as_of]``, beside the recency rule, BG/NBD ``1 - P(alive)`` and
  the base rate (:func:`segkit.churn.evaluate`);
* score: the same procedure one step later, a model trained at ``as_of - H`` (labels up to
  ``as_of``) scores everyone engaged at ``as_of``; the gap between training and scoring is the
  one that was validated.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.churn import (
    DEFAULT_ENGAGEMENT_TYPES,
    BetaGeoBaseline,
    ChurnEvaluation,
    ChurnModel,
    RecencyRule,
    churn_labels,
    evaluate,
)
from segkit.errors import ValidationError
from segkit.reports.sections.period import Sufficiency

__all__ = ["CHURN_METHODS", "SegmentChurn", "check_churn_method", "churn_by_segment", "engagement_events"]

#: How the segment report measures churn risk: BG/NBD ``1 - P(alive)`` (purchases only, fast)
#: or a validated :class:`segkit.churn.ChurnModel` (engagement churn, slower).
CHURN_METHODS = ("bgnbd", "classifier")

#: Below this ROC-AUC on the validation cutoff the scores are not trusted.
MIN_ROC_AUC = 0.6
#: Fewer subscribers than this in the validation population: not enough to judge the model.
MIN_EVALUATED = 200
NO_SEGMENT = "(none)"


@dataclass(frozen=True, eq=False)
class SegmentChurn:
    """Churn risk by segment and the evidence behind it.

    ``table``: one row per segment: ``subscribers`` (in the segment), ``scored`` (engaged in the
    lookback window, the population the model applies to), ``mean_churn_probability``,
    ``high_risk`` (risk band ``high``) and ``high_risk_share`` (of ``scored``); model columns are
    NaN when ``verdict.sufficient`` is False. ``evaluation``: metrics on the validation cutoff
    (None when no model could be fitted).
    """

    table: pd.DataFrame
    evaluation: ChurnEvaluation | None
    verdict: Sufficiency
    kind: str
    horizon_days: int
    lookback_days: int
    train_cutoff: pd.Timestamp
    eval_cutoff: pd.Timestamp
    as_of: pd.Timestamp
    method: str
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        return f"{self.method}\n{self.verdict.summary()}\n" + self.table.to_string(index=False)


def check_churn_method(method: str) -> str:
    """``method`` if it is one of :data:`CHURN_METHODS`, else a ValidationError listing them."""
    if method not in CHURN_METHODS:
        raise ValidationError(f"unknown churn_method {method!r}; valid: {', '.join(CHURN_METHODS)}")
    return method


def engagement_events(workspace: Any, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Opens, clicks and purchases with ``start < ts <= end`` (``subscriber_id``,
    ``event_type``, ``ts``, ``machine_open``), selected in the database."""
    import ibis

    from segkit.features._source import source_table

    events = source_table(workspace, "events")  # timestamps UTC on any engine
    stamp = lambda value: ibis.literal(value, type="timestamp('UTC')")  # noqa: E731
    keep = (events.event_type.isin(list(DEFAULT_ENGAGEMENT_TYPES)) & (events.ts > stamp(start))
            & (events.ts <= stamp(end)))
    frame = events.filter(keep).select("subscriber_id", "event_type", "ts", "machine_open").to_pandas()
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def _labelled(features: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    known = labels.dropna(subset=["churned"])
    ids = known["subscriber_id"].astype(str)
    present = ids.isin(features.index.astype(str)).to_numpy()
    return features.loc[ids[present].to_numpy()], known["churned"].to_numpy(dtype=bool)[present]


def _engaged(events: pd.DataFrame, as_of: pd.Timestamp, lookback_days: int) -> pd.Index:
    human = ~events["machine_open"].fillna(False).astype(bool)
    recent = (events["ts"] > as_of - pd.Timedelta(days=lookback_days)) & (events["ts"] <= as_of)
    return pd.Index(np.sort(events.loc[human & recent, "subscriber_id"].astype(str).unique()))


def _validate(kind: str, train_x: pd.DataFrame, train_labels: pd.DataFrame, eval_x: pd.DataFrame,
              eval_labels: pd.DataFrame) -> tuple[ChurnEvaluation, list[str]]:
    train_y = _labelled(train_x, train_labels)
    population, y = _labelled(eval_x, eval_labels)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ChurnModel(kind).fit(train_x, train_labels)
        rule = RecencyRule().fit(train_x, train_labels)
        bgnbd = BetaGeoBaseline().fit(train_x, train_labels)
    scores = {
        kind: model.predict_proba(population)[:, 1],
        "recency_rule": rule.predict_proba(population)[:, 1],
        "bgnbd_inactive": bgnbd.predict_proba(population)[:, 1],
        "base_rate": np.full(len(y), float(train_y[1].mean())),
    }
    return evaluate(y, scores, baselines=[name for name in scores if name != kind]), [str(w.message) for w in caught]


def _verdict(evaluation: ChurnEvaluation, kind: str) -> Sufficiency:
    metrics = evaluation.metrics.set_index("model")
    auc = float(metrics.loc[kind, "roc_auc"])
    baselines = metrics[metrics["role"] == "baseline"]["roc_auc"].drop("base_rate", errors="ignore")
    best_name, best = str(baselines.idxmax()), float(baselines.max())
    facts = (f"on {evaluation.n_subscribers:,} subscribers ({evaluation.n_churned:,} churned) the "
             f"classifier's ROC-AUC is {auc:.3f}; best baseline {best_name} {best:.3f}.")
    if evaluation.n_subscribers < MIN_EVALUATED or evaluation.n_churned < 10:
        return Sufficiency(False, f"too few subscribers to judge the model: {facts}")
    if auc < MIN_ROC_AUC:
        return Sufficiency(False, f"the classifier barely ranks churners above others: {facts}")
    if auc < best:
        return Sufficiency(True, f"{facts} The simple baseline ranks as well or better: read the "
                                 "risk as no more informative than it.")
    return Sufficiency(True, facts)


def churn_by_segment(
    features: pd.DataFrame,
    labels: pd.Series,
    eval_features: pd.DataFrame,
    train_features: pd.DataFrame,
    events: pd.DataFrame,
    as_of: pd.Timestamp,
    *,
    horizon_days: int,
    lookback_days: int = 180,
    kind: str = "logistic",
) -> SegmentChurn:
    """Churn probability per segment from a validated :class:`segkit.churn.ChurnModel`.

    Parameters
    ----------
    features, labels
        Feature table and segment label per subscriber, both as of ``as_of``.
    eval_features, train_features
        Feature tables as of ``as_of - horizon_days`` and ``as_of - 2 * horizon_days`` (when the
        last engagement event is earlier than ``as_of``, the cutoffs step back from it instead,
        so that every label window ends inside the data: pass features as of those times).
    events
        Engagement events (:func:`engagement_events`) from at least ``as_of - 2 * horizon_days -
        lookback_days`` to ``as_of``; nothing after ``as_of`` may be passed.
    horizon_days, lookback_days
        The churn definition (:func:`segkit.churn.churn_labels`): among subscribers with a human
        open, click or purchase in the lookback window, churned = none in the next
        ``horizon_days`` days.
    kind
        :class:`ChurnModel` kind (``"logistic"`` or ``"gradient_boosting"``).

    When a model cannot be fitted (too few churners, labels not observable) or the validation
    says the scores are not informative, no probability is returned and the verdict says why.
    """
    # label windows must end inside the events given: step back from the last engagement event
    last = events["ts"].max() if len(events) else as_of
    eval_cutoff = min(as_of, last) - pd.Timedelta(days=horizon_days)
    train_cutoff = eval_cutoff - pd.Timedelta(days=horizon_days)
    seg = labels.astype(object).where(labels.notna(), NO_SEGMENT).astype(str)
    engaged = _engaged(events, as_of, lookback_days).intersection(features.index.astype(str))
    counts = seg.value_counts().rename("subscribers").rename_axis("segment").to_frame()
    counts["scored"] = seg.reindex(engaged).value_counts().reindex(counts.index, fill_value=0)
    method = (f"{kind} ChurnModel (calibrated, class-balanced); churn = no human open, click or "
              f"purchase in {horizon_days} days among subscribers engaged in the last {lookback_days} days; "
              f"validated by training at {train_cutoff:%Y-%m-%d} and scoring at {eval_cutoff:%Y-%m-%d}")
    design = dict(kind=kind, horizon_days=horizon_days, lookback_days=lookback_days,
                  train_cutoff=train_cutoff, eval_cutoff=eval_cutoff, as_of=as_of, method=method)

    def insufficient(message: str, evaluation: ChurnEvaluation | None = None, notes=()) -> SegmentChurn:
        table = counts.assign(mean_churn_probability=np.nan, high_risk=np.nan, high_risk_share=np.nan)
        return SegmentChurn(table.reset_index(), evaluation, Sufficiency(False, message), notes=tuple(notes),
                            **design)

    try:
        train_labels = churn_labels(events, train_cutoff, horizon_days=horizon_days, lookback_days=lookback_days)
        eval_labels = churn_labels(events, eval_cutoff, horizon_days=horizon_days, lookback_days=lookback_days)
        evaluation, notes = _validate(kind, train_features, train_labels, eval_features, eval_labels)
    except ValidationError as error:
        return insufficient(f"no churn model could be validated: {error}")
    verdict = _verdict(evaluation, kind)
    if not verdict.sufficient:
        return insufficient(verdict.message, evaluation, notes)
    try:
        model = ChurnModel(kind).fit(eval_features, eval_labels)
    except ValidationError as error:
        return insufficient(f"the scoring model could not be fitted: {error}", evaluation, notes)
    scored = model.score(features.loc[engaged]) if len(engaged) else pd.DataFrame(
        {"subscriber_id": [], "churn_probability": [], "risk_band": []})
    scored = scored.assign(segment=seg.reindex(scored["subscriber_id"].astype(str)).to_numpy())
    stats = scored.groupby("segment").agg(
        mean_churn_probability=("churn_probability", "mean"),
        high_risk=("risk_band", lambda band: int((band == "high").sum())))
    table = counts.join(stats)
    table["high_risk"] = table["high_risk"].fillna(0).astype(int)
    table["high_risk_share"] = table["high_risk"] / table["scored"].where(table["scored"] > 0)
    return SegmentChurn(table.reset_index(), evaluation, verdict, notes=tuple(dict.fromkeys(notes)), **design)
