"""``ChurnBacktest``: the result of :func:`segkit.churn.backtest`, with its verdict in words."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from segkit.churn._evaluate import ChurnEvaluation
from segkit.churn._model import ChurnModel

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
        """Which model wins, in plain words."""
        return _verdict(self.table, self.mean_metrics())

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


def _verdict(table: pd.DataFrame, means: pd.DataFrame) -> str:
    models = means[means["role"] == "model"]
    baselines = means[means["role"] == "baseline"]
    best, base = models.iloc[0], baselines.iloc[0]
    n_eval = table["eval_cutoff"].nunique()
    per_cut = table.pivot_table(index="eval_cutoff", columns="model", values="roc_auc")
    wins = int((per_cut[best["model"]] > per_cut[list(baselines["model"])].max(axis=1)).sum())
    if best["roc_auc"] > base["roc_auc"]:
        return (
            f"{best['model']} wins: mean ROC-AUC {best['roc_auc']:.3f} vs {base['roc_auc']:.3f} for "
            f"the best baseline ({base['model']}), ahead of every baseline at {wins} of {n_eval} "
            f"evaluation cutoff(s); PR-AUC {best['pr_auc']:.3f} vs {base['pr_auc']:.3f}."
        )
    return (
        f"The baseline {base['model']} wins: mean ROC-AUC {base['roc_auc']:.3f} vs "
        f"{best['roc_auc']:.3f} for the best classifier ({best['model']}); the classifiers do "
        "not beat the simple rule on this data, so prefer the baseline."
    )
