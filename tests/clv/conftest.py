"""Shared CLV fixtures: the vendored CDNOW sample (checksummed) and fitted models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from segkit.clv import BetaGeo, GammaGamma, ParetoNBD

TESTS = Path(__file__).resolve().parents[1]
SHA256 = {
    "clv_cdnow_customers_summary.csv": "09d92ca80daaabe8be0f997d4c539f9c9606106baa5b199081fe01cbce5fa9f6",
    "clv_cdnow_customers_summary_with_transactions.csv": "7ddd11b55be3227edfc1d58675154e96971b0de3ad37ddd9280d1dba154b8b2f",
}


def _load(name: str) -> pd.DataFrame:
    path = TESTS / "data" / name
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256[name], f"{name} changed"
    return pd.read_csv(path)


@pytest.fixture(scope="session")
def cdnow_summary() -> pd.DataFrame:
    return _load("clv_cdnow_customers_summary.csv")


@pytest.fixture(scope="session")
def cdnow_spend() -> pd.DataFrame:
    return _load("clv_cdnow_customers_summary_with_transactions.csv")


@pytest.fixture(scope="session")
def published() -> dict:
    return json.loads((TESTS / "results" / "clv_published.json").read_text())


@pytest.fixture(scope="session")
def oracle() -> dict:
    return json.loads((TESTS / "results" / "clv_lifetimes_oracle.json").read_text())


@pytest.fixture(scope="session")
def bgnbd(cdnow_summary) -> BetaGeo:
    d = cdnow_summary
    return BetaGeo().fit(d["frequency"], d["recency"], d["T"], time_unit="W")


@pytest.fixture(scope="session")
def pnbd(cdnow_summary) -> ParetoNBD:
    d = cdnow_summary
    return ParetoNBD().fit(d["frequency"], d["recency"], d["T"], time_unit="W")


@pytest.fixture(scope="session")
def gamma_gamma(cdnow_spend) -> GammaGamma:
    return GammaGamma().fit(cdnow_spend["x"], cdnow_spend["zbar"])

