"""Segments: declarative rules, built-in schemes, primary segments, performance per segment,
membership over time and consent-safe exports.

Start with :func:`parse_rules` (YAML text or a mapping) and :meth:`RuleSet.evaluate`, or a
built-in scheme (:func:`engagement_tiers`, :func:`rfm_scores`, :func:`lifecycle_stages`).
"""

from segkit.segments._catalog import (
    SCHEMES,
    check_segment_name,
    scheme_labels,
    segment_members,
    segment_names,
)
from segkit.segments._clustering import CLUSTER_FEATURES, SegmentClusterer
from segkit.segments._export import SegmentExport, export_segment
from segkit.segments._membership import MembershipHistory, membership_history
from segkit.segments._performance import (
    PERFORMANCE_METRICS,
    SegmentPerformance,
    segment_performance,
)
from segkit.segments._rules import (
    OPERATORS,
    AllOf,
    AnyOf,
    Comparison,
    Not,
    RuleSet,
    SegmentRule,
    parse_rules,
    primary_segment,
)
from segkit.segments._schemes import (
    ENGAGEMENT_TIERS,
    LIFECYCLE_STAGES,
    RFM_GROUPS,
    engagement_tiers,
    lifecycle_stages,
    rfm_scores,
)
from segkit.segments._scores import (
    ENGAGEMENT_WEIGHTS,
    INTENT_WEIGHTS,
    engagement_score,
    purchase_intent_score,
)
from segkit.segments._stages import (
    AFFINITY_WEIGHTS,
    BUYER_STAGES,
    VALUE_POTENTIALS,
    buyer_stages,
    category_affinity,
    value_potential,
)
from segkit.segments._triggers import TRIGGERS, TriggerAudience, trigger_audience

__all__ = [
    "AFFINITY_WEIGHTS",
    "AllOf",
    "AnyOf",
    "BUYER_STAGES",
    "CLUSTER_FEATURES",
    "Comparison",
    "ENGAGEMENT_TIERS",
    "ENGAGEMENT_WEIGHTS",
    "INTENT_WEIGHTS",
    "LIFECYCLE_STAGES",
    "MembershipHistory",
    "Not",
    "OPERATORS",
    "PERFORMANCE_METRICS",
    "RFM_GROUPS",
    "RuleSet",
    "SCHEMES",
    "SegmentClusterer",
    "SegmentExport",
    "SegmentPerformance",
    "SegmentRule",
    "TRIGGERS",
    "TriggerAudience",
    "VALUE_POTENTIALS",
    "buyer_stages",
    "category_affinity",
    "check_segment_name",
    "engagement_score",
    "engagement_tiers",
    "export_segment",
    "lifecycle_stages",
    "membership_history",
    "parse_rules",
    "primary_segment",
    "purchase_intent_score",
    "rfm_scores",
    "scheme_labels",
    "segment_members",
    "segment_names",
    "segment_performance",
    "trigger_audience",
    "value_potential",
]
