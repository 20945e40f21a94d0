"""The vendored real datasets: checksums verified, sizes and published figures reproduced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import _real, cdnow, cdnow_raw, hillstrom
from segkit.errors import InputError

PUBLISHED = pd.read_csv(
    Path(__file__).parents[1] / "results" / "datasets_real_published.csv", comment="#"
)


def published(dataset: str, metric: str) -> pd.Series:
    rows = PUBLISHED[(PUBLISHED["dataset"] == dataset) & (PUBLISHED["metric"] == metric)]
    return rows.set_index("group")["value"]


@pytest.fixture(scope="module")
def cdnow_events() -> pd.DataFrame:
    return cdnow()


@pytest.fixture(scope="module")
def hillstrom_frame() -> pd.DataFrame:
    return hillstrom()


def test_cdnow_raw_has_the_published_size():
    raw = cdnow_raw()
    assert len(raw) == published("cdnow", "rows")["all"]
    assert raw["customer_id"].nunique() == published("cdnow", "customers")["all"]
    assert raw["date"].min() >= pd.Timestamp("1997-01-01")
    assert raw["date"].max() <= pd.Timestamp("1998-06-30")
    first = raw.groupby("customer_id")["date"].min()
    assert first.max() <= pd.Timestamp("1997-03-31")  # the Q1 1997 cohort
    assert (raw["dollar_value"] >= 0).all() and (raw["number_of_cds"] >= 1).all()


def test_cdnow_is_canonical_purchase_events(cdnow_events):
    events = cdnow_events
    assert list(events.columns) == [
        "event_id",
        "subscriber_id",
        "event_type",
        "ts",
        "campaign_id",
        "value",
        "properties",
    ]
    assert len(events) == 69_659 and events["subscriber_id"].nunique() == 23_570
    assert events["event_id"].is_unique
    assert set(events["event_type"]) == {"purchase"}
    assert str(events["ts"].dt.tz) == "UTC"
    assert events["campaign_id"].isna().all()
    raw = cdnow_raw()
    np.testing.assert_allclose(events["value"].to_numpy(), raw["dollar_value"].to_numpy())
    assert events["properties"].iloc[0] == f'{{"quantity": {raw["number_of_cds"].iloc[0]}}}'


def test_hillstrom_arm_sizes_match_the_publication(hillstrom_frame):
    frame = hillstrom_frame
    assert len(frame) == 64_000 and frame["subscriber_id"].is_unique
    assert set(frame["experiment_id"]) == {_real.HILLSTROM_EXPERIMENT_ID}
    counts = frame["arm"].value_counts()
    expected = published("hillstrom", "customers")
    for arm, size in expected.items():
        assert counts[arm] == size
    assert _real.HILLSTROM_CONTROL_ARM in counts.index


@pytest.mark.parametrize(
    ("metric", "tolerance"), [("visit", 5e-5), ("conversion", 5e-5), ("spend", 5e-3)]
)
def test_hillstrom_rates_match_the_publication(hillstrom_frame, metric, tolerance):
    means = hillstrom_frame.groupby("arm")[metric].mean()
    for arm, value in published("hillstrom", metric).items():
        assert means[arm] == pytest.approx(value, abs=tolerance), (arm, metric)


@pytest.mark.parametrize("loader", [cdnow_raw, cdnow, hillstrom])
def test_a_corrupted_file_raises_input_error(monkeypatch, loader):
    wrong = dict.fromkeys(_real.CHECKSUMS, "0" * 64)
    monkeypatch.setattr(_real, "CHECKSUMS", wrong)
    with pytest.raises(InputError, match="corrupted: SHA-256 .* expected 0{64}; reinstall segkit"):
        loader()


def test_checksums_are_verified_on_the_bytes(monkeypatch):
    good = _real._verified_bytes("hillstrom.csv")
    monkeypatch.setattr(_real.gzip, "decompress", lambda data: good[:-1] + b"X")
    with pytest.raises(InputError, match="hillstrom.csv is corrupted"):
        _real._verified_bytes("hillstrom.csv")
