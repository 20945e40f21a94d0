"""Segment names ``scheme:label`` (built-in schemes) and rule names, resolved to members."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from segkit._suggest import did_you_mean
from segkit.errors import ValidationError
from segkit.segments._rules import RuleSet
from segkit.segments._schemes import (
    ENGAGEMENT_TIERS,
    LIFECYCLE_STAGES,
    RFM_GROUPS,
    engagement_tiers,
    lifecycle_stages,
    rfm_scores,
)
from segkit.segments._stages import BUYER_STAGES, VALUE_POTENTIALS, buyer_stages
from segkit.segments._value_scheme import value_segments

__all__ = ["SCHEMES", "check_segment_name", "scheme_labels", "segment_members", "segment_names"]

#: Built-in schemes: name -> (labelling function on the feature table, labels).
SCHEMES: dict[str, tuple[Callable[[pd.DataFrame], pd.Series], tuple[str, ...]]] = {
    "engagement": (engagement_tiers, ENGAGEMENT_TIERS),
    "lifecycle": (lifecycle_stages, LIFECYCLE_STAGES),
    "rfm": (lambda features: rfm_scores(features)["rfm_group"], RFM_GROUPS),
    "buyer": (buyer_stages, BUYER_STAGES),
    "value": (value_segments, VALUE_POTENTIALS),
}


def segment_names(rules: RuleSet | None = None) -> list[str]:
    """Every valid segment name: ``scheme:label`` for the built-ins, then the rule names."""
    built_in = [f"{scheme}:{label}" for scheme, (_, labels) in SCHEMES.items() for label in labels]
    return [*built_in, *(rules.names if rules is not None else [])]


def scheme_labels(features: pd.DataFrame, scheme: str) -> pd.Series:
    """The labels of built-in ``scheme`` (default parameters) for every subscriber."""
    if scheme not in SCHEMES:
        raise ValidationError(
            f"unknown scheme {scheme!r}{did_you_mean(scheme, SCHEMES)} valid: {', '.join(SCHEMES)}"
        )
    return SCHEMES[scheme][0](features)


def check_segment_name(name: str, rules: RuleSet | None = None) -> str:
    """Return ``name`` if it is a valid segment name, else raise listing the valid names."""
    valid = segment_names(rules)
    if name not in valid:
        raise ValidationError(
            f"unknown segment {name!r}{did_you_mean(name, valid)} valid: {', '.join(valid)}"
        )
    return name


def segment_members(features: pd.DataFrame, name: str, rules: RuleSet | None = None) -> pd.Index:
    """Subscriber ids in segment ``name`` (a rule name, or ``scheme:label`` for a built-in).

    An unknown name raises a ValidationError with the closest valid name and the full list.
    """
    check_segment_name(name, rules)
    if rules is not None and name in rules.names:
        rule = rules.rule(name)
        rules.validate(features.columns, features.dtypes)
        return features.index[rule.condition.mask(features).to_numpy()]
    scheme, label = name.split(":", 1)
    labels = scheme_labels(features, scheme)
    return features.index[(labels == label).to_numpy()]
