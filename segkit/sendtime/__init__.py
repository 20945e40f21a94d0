"""Send-time and send-frequency recommendations per subscriber, in local time.

* :func:`recommend` — exposure-corrected, empirical-Bayes-shrunk local send hour, second-best
  hour, preferred weekdays, confidence and source per subscriber.
* :func:`evaluate_holdout` — hit rates of the next open within +-1/+-2 hours versus the single
  best global hour and the unshrunk per-subscriber mode, with lift intervals.
* :func:`export_send_times` — the email-platform export through the consent gate
  (:func:`export_frame` only selects its columns).
* :func:`heatmap_frame` — human opens by segment, weekday and local hour (for the chart).
* :mod:`segkit.sendtime.frequency` — volume response, weekly caps, fatigue flags.
"""

from segkit.sendtime import frequency
from segkit.sendtime._evaluate import HoldoutEvaluation, evaluate_holdout
from segkit.sendtime._export import EXPORT_COLUMNS, export_frame, export_send_times
from segkit.sendtime._heatmap import heatmap_frame
from segkit.sendtime._recommend import (
    ENGAGEMENT_TIERS,
    PERSONAL_CREDIBILITY,
    SEGMENT_CREDIBILITY,
    recommend,
)

__all__ = [
    "ENGAGEMENT_TIERS",
    "EXPORT_COLUMNS",
    "HoldoutEvaluation",
    "PERSONAL_CREDIBILITY",
    "SEGMENT_CREDIBILITY",
    "evaluate_holdout",
    "export_frame",
    "export_send_times",
    "frequency",
    "heatmap_frame",
    "recommend",
]
