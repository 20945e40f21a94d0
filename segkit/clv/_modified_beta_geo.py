"""The MBG/NBD model of Batislam, Denizel & Filiztekin (2007): BG/NBD with a dropout chance right
after the first purchase as well (so customers with no repeat purchase can be inactive)."""

from __future__ import annotations

from segkit.clv._beta_geo import BetaGeo

__all__ = ["ModifiedBetaGeo"]


class ModifiedBetaGeo(BetaGeo):
    """MBG/NBD: as :class:`BetaGeo` (parameters r, alpha, a, b), but a customer may also drop out
    immediately after the first purchase, so P(alive | x = 0) < 1 (Batislam, Denizel & Filiztekin
    2007, "Empirical validation and comparison of models for customer base analysis").

    Likelihood ``B(a, b+x+1)/B(a,b) ... (alpha+T)^-(r+x) + B(a+1, b+x)/B(a,b) ... (alpha+t_x)^-(r+x)``;
    the predictions are the BG/NBD ones with x + 1 dropout opportunities.
    """

    _shift = 1
