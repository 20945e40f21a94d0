"""Shared synthetic data for the dataset tests (generated once per session, ~2 s)."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.datasets import SyntheticData, synthetic

N_SUBSCRIBERS = 3_000
SEED = 11


@pytest.fixture(scope="session")
def data() -> SyntheticData:
    return synthetic(N_SUBSCRIBERS, SEED)


@pytest.fixture(scope="session")
def sends_and_opens(data: SyntheticData) -> pd.DataFrame:
    """Every open joined to the send of the same campaign, with its delay and the true flag."""
    events = data.events
    sends = events.loc[events["event_type"] == "send", ["subscriber_id", "campaign_id", "ts"]]
    opens = events[events["event_type"] == "open"]
    joined = opens.merge(sends, on=["subscriber_id", "campaign_id"], suffixes=("", "_send"))
    joined["delay_s"] = (joined["ts"] - joined["ts_send"]).dt.total_seconds()
    joined["machine"] = joined["event_id"].isin(data.truth.machine_open_event_ids)
    return joined
