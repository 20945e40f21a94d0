"""Churn: leakage-free labels, calibrated scikit-learn classifiers, time-split backtests.

:func:`churn_labels` marks who went quiet after a cutoff (machine opens never count as
engagement), :func:`churn_features` builds features from events up to it,
:class:`ChurnModel` fits and scores (probability, risk band, top reasons), :func:`evaluate`
compares scores with baselines (:class:`RecencyRule`, :class:`BetaGeoBaseline`, the base rate)
and :func:`backtest` trains at one cutoff and evaluates at the next.

In a report, given a workspace's ``events`` and ``subscribers`` DataFrames::

    from segkit import charts
    from segkit.churn import backtest

    result = backtest(events, subscribers, ["2024-05-01T00:00Z", "2024-08-01T00:00Z"])
    result.verdict                    # which model wins, in words
    result.to_frame()                 # one row per model per evaluation cutoff
    result.scored.head(20)            # probability, risk band, top reasons, outcome
    charts.churn_roc_chart(result)    # also _pr_, _gains_, _lift_, _calibration_, _importance_

``result.model`` is the winner as fitted at the last TRAINING cutoff. To score today's list,
refit that kind at the latest cutoff whose label window is complete (today - horizon) and score
today's features::

    labels = churn_labels(events, cutoff)
    model = ChurnModel(result.model.kind).fit(churn_features(events, cutoff, subscribers=subscribers), labels)
    model.score(churn_features(events, today, subscribers=subscribers))
"""

from segkit.churn._backtest import BASELINES, backtest
from segkit.churn._backtest_result import ChurnBacktest
from segkit.churn._baselines import BetaGeoBaseline, RecencyRule
from segkit.churn._evaluate import ChurnEvaluation, evaluate
from segkit.churn._features import churn_features, default_feature_columns
from segkit.churn._labels import DEFAULT_ENGAGEMENT_TYPES, churn_labels
from segkit.churn._model import KINDS, MIN_CLASS_COUNT, RISK_BANDS, ChurnModel

__all__ = [
    "BASELINES",
    "BetaGeoBaseline",
    "ChurnBacktest",
    "ChurnEvaluation",
    "ChurnModel",
    "DEFAULT_ENGAGEMENT_TYPES",
    "KINDS",
    "MIN_CLASS_COUNT",
    "RISK_BANDS",
    "RecencyRule",
    "backtest",
    "churn_features",
    "churn_labels",
    "default_feature_columns",
    "evaluate",
]
