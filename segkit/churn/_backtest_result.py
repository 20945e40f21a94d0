"""``ChurnBacktest``: the result of :func:`segkit.churn.backtest`, with its verdict in words."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from segkit.churn._compare import PRIMARY_METRIC
from segkit.churn._evaluate import ChurnEvaluation
from segkit.churn._model import ChurnModel
from segkit.errors import ValidationError

__all__ = ["ChurnBacktest"]

METHOD = (
    "time-split backtest: fit at each cutoff, evaluate at the next; baselines: recency rule "
    "(days since last human open > k, k by Youden's J on the training cutoff; days since the "
    "last click or purchase when opens are not engagement), 1 - P(alive) and P(no purchase in "
    "the horizon) from BG/NBD fitted at the training cutoff (non-buyers: training non-buyer "
    "churn rate), "
    "training base rate; permutation importance of the winner = drop in ROC-AUC on the last "
    "evaluation cutoff"
)


@dataclass(frozen=True, eq=False)  # holds DataFrames and models: compare .to_frame() instead
class ChurnBacktest:
    """Classifiers and baselines, trained at one cutoff and evaluated at the next.

    Attributes
    ----------
    table
        One row per (evaluation cutoff, model); see :meth:`to_frame`.
    evaluations
        One :class:`ChurnEvaluation` per evaluation cutoff (curves, deciles, calibration).
    importance
        Permutation importance of the winning model (``model``) on the last evaluation cutoff:
        ``eval_cutoff, model, feature, importance_mean, importance_std`` (mean drop in ROC-AUC
        over ``n_repeats`` shuffles of the column; scikit-learn's ``permutation_importance`` on
        at most 5,000 rows drawn at random per repeat).
    model
        The winning classifier (highest mean ROC-AUC), as fitted at the last training cutoff.
    models
        Every classifier fitted at the last training cutoff, by kind.
    scored
        The last evaluation population: the winner's :meth:`ChurnModel.score` columns, the
        observed ``churned`` and one ``score_<model>`` column per model and baseline.
    cutoffs, horizon_days, lookback_days, event_types
        The design.
    recency_k, recency_column
        Tuned k (days) of the recency rule at each training cutoff, and the feature it reads.
    notes
        Warnings raised on the way (e.g. thin BG/NBD data), in words.
    comparison
        The best classifier against the best baseline (by mean ROC-AUC), one row per metric:
        the difference averaged over the evaluation cutoffs with a 95% paired-bootstrap interval
        (:func:`segkit.churn._compare.paired_bootstrap`); what ``verdict`` reads.
    """

    table: pd.DataFrame
    evaluations: tuple[ChurnEvaluation, ...]
    importance: pd.DataFrame
    model: ChurnModel
    models: dict[str, ChurnModel]
    scored: pd.DataFrame
    cutoffs: tuple[pd.Timestamp, ...]
    horizon_days: int
    lookback_days: int
    event_types: tuple[str, ...]
    recency_k: tuple[float, ...]
    recency_column: str = "days_since_last_open"
    notes: tuple[str, ...] = ()
    comparison: pd.DataFrame | None = None
    method: str = METHOD

    @property
    def evaluation(self) -> ChurnEvaluation:
        """The evaluation at the last cutoff (for charts)."""
        return self.evaluations[-1]

    def to_frame(self) -> pd.DataFrame:
        """One row per model per evaluation cutoff: ``train_cutoff, eval_cutoff`` then the
        :meth:`ChurnEvaluation.to_frame` columns."""
        return self.table.copy()

    def mean_metrics(self) -> pd.DataFrame:
        """Metrics averaged over the evaluation cutoffs, best mean ROC-AUC first."""
        return mean_metrics(self.table)

    @property
    def verdict(self) -> str:
        """Which model wins, in plain words: a classifier "wins" only when its ROC-AUC is above
        the best baseline's with the whole 95% interval of the difference above zero and no other
        metric (PR-AUC, top-decile lift, Brier score, log loss) is worse with its interval;
        otherwise the verdict names the leader and says the difference is within noise (or that
        the metrics disagree)."""
        if self.comparison is None:
            raise ValidationError("this backtest has no comparison table; rerun segkit.churn.backtest")
        return _verdict(self.comparison, self.table["eval_cutoff"].nunique())

    def summary(self) -> str:
        """Design, the mean metrics and the verdict."""
        pairs = ", ".join(
            f"{a.date()} -> {b.date()}"
            for a, b in zip(self.cutoffs, self.cutoffs[1:], strict=False)
        )
        lines = [
            f"Churn backtest: no engagement ({', '.join(self.event_types)}; machine opens "
            f"excluded) in the {self.horizon_days} days after the cutoff, among subscribers engaged "
            f"in the {self.lookback_days} days before it. Train -> evaluate: {pairs}.",
            f"Recency rule: churn if {self.recency_column} > k, k tuned on each training cutoff: "
            f"{', '.join(f'{k:g}' for k in self.recency_k)} days.",
            "Mean over evaluation cutoffs:",
        ]
        for row in self.mean_metrics().itertuples():
            lines.append(
                f"  {row.model} ({row.role}): ROC-AUC {row.roc_auc:.3f}, PR-AUC {row.pr_auc:.3f}, "
                f"Brier {row.brier:.4f}, top-decile lift {row.top_decile_lift:.2f}"
            )
        lines.extend(f"Note: {n}" for n in self.notes)
        lines.append(f"Verdict: {self.verdict}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return (
            f"<p><b>Verdict:</b> {html.escape(self.verdict)}</p>"
            + self.mean_metrics().to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + "<details><summary>per cutoff</summary>"
            + self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + "</details>"
        )


def mean_metrics(table: pd.DataFrame) -> pd.DataFrame:
    """Per model, the metrics of ``table`` averaged over the evaluation cutoffs, best mean ROC-AUC
    first (ties: model name order), so the backtest's winner is the first ``role == "model"`` row."""
    columns = ["roc_auc", "pr_auc", "brier", "log_loss", "top_decile_lift"]
    means = table.groupby(["model", "role"])[columns].mean()
    return means.sort_values("roc_auc", ascending=False, kind="stable").reset_index()


METRIC_NAMES = {
    "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "top_decile_lift": "top-decile lift",
    "brier": "Brier score", "log_loss": "log loss",
}  # fmt: skip


def _listing(names: list[str]) -> str:
    words = [METRIC_NAMES[n] for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _verdict(comparison: pd.DataFrame, n_eval: int) -> str:
    rows = comparison.set_index("metric")
    primary = rows.loc[PRIMARY_METRIC]
    model, base = str(primary["first"]), str(primary["second"])
    others = rows.drop(index=PRIMARY_METRIC)
    worse = [m for m in others.index if others.loc[m, "first_worse"]]
    better = [m for m in others.index if others.loc[m, "first_better"]]
    evidence = (
        f"ROC-AUC {primary['value_first']:.3f} for {model} vs {primary['value_second']:.3f} for the "
        f"best baseline ({base}), difference {primary['difference']:+.3f} (95% interval "
        f"{primary['lower']:+.3f} to {primary['upper']:+.3f}; paired bootstrap over customers, "
        f"{n_eval} evaluation cutoff(s))"
    )
    if primary["first_better"] and not worse:
        return f"{model} wins: {evidence}; not worse on the other metrics."
    if primary["first_worse"] and not better:
        return (f"The baseline {base} wins: {evidence}; the classifiers do not beat the simple rule "
                "on this data, so prefer the baseline.")
    if primary["first_better"]:
        return (f"No clear winner: {model} ranks better ({evidence}) but is worse on "
                f"{_listing(worse)}.")
    if primary["first_worse"]:
        return (f"No clear winner: {base} ranks better ({evidence}) but {model} is better on "
                f"{_listing(better)}.")
    leader = model if primary["difference"] > 0 else base
    tail = ""
    if worse and better:
        tail = (f" {model} is worse on {_listing(worse)} and better on {_listing(better)}: no clear "
                f"winner; the simpler {base} ranks as well.")
    elif worse:
        tail = f" {model} is worse on {_listing(worse)}, so prefer the simpler {base}."
    elif better:
        tail = f" {model} is better on {_listing(better)}."
    return (f"{leader} has the highest ROC-AUC, but the difference is within noise: {evidence}."
            + tail)
