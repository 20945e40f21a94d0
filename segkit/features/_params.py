"""Validation of the arguments every feature entry point shares: ``as_of``, windows, units."""

from __future__ import annotations

from collections.abc import Iterable

from segkit.errors import ValidationError

__all__ = ["RFM_UNITS", "check_hours", "check_unit", "check_windows", "unit_days"]

#: Time units for RFM summaries and their length in days.
RFM_UNITS: dict[str, int] = {"D": 1, "W": 7}

SECONDS_PER_DAY = 86_400


def check_unit(unit: object, name: str = "rfm_unit") -> str:
    """Return ``unit`` if it is one of :data:`RFM_UNITS`, else raise listing the valid values."""
    if unit not in RFM_UNITS:
        valid = ", ".join(f"{k!r} ({'days' if v == 1 else 'weeks'})" for k, v in RFM_UNITS.items())
        raise ValidationError(f"unknown {name} {unit!r}; valid: {valid}")
    return str(unit)


def unit_days(unit: str) -> int:
    """Length of ``unit`` in days."""
    return RFM_UNITS[check_unit(unit)]


def check_windows(windows: Iterable[int]) -> tuple[int, ...]:
    """Return the windows (in days) as a sorted tuple of distinct positive integers."""
    try:
        values = list(windows)
    except TypeError:
        raise ValidationError(
            f"windows must be a sequence of positive whole days, e.g. (30, 90, 365), got {windows!r}"
        ) from None
    bad = [w for w in values if isinstance(w, bool) or not isinstance(w, int) or w <= 0]
    if bad or not values:
        raise ValidationError(
            f"windows must be positive whole numbers of days, e.g. (30, 90, 365); invalid: {bad or values}"
        )
    return tuple(sorted(set(values)))


def check_hours(hours: object, name: str = "cart_abandon_hours") -> float:
    """Return a positive number of hours."""
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not hours > 0:
        raise ValidationError(f"{name} must be a positive number of hours, got {hours!r}")
    return float(hours)
