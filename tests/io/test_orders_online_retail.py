"""The real UCI Online Retail log through ``segkit ingest orders``: the published cleaned figures
from the raw lines, cancellations netted, orders instead of lines, and two more real shapes built
from it (a purchase-only log of order totals, a 3-month extract). Each figure is checked against
an independent pandas computation on ``segkit.datasets.online_retail()``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit import features
from segkit.cli import app
from segkit.datasets import online_retail
from segkit.io import Workspace

RAW = Path(str(resources.files("segkit.datasets").joinpath("data/online_retail.csv.gz")))
COMMAND = [
    "ingest", "orders", str(RAW), "--map", "order_id=InvoiceNo", "--map", "subscriber_id=CustomerID",
    "--map", "ts=InvoiceDate", "--map", "quantity=Quantity", "--map", "unit_price=UnitPrice",
    "--map", "product_id=StockCode", "--map", "product_name=Description", "--tz", "Europe/London",
]  # fmt: skip
END_OF_DATA = pd.Timestamp("2011-12-09 23:59:59.999999", tz="Europe/London")
MAPPING = {"order_id": "InvoiceNo", "subscriber_id": "CustomerID", "ts": "InvoiceDate",
           "quantity": "Quantity", "unit_price": "UnitPrice", "product_id": "StockCode"}


@pytest.fixture(scope="module")
def lines() -> pd.DataFrame:
    return online_retail()


@pytest.fixture(scope="module")
def retail(tmp_path_factory) -> tuple[Path, str]:
    """A workspace built by the README's command, and the command's output; the file is read
    in chunks of 100,000 lines, so orders, owners and cancellations span chunk boundaries."""
    from segkit.io import _read

    path = tmp_path_factory.mktemp("retail") / "ws.duckdb"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_read, "CHUNK_ROWS", 100_000)
        result = CliRunner().invoke(app, ["-w", str(path), "-v", *COMMAND])
    assert result.exit_code == 0, result.output
    return path, result.output


@pytest.fixture(scope="module")
def retail_events(retail) -> pd.DataFrame:
    with Workspace(retail[0], read_only=True) as ws:
        return ws.table("events")


def test_counts_add_up_at_line_level(retail, lines):
    no_customer = int(lines["CustomerID"].isna().sum())
    assert no_customer == 135_080
    assert (f"read 541909, loaded {541_909 - no_customer}, duplicates skipped 0, "
            f"quarantined {no_customer}") in retail[1]


def test_cleaned_figures_are_reproduced_from_raw_lines(retail_events, lines):
    purchases = retail_events[retail_events["event_type"] == "purchase"]
    assert purchases["subscriber_id"].nunique() == 4_339
    assert purchases["value"].sum() == pytest.approx(8.91e6, abs=5e3)
    kept = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    reference = (kept["Quantity"] * kept["UnitPrice"]).sum()
    assert purchases["value"].sum() == pytest.approx(reference, rel=1e-12)
    assert len(purchases) == kept["InvoiceNo"].nunique()  # one event per order
    refunds = retail_events[retail_events["event_type"] == "refund"]
    cancelled = lines[lines["CustomerID"].notna() & lines["InvoiceNo"].str.startswith("C")]
    assert len(refunds) == cancelled["InvoiceNo"].nunique()
    assert refunds["value"].sum() == pytest.approx((cancelled["Quantity"] * cancelled["UnitPrice"]).sum())
    assert (refunds["value"] <= 0).all()


def test_customer_16446s_cancelled_order_is_netted(retail_events):
    mine = retail_events[retail_events["subscriber_id"] == "16446"].set_index("event_id")
    assert mine.loc["order-C581484", "value"] == pytest.approx(-168_469.60)
    assert '"refunds_order":"581483"' in mine.loc["order-C581484", "properties"]
    table = features.compute({"events": retail_events}, END_OF_DATA, windows=(365,))
    assert table.loc["16446", "revenue_365d"] == pytest.approx(2.90)
    summary = features.rfm({"events": retail_events}, END_OF_DATA)
    assert summary.loc["16446", "monetary_value"] == 0.0
    top = table["revenue_365d"].nlargest(10)
    assert "16446" not in top.index


def test_customer_14911_has_orders_not_lines(retail_events, lines):
    mine = retail_events[(retail_events["subscriber_id"] == "14911")
                         & (retail_events["event_type"] == "purchase")]
    raw = lines[(lines["CustomerID"] == "14911") & ~lines["InvoiceNo"].str.startswith("C")]
    assert len(raw) == 5_677  # invoice lines, which were purchases before orders ingest
    assert len(mine) == raw["InvoiceNo"].nunique() == 201


def test_refunds_link_to_the_order_they_undo(retail, retail_events):
    refunds = retail_events[retail_events["event_type"] == "refund"]
    linked = refunds["properties"].str.contains('"refunds_order"')
    assert linked.mean() > 0.8
    assert f"{len(refunds)} refund(s) ({int(linked.sum())} linked to the order they undo" in retail[1]


def test_purchase_only_log_of_order_totals(tmp_path, lines):
    """A shop export with one row per order and its total, no event type: ``--set``."""
    kept = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    totals = (kept.assign(total=kept["Quantity"] * kept["UnitPrice"])
              .groupby("InvoiceNo", as_index=False)
              .agg(customer=("CustomerID", "first"), date=("InvoiceDate", "min"), total=("total", "sum")))
    file = tmp_path / "orders.csv"
    totals.assign(date=totals["date"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(file, index=False)
    result = CliRunner().invoke(app, [
        "-w", str(tmp_path / "ws.duckdb"), "ingest", "events", str(file), "--set", "event_type=purchase",
        "--map", "subscriber_id=customer", "--map", "ts=date", "--map", "value=total",
        "--map", "event_id=InvoiceNo", "--tz", "Europe/London",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"read {len(totals)}, loaded {len(totals)}," in result.output
    with Workspace(tmp_path / "ws.duckdb", read_only=True) as ws:
        summary = features.rfm(ws, END_OF_DATA)
    assert len(summary) == 4_339
    assert summary["frequency"].sum() == pytest.approx(
        kept.groupby("CustomerID")["InvoiceDate"].apply(lambda d: d.dt.normalize().nunique() - 1).sum()
    )


def test_three_month_extract_reingests_idempotently(tmp_path, lines):
    extract = lines[(lines["InvoiceDate"] >= "2011-09-01") & (lines["InvoiceDate"] < "2011-12-01")]
    file = tmp_path / "q.csv.gz"
    extract.assign(InvoiceDate=extract["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M:%S")).to_csv(
        file, index=False, compression="gzip")
    with Workspace(tmp_path / "ws.duckdb") as ws:
        first = ws.ingest("orders", file, mapping=MAPPING, tz="Europe/London")
        events_once = ws.table("events").sort_values("event_id", ignore_index=True)
        again = ws.ingest("orders", file, mapping=MAPPING, tz="Europe/London")
        events_twice = ws.table("events").sort_values("event_id", ignore_index=True)
    customers = int(extract["CustomerID"].isna().sum())
    assert (first.rows_read, first.rows_loaded, first.rows_quarantined) == (
        len(extract), len(extract) - customers, customers)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)
    pd.testing.assert_frame_equal(events_once, events_twice)
    kept = extract[extract["CustomerID"].notna()]
    assert events_once["value"].sum() == pytest.approx((kept["Quantity"] * kept["UnitPrice"]).sum())
