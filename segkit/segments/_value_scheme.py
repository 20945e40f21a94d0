"""The ``value`` scheme from a feature table alone: predicted CLV (BG/NBD + Gamma-Gamma) and the
engagement score, then :func:`value_potential`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.errors import ValidationError
from segkit.segments._schemes import _require
from segkit.segments._scores import engagement_score
from segkit.segments._stages import value_potential

__all__ = ["predicted_clv", "value_segments"]

#: Fewest buyers (subscribers with RFM values) needed to fit the CLV models.
MIN_BUYERS = 20


def predicted_clv(
    features: pd.DataFrame, *, periods: int = 12, discount_rate: float = 0.01
) -> pd.Series:
    """Discounted expected revenue over ``periods`` months for every buyer, NaN for others.

    Fits BG/NBD (:class:`segkit.clv.BetaGeo`, Fader, Hardie & Lee 2005) on the buyers'
    ``frequency``, ``recency`` and ``T`` and Gamma-Gamma (:class:`segkit.clv.GammaGamma`) on
    ``frequency`` and ``monetary_value``, both from :func:`segkit.features.compute`, then
    :func:`segkit.clv.customer_lifetime_value`. Subscribers who never bought have no RFM history
    and get NaN (the models describe buyers only).
    """
    from segkit.clv import BetaGeo, GammaGamma, customer_lifetime_value

    _require(features, ["frequency", "recency", "T", "monetary_value"], "value potential")
    bought = features["frequency"].notna().to_numpy()
    buyers = features[bought]
    if len(buyers) < MIN_BUYERS:
        raise ValidationError(
            f"value potential needs at least {MIN_BUYERS} buyers to fit the CLV models; "
            f"found {len(buyers)}"
        )
    transactions = BetaGeo().fit_features(buyers)
    spend = GammaGamma().fit_features(buyers)
    clv = customer_lifetime_value(
        transactions, spend, buyers["frequency"], buyers["recency"], buyers["T"],
        buyers["monetary_value"].fillna(0.0), periods=periods, discount_rate=discount_rate,
    )
    out = np.full(len(features), np.nan)
    out[bought] = np.asarray(clv, float)  # by position: no second hashing of the ids
    return pd.Series(out, index=features.index, name="clv")


def value_segments(features: pd.DataFrame) -> pd.Series:
    """``value`` scheme labels: :func:`value_potential` of :func:`predicted_clv` and
    :func:`engagement_score` (default parameters; band decay, as only features are given)."""
    return value_potential(predicted_clv(features), engagement_score(features))
