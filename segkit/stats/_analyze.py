"""Experiment analysis from per-unit data (:func:`analyze`), and the steps every entry shares:
comparison blocks per metric, correction and the result object."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.stats import _continuous, _proportions, _ratio
from segkit.stats._bayes import beta_binomial
from segkit.stats._corrections import adjust_p_values, check_correction
from segkit.stats._cuped import cuped_adjust
from segkit.stats._input import arm_order, check_alpha, check_columns
from segkit.stats._metrics import Metric, parse_metrics, resolve_kind
from segkit.stats._result import COLUMNS, OPENS_NOTE, ExperimentResult
from segkit.stats._srm import SRM_THRESHOLD, SRMResult, srm_check

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
        The arm column and the label of the control arm.
    metrics
        Column names (kind inferred: 0/1 or boolean -> proportion, other numeric -> continuous),
        mappings such as ``{"name": "click_to_open", "kind": "ratio", "numerator": "clicks",
        "denominator": "opens"}`` or ``{"name": "spend", "covariate": "pre_spend"}`` (CUPED), or
        :class:`~segkit.stats.Metric` objects. Kinds: proportion, continuous, ratio.
    alpha
        Significance level; intervals are two-sided at ``1 - alpha``.
    correction
        ``"holm"`` (family-wise error), ``"bh"`` (false discovery rate), ``"bonferroni"`` or
        ``"none"``, applied across all (arm, metric) comparisons.
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
    specs = parse_metrics(metrics)
    flag = machine_open_column if exclude_machine_opens else None
    check_columns(df, [arm, *(c for m in specs for c in m.columns), flag], "experiment data")
    labels = df[arm]
    treatments, sizes = arm_order(labels, control, allocation)
    frame, notes = _exclude_machine_opens(df, specs, flag)
    specs = [resolve_kind(m, frame) for m in specs]
    table, extra_notes = unit_comparisons(
        frame, labels.astype(str), control, treatments, specs, alpha,
        mann_whitney=mann_whitney, bootstrap=bootstrap, random_state=random_state,
    )
    srm = srm_check(sizes, allocation, threshold=srm_threshold)
    return finish(table, srm, control, treatments, alpha, correction, primary, [*notes, *extra_notes])


def unit_comparisons(
    frame: pd.DataFrame,
    labels: pd.Series,
    control: str,
    treatments: list[str],
    specs: list[Metric],
    alpha: float,
    *,
    mann_whitney: bool = True,
    bootstrap: int = 0,
    random_state: int = 0,
) -> tuple[pd.DataFrame, list[str]]:
    """The uncorrected comparison table from per-unit rows (kinds already resolved)."""
    order = [control, *treatments]
    positions = {a: np.flatnonzero((labels == a).to_numpy()) for a in order}
    sizes = np.array([len(positions[a]) for a in order], dtype=float)
    blocks, notes = [], []
    for metric in specs:
        values, note = _metric_values(metric, frame)
        notes.extend(note)
        per_arm = {a: _take(values, positions[a]) for a in order}
        stats = _unit_stats(metric, per_arm, order)
        table = block(metric, treatments, sizes, stats, alpha)
        if metric.kind == "continuous":
            _robustness(table, per_arm, control, treatments, alpha, mann_whitney, bootstrap,
                        random_state)
        blocks.append(table)
    return pd.concat(blocks, ignore_index=True), notes


def _take(values: np.ndarray | tuple, idx: np.ndarray) -> np.ndarray | tuple:
    if isinstance(values, tuple):
        return tuple(v[idx] for v in values)
    return values[idx]


def _metric_values(metric: Metric, frame: pd.DataFrame) -> tuple[np.ndarray | tuple, list[str]]:
    if metric.kind == "ratio":
        num = frame[metric.numerator].to_numpy(dtype=float)
        return (num, frame[metric.denominator].to_numpy(dtype=float)), []
    if metric.covariate is not None:
        adjusted, theta = cuped_adjust(frame, metric.value_column, metric.covariate)
        note = (
            f"{metric.name} is CUPED-adjusted for {metric.covariate!r} (theta = {theta:.4g}); its "
            "means are the adjusted means."
        )
        return adjusted.to_numpy(dtype=float), [note]
    return frame[metric.value_column].to_numpy(dtype=float), []


def _unit_stats(metric: Metric, per_arm: dict, order: list[str]) -> dict[str, np.ndarray]:
    if metric.kind == "proportion":
        return {"count": np.array([per_arm[a].sum() for a in order])}
    if metric.kind == "continuous":
        return {
            "mean": np.array([per_arm[a].mean() for a in order]),
            "var": np.array([per_arm[a].var(ddof=1) if len(per_arm[a]) > 1 else np.nan
                             for a in order]),
        }
    estimates = [_ratio.ratio_estimate(*per_arm[a]) for a in order]
    return {"ratio": np.array([e[0] for e in estimates]), "var": np.array([e[1] for e in estimates])}


def block(
    metric: Metric, treatments: list[str], sizes: np.ndarray, stats: dict, alpha: float
) -> pd.DataFrame:
    """Compare each treatment (positions 1..k) with control (position 0) for one metric."""
    n_c, n_t = sizes[0], sizes[1:]
    if metric.kind == "proportion":
        c = stats["count"]
        result = _proportions.compare_proportions(c[0], n_c, c[1:], n_t, alpha)
        method = _proportions.METHOD
    elif metric.kind == "continuous":
        m, v = stats["mean"], stats["var"]
        result = _continuous.compare_means(m[0], v[0], n_c, m[1:], v[1:], n_t, alpha)
        method = _continuous.METHOD + (" (CUPED)" if metric.covariate else "")
    else:
        r, v = stats["ratio"], stats["var"]
        result = _ratio.compare_ratios(r[0], v[0], r[1:], v[1:], alpha)
        method = _ratio.METHOD
    frame = pd.DataFrame({"arm": treatments, "metric": metric.name, "kind": metric.kind,
                          "n_control": int(n_c), "n_treatment": n_t.astype(int)})
    for key, value in result.items():
        frame[key] = np.broadcast_to(np.asarray(value, dtype=float), len(treatments))
    frame["method"] = method
    if metric.kind == "proportion":
        _add_bayes(frame, stats["count"], sizes)
    return frame


def _add_bayes(block: pd.DataFrame, counts: np.ndarray, sizes: np.ndarray) -> None:
    posts = [beta_binomial(counts[0], sizes[0], counts[i], sizes[i]) for i in range(1, len(sizes))]
    block["prob_beat_control"] = [p.prob_beat_control for p in posts]
    block["expected_loss"] = [p.expected_loss for p in posts]


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
    srm: SRMResult,
    control: str,
    treatments: list[str],
    alpha: float,
    correction: str,
    primary: str | None,
    notes: list[str],
) -> ExperimentResult:
    """Correct the p-values, order the columns and wrap everything in an ExperimentResult."""
    table = table.copy()
    table["p_value_adjusted"] = adjust_p_values(table["p_value"].to_numpy(), correction)
    table["significant"] = (table["p_value_adjusted"] < alpha).to_numpy()
    extras = [c for c in table.columns if c not in COLUMNS]
    table = table[COLUMNS + extras]
    notes = [*notes, *_robustness_notes(table, alpha)]
    undefined = table[table["p_value"].isna()]
    notes = [*notes, *(
        f"{r.metric} for {r.arm}: no test is possible (an arm has fewer than two units or the "
        "ratio's denominator sums to zero)." for r in undefined.itertuples())]
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
    )


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
