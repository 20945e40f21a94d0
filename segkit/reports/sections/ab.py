"""The numbers behind the A/B test report (``notebooks/ab_test.ipynb``).

Each function composes :mod:`segkit.stats` into what a report section shows, with a
data-sufficiency verdict in plain words:

* :func:`check_metrics` and :func:`unit_summary`: which metrics to analyse and how many units
  each arm has;
* :func:`comparison_verdict` / :func:`reliable_rows`: whether each (arm, metric) comparison could
  be tested and trusted (refusals in plain words; proportions with few events get Barnard's exact
  test, so only means need a minimum of units);
* :func:`method_summary` and :func:`refusals`: which scale and which test each comparison used,
  and why some were not tested;
* :func:`sequential_cost`: the power the always-valid guarantee costs against a fixed-horizon
  test, for the observed design;
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
from segkit.stats import (
    ExperimentResult,
    SequentialPower,
    SequentialResult,
    achieved_power,
    sequential_power,
)

__all__ = [
    "MIN_EVENTS",
    "MIN_UNITS_CONTINUOUS",
    "check_metrics",
    "comparison_verdict",
    "display_bayes",
    "display_comparisons",
    "entry_days",
    "key_numbers",
    "method_summary",
    "power_table",
    "refusals",
    "reliable_rows",
    "sequential_cost",
    "sequential_verdict",
    "unit_summary",
]

#: Fewest expected units in a cell of a proportion's 2x2 table for the z-test; below it segkit
#: uses Barnard's exact test (:data:`segkit.stats._exact.MIN_EXPECTED`), so no proportion row is
#: left out for having few events.
MIN_EVENTS = 5
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
    refusal = getattr(row, "refusal", "")
    if refusal:
        return f"{row.metric}: {row.arm} vs control was not tested: {refusal}"
    if row.kind == "proportion":
        return None  # few events: Barnard's exact test, not the normal approximation
    if min(row.n_control, row.n_treatment) < MIN_UNITS_CONTINUOUS:
        return (f"{row.metric}: {row.arm} vs control has {min(row.n_control, row.n_treatment):,} "
                f"units in its smaller arm (need {MIN_UNITS_CONTINUOUS} for the Welch t-test of a "
                "mean)")
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
    """Could every comparison be tested and trusted?

    Refused comparisons (one unit in an arm, no variation, an undefined ratio) and continuous
    metrics with fewer than :data:`MIN_UNITS_CONTINUOUS` units per arm are named; proportions
    with few events are fine (Barnard's exact test replaces the z-test below :data:`MIN_EVENTS`
    expected units in a cell).
    """
    problems = [p for p in (_row_problem(r) for r in result.to_frame().itertuples()) if p]
    if not problems:
        return Sufficiency(True, "every comparison could be tested: rates with few events by an "
                                 "exact test, means with enough units for the t-test.")
    return Sufficiency(False, "; ".join(problems) + ". These comparisons are left out.")


def method_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Which test each tested comparison used, and why, with the declared scale and sidedness."""
    tested = table[table["refusal"] == ""] if "refusal" in table.columns else table
    return pd.DataFrame({
        "arm": tested["arm"], "metric": tested["metric"], "test": tested["test"],
        "why": [_why(r) for r in tested.itertuples()],
        "scale": tested["scale"], "alternative": tested["alternative"],
    }).reset_index(drop=True)


def _why(row: Any) -> str:
    if row.test.startswith("Barnard"):
        return "few events: " + row.method.split("(", 1)[1].split(")", 1)[0]
    if row.kind == "proportion":
        return "enough events for the z-test (5+ expected units in every cell)"
    if row.kind == "ratio":
        return "ratio of sums: delta-method variance over units"
    return "difference of means with unequal variances" + (
        " after CUPED adjustment" if "CUPED" in row.method else "")


def refusals(table: pd.DataFrame) -> list[str]:
    """Each comparison that was not tested, and why, in plain words."""
    if "refusal" not in table.columns:
        return []
    return [f"{r.metric} for {r.arm}: not tested, because {r.refusal}."
            for r in table[table["refusal"] != ""].itertuples()]


def sequential_cost(sequential: SequentialResult, frame: pd.DataFrame, arm: str, date: str,
                    *, mde: float, simulations: int = 2000) -> SequentialPower | None:
    """Power of the always-valid test vs a fixed-horizon test for a relative lift ``mde``, at the
    observed design: the primary metric's control rate (or mean and spread), the mean units per
    arm per day and the number of daily looks. None when the design cannot be simulated."""
    last = sequential.to_frame().groupby("arm", sort=False).tail(1)
    looks = int(sequential.to_frame()["date"].nunique())
    if not len(last) or looks < 1:
        return None
    baseline = float(last["control_mean"].iloc[0])
    per_day = float(last[["n_control", "n_treatment"]].to_numpy().mean()) / looks
    kind, sd = sequential.kind, None
    if kind == "continuous":
        controls = frame[frame[arm].astype(str) == sequential.control][sequential.metric]
        sd = float(controls.std(ddof=1))
        if not (np.isfinite(sd) and sd > 0):
            return None
    elif not (0 < baseline < 1 and 0 < baseline * (1 + mde) < 1):
        return None
    if per_day < 1 or baseline == 0:
        return None
    return sequential_power(baseline, mde, per_day, looks, kind=kind, sd=sd, relative=True,
                            alpha=sequential.alpha / max(len(last), 1),
                            planned_n=sequential.planned_n, simulations=simulations)


def _value(value: float, kind: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    return f"{value:.2%}" if kind == "proportion" else f"{value:,.4g}"


def _lift(value: float, kind: str) -> str:
    if np.isinf(value):
        return "+inf" if value > 0 else "-inf"
    if not np.isfinite(value):
        return "n/a"
    return f"{100 * value:+.2f} pp" if kind == "proportion" else f"{value:+,.4g}"


def _pct(value: float) -> str:
    if np.isinf(value):
        return "+inf" if value > 0 else "-inf"
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
    if "refusal" in table.columns:
        table = table[table["refusal"] == ""]
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
            "test": getattr(r, "test", ""),
        })
        rows.append(row)
    return pd.DataFrame(rows)


def _chance(value: float) -> str:
    if not np.isfinite(value):
        return "n/a"
    return "> 99.9%" if value > 0.999 else "< 0.1%" if value < 0.001 else f"{value:.1%}"


def display_bayes(table: pd.DataFrame) -> pd.DataFrame:
    """Bayesian columns as text: averages, chance to beat control, expected loss if shipped and
    the credible interval of the absolute difference (rates in percentage points)."""
    rows = table[table["prob_beat_control"].notna()] if "prob_beat_control" in table else table[:0]

    def amount(value: float, kind: str) -> str:
        if not np.isfinite(value):
            return "n/a"
        return f"{100 * value:.3f} pp" if kind == "proportion" else f"{value:,.4g}"

    return pd.DataFrame({
        "arm": rows["arm"], "metric": rows["metric"],
        "control": [_value(v, k) for v, k in zip(rows["control_mean"], rows["kind"], strict=True)],
        "variant": [_value(v, k) for v, k in zip(rows["treatment_mean"], rows["kind"], strict=True)],
        "chance to beat control": [_chance(v) for v in rows["prob_beat_control"]],
        "expected loss if shipped": [amount(v, k) for v, k in
                                     zip(rows["expected_loss"], rows["kind"], strict=True)],
        "credible interval": [f"{_lift(lo, k)} to {_lift(hi, k)}" for lo, hi, k in
                              zip(rows["credible_low"], rows["credible_high"], rows["kind"],
                                  strict=True)],
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
    sequential_cost: SequentialPower | None = None,
) -> dict[str, Any]:
    """The report's ``summary.json`` numbers: design, SRM, every comparison, recommendation."""
    table = result.to_frame()
    if reliable is None:
        reliable = reliable_rows(result)
    keep = ["arm", "metric", "kind", "n_control", "n_treatment", "control_mean", "treatment_mean",
            "abs_lift", "abs_lift_ci_low", "abs_lift_ci_high", "rel_lift", "rel_lift_ci_low",
            "rel_lift_ci_high", "p_value", "p_value_adjusted", "significant", "test", "refusal"]
    extra = [c for c in ("prob_beat_control", "expected_loss", "credible_low", "credible_high",
                         "rel_lift_adj_ci_low", "rel_lift_adj_ci_high", "abs_lift_adj_ci_low",
                         "abs_lift_adj_ci_high") if c in table.columns]
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
        "scale": result.scale,
        "alternative": result.alternative,
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
        numbers["sequential_planned_n"] = sequential.planned_n
    if sequential_cost is not None:
        numbers["sequential_power"] = {"always_valid": sequential_cost.always_valid,
                                       "fixed_horizon": sequential_cost.fixed_horizon,
                                       "false_positive_rate": sequential_cost.false_positive_rate,
                                       "simulations": sequential_cost.simulations}
    return numbers
