"""Small hand-built feature frames and one synthetic workspace shared by the segment tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

AS_OF = pd.Timestamp("2024-12-31", tz="UTC")


@pytest.fixture
def features() -> pd.DataFrame:
    """Six subscribers with the columns the rules and schemes read (NaN where undefined)."""
    nan = np.nan
    frame = pd.DataFrame(
        {
            "open_rate_90d": [0.6, 0.6, 0.3, 0.1, nan, 0.7],
            "click_rate_90d": [0.2, 0.05, 0.05, 0.0, nan, 0.3],
            "days_since_last_open": [2.0, 5.0, 10.0, 30.0, nan, 120.0],
            "days_since_last_click": [2.0, nan, 40.0, nan, nan, 130.0],
            "days_since_last_purchase": [10.0, 200.0, nan, nan, nan, 400.0],
            "purchase_count_365d": [3, 1, 0, 0, 0, 0],
            "revenue_365d": [120.0, 20.0, 0.0, 0.0, 0.0, 0.0],
            "tenure_days": [400.0, 500.0, 20.0, 300.0, 10.0, 800.0],
            "unsubscribed": [False, False, False, True, False, False],
            "consent": pd.array([True, True, True, False, None, True], dtype="boolean"),
        },
        index=pd.Index(["a", "b", "c", "d", "e", "f"], name="subscriber_id"),
    )
    return frame


@pytest.fixture(scope="session")
def synthetic_data():
    from segkit.datasets import synthetic

    data = synthetic(n_subscribers=1200, seed=3)
    # the flag ingest would set, taken from the planted truth
    data.events["machine_open"] = data.events["event_id"].isin(data.truth.machine_open_event_ids)
    return data


@pytest.fixture(scope="session")
def synthetic_features(synthetic_data) -> pd.DataFrame:
    from segkit.features import compute

    tables = {"events": synthetic_data.events, "subscribers": synthetic_data.subscribers}
    return compute(tables, AS_OF)
