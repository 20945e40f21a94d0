"""Recommendations from ``segkit ingest orders`` (issue 22): product ids and names come from the
``order_lines`` table, so an analyst who ingested invoice lines with the README commands gets
recommendations, the export and the report without another step."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.io import Workspace, read_interactions
from segkit.recommend import EASE

#: the README's "Your own data" mapping of the Online Retail columns
README_MAPS = ["order_id=InvoiceNo", "subscriber_id=CustomerID", "ts=InvoiceDate", "quantity=Quantity",
               "unit_price=UnitPrice", "product_id=StockCode", "product_name=Description"]


def _orders_file(path, seed: int = 0) -> pd.DataFrame:
    """Invoice lines in the Online Retail layout: 40 customers, 12 products in two taste groups,
    one cancellation, one line without a customer."""
    rng = np.random.default_rng(seed)
    rows, invoice = [], 10000
    for customer in range(40):
        group = customer % 2
        for _ in range(int(rng.integers(3, 7))):
            invoice += 1
            day = pd.Timestamp("2011-01-03 09:00") + pd.Timedelta(days=int(rng.integers(0, 330)))
            for product in rng.choice(6, size=int(rng.integers(1, 4)), replace=False):
                code = 20000 + 6 * group + int(product)
                rows.append((str(invoice), str(code), f"ITEM {code}", int(rng.integers(1, 5)),
                             day.strftime("%Y-%m-%d %H:%M:%S"), 2.5, f"C{customer:03d}", "United Kingdom"))
    rows.append(("C99999", "20001", "ITEM 20001", -2, "2011-06-01 10:00:00", 2.5, "C000", "United Kingdom"))
    rows.append(("99998", "20002", "ITEM 20002", 1, "2011-06-01 10:00:00", 2.5, None, "United Kingdom"))
    frame = pd.DataFrame(rows, columns=["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate",
                                        "UnitPrice", "CustomerID", "Country"])
    frame.to_csv(path, index=False)
    return frame


def _ingest(tmp_path) -> tuple:
    source = tmp_path / "orders.csv"
    lines = _orders_file(source)
    ws = tmp_path / "ws.duckdb"
    args = ["-w", str(ws), "ingest", "orders", str(source), "--tz", "Europe/London"]
    for mapping in README_MAPS:
        args += ["--map", mapping]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return ws, lines


def test_order_lines_become_purchase_interactions_named_by_description(tmp_path):
    ws, lines = _ingest(tmp_path)
    with Workspace(ws, read_only=True) as workspace:
        got = read_interactions(workspace)
    # independent: every line of a known customer with a positive quantity, not a cancellation
    kept = lines[lines["CustomerID"].notna() & (lines["Quantity"] > 0) & ~lines["InvoiceNo"].str.startswith("C")]
    expected = pd.DataFrame({
        "subscriber_id": kept["CustomerID"], "product_id": kept["StockCode"],
        "ts": pd.to_datetime(kept["InvoiceDate"]).dt.tz_localize("Europe/London").dt.tz_convert("UTC"),
        "name": kept["Description"],
    })
    key = ["subscriber_id", "product_id", "ts", "name"]
    got_rows = got[key].astype({"ts": "datetime64[ns, UTC]"}).astype({c: str for c in key if c != "ts"})
    expected = expected.astype({"ts": "datetime64[ns, UTC]"}).astype({c: str for c in key if c != "ts"})
    pd.testing.assert_frame_equal(got_rows.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True))
    assert set(got["event_type"]) == {"purchase"}
    assert "category" not in got.columns  # not mapped: no empty category column


def test_export_after_ingest_orders_names_products(tmp_path):
    ws, lines = _ingest(tmp_path)
    customers = sorted(lines["CustomerID"].dropna().unique())
    subscribers = pd.DataFrame({"subscriber_id": customers, "consent": True})
    subscribers.loc[0, "consent"] = False  # planted: never exported
    (tmp_path / "subscribers.csv").write_text(subscribers.to_csv(index=False))
    result = CliRunner().invoke(app, ["-w", str(ws), "ingest", "subscribers", str(tmp_path / "subscribers.csv")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "recs.csv"
    result = CliRunner().invoke(app, ["-w", str(ws), "export", "recommendations", "--as-of", "2011-12-09",
                                      "--top", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype=str)
    assert customers[0] not in set(table["subscriber_id"])
    assert table["subscriber_id"].nunique() == len(customers) - 1
    assert (table["name"] == "ITEM " + table["product_id"]).all()  # from product_name
    # a taste-group customer is recommended items of their own group first
    recs = EASE(l2=5).fit(_interactions(ws), "2011-12-09T23:59:59Z").recommend(["C001"], k=3)
    assert recs["product_id"].astype(int).ge(20006).all()


def _interactions(ws) -> pd.DataFrame:
    with Workspace(ws, read_only=True) as workspace:
        return read_interactions(workspace)


@pytest.mark.slow
def test_report_runs_on_a_workspace_of_ingested_orders(tmp_path):
    from segkit.reports import run_report

    ws, _ = _ingest(tmp_path)
    run = run_report("recommendations", workspace=ws, out_dir=tmp_path / "reports", update_index=False,
                     parameters={"cutoff": "2011-09-30", "end": "2011-12-09", "n_boot": 100})
    assert run.ok, run.error
    numbers = json.loads(run.summary_path.read_text())["numbers"]
    assert numbers["problem"] is None and numbers["test_subscribers"] > 0
    assert set(numbers["holdout"]) >= {"popularity", "ease"}
