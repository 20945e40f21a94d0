"""Each scheme's segments as rule conditions for the current thresholds.

Labels come from the :mod:`segkit.segments` functions themselves; the conditions restate the same
thresholds as :mod:`segkit.segments` rules (:class:`~segkit.segments.Comparison`,
:class:`~segkit.segments.AllOf`, ...), so "save as rule" writes YAML that selects exactly the
subscribers the explorer shows. Each scheme is a list ``(label, condition)`` in priority order
(first match wins); the last label is the fallback (condition ``None``: matched by nothing above).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.segments import (
    RFM_GROUPS,
    AllOf,
    AnyOf,
    Comparison,
    Not,
    RuleSet,
    engagement_tiers,
    lifecycle_stages,
    primary_segment,
    rfm_scores,
    value_potential,
)

__all__ = ["SchemeSegments", "scheme_segments"]

_ACTIVITY = ("days_since_last_open", "days_since_last_click", "days_since_last_purchase")
#: Label of subscribers in none of the analyst's rules (as :func:`primary_segment`'s default).
UNASSIGNED = "unassigned"


@dataclass(frozen=True, eq=False)
class SchemeSegments:
    """One label per subscriber and the condition behind each label, in priority order."""

    labels: pd.Series
    conditions: tuple[tuple[str, Any], ...]

    @property
    def order(self) -> list[str]:
        return [label for label, _ in self.conditions]

    @cached_property
    def codes(self) -> tuple[np.ndarray, list[str]]:
        """The labels as integer codes (-1: no label) and the label of each code, as text;
        computed once per scheme setting, so counting a filtered list is a ``bincount``."""
        if isinstance(self.labels.dtype, pd.CategoricalDtype):
            codes, names = self.labels.cat.codes.to_numpy(), self.labels.cat.categories
        else:
            codes, names = pd.factorize(self.labels)
        return np.asarray(codes, dtype=np.int64), [str(name) for name in names]


def _cmp(feature: str, op: str, value: Any = None) -> Comparison:
    if isinstance(value, np.generic):
        value = value.item()
    return Comparison(feature, op, value)


def _engagement(features: pd.DataFrame, params: Mapping[str, float]) -> SchemeSegments:
    window = int(params["window"])
    opens, clicks = f"open_rate_{window}d", f"click_rate_{window}d"
    values = {**params, "window": window}
    labels = engagement_tiers(features, **values)
    conditions = (
        ("inactive", Not(_cmp("days_since_last_open", "<", float(params["inactive_days"])))),
        ("highly_engaged", AllOf((_cmp(opens, ">=", float(params["high_open_rate"])),
                                  _cmp(clicks, ">=", float(params["high_click_rate"]))))),
        ("moderately_engaged", AllOf((_cmp(opens, ">=", float(params["moderate_open_rate"])),
                                      _cmp(clicks, ">=", float(params["moderate_click_rate"]))))),
        ("low", None),
    )
    return SchemeSegments(labels, conditions)


def _lifecycle(features: pd.DataFrame, params: Mapping[str, float]) -> SchemeSegments:
    labels = lifecycle_stages(features, **params)
    def active_within(days: float) -> AnyOf:
        return AnyOf(tuple(_cmp(column, "<", float(days)) for column in _ACTIVITY))

    conditions = (
        ("churned", _cmp("unsubscribed", "==", True)),
        ("new", _cmp("tenure_days", "<", float(params["new_days"]))),
        ("active", active_within(params["active_days"])),
        ("at_risk", active_within(params["lapsed_days"])),
        ("lapsed", None),
    )
    return SchemeSegments(labels, conditions)


def _bands(values: np.ndarray, scores: np.ndarray) -> dict[int, tuple[float | None, float | None]]:
    """Score -> ``(lower, upper)`` so that ``lower < value <= upper`` holds exactly for the
    subscribers with that score (``None``: unbounded). Scores are monotone in the value, so the
    classes are consecutive runs of the sorted values; the bounds are the largest value of the
    class below and of the class itself."""
    present = sorted({int(s) for s in scores}, key=lambda s: values[scores == s].max())
    tops = [float(values[scores == s].max()) for s in present]
    return {
        score: (tops[i - 1] if i > 0 else None, tops[i] if i < len(present) - 1 else None)
        for i, score in enumerate(present)
    }


def _band(feature: str, bands: Mapping[int, tuple[float | None, float | None]],
          wanted: Sequence[int]) -> list[Comparison] | None:
    """Conditions for a contiguous run of scores, or None when no subscriber has any of them."""
    chosen = [bands[s] for s in wanted if s in bands]
    if not chosen:
        return None
    lowers = [low for low, _ in chosen]
    uppers = [high for _, high in chosen]
    lower = None if None in lowers else min(lowers)
    upper = None if None in uppers else max(uppers)
    return ([_cmp(feature, ">", lower)] if lower is not None else []) + (
        [_cmp(feature, "<=", upper)] if upper is not None else [])


def _cells(scores: pd.DataFrame) -> dict[tuple[int, int], str]:
    """(R score, F score) -> RFM group, as :func:`rfm_scores` assigned it to the buyers."""
    cells = scores.loc[scores["r_score"] > 0, ["r_score", "f_score", "rfm_group"]].drop_duplicates()
    return {(int(r), int(f)): str(g) for r, f, g in cells.itertuples(index=False)}


def _runs(cells: Mapping[tuple[int, int], str], r: int, group: str) -> list[list[int]]:
    """The F scores of ``group`` in row R = ``r``, split into runs of consecutive present F scores
    (an F score no buyer of this row has breaks a run: its group is unknown)."""
    runs: list[list[int]] = []
    previous = None
    for f in range(1, 6):
        name = cells.get((r, f))
        if name == group:
            if previous == group and runs:
                runs[-1].append(f)
            else:
                runs.append([f])
        previous = name
    return runs


def _rfm(features: pd.DataFrame, params: Mapping[str, float]) -> SchemeSegments:
    """RFM groups of :func:`rfm_scores`; the quintile cut-offs of the current list become fixed
    bounds on ``days_since_last_purchase`` and ``purchase_count_{window}d``, and the (R, F) map
    is read off the buyers' own scores and groups (so a saved rule is a snapshot of today's
    cut-offs, and a buyer whose (R, F) cell nobody holds today matches no named group)."""
    window = int(params["window"])
    scores = rfm_scores(features, window=window)
    count = f"purchase_count_{window}d"
    buyers = scores["r_score"].to_numpy() > 0
    days = features["days_since_last_purchase"].to_numpy(dtype=float, na_value=np.nan)[buyers]
    counts = features[count].to_numpy(dtype=float, na_value=0.0)[buyers]
    r_bands = _bands(days, scores["r_score"].to_numpy()[buyers]) if buyers.any() else {}
    f_bands = _bands(counts, scores["f_score"].to_numpy()[buyers]) if buyers.any() else {}
    cells = _cells(scores)
    bought = _cmp(count, ">", 0)
    conditions: list[tuple[str, Any]] = []
    for group in RFM_GROUPS[:-1]:
        if group == "lapsed":  # bought before the window, not in it (the window's non-buyers who ever bought)
            conditions.append((group, _cmp("days_since_last_purchase", "not_null")))
            continue
        parts = []
        for r in range(1, 6):
            r_part = _band("days_since_last_purchase", r_bands, [r])
            for run in _runs(cells, r, group):
                f_part = _band(count, f_bands, run)
                if r_part is not None and f_part is not None:
                    parts.append(AllOf(tuple(r_part + f_part)))
        conditions.append((group, AllOf((bought, AnyOf(tuple(parts))))))
    conditions.append((RFM_GROUPS[-1], None))
    return SchemeSegments(scores["rfm_group"].rename("rfm"), tuple(conditions))


def _value(features: pd.DataFrame, params: Mapping[str, float], value_error: str | None) -> SchemeSegments:
    if value_error is not None:
        raise ValidationError(value_error)
    clv, score = features["predicted_clv"], features["engagement_score"]
    quantile, low = float(params["high_quantile"]), float(params["low_engagement"])
    labels = value_potential(clv, score, high_quantile=quantile, low_engagement=low)
    high, median = np.nanquantile(clv.to_numpy(dtype=float, na_value=np.nan), [quantile, 0.5])
    conditions = (
        ("high", _cmp("predicted_clv", ">=", float(high))),
        ("efficiency", AllOf((_cmp("predicted_clv", "<", float(median)),
                              _cmp("engagement_score", "<", low)))),
        ("standard", None),
    )
    return SchemeSegments(labels.rename("value"), conditions)


def _rules(features: pd.DataFrame, rules: RuleSet | None) -> SchemeSegments:
    if rules is None or not rules.rules:
        raise ValidationError("the rules scheme needs segment rules (YAML with a 'segments:' list)")
    if UNASSIGNED in rules.names:
        raise ValidationError(f"a rule may not be named {UNASSIGNED!r} (the label of everyone else)")
    labels = primary_segment(rules.evaluate(features), rules.priority, default=UNASSIGNED)
    conditions = tuple((name, rules.rule(name).condition) for name in rules.priority)
    return SchemeSegments(labels.rename("rules"), (*conditions, (UNASSIGNED, None)))


def scheme_segments(
    features: pd.DataFrame,
    scheme: str,
    params: Mapping[str, float],
    *,
    rules: RuleSet | None = None,
    value_error: str | None = None,
) -> SchemeSegments:
    """Labels and conditions of ``scheme`` with ``params`` over the whole feature table."""
    if scheme == "engagement":
        return _engagement(features, params)
    if scheme == "lifecycle":
        return _lifecycle(features, params)
    if scheme == "rfm":
        return _rfm(features, params)
    if scheme == "value":
        return _value(features, params, value_error)
    return _rules(features, rules)
