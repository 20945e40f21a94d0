"""Benchmark: segkit.churn vs what a user would write with pandas and scikit-learn, same run.

On ``segkit.datasets.synthetic`` data (machine opens flagged from the planted truth):

1. labels: :func:`segkit.churn.churn_labels` vs a pandas groupby (must agree exactly);
2. metrics: :func:`segkit.churn.evaluate` vs ``sklearn.metrics`` (ROC-AUC, average precision,
   Brier, log loss; must agree to 1e-9);
3. gradient boosting: ``ChurnModel("gradient_boosting")`` (unweighted quantile binning in front of
   the estimator) vs the plain calibrated ``HistGradientBoostingClassifier`` pipeline with
   ``class_weight="balanced"`` a user would write (same hyper-parameters, one thread each), fitted
   at one cutoff and scored at the next: times, ROC-AUC of each, peak memory.

    .venv/bin/python benchmarks/churn.py            # 20,000 subscribers
    .venv/bin/python benchmarks/churn.py --small    # 3,000 subscribers

Environment: SEGKIT_BENCH_SMALL=1 is the same as --small.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from _common import peak_rss_mb, timer

from segkit.churn import ChurnModel, churn_features, churn_labels, evaluate
from segkit.churn._align import align_labels
from segkit.datasets import synthetic

TRAIN_AT = pd.Timestamp("2024-06-01", tz="UTC")
EVAL_AT = pd.Timestamp("2024-09-01", tz="UTC")
HORIZON, LOOKBACK = 90, 180


def pandas_labels(events: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """The label a user would write: engaged in the lookback, silent in the horizon."""
    human = ~((events["event_type"] == "open") & events["machine_open"])
    engaged = events[events["event_type"].isin(["open", "click", "purchase"]) & human]
    past = engaged[engaged["ts"] <= as_of]
    last = past.groupby("subscriber_id")["ts"].max()
    window = engaged[(engaged["ts"] > as_of) & (engaged["ts"] <= as_of + pd.Timedelta(days=HORIZON))]
    active = last > as_of - pd.Timedelta(days=LOOKBACK)
    churned = ~last.index.isin(window["subscriber_id"].unique())
    return pd.DataFrame({"active_in_lookback": active, "churned": churned}).sort_index()


def plain_hgb(model: ChurnModel) -> CalibratedClassifierCV:
    estimator = HistGradientBoostingClassifier(
        max_bins=63, max_iter=300, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
        early_stopping=True, validation_fraction=0.15, n_iter_no_change=10,
        class_weight="balanced", random_state=0,
    )  # fmt: skip
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    return CalibratedClassifierCV(estimator, method="sigmoid", cv=folds, ensemble=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    n = 3_000 if args.small or os.environ.get("SEGKIT_BENCH_SMALL") == "1" else args.n
    data = synthetic(n, 0)
    events = data.events.assign(machine_open=data.events["event_id"].isin(data.truth.machine_open_event_ids))
    print(f"synthetic: {n:,} subscribers, {len(events):,} events")

    with timer() as t_seg:
        labels = churn_labels(events, TRAIN_AT, horizon_days=HORIZON, lookback_days=LOOKBACK)
    with timer() as t_pd:
        reference = pandas_labels(events, TRAIN_AT)
    ours = labels.set_index("subscriber_id")
    agree = (ours["active_in_lookback"] == reference["active_in_lookback"]).all() and (
        ours["churned"].dropna().astype(bool) == reference.loc[reference["active_in_lookback"], "churned"]
    ).all()
    print(f"labels: segkit {t_seg['seconds']:.2f} s, pandas {t_pd['seconds']:.2f} s "
          f"(ratio {t_pd['seconds'] / t_seg['seconds']:.2f}x); identical: {bool(agree)}")  # fmt: skip

    train_x = churn_features(events, TRAIN_AT, subscribers=data.subscribers)
    eval_x = churn_features(events, EVAL_AT, subscribers=data.subscribers)
    eval_y = churn_labels(events, EVAL_AT, horizon_days=HORIZON, lookback_days=LOOKBACK)
    with timer() as t_fit:
        model = ChurnModel("gradient_boosting").fit(train_x, labels)
    columns = list(model.feature_names_in_)
    table, y = align_labels(train_x, labels)
    population, y_eval = align_labels(eval_x, eval_y)
    with timer() as t_plain, threadpool_limits(1):
        plain = plain_hgb(model).fit(table[columns].astype(float), y)
    p_seg = model.predict_proba(population)[:, 1]
    p_plain = plain.predict_proba(population[columns].astype(float))[:, 1]
    print(f"gradient boosting fit on {len(y):,} rows x {len(columns)} features: segkit "
          f"{t_fit['seconds']:.2f} s (cpu {t_fit['cpu_seconds']:.2f}), plain sklearn "
          f"{t_plain['seconds']:.2f} s (cpu {t_plain['cpu_seconds']:.2f}); ratio "
          f"{t_plain['seconds'] / t_fit['seconds']:.1f}x")  # fmt: skip
    print(f"  evaluation ROC-AUC at {EVAL_AT.date()}: segkit {skm.roc_auc_score(y_eval, p_seg):.4f}, "
          f"plain {skm.roc_auc_score(y_eval, p_plain):.4f}")  # fmt: skip

    with timer() as t_eval:
        result = evaluate(y_eval, {"segkit": p_seg, "plain": p_plain})
    with timer() as t_sk:
        sk = {
            name: (skm.roc_auc_score(y_eval, p), skm.average_precision_score(y_eval, p),
                   skm.brier_score_loss(y_eval, p), skm.log_loss(y_eval, p))
            for name, p in (("segkit", p_seg), ("plain", p_plain))
        }  # fmt: skip
    frame = result.to_frame().set_index("model")
    worst = max(
        abs(frame.loc[name, col] - value)
        for name, values in sk.items()
        for col, value in zip(("roc_auc", "pr_auc", "brier", "log_loss"), values, strict=True)
    )
    print(f"metrics: segkit evaluate {t_eval['seconds']:.3f} s (also deciles, curves, calibration), "
          f"sklearn headline metrics {t_sk['seconds']:.3f} s; max abs difference {worst:.2e}")  # fmt: skip
    print(f"peak RSS {peak_rss_mb():,.0f} MiB")
    if not agree or worst > 1e-9 or not np.isfinite(worst):
        raise SystemExit("segkit and the reference disagree")


if __name__ == "__main__":
    main()
