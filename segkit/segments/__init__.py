"""Segments: declarative rules, built-in schemes, behavioural scores, clustering, primary
segments, performance per segment, membership over time, triggers and consent-safe exports.

Start with :func:`parse_rules` (YAML text or a mapping) and :meth:`RuleSet.evaluate`, or a
built-in scheme (:func:`engagement_tiers`, :func:`rfm_scores`, :func:`lifecycle_stages`,
:func:`buyer_stages`, :func:`value_segments`; by name in :data:`SCHEMES`). Over time:
:func:`membership_snapshots` (features, labels and history for several dates in one call).
Clusters: :class:`SegmentClusterer` (KMeans or Gaussian mixture). Audiences:
:func:`export_segment` and :func:`trigger_audience`, both through :func:`segkit.consent.eligible`.
"""

from segkit.segments._catalog import (
    SCHEMES,
    check_segment_name,
    scheme_labels,
    segment_members,
    segment_names,
)
from segkit.segments._clustering import CLUSTER_FEATURES, CLUSTERING_METHODS, SegmentClusterer
from segkit.segments._decay import DECAY_STEMS, decayed_event_counts
from segkit.segments._export import SegmentExport, export_segment
from segkit.segments._membership import (
    MembershipHistory,
    membership_history,
    membership_snapshots,
)
from segkit.segments._performance import (
    PERFORMANCE_METRICS,
    PERFORMANCE_STEMS,
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
from segkit.segments._triggers import (
    TRIGGERS,
    TriggerAudience,
    check_triggers,
    trigger_audience,
    trigger_events,
)
from segkit.segments._value_scheme import predicted_clv, value_segments

__all__ = [
    "AFFINITY_WEIGHTS",
    "AllOf",
    "AnyOf",
    "BUYER_STAGES",
    "CLUSTERING_METHODS",
    "CLUSTER_FEATURES",
    "Comparison",
    "DECAY_STEMS",
    "ENGAGEMENT_TIERS",
    "ENGAGEMENT_WEIGHTS",
    "INTENT_WEIGHTS",
    "LIFECYCLE_STAGES",
    "MembershipHistory",
    "Not",
    "OPERATORS",
    "PERFORMANCE_METRICS",
    "PERFORMANCE_STEMS",
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
    "check_triggers",
    "decayed_event_counts",
    "engagement_score",
    "engagement_tiers",
    "export_segment",
    "lifecycle_stages",
    "membership_history",
    "membership_snapshots",
    "parse_rules",
    "predicted_clv",
    "primary_segment",
    "purchase_intent_score",
    "rfm_scores",
    "scheme_labels",
    "segment_members",
    "segment_names",
    "segment_performance",
    "trigger_audience",
    "trigger_events",
    "value_potential",
    "value_segments",
]
