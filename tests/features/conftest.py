"""Fixtures for the feature tests; the data and helpers live in ``feature_data``."""

from __future__ import annotations

import pandas as pd
import pytest
from feature_data import EVENT_ROWS, SUBSCRIBER_ROWS, make_events, make_subscribers


@pytest.fixture(scope="session")
def events() -> pd.DataFrame:
    return make_events(EVENT_ROWS)


@pytest.fixture(scope="session")
def subscribers() -> pd.DataFrame:
    return make_subscribers(SUBSCRIBER_ROWS)
