"""What counts as a time zone: one definition shared by ingest, features and send time, so a
zone that ingest accepted is accepted everywhere after it."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from functools import cache

__all__ = ["iana_zones", "unknown_zones"]


@cache
def iana_zones() -> frozenset[str]:
    """Every IANA zone name the installed time-zone database knows, plus ``UTC``."""
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def unknown_zones(names: Iterable[object]) -> list[str]:
    """The distinct names (as strings, sorted) that are not IANA zone names."""
    return sorted({str(name) for name in names} - iana_zones())
