"""Segment breakdown: the same analysis within each segment, corrected across all segments."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from segkit.errors import ValidationError
from segkit.stats._analyze import MetricsArg, correct, unit_comparisons
from segkit.stats._compare import ALTERNATIVES
from segkit.stats._corrections import check_correction
from segkit.stats._input import arm_order, check_alpha, check_choice, check_columns
from segkit.stats._metrics import parse_metrics, resolve_kind
from segkit.stats._result import COLUMNS, describe_row
from segkit.stats._srm import SRM_THRESHOLD, SRMResult, srm_check

__all__ = ["SegmentedResult", "analyze_segments"]


@dataclass(frozen=True, eq=False)  # holds a DataFrame: compare .to_frame() instead
class SegmentedResult:
    """Per-segment comparisons; p-values adjusted across every (segment, arm, metric) row.

    Segment results are exploratory: a lift that shows in one segment only after slicing many ways
    is a hypothesis for the next test, which is why the correction spans all segments.
    """

    table: pd.DataFrame
    srm: dict[str, SRMResult]
    segment: str
    control: str
    alpha: float
    correction: str

    def to_frame(self) -> pd.DataFrame:
        """The :meth:`ExperimentResult.to_frame` columns with ``segment`` first."""
        return self.table.copy()

    def summary(self) -> str:
        """Each segment's comparisons in words, with its SRM check."""
        lines = [
            f"Segment breakdown by {self.segment!r}: {self.correction} correction across "
            f"{len(self.table)} comparisons in {len(self.srm)} segments; alpha {self.alpha:g}."
        ]
        for value, rows in self.table.groupby("segment", sort=False):
            lines.append(f"{self.segment} = {value}: {self.srm[str(value)].summary()}")
            lines.extend(f"  [{r.metric}] {describe_row(r, self.alpha)}" for r in rows.itertuples())
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.summary()) + "</pre>" + self.table.to_html(
            index=False, float_format=lambda v: f"{v:.4g}"
        )


def analyze_segments(
    df: pd.DataFrame,
    segment: str,
    arm: str = "arm",
    control: str = "control",
    metrics: MetricsArg | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    *,
    allocation: Mapping[str, float] | None = None,
    min_units: int = 2,
    alternative: str = "two-sided",
    srm_threshold: float = SRM_THRESHOLD,
) -> SegmentedResult:
    """Run :func:`analyze`'s comparisons within each value of ``segment``.

    Metric kinds are inferred once on the whole frame, so a metric is tested the same way in every
    segment. Segments where an arm has fewer than ``min_units`` units are skipped (listed in the
    error if none is left). Each segment gets its own sample-ratio check. Tests, intervals and
    ``alternative`` are :func:`analyze`'s; the adjusted intervals span all segments' comparisons.
    """
    alpha = check_alpha(alpha)
    check_correction(correction)
    check_choice(alternative, ALTERNATIVES, "alternative")
    control = str(control)
    specs = parse_metrics(metrics)
    check_columns(df, [segment, arm, *(c for m in specs for c in m.columns)], "experiment data")
    arm_order(df[arm], control, allocation)
    specs = [resolve_kind(m, df) for m in specs]
    blocks, states, srm, skipped = [], [], {}, []
    for value, part in df.groupby(segment, sort=True, observed=True):
        counts = part[arm].astype(str).value_counts()
        try:
            treatments, sizes = arm_order(part[arm].astype(str), control, allocation)
        except ValidationError:
            skipped.append(str(value))
            continue
        if min(counts.get(a, 0) for a in sizes) < min_units:
            skipped.append(str(value))
            continue
        table, state, _ = unit_comparisons(part, part[arm].astype(str), control, treatments,
                                           specs, alpha, alternative=alternative,
                                           mann_whitney=False)
        table.insert(0, "segment", value)
        blocks.append(table)
        states.extend(state)
        srm[str(value)] = srm_check(sizes, allocation, threshold=srm_threshold)
    if not blocks:
        raise ValidationError(
            f"no segment of {segment!r} has control and a treatment with >= {min_units} units each;"
            f" segments: {', '.join(skipped)}"
        )
    table = correct(pd.concat(blocks, ignore_index=True), states, alpha, correction, alternative)
    table["scale"] = "relative"
    table["alternative"] = alternative
    extras = [c for c in table.columns if c not in COLUMNS and c != "segment"]
    table = table[["segment", *COLUMNS, *extras]]
    return SegmentedResult(table=table, srm=srm, segment=segment, control=control, alpha=alpha,
                           correction=correction)
