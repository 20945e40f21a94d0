"""Boundary checks shared by the analysis entry points."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from segkit.errors import ValidationError

__all__: list[str] = []


def check_alpha(alpha: float) -> float:
    """``alpha`` must lie strictly between 0 and 1."""
    if not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ValidationError(f"alpha must be a number in (0, 1), got {alpha!r}")
    return float(alpha)


def check_choice(value: str, choices: Iterable[str], name: str) -> str:
    """``value`` must be one of ``choices``; the message lists them."""
    choices = tuple(choices)
    if value not in choices:
        raise ValidationError(f"unknown {name} {value!r}; valid: {', '.join(choices)}")
    return value


def check_columns(df: pd.DataFrame, required: Iterable[str], what: str = "input") -> None:
    """Raise one error listing every missing column, sorted."""
    if not isinstance(df, pd.DataFrame):
        raise ValidationError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = sorted({c for c in required if c is not None} - set(map(str, df.columns)))
    if missing:
        raise ValidationError(
            f"{what} is missing column(s) {', '.join(map(repr, missing))}; "
            f"columns present: {', '.join(map(str, df.columns))}"
        )
    if df.empty:
        raise ValidationError(f"{what} has no rows")


def arm_order(
    arms: pd.Series, control: str, allocation: Mapping[str, float] | None = None
) -> tuple[list[str], dict[str, int]]:
    """Treatment arms (sorted, or in categorical order) and units per arm, control first.

    Raises when the control arm is missing (listing the arms present), when fewer than two arms
    are present, or when an arm that should exist (a categorical level or an allocation entry) has
    no units.
    """
    control = str(control)
    if arms.isna().any():
        first = arms.index[arms.isna().to_numpy()][0]
        raise ValidationError(
            f"arm column {arms.name!r} has {int(arms.isna().sum())} missing value(s) "
            f"(first at row {first!r}); drop or label those rows"
        )
    counts = arms.value_counts(sort=False)
    if isinstance(arms.dtype, pd.CategoricalDtype):
        names = [str(c) for c in arms.cat.categories]
        counts.index = counts.index.astype(str)
    else:
        counts.index = counts.index.map(str)
        names = sorted(counts.index)
    expected = set(names) | set(allocation or {})
    present = {str(a) for a, n in counts.items() if n > 0}
    if control not in expected:
        raise ValidationError(
            f"control arm {control!r} not found; arms present: {', '.join(sorted(present))}"
        )
    empty = sorted(expected - present)
    if empty:
        raise ValidationError(
            f"arm(s) {', '.join(map(repr, empty))} have zero units; arms with units: "
            f"{', '.join(sorted(present))}"
        )
    if len(present) < 2:
        raise ValidationError(
            f"need at least two arms (control and a treatment), found only {sorted(present)}"
        )
    treatments = [a for a in names if a != control]
    sizes = {a: int(counts[a]) for a in [control, *treatments]}
    return treatments, sizes
