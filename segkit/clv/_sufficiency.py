"""Is there enough repeat-purchase data for BG/NBD or Pareto/NBD? A verdict in plain words."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segkit.clv._validation import check_rfm, check_time_unit

#: minimum calibration span in days for a verdict of "sufficient" (when the time unit is known).
MIN_CALIBRATION_DAYS = 90.0
DAYS_PER_UNIT = {"D": 1.0, "W": 7.0}


@dataclass(frozen=True)
class DataSufficiencyVerdict:
    """Outcome of :func:`assess_data_sufficiency`.

    ``sufficient`` is False when any entry of ``problems`` applies; each problem is a sentence an
    analyst can act on. ``thresholds`` records the rules used.
    """

    sufficient: bool
    n_customers: float
    n_repeat_buyers: float
    repeat_share: float
    calibration_length: float
    median_age: float
    median_repeat_gap: float
    time_unit: str | None
    problems: tuple[str, ...]
    thresholds: dict[str, float]

    @property
    def message(self) -> str:
        """One paragraph: the verdict and the reasons."""
        unit = {"D": " days", "W": " weeks"}.get(self.time_unit or "", " time units")
        facts = (
            f"{self.n_customers:,.0f} customers, {self.n_repeat_buyers:,.0f} repeat buyers "
            f"({100 * self.repeat_share:.1f}%), calibration period {self.calibration_length:.4g}{unit}"
        )
        if self.sufficient:
            return f"Data look sufficient for a repeat-purchase model: {facts}."
        return f"Data may be too thin for a reliable fit ({facts}): " + " ".join(self.problems)

    def to_frame(self) -> pd.DataFrame:
        """The facts behind the verdict as a two-column table."""
        rows = {
            "sufficient": self.sufficient,
            "customers": self.n_customers,
            "repeat buyers": self.n_repeat_buyers,
            "repeat share": self.repeat_share,
            "calibration length": self.calibration_length,
            "median customer age (T)": self.median_age,
            "median gap between repeat purchases": self.median_repeat_gap,
            "time unit": self.time_unit or "unspecified",
        }
        frame = pd.DataFrame({"item": list(rows), "value": [str(v) if isinstance(v, str | bool) else f"{v:.4g}" for v in rows.values()]})
        return frame

    def summary(self) -> str:
        """The verdict as text (same as ``message``)."""
        return self.message

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.message)}</p>" + self.to_frame().to_html(index=False)


def assess_data_sufficiency(
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    weights: Any = None,
    time_unit: str | None = None,
    min_repeat_buyers: int = 100,
    min_repeat_share: float = 0.05,
    min_customers: int = 200,
) -> DataSufficiencyVerdict:
    """Judge whether repeat-purchase data can support a BG/NBD or Pareto/NBD fit.

    Checks (each failing check adds a problem sentence):

    * at least ``min_customers`` customers and ``min_repeat_buyers`` customers with a repeat
      purchase, and a repeat share of at least ``min_repeat_share``: the purchase-rate and dropout
      heterogeneity (r, alpha and a, b or s, beta) are estimated from repeat buyers;
    * the calibration period (largest ``T``) spans at least 90 days when the time unit is known;
    * the median customer age ``T`` is at least twice the median gap between repeat purchases
      (``recency / frequency`` among repeat buyers): otherwise dropout cannot be told apart from a
      long gap.

    Inputs are validated like the models' ``fit`` (invalid data raise, they are not judged).
    """
    x, tx, age, w = check_rfm(frequency, recency, T, weights)
    unit = check_time_unit(time_unit)
    n = float(w.sum())
    repeat = x > 0
    n_repeat = float(w[repeat].sum())
    gaps = tx[repeat] / x[repeat]
    median_gap = _weighted_median(gaps, w[repeat])
    median_age = _weighted_median(age, w)
    span = float(age.max())
    problems = []
    if n < min_customers:
        problems.append(f"Only {n:,.0f} customers; at least {min_customers} are needed.")
    if n_repeat < min_repeat_buyers:
        problems.append(
            f"Only {n_repeat:,.0f} customers bought more than once; at least {min_repeat_buyers} "
            "are needed to estimate purchase and dropout rates."
        )
    if n_repeat / n < min_repeat_share:
        problems.append(
            f"Only {100 * n_repeat / n:.1f}% of customers bought again (need {100 * min_repeat_share:g}%): "
            "extend the calibration period or check that repeat purchases are recorded."
        )
    if unit is not None and span * DAYS_PER_UNIT[unit] < MIN_CALIBRATION_DAYS:
        problems.append(
            f"The calibration period spans only {span * DAYS_PER_UNIT[unit]:.0f} days; use at least "
            f"{MIN_CALIBRATION_DAYS:.0f}."
        )
    if median_age < 2 * median_gap:
        problems.append(
            f"Customers are young relative to their purchase rhythm (median age {median_age:.3g} vs "
            f"median gap between purchases {median_gap:.3g}): the calibration period is too short "
            "to separate dropout from a pause."
        )
    return DataSufficiencyVerdict(
        sufficient=not problems,
        n_customers=n,
        n_repeat_buyers=n_repeat,
        repeat_share=n_repeat / n,
        calibration_length=span,
        median_age=median_age,
        median_repeat_gap=median_gap,
        time_unit=unit,
        problems=tuple(problems),
        thresholds={
            "min_customers": float(min_customers),
            "min_repeat_buyers": float(min_repeat_buyers),
            "min_repeat_share": float(min_repeat_share),
            "min_calibration_days": MIN_CALIBRATION_DAYS,
            "min_age_to_gap_ratio": 2.0,
        },
    )


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cum = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cum, cum[-1] / 2)])
