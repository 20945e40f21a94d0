"""Datasets: the synthetic generator with planted truth and the vendored real data."""

from segkit.datasets._demo import build_demo_workspace
from segkit.datasets._real import cdnow, cdnow_raw, hillstrom, online_retail
from segkit.datasets._synthetic import SyntheticData, synthetic
from segkit.datasets._truth import BetaGeoTruth, ExperimentTruth, GammaGammaTruth, SyntheticTruth

__all__ = [
    "BetaGeoTruth",
    "ExperimentTruth",
    "GammaGammaTruth",
    "SyntheticData",
    "SyntheticTruth",
    "build_demo_workspace",
    "cdnow",
    "cdnow_raw",
    "hillstrom",
    "online_retail",
    "synthetic",
]
