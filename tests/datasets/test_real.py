"""The vendored real datasets: checksums verified, sizes and published figures reproduced."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segkit.datasets import _real, cdnow, cdnow_raw, hillstrom, online_retail
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


@pytest.fixture(scope="module")
def retail_lines() -> pd.DataFrame:
    return online_retail()


def test_online_retail_has_the_published_size(retail_lines):
    lines = retail_lines
    assert list(lines.columns) == [
        "InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
        "CustomerID", "Country",
    ]  # fmt: skip
    expected = published("online_retail", "rows")
    assert len(lines) == expected["all"]
    assert lines["InvoiceNo"].nunique() == published("online_retail", "invoices")["all"]
    assert lines["CustomerID"].nunique() == published("online_retail", "customers")["all"]
    cancelled = lines["InvoiceNo"].str.startswith("C")
    assert cancelled.sum() == published("online_retail", "cancellation_lines")["all"]
    assert (lines.loc[cancelled, "Quantity"] < 0).all()
    no_customer = lines["CustomerID"].isna()
    assert no_customer.sum() == published("online_retail", "lines_without_customer")["all"]
    assert lines["InvoiceDate"].min() == pd.Timestamp("2010-12-01 08:26")
    assert lines["InvoiceDate"].max() == pd.Timestamp("2011-12-09 12:50")
    assert lines["CustomerID"].dropna().str.fullmatch(r"\d{5}").all()  # text, not "12345.0"


def test_online_retail_cleaned_figures_match_the_tutorials(retail_lines):
    lines = retail_lines
    kept = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    assert kept["CustomerID"].nunique() == published("online_retail", "customers")["cleaned"]
    sales = (kept["Quantity"] * kept["UnitPrice"]).sum()
    assert sales == pytest.approx(published("online_retail", "sales_gbp")["cleaned"], abs=5_000)


@pytest.mark.parametrize("loader", [cdnow_raw, cdnow, hillstrom, online_retail])
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
