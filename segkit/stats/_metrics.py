"""Metric declarations: which columns a metric reads and which test it gets.

A metric is given to :func:`segkit.stats.analyze` as a column name (its kind is inferred: a 0/1 or
boolean column is a proportion, any other numeric column is continuous), as a mapping such as
``{"name": "click_to_open", "kind": "ratio", "numerator": "clicks", "denominator": "opens"}``, or
as a :class:`Metric`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from segkit._suggest import did_you_mean
from segkit.errors import ValidationError

__all__ = ["METRIC_KINDS", "Metric"]

#: The metric kinds segkit tests, and the test each gets.
METRIC_KINDS = {
    "proportion": "pooled two-proportion z-test with score intervals; Barnard's exact test below "
                  "5 expected units in a cell",
    "continuous": "Welch t-test and interval, Fieller relative interval; Mann-Whitney U as a "
                  "robustness check",
    "ratio": "delta-method z-test and interval for a ratio of sums, Fieller relative interval",
}


@dataclass(frozen=True)
class Metric:
    """One metric to compare between arms.

    Parameters
    ----------
    name
        The label used in results (and the default column).
    kind
        ``"proportion"``, ``"continuous"`` or ``"ratio"``; ``None`` infers proportion/continuous from
        the column values.
    column
        The column holding the per-unit value (default: ``name``). Not used by ratio metrics.
    numerator, denominator
        For ratio metrics: the per-unit columns whose sums form the ratio (clicks / opens,
        revenue / orders).
    covariate
        For continuous metrics: a pre-period column used for CUPED variance reduction.
    """

    name: str
    kind: str | None = None
    column: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    covariate: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValidationError(f"metric name must be a non-empty string, got {self.name!r}")
        if self.kind is not None and self.kind not in METRIC_KINDS:
            raise ValidationError(
                f"unknown metric kind {self.kind!r} for metric {self.name!r}"
                f"{did_you_mean(self.kind, METRIC_KINDS, cutoff=0.6)}; valid: {', '.join(METRIC_KINDS)}"
            )
        if self.kind == "ratio" and (self.numerator is None or self.denominator is None):
            raise ValidationError(
                f"ratio metric {self.name!r} needs both 'numerator' and 'denominator' columns"
            )
        if self.kind != "ratio" and (self.numerator is not None or self.denominator is not None):
            raise ValidationError(
                f"metric {self.name!r} has numerator/denominator but kind {self.kind!r}; "
                "set kind='ratio'"
            )
        if self.covariate is not None and self.kind not in (None, "continuous"):
            raise ValidationError(
                f"metric {self.name!r}: a CUPED covariate applies to continuous metrics only, "
                f"not kind {self.kind!r}"
            )

    @property
    def value_column(self) -> str:
        """The column read for proportion and continuous metrics."""
        return self.column if self.column is not None else self.name

    @property
    def columns(self) -> tuple[str, ...]:
        """Every input column this metric reads."""
        if self.kind == "ratio":
            return (str(self.numerator), str(self.denominator))
        extra = (self.covariate,) if self.covariate is not None else ()
        return (self.value_column, *extra)


_METRIC_KEYS = tuple(f.name for f in fields(Metric))


def parse_metrics(metrics: Iterable[str | Mapping | Metric] | str | None) -> list[Metric]:
    """Turn the user's metric list into :class:`Metric` objects (kinds still possibly ``None``)."""
    if metrics is None:
        raise ValidationError("metrics is required: a list of column names or metric mappings")
    if isinstance(metrics, str | Mapping | Metric):
        metrics = [metrics]
    parsed = [_parse_one(item) for item in metrics]
    if not parsed:
        raise ValidationError("metrics is empty: give at least one metric")
    names = [m.name for m in parsed]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise ValidationError(f"metric names must be unique; repeated: {', '.join(duplicated)}")
    return parsed


def _parse_one(item: str | Mapping | Metric) -> Metric:
    if isinstance(item, Metric):
        return item
    if isinstance(item, str):
        return Metric(name=item)
    if isinstance(item, Mapping):
        unknown = sorted(set(item) - set(_METRIC_KEYS))
        if unknown:
            raise ValidationError(
                f"unknown metric key(s) {', '.join(map(repr, unknown))}"
                f"{did_you_mean(unknown[0], _METRIC_KEYS, cutoff=0.6)}; valid: {', '.join(_METRIC_KEYS)}"
            )
        if "name" not in item:
            raise ValidationError(f"metric mapping {dict(item)!r} has no 'name'")
        return Metric(**item)
    raise ValidationError(
        f"a metric must be a column name, a mapping or a Metric, got {type(item).__name__}"
    )


def resolve_kind(metric: Metric, frame: pd.DataFrame) -> Metric:
    """Check the metric's columns in a per-unit frame and fill in an inferred kind.

    Raises :class:`ValidationError` for a non-numeric column, missing values, or a proportion
    column with values other than 0/1.
    """
    for column in metric.columns:
        _check_numeric(frame, column, metric.name)
    if metric.kind == "ratio":
        return metric
    values = frame[metric.value_column]
    is_binary = bool(values.isin([0, 1]).all())
    if metric.kind is None:
        kind = "proportion" if is_binary and metric.covariate is None else "continuous"
        return replace(metric, kind=kind)
    if metric.kind == "proportion" and not is_binary:
        outside = values[(values < 0) | (values > 1)]
        bad = outside if len(outside) else values[~values.isin([0, 1])]
        rule = "outside [0, 1]" if len(outside) else "not 0/1"
        raise ValidationError(
            f"proportion metric {metric.name!r}: {len(bad)} value(s) in column "
            f"{metric.value_column!r} are {rule} (first: row {bad.index[0]!r} = {bad.iloc[0]!r}); "
            "per-unit proportions must be 0/1 (use kind='continuous' for other values)"
        )
    return metric


def inference_note(declared: list[Metric], resolved: list[Metric]) -> list[str]:
    """One note naming every metric whose kind was inferred from its values, not declared."""
    inferred = [(m.name, r.kind) for m, r in zip(declared, resolved, strict=True) if m.kind is None]
    if not inferred:
        return []
    parts = [f"{name} as {kind}" + (" (only 0/1 values)" if kind == "proportion" else "")
             for name, kind in inferred]
    return [f"Metric kinds inferred from the values: {'; '.join(parts)}. A 0/1 amount (e.g. "
            "revenue that happens to be 0 or 1) is read as a proportion: declare "
            "kind='continuous' (or 'proportion') to decide it yourself."]


def _check_numeric(frame: pd.DataFrame, column: str, metric_name: str) -> None:
    values = frame[column]
    if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
        raise ValidationError(
            f"metric {metric_name!r}: column {column!r} is not numeric (dtype {values.dtype}, "
            f"first value {values.iloc[0]!r}); convert it or drop it from metrics"
        )
    missing = values.isna()
    if missing.any():
        raise ValidationError(
            f"metric {metric_name!r}: column {column!r} has {int(missing.sum())} missing value(s) "
            f"(first at row {values.index[missing.to_numpy()][0]!r}); fill or drop them first"
        )
    if not np.isfinite(values.to_numpy(dtype=float)).all():
        raise ValidationError(f"metric {metric_name!r}: column {column!r} has infinite values")
