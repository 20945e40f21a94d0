"""``backtest``: train at one cutoff, evaluate at the next, beside the baselines.

For consecutive cutoffs ``(c_i, c_{i+1})`` the classifiers and baselines learn from features at
``c_i`` and labels over ``(c_i, c_i + H]``, then score features at ``c_{i+1}`` and are judged on
labels over ``(c_{i+1}, c_{i+1} + H]``. Cutoffs must be at least H apart, so every training label
was observable at the evaluation cutoff; rows are never split at random across time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance

from segkit._config import DEFAULT_WINDOWS_DAYS
from segkit._timestamps import utc_timestamp
from segkit.churn._align import align_labels
from segkit.churn._backtest_result import ChurnBacktest, mean_metrics
from segkit.churn._baselines import BetaGeoBaseline, RecencyRule
from segkit.churn._compare import paired_bootstrap
from segkit.churn._evaluate import ChurnEvaluation, evaluate
from segkit.churn._features import churn_features, feature_matrix
from segkit.churn._labels import (
    DEFAULT_ENGAGEMENT_TYPES,
    check_days,
    check_label_window,
    churn_labels,
)
from segkit.churn._model import KINDS, ChurnModel
from segkit.errors import ValidationError

__all__ = ["BASELINES", "backtest"]

#: Baseline names, as they appear in the tables.
BASELINES = ("recency_rule", "bgnbd_inactive", "bgnbd_no_purchase", "base_rate")
#: Rows drawn (without replacement, per repeat) for the permutation importance: the cost is
#: features x repeats predictions, so large evaluation populations are subsampled.
IMPORTANCE_MAX_ROWS = 5_000
#: Recency column of the recency rule for each engagement type, in order of preference.
RECENCY_COLUMNS = {
    "open": "days_since_last_open",
    "click": "days_since_last_click",
    "purchase": "days_since_last_purchase",
}
#: Resamples of the paired bootstrap behind the verdict.
N_BOOTSTRAP = 200


def _check_cutoffs(cutoffs: Iterable[object], horizon: int) -> tuple[pd.Timestamp, ...]:
    if isinstance(cutoffs, str) or not isinstance(cutoffs, Iterable):
        raise ValidationError("cutoffs must be a list of at least two time-zone-aware timestamps")
    stamps = tuple(utc_timestamp(c, "cutoff") for c in cutoffs)
    if len(stamps) < 2:
        raise ValidationError(
            f"a backtest needs at least two cutoffs (train at one, evaluate at the next); got {len(stamps)}"
        )
    for a, b in zip(stamps, stamps[1:], strict=False):
        if b - a < pd.Timedelta(days=horizon):
            raise ValidationError(
                f"cutoffs {a.isoformat()} and {b.isoformat()} are less than horizon_days={horizon} "
                f"apart: the training labels over ({a.date()}, {(a + pd.Timedelta(days=horizon)).date()}] "
                "would not be observable at the evaluation cutoff; space cutoffs at least "
                "horizon_days apart, in increasing order"
            )
    return stamps


def _recency_columns(types: tuple[str, ...]) -> tuple[str, ...]:
    """The recency rule's candidate columns: days since the last human open, click or purchase,
    for the engagement types counted, in that order (the rule uses the first with data)."""
    columns = tuple(column for event_type, column in RECENCY_COLUMNS.items() if event_type in types)
    return columns or (RECENCY_COLUMNS["open"],)


def _kinds(kind: str | Sequence[str]) -> tuple[str, ...]:
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValidationError(f"unknown kind(s) {bad or 'none given'}; valid: {', '.join(KINDS)}")
    return tuple(dict.fromkeys(kinds))


def _importance(
    model: ChurnModel, population: pd.DataFrame, y: np.ndarray, n_repeats: int, seed: int
) -> pd.DataFrame:
    """Permutation importance on the evaluation population (features aligned with labels ``y``)."""
    matrix = feature_matrix(population, list(model.feature_names_in_))
    with model._threads():
        result = permutation_importance(
            model.estimator_, matrix, y, scoring="roc_auc", n_repeats=n_repeats,
            random_state=seed, max_samples=min(1.0, IMPORTANCE_MAX_ROWS / len(y)),
        )  # fmt: skip
    frame = pd.DataFrame(
        {
            "feature": matrix.columns,
            "importance_mean": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    return frame.sort_values("importance_mean", ascending=False, kind="stable")


def backtest(
    events: pd.DataFrame,
    subscribers: pd.DataFrame | None,
    cutoffs: Sequence[object],
    *,
    horizon_days: int = 90,
    lookback_days: int = 180,
    event_types: Iterable[str] = DEFAULT_ENGAGEMENT_TYPES,
    kind: str | Sequence[str] = KINDS,
    calibration: str | None = "sigmoid",
    class_weight: str | None = "balanced",
    features: Sequence[str] | None = None,
    windows: Iterable[int] = DEFAULT_WINDOWS_DAYS,
    threshold: float = 0.5,
    n_repeats: int = 5,
    n_bootstrap: int = N_BOOTSTRAP,
    random_state: int = 0,
) -> ChurnBacktest:
    """Train churn classifiers at each cutoff and evaluate them at the next, with baselines.

    Parameters
    ----------
    events, subscribers
        Canonical tables (a workspace's ``events`` and ``subscribers``; ``subscribers`` may be
        None for transaction-only data such as CDNOW).
    cutoffs
        At least two time-zone-aware cutoffs, increasing, at least ``horizon_days`` apart; the
        last one plus ``horizon_days`` must be inside the data.
    horizon_days, lookback_days, event_types
        The label definition (see :func:`churn_labels`).
    kind
        Classifier kind(s) to fit (``"logistic"``, ``"gradient_boosting"``); default both.
    calibration, class_weight, features
        Passed to :class:`ChurnModel`.
    windows
        Feature windows in days (see :func:`segkit.features.compute`).
    threshold
        Probability at which the threshold metrics flag churn.
    n_repeats
        Shuffles per feature in the permutation importance.
    n_bootstrap
        Resamples of the paired bootstrap over customers (within each evaluation cutoff) that
        compares the best classifier with the best baseline (``comparison``, ``verdict``).
    random_state
        Seed of the models, the permutation importance and the bootstrap.

    Returns
    -------
    ChurnBacktest
        ``to_frame()`` (one row per model per evaluation cutoff), ``summary()``, ``verdict``,
        the winning fitted ``model``, the scored evaluation population and the importances.
    """
    horizon = check_days(horizon_days, "horizon_days")
    lookback = check_days(lookback_days, "lookback_days")
    stamps = _check_cutoffs(cutoffs, horizon)
    kinds = _kinds(kind)
    types = tuple(event_types) if not isinstance(event_types, str) else (event_types,)
    for name, value, least in (("n_repeats", n_repeats, 1), ("n_bootstrap", n_bootstrap, 20)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValidationError(f"{name} must be an integer >= {least}, got {value!r}")
    windows = tuple(windows)
    for cutoff in (stamps[0], stamps[-1]):  # refuse before the (slower) feature queries
        check_label_window(events, cutoff, horizon)
    data = {
        c: (
            churn_features(events, c, subscribers=subscribers, windows=windows),
            churn_labels(
                events, c, horizon_days=horizon, lookback_days=lookback, event_types=types
            ),
        )
        for c in stamps
    }
    options = {
        "calibration": calibration, "class_weight": class_weight,
        "random_state": random_state, "features": features,
    }  # fmt: skip
    steps = [
        _step(data[a], data[b], kinds, options, types, horizon, threshold)
        for a, b in zip(stamps, stamps[1:], strict=False)
    ]
    table = pd.concat(
        [
            step.evaluation.to_frame().assign(train_cutoff=a, eval_cutoff=b)
            for step, a, b in zip(steps, stamps, stamps[1:], strict=False)
        ],
        ignore_index=True,
    )
    table = table[["train_cutoff", "eval_cutoff", *[c for c in table.columns if "cutoff" not in c]]]
    means = mean_metrics(table)
    winner = str(means.loc[means["role"] == "model", "model"].iloc[0])
    last = steps[-1]
    importance = _importance(last.models[winner], last.population, last.y, n_repeats, random_state)
    importance = importance.assign(eval_cutoff=stamps[-1], model=winner)[
        ["eval_cutoff", "model", "feature", "importance_mean", "importance_std"]
    ]
    notes = [
        f"BG/NBD at {a.date()}: {w}"
        for step, a in zip(steps, stamps, strict=False)
        for w in step.notes
    ]
    return ChurnBacktest(
        table=table,
        evaluations=tuple(step.evaluation for step in steps),
        importance=importance,
        model=last.models[winner],
        models=last.models,
        scored=_scored(last.models[winner], last.population, last.y, last.scores),
        cutoffs=stamps,
        horizon_days=horizon,
        lookback_days=lookback,
        event_types=types,
        recency_k=tuple(step.recency_k for step in steps),
        recency_column=steps[0].recency_column,
        notes=tuple(dict.fromkeys(notes)),
        comparison=_comparison(steps, means, n_bootstrap, random_state),
    )


@dataclass(frozen=True, eq=False)
class _Step:
    """One train -> evaluate step of the backtest."""

    evaluation: ChurnEvaluation
    models: dict[str, ChurnModel]
    population: pd.DataFrame
    y: np.ndarray
    scores: dict[str, np.ndarray]
    recency_k: float
    recency_column: str
    notes: tuple[str, ...]


def _step(
    train: tuple[pd.DataFrame, pd.DataFrame],
    test: tuple[pd.DataFrame, pd.DataFrame],
    kinds: tuple[str, ...],
    options: dict,
    types: tuple[str, ...],
    horizon: int,
    threshold: float,
) -> _Step:
    """Fit the classifiers and baselines on ``train`` (features, labels) and evaluate on ``test``."""
    (train_x, train_y), (eval_x, eval_y) = train, test
    models = {k: ChurnModel(k, **options).fit(train_x, train_y) for k in kinds}
    rule = RecencyRule(_recency_columns(types)).fit(train_x, train_y)
    bgnbd = BetaGeoBaseline().fit(train_x, train_y)
    population, y = align_labels(eval_x, eval_y)
    scores = {k: m.predict_proba(population)[:, 1] for k, m in models.items()}
    scores["recency_rule"] = rule.predict_proba(population)[:, 1]
    scores["bgnbd_inactive"] = bgnbd.predict_proba(population)[:, 1]
    periods = horizon / (7 if eval_x.attrs.get("rfm_unit") == "W" else 1)
    scores["bgnbd_no_purchase"] = bgnbd.no_purchase_score(population, periods)
    scores["base_rate"] = np.full(len(y), next(iter(models.values())).base_rate_)
    return _Step(
        evaluation=evaluate(y, scores, threshold, baselines=BASELINES),
        models=models,
        population=population,
        y=y,
        scores=scores,
        recency_k=rule.k_,
        recency_column=rule.column_,
        notes=bgnbd.warnings_,
    )


def _comparison(steps: list[_Step], means: pd.DataFrame, n_bootstrap: int, seed: int) -> pd.DataFrame:
    """Paired bootstrap of the best classifier against the best baseline (mean ROC-AUC)."""
    best = {role: str(means.loc[means["role"] == role, "model"].iloc[0]) for role in ("model", "baseline")}
    populations = [(step.y, step.scores) for step in steps]
    return paired_bootstrap(populations, best["model"], best["baseline"], n_resamples=n_bootstrap,
                            random_state=seed)


def _scored(
    model: ChurnModel, population: pd.DataFrame, y: np.ndarray, scores: dict[str, np.ndarray]
) -> pd.DataFrame:
    frame = model.score(population)
    extra = pd.DataFrame(
        {"churned": y.astype(bool), **{f"score_{k}": v for k, v in scores.items()}},
        index=population.index.astype(str),
    )
    return frame.join(extra, on="subscriber_id")
