"""Subscriber features as of a date, built from portable Ibis expressions.

:func:`compute` returns the full feature table (one row per subscriber known at ``as_of``),
:func:`compute_expr` the same table as one Ibis expression that stays in the engine,
:func:`rfm` the BG/NBD-style RFM summary used by CLV models (Fader, Hardie & Lee 2005) and
:func:`calibration_holdout` features up to a cutoff plus outcomes in ``(cutoff, end]``.
:class:`FeatureTimeline` reads the events once and then gives :func:`compute`'s table at any
as-of date in a fraction of a second (the explorer's date picker).

Conventions
-----------
* Only events with ``ts <= as_of`` are read; ``as_of`` must be time-zone aware (naive values are
  refused, not assumed UTC). A W-day window is ``(as_of - W days, as_of]`` in UTC.
* Rates and means with a zero denominator are NaN, never 0.
* Every query is an Ibis expression (no SQL strings, nothing backend-specific); the SQL they
  compile to on DuckDB is pinned under ``tests/snapshots/features/``. Local hours use an
  IANA offset table joined in SQL (see ``_local_time``), so no per-row time-zone function is
  needed. Each query makes one pass over the events for all windows; the long results are
  spread into columns with numpy (``_assemble``).
"""

from segkit.features._compute import compute, feature_columns
from segkit.features._expr import compute_expr
from segkit.features._holdout import CalibrationHoldout, calibration_holdout
from segkit.features._params import RFM_UNITS
from segkit.features._rfm import rfm
from segkit.features._timeline import FeatureTimeline

__all__ = [
    "CalibrationHoldout",
    "FeatureTimeline",
    "RFM_UNITS",
    "calibration_holdout",
    "compute",
    "compute_expr",
    "feature_columns",
    "rfm",
]
