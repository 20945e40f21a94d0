"""Experiment analysis from per-unit data (:func:`analyze`), and the steps every entry shares:
comparison blocks per metric, correction, intervals at the corrected level and the result."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.stats import _continuous
from segkit.stats._bayes import beta_binomial, beta_difference_interval, effect_posterior
from segkit.stats._compare import (
    ALTERNATIVES,
    SCALES,
    TEST_NAMES,
    compare,
    describe_test,
    intervals,
)
from segkit.stats._corrections import adjust_p_values, check_correction
from segkit.stats._input import arm_order, check_alpha, check_choice, check_columns
from segkit.stats._metrics import Metric, inference_note, parse_metrics, resolve_kind
from segkit.stats._result import COLUMNS, OPENS_NOTE, ExperimentResult
from segkit.stats._srm import SRM_THRESHOLD, SRMResult, srm_check
from segkit.stats._summary import unit_stats

__all__ = ["analyze"]

MetricsArg = Iterable[str | Mapping | Metric] | str


def analyze(
    df: pd.DataFrame,
    arm: str = "arm",
    control: str = "control",
    metrics: MetricsArg | None = None,
    alpha: float = 0.05,
    correction: str = "holm",
    *,
    scale: str = "relative",
    alternative: str = "two-sided",
    allocation: Mapping[str, float] | None = None,
    primary: str | None = None,
    exclude_machine_opens: bool = False,
    machine_open_column: str = "machine_open",
    mann_whitney: bool = True,
    bootstrap: int = 0,
    random_state: int = 0,
    srm_threshold: float = SRM_THRESHOLD,
) -> ExperimentResult:
    """Compare every treatment arm with control on every metric, from one row per unit.

    Parameters
    ----------
    df
        One row per randomised unit (subscriber): the arm and the metric columns.
    arm, control
        The arm column and the label of the control arm (compared as text, so ``control=0``
        finds an integer arm 0).
    metrics
        Column names (kind inferred: 0/1 or boolean -> proportion, other numeric -> continuous;
        the inference is reported in ``notes``, declare ``kind`` to override), mappings such as
        ``{"name": "click_to_open", "kind": "ratio", "numerator": "clicks", "denominator":
        "opens"}`` or ``{"name": "spend", "covariate": "pre_spend"}`` (CUPED), or
        :class:`~segkit.stats.Metric` objects. Kinds: proportion, continuous, ratio.
    alpha
        Significance level; intervals are at ``1 - alpha`` (one-sided bounds for one-sided tests).
    correction
        ``"holm"`` (family-wise error), ``"bh"`` (false discovery rate), ``"bonferroni"`` or
        ``"none"``, applied across all (arm, metric) comparisons.
    scale
        ``"relative"`` (default: lifts in percent of control, as email teams read them) or
        ``"absolute"``: the scale the recommendation and charts quote. Both scales are always in
        the table, each interval inverting the same test as the p-value (see ``method``), so a
        significant result's interval excludes 0 on either scale.
    alternative
        ``"two-sided"``, ``"larger"`` (the treatment is expected to raise the metric) or
        ``"smaller"``; one-sided tests give one-sided bounds, and the recommendation only acts on
        the tested direction.
    allocation
        Planned share per arm for the sample-ratio check (default: equal split).
    primary
        The metric the recommendation rests on; default the first metric whose name does not
        mention opens (clicks and conversions beat opens, see ``notes``).
    exclude_machine_opens
        When True, ``machine_open_column`` must be a 0/1 per-unit flag (computed upstream from the
        events' ``machine_open``: the unit's opens were all machine-generated); every metric column
        whose name contains "open" is set to 0 for flagged units, so open metrics count human opens
        only. A column of human opens can also be analysed directly:
        ``{"name": "open", "column": "open_human"}``.
    mann_whitney
        Add ``p_value_mann_whitney`` for continuous metrics (a robustness check, not corrected).
    bootstrap
        Number of BCa bootstrap resamples for continuous metrics (0: none); adds
        ``abs_lift_boot_ci_low``/``abs_lift_boot_ci_high``. ``random_state`` seeds it.
    srm_threshold
        p-value below which the sample-ratio check flags the test as invalid.

    Returns
    -------
    ExperimentResult
        ``to_frame()``, ``summary()``, ``recommendation``, ``srm``.
    """
    alpha = check_alpha(alpha)
    check_correction(correction)
    check_choice(scale, SCALES, "scale")
    check_choice(alternative, ALTERNATIVES, "alternative")
    control = str(control)
    specs = parse_metrics(metrics)
    flag = machine_open_column if exclude_machine_opens else None
    check_columns(df, [arm, *(c for m in specs for c in m.columns), flag], "experiment data")
    labels = df[arm]
    treatments, sizes = arm_order(labels, control, allocation)
    frame, notes = _exclude_machine_opens(df, specs, flag)
    inferred = [resolve_kind(m, frame) for m in specs]
    notes.extend(inference_note(specs, inferred))
    table, states, extra_notes = unit_comparisons(
        frame, labels.astype(str), control, treatments, inferred, alpha, alternative=alternative,
        mann_whitney=mann_whitney, bootstrap=bootstrap, random_state=random_state,
    )
    srm = srm_check(sizes, allocation, threshold=srm_threshold)
    return finish(table, states, srm, control, treatments, alpha, correction, primary,
                  [*notes, *extra_notes], scale=scale, alternative=alternative)


def unit_comparisons(
    frame: pd.DataFrame,
    labels: pd.Series,
    control: str,
    treatments: list[str],
    specs: list[Metric],
    alpha: float,
    *,
    alternative: str = "two-sided",
    mann_whitney: bool = True,
    bootstrap: int = 0,
    random_state: int = 0,
) -> tuple[pd.DataFrame, list[dict], list[str]]:
    """The uncorrected comparison table from per-unit rows (kinds already resolved), the per-row
    test states (for intervals at adjusted levels) and notes."""
    order = [control, *treatments]
    positions = {a: np.flatnonzero((labels == a).to_numpy()) for a in order}
    blocks, states, notes = [], [], []
    for metric in specs:
        arm_stats, note = unit_stats(metric, frame, positions)
        notes.extend(note)
        table, state = block(metric, control, treatments, arm_stats, alpha, alternative)
        if metric.kind == "continuous" and metric.covariate is None:
            per_arm = {a: frame[metric.value_column].to_numpy(dtype=float)[positions[a]]
                       for a in order}
            _robustness(table, per_arm, control, treatments, alpha, mann_whitney, bootstrap,
                        random_state)
        blocks.append(table)
        states.extend(state)
    return pd.concat(blocks, ignore_index=True), states, notes


def block(
    metric: Metric, control: str, treatments: list[str], arm_stats: dict[str, dict], alpha: float,
    alternative: str = "two-sided",
) -> tuple[pd.DataFrame, list[dict]]:
    """Compare each treatment with control for one metric from the arms' summary statistics."""
    rows, states = [], []
    c = arm_stats[control]
    for arm in treatments:
        t = arm_stats[arm]
        result = compare(str(metric.kind), c, t, alpha, alternative)
        rows.append({
            "arm": arm, "metric": metric.name, "kind": metric.kind, "n_control": int(c["n"]),
            "n_treatment": int(t["n"]),
            **{k: v for k, v in result.items() if not k.startswith("_")},
            "method": describe_test(str(metric.kind), result["test"],
                                    result.get("_expected"), alternative,
                                    cuped=metric.covariate is not None),
            **_bayes_columns(str(metric.kind), c, t, result, alpha),
        })
        states.append({"kind": metric.kind, "test": result, "control": c, "treatment": t})
    frame = pd.DataFrame(rows)
    frame["test"] = frame["test"].map(lambda key: TEST_NAMES.get(key, key))
    return frame, states


def _bayes_columns(kind: str, c: dict, t: dict, result: dict, alpha: float) -> dict:
    """Chance to beat control, expected loss and credible interval of the absolute difference."""
    empty = {"prob_beat_control": np.nan, "expected_loss": np.nan, "credible_low": np.nan,
             "credible_high": np.nan}
    if result["refusal"]:
        return empty
    if kind == "proportion":
        post = beta_binomial(c["count"], c["n"], t["count"], t["n"])
        low, high = beta_difference_interval(post, alpha)
        return {"prob_beat_control": post.prob_beat_control, "expected_loss": post.expected_loss,
                "credible_low": low, "credible_high": high}
    v_c, v_t = result["_var"]
    post = effect_posterior(result["abs_lift"], v_c + v_t, alpha)
    return {"prob_beat_control": post["chance_to_win"], "expected_loss": post["risk_treatment"],
            "credible_low": post["ci_low"], "credible_high": post["ci_high"]}


def _robustness(block, per_arm, control, treatments, alpha, mann_whitney, bootstrap, seed) -> None:
    if mann_whitney:
        block["p_value_mann_whitney"] = [
            _continuous.mann_whitney_p_value(per_arm[control], per_arm[t]) for t in treatments
        ]
    if bootstrap:
        bounds = [
            _continuous.bootstrap_interval(per_arm[control], per_arm[t], alpha, bootstrap, seed)
            for t in treatments
        ]
        block["abs_lift_boot_ci_low"] = [b[0] for b in bounds]
        block["abs_lift_boot_ci_high"] = [b[1] for b in bounds]


def finish(
    table: pd.DataFrame,
    states: list[dict],
    srm: SRMResult,
    control: str,
    treatments: list[str],
    alpha: float,
    correction: str,
    primary: str | None,
    notes: list[str],
    *,
    scale: str = "relative",
    alternative: str = "two-sided",
) -> ExperimentResult:
    """Correct the p-values, add the intervals at the corrected level, order the columns and wrap
    everything in an ExperimentResult."""
    table = correct(table, states, alpha, correction, alternative)
    table["scale"] = scale
    table["alternative"] = alternative
    extras = [c for c in table.columns if c not in COLUMNS]
    table = table[COLUMNS + extras]
    notes = [*notes, *_robustness_notes(table, alpha)]
    notes.extend(f"{r.metric} for {r.arm}: not tested: {r.refusal}."
                 for r in table[table["refusal"] != ""].itertuples())
    unbounded = table[np.isinf(table["rel_lift_ci_low"]) & np.isinf(table["rel_lift_ci_high"])
                      | (table["refusal"].eq("") & table["rel_lift_ci_low"].isna())]
    notes.extend(f"{r.metric} for {r.arm}: the relative interval is unbounded (the control mean is "
                 "within its own margin of error of zero); read the absolute lift."
                 for r in unbounded.itertuples())
    metric_names = list(dict.fromkeys(table["metric"]))
    primary = _primary_metric(primary, metric_names)
    return ExperimentResult(
        table=table,
        srm=srm,
        control=control,
        treatments=tuple(treatments),
        alpha=alpha,
        correction=correction,
        primary_metric=primary,
        notes=(OPENS_NOTE, *notes),
        scale=scale,
        alternative=alternative,
    )


def correct(table: pd.DataFrame, states: list[dict], alpha: float, correction: str,
            alternative: str) -> pd.DataFrame:
    """Adjusted p-values, ``significant``, and each row's intervals at the level its correction
    implies, :math:`1 - \\alpha\\,p/p_{adj}` (Bonferroni: :math:`1 - \\alpha/m`), so the
    adjusted interval excludes 0 exactly when the adjusted p-value is below alpha."""
    table = table.copy()
    p = table["p_value"].to_numpy(dtype=float)
    adjusted = adjust_p_values(p, correction)
    table["p_value_adjusted"] = adjusted
    table["significant"] = adjusted < alpha
    family = max(int(np.isfinite(p).sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(adjusted > 0, alpha * p / adjusted, alpha / family)
    table["adjusted_level"] = 1 - level
    bounds = [intervals(s["kind"], s["test"], s["control"], s["treatment"], a, alternative)
              for s, a in zip(states, level, strict=True)]
    for key in ("abs_lift_ci_low", "abs_lift_ci_high", "rel_lift_ci_low", "rel_lift_ci_high"):
        table[key.replace("_ci_", "_adj_ci_")] = [b[key] for b in bounds]
    return table


def _robustness_notes(table: pd.DataFrame, alpha: float) -> list[str]:
    """Flag continuous rows where Welch and Mann-Whitney disagree at ``alpha`` (uncorrected)."""
    if "p_value_mann_whitney" not in table.columns:
        return []
    rows = table.dropna(subset=["p_value_mann_whitney", "p_value"])
    split = rows[(rows["p_value"] < alpha) != (rows["p_value_mann_whitney"] < alpha)]
    return [
        f"{r.metric} for {r.arm}: Welch (p = {r.p_value:.3g}) and Mann-Whitney "
        f"(p = {r.p_value_mann_whitney:.3g}) disagree; a few large values may drive the mean "
        "difference, so check the distribution (or use bootstrap=...)."
        for r in split.itertuples()
    ]


def _primary_metric(primary: str | None, names: list[str]) -> str:
    if primary is not None:
        if primary not in names:
            raise ValidationError(f"unknown primary metric {primary!r}; valid: {', '.join(names)}")
        return primary
    not_opens = [n for n in names if "open" not in n.lower()]
    return (not_opens or names)[0]


def _exclude_machine_opens(
    df: pd.DataFrame, specs: list[Metric], flag: str | None
) -> tuple[pd.DataFrame, list[str]]:
    if flag is None:
        return df, []
    flags = df[flag]
    if not flags.isin([0, 1]).all():
        raise ValidationError(
            f"machine-open flag column {flag!r} must be boolean or 0/1 per unit, "
            f"got values such as {flags[~flags.isin([0, 1])].iloc[0]!r}"
        )
    open_columns = sorted({c for m in specs for c in m.columns if "open" in c.lower()})
    if not open_columns:
        return df, ["exclude_machine_opens had no effect: no metric column mentions opens."]
    frame = df.copy()
    mask = flags.astype(bool).to_numpy()
    for column in open_columns:
        frame.loc[mask, column] = 0
    note = (
        f"Machine opens excluded: {int(mask.sum()):,} unit(s) flagged in {flag!r} count as not "
        f"opened in {', '.join(open_columns)}."
    )
    return frame, [note]
