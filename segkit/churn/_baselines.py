"""The baselines every churn model must beat, with the same ``fit``/``predict_proba`` surface.

* :class:`RecencyRule`: "churn if days since the last human open > k" (click, else purchase,
  when the data hold no opens), k tuned on the training cutoff to maximise Youden's J = TPR - FPR
  (Youden 1950). Its probability is the training churn rate of the flagged or of the unflagged
  group, so Brier score and log loss are defined.
* :class:`BetaGeoBaseline`: 1 - P(alive) from :class:`segkit.clv.BetaGeo` (Fader, Hardie & Lee
  2005) fitted on the purchase RFM of every buyer at the training cutoff and applied to the RFM
  at the scoring date. P(alive) is undefined for subscribers who never purchased; they get the
  training churn rate of labelled non-buyers. BG/NBD sets P(alive) = 1 for every customer
  without a repeat purchase (dropout happens only after a purchase), so 1 - P(alive) ranks the
  one-time buyers, often the likeliest to lapse, as the safest. The same fit also gives the
  probability of no purchase in the next t periods,
  ``P(Y(t) = 0 | x, t_x, T) = 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + t))^(r + x)``
  (an alive customer's posterior rate is gamma(r + x, alpha + T) and, without a purchase, no
  dropout can happen), which :meth:`BetaGeoBaseline.probability_no_purchase` returns. Both
  probabilities are mapped into [PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR] (order kept), so a
  wrong certainty costs a bounded log loss.
* The base rate (the training churn rate for everyone) needs no class: see ``backtest``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from segkit.churn._align import align_labels, by_subscriber
from segkit.clv import BetaGeo
from segkit.errors import NotFittedError, ValidationError

__all__ = ["PROBABILITY_FLOOR", "RECENCY_COLUMNS", "BetaGeoBaseline", "RecencyRule"]

RFM_COLUMNS = ("frequency", "recency", "T")


def _two_columns(p: np.ndarray) -> np.ndarray:
    return np.column_stack([1.0 - p, p])


#: the recency rule's candidate columns, in order of preference (the first with data is used).
RECENCY_COLUMNS = ("days_since_last_open", "days_since_last_click", "days_since_last_purchase")
#: the BG/NBD baselines' probabilities are mapped into [FLOOR, 1 - FLOOR] (order kept): a model of
#: purchases is never certain about the engagement label, and a 0 or 1 that turns out wrong
#: would make the log loss explode (-log of machine epsilon = 36 per such subscriber).
PROBABILITY_FLOOR = 0.01


def _soften(p: np.ndarray) -> np.ndarray:
    """``FLOOR + (1 - 2 FLOOR) p``: strictly increasing, so every ranking metric is unchanged."""
    return PROBABILITY_FLOOR + (1.0 - 2.0 * PROBABILITY_FLOOR) * np.clip(p, 0.0, 1.0)


class RecencyRule:
    """Flag churn when the days since the last engagement exceed k days.

    ``column`` is a feature column or a sequence of them in order of preference; ``fit`` uses
    the first one present with at least one value among the labelled subscribers (by default:
    days since the last human open, else click, else purchase), so on a purchase-only log the
    rule reads purchases instead of scoring everyone alike. Subscribers without a value (never
    engaged that way) are always flagged. Attributes after ``fit``: ``column_``, ``k_`` (days),
    ``youden_j_``, ``rate_flagged_``, ``rate_unflagged_`` (training churn rates).
    """

    def __init__(self, column: str | Sequence[str] = RECENCY_COLUMNS) -> None:
        self.column = column

    def _candidates(self) -> tuple[str, ...]:
        return (self.column,) if isinstance(self.column, str) else tuple(self.column)

    def _choose(self, table: pd.DataFrame) -> str:
        present = [c for c in self._candidates() if c in table.columns]
        if not present:
            raise ValidationError(
                f"the recency rule needs one of the columns {', '.join(self._candidates())} in the features"
            )
        for column in present:
            if pd.to_numeric(table[column]).notna().any():
                return column
        return present[0]

    def _days(self, features: pd.DataFrame, column: str) -> np.ndarray:
        table = by_subscriber(features, "features")
        if column not in table.columns:
            raise ValidationError(f"the recency rule needs column {column!r} in the features")
        days = pd.to_numeric(table[column]).to_numpy(dtype=float, na_value=np.nan)
        return np.where(np.isnan(days), np.inf, days)

    def fit(self, features: pd.DataFrame, labels: Any) -> RecencyRule:
        """Tune k over whole days on the labelled subscribers (ties: the smallest k)."""
        table, y = align_labels(features, labels)
        self.column_ = self._choose(table)
        days = self._days(table, self.column_)
        finite = days[np.isfinite(days)]
        candidates = np.unique(np.floor(finite)) if len(finite) else np.array([0.0])
        pos, neg = np.sort(days[y == 1]), np.sort(days[y == 0])
        # flagged = days > k: count of values above k by binary search.
        tpr = (len(pos) - np.searchsorted(pos, candidates, side="right")) / max(len(pos), 1)
        fpr = (len(neg) - np.searchsorted(neg, candidates, side="right")) / max(len(neg), 1)
        best = int(np.argmax(tpr - fpr))
        self.k_ = float(candidates[best])
        self.youden_j_ = float(tpr[best] - fpr[best])
        flagged = days > self.k_
        base = float(y.mean())
        self.rate_flagged_ = float(y[flagged].mean()) if flagged.any() else base
        self.rate_unflagged_ = float(y[~flagged].mean()) if (~flagged).any() else base
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """``[[1 - p, p]]`` with p the training churn rate of the row's group."""
        if not hasattr(self, "k_"):
            raise NotFittedError("This RecencyRule instance is not fitted yet. Call 'fit' first.")
        flagged = self._days(features, self.column_) > self.k_
        return _two_columns(np.where(flagged, self.rate_flagged_, self.rate_unflagged_))

    def __repr__(self) -> str:
        return f"RecencyRule(column={self.column!r})"


class BetaGeoBaseline:
    """1 - P(alive) from a BG/NBD model of purchases (Fader, Hardie & Lee 2005, appendix).

    ``fit`` fits :class:`segkit.clv.BetaGeo` on the ``frequency, recency, T`` of every buyer in
    the feature table (time unit from ``attrs["rfm_unit"]``) and records the churn rate of the
    labelled non-buyers (``non_buyer_rate_``), used for subscribers without a purchase.
    Attributes: ``model_`` (the fitted BetaGeo), ``non_buyer_rate_``, ``n_buyers_``,
    ``warnings_`` (messages of data-sufficiency warnings raised by the fit).
    """

    def fit(self, features: pd.DataFrame, labels: Any) -> BetaGeoBaseline:
        """Fit BG/NBD on all buyers of ``features`` and the non-buyer churn rate on ``labels``."""
        table = by_subscriber(features, "features")
        missing = [c for c in RFM_COLUMNS if c not in table.columns]
        if missing:
            raise ValidationError(
                f"the BG/NBD baseline needs feature column(s) {', '.join(missing)}"
            )
        rfm = table.loc[table["frequency"].notna() & (table["T"] > 0), list(RFM_COLUMNS)]
        if len(rfm) == 0 or not (rfm["frequency"] > 0).any():
            raise ValidationError(
                "the BG/NBD baseline needs buyers with a repeat purchase before the cutoff; "
                f"found {len(rfm)} buyers and none with a repeat purchase"
            )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.model_ = BetaGeo().fit(
                rfm["frequency"], rfm["recency"], rfm["T"], time_unit=table.attrs.get("rfm_unit")
            )
        self.warnings_ = tuple(str(w.message) for w in caught)
        labelled, y = align_labels(table, labels)
        non_buyer = labelled["frequency"].isna().to_numpy()
        self.non_buyer_rate_ = float(y[non_buyer].mean()) if non_buyer.any() else float(y.mean())
        self.n_buyers_ = len(rfm)
        return self

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """``[[1 - q, q]]`` with ``q`` = 1 - P(alive) mapped into [PROBABILITY_FLOOR,
        1 - PROBABILITY_FLOOR] for buyers; the non-buyer rate for the others."""
        table, buyer, first_day = self._rfm(features)
        churn = np.full(len(table), self.non_buyer_rate_)
        if buyer.any():
            rows = table.loc[buyer]
            alive = self.model_.probability_alive(
                rows["frequency"].to_numpy(float), rows["recency"].to_numpy(float),
                rows["T"].to_numpy(float),
            )  # fmt: skip
            churn[buyer] = _soften(1.0 - np.asarray(alive, dtype=float))
        churn[first_day] = _soften(0.0)  # first purchase on the scoring day: alive by definition
        return _two_columns(churn)

    def _rfm(self, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The RFM rows of ``features``, who has bought before the scoring day, and who first
        bought on it (fitted models only)."""
        if not hasattr(self, "model_"):
            raise NotFittedError(
                "This BetaGeoBaseline instance is not fitted yet. Call 'fit' first."
            )
        table = by_subscriber(features, "features")
        buyer = (table["frequency"].notna() & (table["T"] > 0)).to_numpy()
        first_day = (table["frequency"].notna() & (table["T"] <= 0)).to_numpy()
        return table, buyer, first_day

    def probability_no_purchase(self, features: pd.DataFrame, t: float) -> np.ndarray:
        """P(no purchase in the next ``t`` periods | x, t_x, T) under the fitted BG/NBD (time unit
        of the RFM columns, days by default); non-buyers get ``non_buyer_rate_``. The exact model
        probability: :meth:`no_purchase_score` is the same mapped away from 0 and 1."""
        if not np.isfinite(t) or t < 0:
            raise ValidationError(f"t must be a finite number of periods >= 0, got {t!r}")
        table, buyer, first_day = self._rfm(features)
        out = np.full(len(table), self.non_buyer_rate_)
        r, alpha = self.model_.params_["r"], self.model_.params_["alpha"]
        rows = table.loc[buyer | first_day]
        x, age = rows["frequency"].to_numpy(float), rows["T"].to_numpy(float)
        alive = np.ones(len(rows))
        positive = age > 0
        if positive.any():
            alive[positive] = np.asarray(
                self.model_.probability_alive(
                    x[positive], rows["recency"].to_numpy(float)[positive], age[positive]
                ),
                dtype=float,
            )
        quiet_if_alive = np.exp((r + x) * (np.log(alpha + age) - np.log(alpha + age + t)))
        out[buyer | first_day] = 1.0 - alive + alive * quiet_if_alive
        return np.clip(out, 0.0, 1.0)

    def no_purchase_score(self, features: pd.DataFrame, t: float) -> np.ndarray:
        """:meth:`probability_no_purchase` with buyers' values mapped into [PROBABILITY_FLOOR,
        1 - PROBABILITY_FLOOR] (order kept): the churn probability the backtest scores."""
        out = self.probability_no_purchase(features, t)
        _, buyer, first_day = self._rfm(features)
        out[buyer | first_day] = _soften(out[buyer | first_day])
        return out

    def __repr__(self) -> str:
        return "BetaGeoBaseline()"
