"""The explorer without widgets: :class:`ExplorerState` (what the analyst chose) ->
:func:`explore` -> :class:`ExplorerResult` (sizes, performance, charts, rules)."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from segkit._suggest import did_you_mean
from segkit._timestamps import utc_timestamp
from segkit.errors import ValidationError
from segkit.explore._conditions import SchemeSegments, scheme_segments
from segkit.explore._data import ExplorerData, Snapshot
from segkit.explore._params import check_scheme, complete_parameters
from segkit.explore._rulefile import CONSENT_FILTERS, exclusive_rules, filter_conditions, rules_yaml
from segkit.overview import SCHEME_NEEDS
from segkit.segments import AllOf, SegmentPerformance, parse_rules, segment_performance

__all__ = ["DEFAULT_RULES", "ExplorerResult", "ExplorerState", "explore"]

#: Starting rules of the ``rules`` scheme (any rule set of segkit.segments works).
DEFAULT_RULES = """\
segments:
  - name: vip_buyers
    where: {all: ["purchase_count_365d >= 3", "revenue_365d > 200"]}
  - name: lapsed_buyers
    where: {all: ["purchase_count_365d >= 1", "days_since_last_purchase > 180"]}
  - name: newcomers
    where: "tenure_days < 30"
"""


@dataclass(frozen=True)
class ExplorerState:
    """Everything the analyst set: scheme and its parameters, filters, dates, window.

    ``parameters`` override the scheme defaults (:func:`segkit.explore.default_parameters`);
    ``countries`` / ``cohorts`` keep subscribers with one of the values (empty: everyone);
    ``consent`` is one of :data:`~segkit.explore.CONSENT_FILTERS`; ``rules`` is the YAML of the
    ``rules`` scheme; ``performance_window`` (days) is the window of the performance table.
    """

    as_of: pd.Timestamp
    scheme: str = "engagement"
    parameters: Mapping[str, float] = field(default_factory=dict)
    countries: tuple[str, ...] = ()
    cohorts: tuple[str, ...] = ()
    consent: str = "any"
    rules: str = DEFAULT_RULES
    performance_window: int = 90

    def __post_init__(self) -> None:
        check_scheme(self.scheme)
        object.__setattr__(self, "as_of", utc_timestamp(self.as_of))
        if self.consent not in CONSENT_FILTERS:
            raise ValidationError(
                f"unknown consent filter {self.consent!r}{did_you_mean(self.consent, CONSENT_FILTERS)}"
                f" valid: {', '.join(CONSENT_FILTERS)}"
            )
        object.__setattr__(self, "countries", tuple(map(str, self.countries)))
        object.__setattr__(self, "cohorts", tuple(map(str, self.cohorts)))

    @property
    def values(self) -> dict[str, float]:
        """The scheme's parameters: defaults overridden by ``parameters``."""
        return complete_parameters(self.scheme, self.parameters)

    def with_parameters(self, **values: float) -> ExplorerState:
        return replace(self, parameters={**self.parameters, **values})

    def scheme_key(self) -> tuple:
        rules = self.rules if self.scheme == "rules" else ""
        return (self.scheme, tuple(sorted(self.values.items())), rules)

    def filter_key(self) -> tuple:
        return (self.countries, self.cohorts, self.consent)


@dataclass(frozen=True, eq=False)
class ExplorerResult:
    """What the explorer shows for one :class:`ExplorerState`.

    Attributes
    ----------
    labels
        The scheme's label for every subscriber in the feature table (before filters).
    selected
        Bool array: who passes the filters.
    sizes
        ``segment``, ``subscribers`` (after filters), ``share`` of the filtered list, in the
        scheme's priority order (empty segments included).
    performance
        :func:`segkit.segments.segment_performance` of the filtered list over the state's
        window (segment vs the rest, intervals, Holm-adjusted tests), or None with ``note``.
    rules
        The selection as a rule set (one mutually exclusive rule per label, filters included).
    rule_names
        Label -> rule name in ``rules``.
    """

    state: ExplorerState
    labels: pd.Series
    selected: np.ndarray
    sizes: pd.DataFrame
    performance: SegmentPerformance | None
    rules: Any
    rule_names: dict[str, str]
    note: str = ""

    @property
    def members(self) -> pd.Series:
        """Labels of the subscribers passing the filters."""
        return self.labels[self.selected]

    def to_frame(self) -> pd.DataFrame:
        return self.sizes.copy()

    def summary(self) -> str:
        total = int(self.sizes["subscribers"].sum())
        parts = ", ".join(f"{r.segment} {r.subscribers:,}" for r in self.sizes.itertuples())
        return (f"{self.state.scheme} as of {self.state.as_of.isoformat()}: {total:,} subscribers "
                f"after filters ({parts})" + (f"; {self.note}" if self.note else ""))

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>" + self.sizes.to_html(index=False)

    def performance_rows(self, metric: str) -> pd.DataFrame:
        """The performance rows of one metric (empty without a performance table)."""
        if self.performance is None:
            return pd.DataFrame()
        table = self.performance.to_frame()
        columns = ["segment", "recipients", "value", "ci_low", "ci_high", "rest_value",
                   "p_value_adjusted", "significant"]
        return table.loc[table["metric"] == metric, columns].reset_index(drop=True)

    def sizes_chart(self) -> Any:
        from segkit.charts import segment_sizes_chart

        return segment_sizes_chart(self.members, title=f"{self.state.scheme} segment sizes")

    def performance_chart(self, metric: str = "click_rate") -> Any:
        from segkit.charts import segment_performance_chart

        if self.performance is None:
            return None
        return segment_performance_chart(self.performance, metric=metric)

    def rule_yaml(self) -> str:
        """The selection as YAML for :func:`segkit.segments.parse_rules` (round-trips exactly on
        the explorer's feature table, see :attr:`segkit.explore.SegmentExplorer.features`)."""
        state = self.state
        header = [
            f"Saved from the segkit explorer: scheme {state.scheme} as of {state.as_of.isoformat()}",
            "parameters: " + (", ".join(f"{k}={v:g}" for k, v in state.values.items()) or "(rules)"),
            f"filters: countries={list(state.countries) or 'all'}, cohorts={list(state.cohorts) or 'all'}, "
            f"consent={state.consent}",
            "country and signup_cohort come from the subscribers table (signup quarter, UTC);",
            "predicted_clv and engagement_score are the value scheme's columns (segkit.segments).",
        ]
        return rules_yaml(self.rules, header)


def _sizes(segments: SchemeSegments, selected: np.ndarray) -> pd.DataFrame:
    """Subscribers per label after the filters, in the scheme's order (a bincount of the codes)."""
    (codes, names), order = segments.codes, segments.order
    kept = codes[selected]
    counts = pd.Series(np.bincount(kept[kept >= 0], minlength=len(names)), index=names)
    sizes = counts.groupby(level=0, sort=False).sum().reindex(order, fill_value=0).astype(int)
    total = sizes.sum()
    return pd.DataFrame({"segment": order, "subscribers": sizes.to_numpy(),
                         "share": sizes.to_numpy() / total if total else np.zeros(len(order))})


def _selected_labels(segments: SchemeSegments, selected: np.ndarray) -> pd.Series:
    """The labels of the selected subscribers on a positional index, as a categorical whose
    categories are the labels in order of first appearance (the order the performance table
    lists segments in), built from the cached codes."""
    codes, names = segments.codes
    kept = codes[selected]
    present = pd.unique(kept[kept >= 0])
    remap = np.full(len(names) + 1, -1, dtype=np.int64)
    remap[present] = np.arange(len(present))
    categories = [names[code] for code in present]
    return pd.Series(pd.Categorical.from_codes(remap[kept], categories=categories))


def _performance(snapshot: Snapshot, segments: SchemeSegments, selected: np.ndarray,
                 window: int) -> tuple[SegmentPerformance | None, str]:
    if window not in snapshot.windows:
        raise ValidationError(
            f"performance window {window} days is not in the feature table; valid: "
            f"{', '.join(map(str, snapshot.windows))}"
        )
    units = snapshot.performance_units
    units = units[[c for c in units.columns if c.endswith(f"_{window}d")]][selected]
    labels = _selected_labels(segments, selected).set_axis(units.index)
    try:
        return segment_performance(units, labels, window=window), ""
    except ValidationError as error:
        return None, f"no performance table: {error}"


#: Columns only :attr:`Snapshot.features` has (costly: computed when a scheme needs them).
VALUE_COLUMNS = ("predicted_clv", "engagement_score")


def _needs_value(state: ExplorerState) -> bool:
    """The value scheme, or rules that mention its columns."""
    return state.scheme == "value" or (
        state.scheme == "rules" and any(column in state.rules for column in VALUE_COLUMNS))


def _segments(snapshot: Snapshot, state: ExplorerState) -> SchemeSegments:
    def build() -> SchemeSegments:
        rules = parse_rules(state.rules) if state.scheme == "rules" else None
        if not _needs_value(state):
            return scheme_segments(snapshot.base, state.scheme, state.values, rules=rules)
        return scheme_segments(snapshot.features, state.scheme, state.values, rules=rules,
                               value_error=snapshot.value_error)

    return snapshot.cached(("scheme", state.scheme_key()), build)


def _rule_name(scheme: str, label: str) -> str:
    return label if scheme == "rules" else f"{scheme}_{label}"


def _shape_note(snapshot: Snapshot, scheme: str) -> str:
    """Why ``scheme``'s labels say little on these data (the engagement tiers without email
    events call everyone inactive), else ''."""
    reason = snapshot.shape.missing(*SCHEME_NEEDS.get(scheme, ()))
    if reason is None:
        return ""
    label = {"engagement": "every subscriber is 'inactive' by definition"}.get(scheme, "its labels carry little")
    return f"{reason}: in the {scheme} scheme {label}; try rfm or lifecycle"


def explore(data: ExplorerData, state: ExplorerState, *, performance: bool = True) -> ExplorerResult:
    """Sizes, performance and rules for ``state`` (features come from ``data``'s cache for
    ``state.as_of``; labels and performance are cached per scheme/filter setting).

    ``performance=False`` skips the performance table (the costliest part, though all segments
    are tested at once: about 0.05 s at 100,000 subscribers) when only sizes and rules are needed.
    """
    snapshot = data.snapshot(state.as_of)
    segments = _segments(snapshot, state)
    filters = filter_conditions(state.countries, state.cohorts, state.consent)
    selected = snapshot.cached(("filter", state.filter_key()),
                               lambda: AllOf(tuple(filters)).mask(snapshot.base).to_numpy(dtype=bool))
    table, note = (None, "performance not computed") if not performance else snapshot.cached(
        ("performance", state.scheme_key(), state.filter_key(), state.performance_window),
        lambda: _performance(snapshot, segments, selected, state.performance_window))
    note = "; ".join(filter(None, (_shape_note(snapshot, state.scheme), note)))
    names = {label: _rule_name(state.scheme, label) for label in segments.order}
    descriptions = {label: f"{state.scheme} segment {label}" for label in segments.order}
    rules = exclusive_rules(segments.conditions, filters, names, descriptions)
    return ExplorerResult(state, segments.labels, selected, _sizes(segments, selected),
                          table, rules, names, note)


