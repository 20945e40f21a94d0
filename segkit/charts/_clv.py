"""CLV model-check charts: calibration vs holdout, and the repeat-purchase histogram."""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from segkit.clv import CalibrationHoldoutResult, PeriodTransactionsResult

__all__ = ["clv_calibration_holdout_chart", "clv_period_transactions_chart"]


def clv_calibration_holdout_chart(result: CalibrationHoldoutResult) -> alt.Chart:
    """Mean actual vs model-predicted holdout purchases by calibration frequency (lines)."""
    table = result.table
    long = pd.DataFrame(
        {
            "calibration frequency": list(table["calibration_frequency"].astype(str)) * 2,
            "mean holdout purchases": list(table["actual_mean"]) + list(table["predicted_mean"]),
            "series": ["actual"] * len(table) + [f"{result.model} prediction"] * len(table),
        }
    )
    order = list(table["calibration_frequency"].astype(str))
    unit = {"D": "days", "W": "weeks"}.get(result.time_unit or "", "time units")
    return (
        alt.Chart(long, title=f"Holdout purchases ({result.holdout_length:g} {unit}) by calibration frequency")
        .mark_line(point=True)
        .encode(
            x=alt.X("calibration frequency:N", sort=order),
            y=alt.Y("mean holdout purchases:Q"),
            color=alt.Color("series:N", title=None),
            tooltip=["calibration frequency", "series", alt.Tooltip("mean holdout purchases:Q", format=".3f")],
        )
    )


def clv_period_transactions_chart(result: PeriodTransactionsResult) -> alt.Chart:
    """Customers by number of calibration repeat purchases: actual vs model (grouped bars)."""
    table = result.table
    long = pd.DataFrame(
        {
            "repeat purchases": list(table["frequency"]) * 2,
            "customers": list(table["actual"]) + list(table["expected"]),
            "series": ["actual"] * len(table) + [result.model] * len(table),
        }
    )
    return (
        alt.Chart(long, title="Repeat purchases in the calibration period: actual vs model")
        .mark_bar()
        .encode(
            x=alt.X("repeat purchases:N", sort=list(table["frequency"])),
            xOffset="series:N",
            y=alt.Y("customers:Q"),
            color=alt.Color("series:N", title=None),
            tooltip=["repeat purchases", "series", alt.Tooltip("customers:Q", format=",.1f")],
        )
    )
