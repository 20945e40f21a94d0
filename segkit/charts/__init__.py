"""Chart builders: pure functions from DataFrames/results to altair charts (no statistics inside).

Each area adds its builders in its own ``_<area>.py`` module and one import line below.
"""

from segkit.charts._clv import clv_calibration_holdout_chart, clv_period_transactions_chart
from segkit.charts._overview import (
    events_per_week_chart,
    machine_opens_chart,
    quarantine_reasons_chart,
    timezone_chart,
)
from segkit.charts._segments import (
    cluster_profile_chart,
    score_distribution_chart,
    segment_performance_chart,
    segment_sizes_chart,
    segment_transition_chart,
)
from segkit.charts._sendtime import sendtime_evaluation_chart, sendtime_heatmap_chart
from segkit.charts._stats import cumulative_lift_chart, lift_forest_chart

__all__: list[str] = [
    "cluster_profile_chart",
    "clv_calibration_holdout_chart",
    "clv_period_transactions_chart",
    "cumulative_lift_chart",
    "events_per_week_chart",
    "lift_forest_chart",
    "machine_opens_chart",
    "quarantine_reasons_chart",
    "score_distribution_chart",
    "segment_performance_chart",
    "segment_sizes_chart",
    "segment_transition_chart",
    "sendtime_evaluation_chart",
    "sendtime_heatmap_chart",
    "timezone_chart",
]
