"""Shared data for the churn tests: a small synthetic program (machine opens flagged from the
planted truth, as ingest would flag them) and one backtest over it, built once per session."""

from __future__ import annotations

import pandas as pd
import pytest
from churn_setup import EVAL_AT, N_SUBSCRIBERS, SEED, TRAIN_AT

from segkit.churn import ChurnBacktest, backtest
from segkit.datasets import SyntheticData, synthetic


@pytest.fixture(scope="session")
def data() -> SyntheticData:
    return synthetic(N_SUBSCRIBERS, SEED)


@pytest.fixture(scope="session")
def events(data: SyntheticData) -> pd.DataFrame:
    """Canonical events with ``machine_open`` as the workspace stores it."""
    frame = data.events.copy()
    frame["machine_open"] = frame["event_id"].isin(data.truth.machine_open_event_ids)
    return frame


@pytest.fixture(scope="session")
def result(events: pd.DataFrame, data: SyntheticData) -> ChurnBacktest:
    return backtest(events, data.subscribers, [TRAIN_AT, EVAL_AT], n_repeats=3)
