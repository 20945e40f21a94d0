"""Human opens by segment, local weekday and local hour (the data behind the heatmap chart)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from segkit.sendtime._local_time import WEEKDAY_NAMES, hour_of_day, local_seconds, weekday
from segkit.sendtime._recommend import fit

__all__ = ["heatmap_frame"]


def heatmap_frame(workspace_or_tables: Any, as_of: str | pd.Timestamp) -> pd.DataFrame:
    """Human opens (machine opens excluded) per ``segment``, ``weekday`` and ``local_hour``.

    Segments are those of :func:`segkit.sendtime.recommend` (the given mapping, else engagement
    tiers). Every segment has all 7 x 24 cells (zeros included). These are raw counts: they
    still carry the send schedule; the recommendations are exposure-corrected.
    """
    result = fit(workspace_or_tables, as_of)
    data = result.data
    local = local_seconds(data.open_ts, data.zone_code[data.open_sub], data.zones)
    segments, codes = np.unique(result.frame["segment"].to_numpy(dtype=str), return_inverse=True)
    cell = (codes[data.open_sub] * 7 + weekday(local)) * 24 + hour_of_day(local)
    counts = np.bincount(cell, minlength=len(segments) * 168)
    grid = pd.MultiIndex.from_product(
        [segments, WEEKDAY_NAMES, range(24)], names=["segment", "weekday", "local_hour"])
    return pd.DataFrame({"opens": counts.astype(np.int64)}, index=grid).reset_index()
