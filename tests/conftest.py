"""Fixtures shared across the test packages."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def online_retail_purchases() -> pd.DataFrame:
    """The vendored UCI Online Retail log as canonical purchase events: one purchase per invoice
    (value = sum of quantity x price), cancellations and lines without a customer left out."""
    from segkit.datasets import online_retail

    lines = online_retail()
    lines = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    lines = lines.assign(value=lines["Quantity"] * lines["UnitPrice"])
    orders = lines.groupby("InvoiceNo").agg(
        subscriber_id=("CustomerID", "first"), ts=("InvoiceDate", "min"), value=("value", "sum"))
    local = orders["ts"].dt.tz_localize("Europe/London")
    return orders.reset_index(drop=True).assign(
        event_type="purchase", campaign_id=None, properties=None, ts=local.dt.tz_convert("UTC").to_numpy())
