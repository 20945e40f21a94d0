"""The numbers behind the A/B test report (``notebooks/ab_test.ipynb``).

Each function composes :mod:`segkit.stats` into what a report section shows, with a
data-sufficiency verdict in plain words:

* :func:`check_metrics` and :func:`unit_summary`: which metrics to analyse and how many units
  each arm has;
* :func:`comparison_verdict` / :func:`reliable_rows`: whether each (arm, metric) comparison has
  enough events for its normal approximation;
* :func:`power_table`: power each comparison had to detect a given relative lift
  (:func:`segkit.stats.achieved_power`, alpha split over the comparisons as in the analysis);
* :func:`entry_days` and :func:`sequential_verdict`: whether units entered over several days, so
  that sequential monitoring (:func:`segkit.stats.sequential_test`) means something;
* :func:`key_numbers`: the ``summary.json`` numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segkit.errors import InputError
from segkit.reports.sections.period import Sufficiency
from segkit.stats import ExperimentResult, SequentialResult, achieved_power

__all__ = [
    "MIN_EVENTS",
    "MIN_UNITS_CONTINUOUS",
    "check_metrics",
    "comparison_verdict",
    "display_bayes",
    "display_comparisons",
    "entry_days",
    "key_numbers",
    "power_table",
    "reliable_rows",
    "sequential_verdict",
    "unit_summary",
]

#: Successes and failures each arm needs for the normal approximation of a proportion test
#: (the usual n p >= 10 and n (1 - p) >= 10 rule).
MIN_EVENTS = 10
#: Units each arm needs before a Welch test of a mean is trusted.
MIN_UNITS_CONTINUOUS = 30


def check_metrics(frame: pd.DataFrame, metrics: Sequence[str], *, source: str) -> list[str]:
    """The requested metric columns, each present and numeric; an empty request is an error.

    Raises
    ------
    InputError
        A metric that is not a column or not numeric; the message lists the numeric columns.
    """
    numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    requested = [str(m) for m in metrics]
    bad = [m for m in requested if m not in numeric]
    if not requested or bad:
        what = f"metric column(s) {', '.join(map(repr, bad))} not found or not numeric" if bad \
            else "no metrics given"
        raise InputError(f"{source}: {what}; numeric columns: {', '.join(numeric) or '(none)'}")
    return list(dict.fromkeys(requested))


def unit_summary(frame: pd.DataFrame, arm: str, metrics: Sequence[str]) -> pd.DataFrame:
    """Units per arm and each metric's mean per arm (control first is up to the caller)."""
    grouped = frame.groupby(arm, sort=True, observed=True)
    table = grouped[list(metrics)].mean()
    table.insert(0, "units", grouped.size())
    return table.reset_index().rename(columns={arm: "arm"})


def _row_problem(row: Any) -> str | None:
    if row.kind == "proportion":
        counts = {
            "control": (row.control_mean * row.n_control, (1 - row.control_mean) * row.n_control),
            row.arm: (row.treatment_mean * row.n_treatment, (1 - row.treatment_mean) * row.n_treatment),
        }
        for name, (yes, no) in counts.items():
            if min(yes, no) < MIN_EVENTS - 1e-9:
                return (f"{row.metric}: {name} has {yes:,.0f} units with and {no:,.0f} without it "
                        f"(need {MIN_EVENTS} of each for the z-test)")
        return None
    if min(row.n_control, row.n_treatment) < MIN_UNITS_CONTINUOUS:
        return (f"{row.metric}: {row.arm} vs control has {min(row.n_control, row.n_treatment):,} "
                f"units in its smaller arm (need {MIN_UNITS_CONTINUOUS})")
    if not np.isfinite(row.p_value):
        return f"{row.metric}: {row.arm} vs control cannot be tested (no variation)"
    return None


def reliable_rows(result: Any) -> pd.Series:
    """True for each comparison row with enough data for its test (see :func:`comparison_verdict`).

    ``result`` is an :class:`~segkit.stats.ExperimentResult` or a
    :class:`~segkit.stats.SegmentedResult` (anything with the comparison columns in ``to_frame()``).
    """
    table = result.to_frame()
    return pd.Series([_row_problem(r) is None for r in table.itertuples()], index=table.index,
                     name="enough_data")


def comparison_verdict(result: Any) -> Sufficiency:
    """Do the arms have enough events for each test's normal approximation?

    Proportions need :data:`MIN_EVENTS` units with and without the outcome in each arm;
    continuous metrics :data:`MIN_UNITS_CONTINUOUS` units per arm. Rows that fail are named.
    """
    problems = [p for p in (_row_problem(r) for r in result.to_frame().itertuples()) if p]
    if not problems:
        return Sufficiency(True, "every arm has enough units and events for each test's normal "
                                 "approximation.")
    return Sufficiency(False, "; ".join(problems) + ". These comparisons are left out.")


def _value(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.2%}" if kind == "proportion" else f"{value:,.4g}"


def _lift(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{100 * value:+.2f} pp" if kind == "proportion" else f"{value:+,.4g}"


def _pct(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:+.1%}"


def _p(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return "< 0.0001" if value < 1e-4 else f"{value:.4f}"


def display_comparisons(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Comparison rows as readable text: rates in %, lifts in percentage points, intervals.

    ``table`` has the :meth:`segkit.stats.ExperimentResult.to_frame` columns (a ``segment``
    column, when present, comes first).
    """
    level = f"{1 - alpha:.0%}"
    rows = []
    for r in table.itertuples():
        row = {"segment": r.segment} if "segment" in table.columns else {}
        row.update({
            "arm": r.arm, "metric": r.metric,
            "control": _value(r.control_mean, r.kind), "treatment": _value(r.treatment_mean, r.kind),
            "lift": _lift(r.abs_lift, r.kind),
            f"{level} interval": f"{_lift(r.abs_lift_ci_low, r.kind)} to {_lift(r.abs_lift_ci_high, r.kind)}",
            "relative lift": _pct(r.rel_lift),
            f"relative {level} interval": f"{_pct(r.rel_lift_ci_low)} to {_pct(r.rel_lift_ci_high)}",
            "p": _p(r.p_value), "adjusted p": _p(r.p_value_adjusted),
            "significant": bool(r.significant),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def _chance(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return "> 99.9%" if value > 0.999 else "< 0.1%" if value < 0.001 else f"{value:.1%}"


def display_bayes(table: pd.DataFrame) -> pd.DataFrame:
    """Proportion rows' Bayesian columns as text: rates, chance to beat control, expected loss
    (in percentage points of the rate)."""
    rows = table[table["kind"] == "proportion"]
    return pd.DataFrame({
        "arm": rows["arm"], "metric": rows["metric"],
        "control rate": [_value(v, "proportion") for v in rows["control_mean"]],
        "variant rate": [_value(v, "proportion") for v in rows["treatment_mean"]],
        "chance to beat control": [_chance(v) for v in rows["prob_beat_control"]],
        "expected loss if shipped": [f"{100 * v:.3f} pp" if np.isfinite(v) else "n/a"
                                     for v in rows["expected_loss"]],
    }).reset_index(drop=True)


def power_table(
    result: ExperimentResult,
    frame: pd.DataFrame,
    arm: str,
    *,
    mde: float,
) -> pd.DataFrame:
    """Power each comparison had to detect a relative lift of ``mde`` (0.05 = 5%).

    Uses the observed control mean as the baseline and the observed arm sizes; continuous metrics
    use the control arm's standard deviation. Alpha is ``result.alpha`` split Bonferroni-style
    over the comparisons of the analysis (a conservative stand-in for its correction). Ratio
    metrics and rows without a usable baseline get NaN.
    """
    table = result.to_frame()
    comparisons = len(table)
    controls = frame[frame[arm].astype(str) == result.control]
    rows = []
    for row in table.itertuples():
        power = np.nan
        ok = np.isfinite(row.control_mean) and row.control_mean != 0 and row.n_treatment > 1
        if ok and row.kind == "proportion" and 0 < row.control_mean * (1 + mde) < 1:
            power = achieved_power(row.n_treatment, row.control_mean, mde, relative=True,
                                   alpha=result.alpha, ratio=row.n_control / row.n_treatment,
                                   comparisons=comparisons)
        elif ok and row.kind == "continuous":
            sd = float(controls[row.metric].std(ddof=1)) if row.metric in controls else np.nan
            if np.isfinite(sd) and sd > 0:
                power = achieved_power(row.n_treatment, row.control_mean, mde, kind="continuous",
                                       sd=sd, relative=True, alpha=result.alpha,
                                       ratio=row.n_control / row.n_treatment,
                                       comparisons=comparisons)
        rows.append({"arm": row.arm, "metric": row.metric, "kind": row.kind,
                     "control_mean": row.control_mean, "n_treatment": row.n_treatment,
                     "n_control": row.n_control, "mde_relative": mde, "power": power})
    return pd.DataFrame(rows)


def entry_days(frame: pd.DataFrame, date: str) -> int:
    """How many distinct days units entered the test on (the looks of a sequential view)."""
    return int(pd.Series(frame[date]).nunique(dropna=True))


def sequential_verdict(frame: pd.DataFrame, date: str | None) -> Sufficiency:
    """Sequential monitoring needs units entering over at least two days."""
    if not date:
        return Sufficiency(False, "the data have no entry date per unit, so there is nothing to "
                                  "monitor over time (pass the date column to see this view).")
    days = entry_days(frame, date)
    if days < 2:
        return Sufficiency(False, (
            f"all {len(frame):,} units entered the test on one day, so there is a single look and "
            "the sequential view equals the fixed-horizon test above. Monitoring over days applies "
            "when units enter over several days (a send spread over days, a triggered flow)."))
    return Sufficiency(True, f"units entered on {days} different days: one look per day.")


def key_numbers(
    result: ExperimentResult,
    *,
    units: int,
    power: pd.DataFrame | None = None,
    sequential: SequentialResult | None = None,
    reliable: pd.Series | None = None,
) -> dict[str, Any]:
    """The report's ``summary.json`` numbers: design, SRM, every comparison, recommendation."""
    table = result.to_frame()
    if reliable is None:
        reliable = reliable_rows(result)
    keep = ["arm", "metric", "kind", "n_control", "n_treatment", "control_mean", "treatment_mean",
            "abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "rel_lift", "rel_lift_ci_low",
            "rel_lift_ci_high", "p_value", "p_value_adjusted", "significant"]
    extra = [c for c in ("prob_beat_control", "expected_loss") if c in table.columns]
    comparisons = table[keep + extra].assign(enough_data=reliable.to_numpy())
    if power is not None:
        comparisons = comparisons.merge(power[["arm", "metric", "power"]], on=["arm", "metric"],
                                        how="left")
    rec = result.recommendation
    numbers: dict[str, Any] = {
        "units": int(units),
        "arms": [result.control, *result.treatments],
        "control": result.control,
        "alpha": result.alpha,
        "correction": result.correction,
        "primary_metric": result.primary_metric,
        "srm_p_value": result.srm.p_value,
        "srm_flagged": result.srm.flagged,
        "units_per_arm": dict(result.srm.observed),
        "comparisons": comparisons.to_dict(orient="records"),
        "decision": rec.decision,
        "decision_arm": rec.arm,
        "decision_reason": rec.reason,
    }
    if sequential is not None:
        last = sequential.to_frame().groupby("arm", sort=False).tail(1)
        numbers["sequential"] = last[["arm", "date", "abs_lift", "cs_low", "cs_high",
                                      "p_value_always_valid", "significant"]].to_dict(orient="records")
    return numbers
