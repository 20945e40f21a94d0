"""The adjustable parameters of each scheme, with defaults read from :mod:`segkit.segments`.

Defaults are taken from the signatures of the scheme functions themselves
(:func:`~segkit.segments.engagement_tiers`, :func:`~segkit.segments.lifecycle_stages`,
:func:`~segkit.segments.rfm_scores`, :func:`~segkit.segments.value_potential`), so the explorer
starts exactly where the built-in schemes are and cannot drift from them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from segkit._suggest import did_you_mean
from segkit.errors import ValidationError
from segkit.segments import engagement_tiers, lifecycle_stages, rfm_scores, value_potential

__all__ = ["EXPLORER_SCHEMES", "SCHEME_PARAMETERS", "SchemeParameter", "default_parameters"]


@dataclass(frozen=True)
class SchemeParameter:
    """One adjustable scheme parameter: a slider from ``low`` to ``high`` in ``step`` units, or
    (``kind == "window"``) a choice among the feature windows. ``unit`` is stated in the label."""

    name: str
    default: float
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    unit: str = "share"
    kind: str = "slider"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.unit})"


def _default(function: Callable[..., Any], name: str) -> float:
    return inspect.signature(function).parameters[name].default


def _share(function: Callable[..., Any], name: str, low: float = 0.0, high: float = 1.0) -> SchemeParameter:
    return SchemeParameter(name, _default(function, name), low, high, 0.01, "share")


def _days(function: Callable[..., Any], name: str, low: float, high: float) -> SchemeParameter:
    return SchemeParameter(name, _default(function, name), low, high, 1.0, "days")


def _window(function: Callable[..., Any]) -> SchemeParameter:
    return SchemeParameter("window", _default(function, "window"), unit="days", kind="window")


#: Scheme -> its adjustable parameters (the ``rules`` scheme has none: its rules are the text).
SCHEME_PARAMETERS: dict[str, tuple[SchemeParameter, ...]] = {
    "engagement": (
        _window(engagement_tiers),
        _days(engagement_tiers, "inactive_days", 1, 365),
        _share(engagement_tiers, "high_open_rate"),
        _share(engagement_tiers, "high_click_rate"),
        _share(engagement_tiers, "moderate_open_rate"),
        _share(engagement_tiers, "moderate_click_rate"),
    ),
    "rfm": (_window(rfm_scores),),
    "lifecycle": (
        _days(lifecycle_stages, "new_days", 0, 365),
        _days(lifecycle_stages, "active_days", 1, 730),
        _days(lifecycle_stages, "lapsed_days", 2, 1095),
    ),
    "value": (
        _share(value_potential, "high_quantile", 0.5, 0.99),
        SchemeParameter("low_engagement", _default(value_potential, "low_engagement"), 0, 100, 1,
                        "score 0-100"),
    ),
    "rules": (),
}
#: Scheme names offered by the explorer (``rules``: the analyst's own YAML rule set).
EXPLORER_SCHEMES: tuple[str, ...] = tuple(SCHEME_PARAMETERS)


def check_scheme(scheme: str) -> str:
    """Return ``scheme`` if the explorer knows it, else raise listing the valid schemes."""
    if scheme not in SCHEME_PARAMETERS:
        raise ValidationError(
            f"unknown scheme {scheme!r}{did_you_mean(scheme, EXPLORER_SCHEMES)} "
            f"valid: {', '.join(EXPLORER_SCHEMES)}"
        )
    return scheme


def default_parameters(scheme: str) -> dict[str, float]:
    """The default parameters of ``scheme`` (those of its :mod:`segkit.segments` function)."""
    return {p.name: p.default for p in SCHEME_PARAMETERS[check_scheme(scheme)]}


def complete_parameters(scheme: str, given: Mapping[str, float]) -> dict[str, float]:
    """Defaults overridden by ``given``; an unknown parameter name raises listing the valid ones."""
    values = default_parameters(scheme)
    for name in given:
        if name not in values:
            raise ValidationError(
                f"scheme {scheme!r} has no parameter {name!r}{did_you_mean(name, values)} "
                f"valid: {', '.join(values) or '(none)'}"
            )
    return {**values, **given}
