"""Chart builders: pure functions from DataFrames/results to altair charts (no statistics inside),
and :class:`VegaChart`, the widget that draws them offline in Jupyter front ends.

Each area adds its builders in its own ``_<area>.py`` module and one import line below.
"""

from segkit.charts._churn import (
    churn_calibration_chart,
    churn_gains_chart,
    churn_importance_chart,
    churn_lift_chart,
    churn_pr_chart,
    churn_roc_chart,
)
from segkit.charts._clv import clv_calibration_holdout_chart, clv_period_transactions_chart
from segkit.charts._ltv import clv_decile_chart
from segkit.charts._overview import (
    events_per_week_chart,
    machine_opens_chart,
    quarantine_reasons_chart,
    timezone_chart,
)
from segkit.charts._segment_value import (
    clv_holdout_segment_chart,
    segment_churn_risk_chart,
    segment_value_chart,
)
from segkit.charts._segments import (
    cluster_profile_chart,
    score_distribution_chart,
    segment_performance_chart,
    segment_sizes_chart,
    segment_transition_chart,
)
from segkit.charts._sendtime import sendtime_evaluation_chart, sendtime_heatmap_chart
from segkit.charts._sendtime_summary import frequency_response_chart, recommended_hours_chart
from segkit.charts._stats import cumulative_lift_chart, lift_forest_chart
from segkit.charts._widget import VegaChart, enable_offline_renderer, offline_renderer

__all__: list[str] = [
    "VegaChart",
    "churn_calibration_chart",
    "churn_gains_chart",
    "churn_importance_chart",
    "churn_lift_chart",
    "churn_pr_chart",
    "churn_roc_chart",
    "cluster_profile_chart",
    "clv_calibration_holdout_chart",
    "clv_decile_chart",
    "clv_holdout_segment_chart",
    "clv_period_transactions_chart",
    "cumulative_lift_chart",
    "enable_offline_renderer",
    "events_per_week_chart",
    "frequency_response_chart",
    "lift_forest_chart",
    "machine_opens_chart",
    "offline_renderer",
    "quarantine_reasons_chart",
    "recommended_hours_chart",
    "score_distribution_chart",
    "segment_churn_risk_chart",
    "segment_performance_chart",
    "segment_sizes_chart",
    "segment_transition_chart",
    "segment_value_chart",
    "sendtime_evaluation_chart",
    "sendtime_heatmap_chart",
    "timezone_chart",
]
