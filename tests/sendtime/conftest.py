"""Shared synthetic data for the send-time tests (small: a few seconds to generate and fit)."""

from __future__ import annotations

import pytest

from segkit.datasets import synthetic

N_SUBSCRIBERS = 2500
SEED = 3


@pytest.fixture(scope="package")
def synth():
    return synthetic(N_SUBSCRIBERS, seed=SEED)


@pytest.fixture(scope="package")
def tables(synth):
    return {"events": synth.events, "subscribers": synth.subscribers}


@pytest.fixture(scope="package")
def recs(tables):
    from segkit.sendtime import recommend

    return recommend(tables, as_of="2025-01-01")
