"""Datasets: the synthetic generator with planted truth and the vendored real data."""

from segkit.datasets._real import cdnow, cdnow_raw, hillstrom

__all__ = ["cdnow", "cdnow_raw", "hillstrom"]
