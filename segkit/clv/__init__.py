"""Customer lifetime value: BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma models, CLV and diagnostics.

Models follow scikit-learn conventions (``fit`` returns self, fitted attributes end in ``_``) and are
fitted by maximum likelihood on the unique (frequency, recency, T) rows with counts, in
log-parameter space. Time is in the unit of the data (days "D" or weeks "W").
"""

from segkit.clv._beta_geo import BetaGeo
from segkit.clv._diagnostics import (
    CalibrationHoldoutResult,
    PeriodTransactionsResult,
    calibration_vs_holdout,
    period_transactions,
)
from segkit.clv._gamma_gamma import GammaGamma
from segkit.clv._modified_beta_geo import ModifiedBetaGeo
from segkit.clv._pareto_nbd import ParetoNBD
from segkit.clv._sufficiency import DataSufficiencyVerdict, assess_data_sufficiency
from segkit.clv._value import CLVIntervals, clv_intervals, customer_lifetime_value

__all__ = [
    "BetaGeo",
    "CLVIntervals",
    "CalibrationHoldoutResult",
    "DataSufficiencyVerdict",
    "GammaGamma",
    "ModifiedBetaGeo",
    "ParetoNBD",
    "PeriodTransactionsResult",
    "assess_data_sufficiency",
    "calibration_vs_holdout",
    "clv_intervals",
    "customer_lifetime_value",
    "period_transactions",
]
