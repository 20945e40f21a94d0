"""The explorer's current selection as a :mod:`segkit.segments` rule set and its YAML text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import yaml

from segkit.segments import AllOf, AnyOf, Comparison, Not, RuleSet, SegmentRule

__all__ = ["CONSENT_FILTERS", "condition_spec", "exclusive_rules", "filter_conditions", "rules_yaml"]

#: Consent filter -> what it keeps (``emailable``: consented and not unsubscribed as of the date).
CONSENT_FILTERS: dict[str, str] = {
    "any": "everyone",
    "consented": "consent is true",
    "not_consented": "consent is false or missing",
    "emailable": "consent is true and not unsubscribed as of the date",
}


def filter_conditions(countries: Sequence[str], cohorts: Sequence[str], consent: str) -> list[Any]:
    """Rule conditions for the attribute filters (an empty selection keeps everyone)."""
    conditions: list[Any] = []
    if countries:
        conditions.append(Comparison("country", "in", tuple(countries)))
    if cohorts:
        conditions.append(Comparison("signup_cohort", "in", tuple(cohorts)))
    consented = Comparison("consent", "==", True)
    if consent == "consented":
        conditions.append(consented)
    elif consent == "not_consented":
        conditions.append(Not(consented))
    elif consent == "emailable":
        conditions.extend([consented, Not(Comparison("unsubscribed", "==", True))])
    return conditions


def exclusive_rules(
    conditions: Sequence[tuple[str, Any]],
    filters: Sequence[Any],
    names: Mapping[str, str],
    descriptions: Mapping[str, str],
) -> RuleSet:
    """One rule per label: the filters, none of the labels before it, and its own condition
    (the fallback label: none of the others). Members are exactly the explorer's segments."""
    rules, earlier = [], []
    for label, condition in conditions:
        parts = list(filters)
        if earlier:
            parts.append(Not(AnyOf(tuple(earlier))) if len(earlier) > 1 else Not(earlier[0]))
        if condition is not None:
            parts.append(condition)
            earlier.append(condition)
        rules.append(SegmentRule(names[label], AllOf(tuple(parts)), descriptions.get(label, "")))
    return RuleSet(tuple(rules), tuple(rule.name for rule in rules))


def _native(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple | list | set):
        return [_native(v) for v in value]
    return value


def condition_spec(condition: Any) -> Any:
    """A condition as the mapping :func:`segkit.segments.parse_rules` reads."""
    if isinstance(condition, Comparison):
        if condition.op in ("is_null", "not_null"):
            return {"feature": condition.feature, "op": condition.op}
        return {"feature": condition.feature, "op": condition.op, "value": _native(condition.value)}
    if isinstance(condition, Not):
        return {"not": condition_spec(condition.child)}
    key = "all" if isinstance(condition, AllOf) else "any"
    return {key: [condition_spec(child) for child in condition.children]}


def rules_yaml(rules: RuleSet, header: Sequence[str] = ()) -> str:
    """YAML text of ``rules`` (``header`` lines become comments at the top)."""
    spec = {
        "segments": [
            {"name": rule.name, **({"description": rule.description} if rule.description else {}),
             "where": condition_spec(rule.condition)}
            for rule in rules.rules
        ],
        "priority": list(rules.priority),
    }
    comments = "".join(f"# {line}\n" for line in header)
    return comments + yaml.dump(spec, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with each comparison on one line: ``{feature: x, op: '>=', value: 0.5}``."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(),
                                    flow_style=True if "feature" in data else None)


_Dumper.add_representer(dict, _represent_dict)
