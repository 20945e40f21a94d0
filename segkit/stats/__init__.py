"""Experiment analysis for campaign A/B tests: tests, intervals, corrections, SRM, power,
sequential monitoring, Bayesian and CUPED views, segment breakdowns.

Start with :func:`analyze` (one row per subscriber) or :func:`analyze_counts` (summary statistics
per arm: counts, sums, sums of squares and cross-products, as a warehouse aggregate returns them).
Every comparison reports one test of "no difference" with an absolute and a relative interval that
both invert it (so "significant" and "interval excludes 0" always agree), on a declared ``scale``
(relative by default) and ``alternative``; proportions with fewer than 5 expected units in a cell
get Barnard's exact test; rows that cannot be tested say why.
"""

from segkit.stats._analyze import analyze
from segkit.stats._bayes import BayesianResult, beta_binomial
from segkit.stats._corrections import CORRECTIONS, adjust_p_values
from segkit.stats._counts import analyze_counts
from segkit.stats._cuped import cuped_adjust
from segkit.stats._metrics import METRIC_KINDS, Metric
from segkit.stats._power import (
    DurationPlan,
    achieved_power,
    minimum_detectable_effect,
    sample_size,
    test_duration,
)
from segkit.stats._ratio import ratio_estimate
from segkit.stats._result import DECISIONS, ExperimentResult, Recommendation
from segkit.stats._segments import SegmentedResult, analyze_segments
from segkit.stats._sequential import (
    SequentialPower,
    SequentialResult,
    sequential_power,
    sequential_test,
)
from segkit.stats._srm import SRMResult, srm_check

__all__ = [
    "BayesianResult",
    "CORRECTIONS",
    "DECISIONS",
    "DurationPlan",
    "ExperimentResult",
    "METRIC_KINDS",
    "Metric",
    "Recommendation",
    "SRMResult",
    "SegmentedResult",
    "SequentialPower",
    "SequentialResult",
    "achieved_power",
    "adjust_p_values",
    "analyze",
    "analyze_counts",
    "analyze_segments",
    "beta_binomial",
    "cuped_adjust",
    "minimum_detectable_effect",
    "ratio_estimate",
    "sample_size",
    "sequential_power",
    "sequential_test",
    "srm_check",
    "test_duration",
]
