"""``Workspace.ingest("orders", ...)``: lines -> one purchase per order, cancellations -> refunds
linked to their order, line-level counts, idempotent re-ingest, ``constants`` (``--set``)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from segkit.errors import InputError
from segkit.io import _orders

MAPPING = {"order_id": "InvoiceNo", "subscriber_id": "CustomerID", "ts": "InvoiceDate",
           "quantity": "Quantity", "unit_price": "UnitPrice", "product_id": "StockCode"}


def lines(*rows: tuple) -> pd.DataFrame:
    """Invoice lines in the Online Retail layout: (invoice, product, quantity, date, price, customer)."""
    return pd.DataFrame(
        rows, columns=["InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"]
    ).astype({"Quantity": "int64", "UnitPrice": "float64"})


SHOP = lines(
    ("1001", "A", 2, "2011-01-10 09:00:00", 2.50, "c1"),
    ("1001", "B", 1, "2011-01-10 09:00:00", 10.00, "c1"),
    ("1001", "B", 1, "2011-01-10 09:00:00", 10.00, "c1"),  # an identical line: a second unit
    ("1002", "A", 5, "2011-02-01 12:00:00", 2.50, "c1"),
    ("C1003", "B", -1, "2011-02-03 08:00:00", 10.00, "c1"),  # undoes one B of order 1001
    ("2001", "Z", 3, "2011-01-11 10:00:00", 1.00, "c2"),
    ("C2001", "Z", -3, "2011-01-11 10:30:00", 1.00, "c2"),  # "C" + the order it cancels
    ("C2002", "Q", -1, "2011-03-01 10:00:00", 4.00, "c2"),  # product never bought: customer only
    ("3001", "A", 1, "2011-01-12 10:00:00", 2.50, None),  # no customer
)


def ingest(workspace, frame: pd.DataFrame, **options):
    options.setdefault("mapping", MAPPING)
    return workspace.ingest("orders", frame, tz="Europe/London", **options)


def events(workspace) -> pd.DataFrame:
    frame = workspace.table("events").set_index("event_id").sort_index()
    frame["properties"] = frame["properties"].map(json.loads)
    return frame


def test_lines_become_one_event_per_order_with_refunds_linked(workspace):
    report = ingest(workspace, SHOP)
    assert (report.rows_read, report.rows_loaded, report.rows_duplicate,
            report.rows_quarantined) == (9, 8, 0, 1)  # fmt: skip
    got = events(workspace)
    assert list(got.index) == [
        "order-1001", "order-1002", "order-2001", "order-C1003", "order-C2001", "order-C2002"
    ]
    kinds = got["event_type"].to_dict()
    assert kinds == {"order-1001": "purchase", "order-1002": "purchase", "order-2001": "purchase",
                     "order-C1003": "refund", "order-C2001": "refund", "order-C2002": "refund"}
    assert got.loc["order-1001", "value"] == pytest.approx(25.0)  # 2 x 2.50 + 10 + 10
    assert got.loc["order-C1003", "value"] == pytest.approx(-10.0)
    assert got.loc["order-1001", "properties"] == {"order_id": "1001", "lines": 3, "quantity": 4.0}
    links = got["properties"].map(lambda p: p.get("refunds_order")).to_dict()
    assert links["order-C1003"] == "1001"  # latest earlier order with product B
    assert links["order-C2001"] == "2001"  # "C" + order number
    assert "refunds_order" not in got.loc["order-C2002", "properties"]  # the customer's only
    assert got.loc["order-1001", "ts"] == pd.Timestamp("2011-01-10 09:00", tz="UTC")  # GMT
    assert "2 linked to the order they undo, 1 to the customer only" in report.summary()


def test_lines_without_customer_are_quarantined_with_a_reason(workspace):
    report = ingest(workspace, SHOP)
    assert report.quarantine["reason"].tolist() == [_orders.NO_CUSTOMER_REASON]
    assert report.quarantine["row_number"].tolist() == [9]
    stored = workspace.table("quarantine")
    assert stored["table_name"].tolist() == ["orders"]
    assert json.loads(stored["raw"].iloc[0])["InvoiceNo"] == "3001"


def test_reingest_is_idempotent(workspace):
    ingest(workspace, SHOP)
    before = events(workspace)
    again = ingest(workspace, SHOP)
    assert (again.rows_loaded, again.rows_duplicate, again.rows_quarantined) == (0, 8, 1)
    pd.testing.assert_frame_equal(events(workspace), before)
    assert len(workspace.table("order_lines")) == 8


def test_a_later_file_adds_lines_to_a_stored_order(workspace):
    ingest(workspace, SHOP.iloc[:2])
    report = ingest(workspace, SHOP.iloc[:3])
    assert (report.rows_loaded, report.rows_duplicate) == (1, 2)
    got = events(workspace)
    assert list(got.index) == ["order-1001"]
    assert got.loc["order-1001", "value"] == pytest.approx(25.0)


def test_an_order_of_two_customers_quarantines_the_other_lines(workspace):
    frame = lines(
        ("1", "A", 1, "2011-01-10 09:00:00", 1.0, "c1"),
        ("1", "B", 1, "2011-01-10 09:00:00", 1.0, "c2"),
    )
    report = ingest(workspace, frame)
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    assert report.quarantine["reason"].iloc[0] == "order 1 belongs to subscriber c1 (first on row 1)"
    later = ingest(workspace, lines(("1", "C", 1, "2011-01-10 09:00:00", 1.0, "c3")))
    assert (later.rows_loaded, later.rows_quarantined) == (0, 1)
    assert "order 1 is stored for subscriber c1" in later.quarantine["reason"].iloc[0]


def test_order_totals_without_quantities(workspace):
    frame = pd.DataFrame({
        "order": ["o1", "o2", "o3"], "customer": ["c1", "c1", "c2"],
        "date": ["2011-01-01T10:00Z", "2011-02-01T10:00Z", "2011-01-05T10:00Z"],
        "total": ["19.90", "-5", "7"],
    })  # fmt: skip
    mapping = {"order_id": "order", "subscriber_id": "customer", "ts": "date", "value": "total"}
    report = ingest(workspace, frame, mapping=mapping)
    assert report.rows_loaded == 3
    got = events(workspace)
    assert got["event_type"].to_dict() == {"order-o1": "purchase", "order-o2": "refund",
                                           "order-o3": "purchase"}
    assert got["value"].sum() == pytest.approx(21.9)


def test_order_lines_need_a_value(workspace):
    frame = SHOP.drop(columns="UnitPrice")
    mapping = {k: v for k, v in MAPPING.items() if k != "unit_price"}
    with pytest.raises(InputError, match="need a value column or both quantity and unit_price; "
                                         "missing: unit_price"):
        ingest(workspace, frame, mapping=mapping)


def test_a_line_without_price_is_quarantined(workspace):
    frame = SHOP.iloc[:2].astype({"UnitPrice": object})
    frame.loc[1, "UnitPrice"] = None
    report = ingest(workspace, frame)
    assert report.quarantine["reason"].tolist() == [_orders.NO_VALUE_REASON]


def test_a_failure_while_writing_events_rolls_everything_back(workspace, monkeypatch):
    def boom(con):
        raise RuntimeError("killed")

    monkeypatch.setattr(_orders, "_rebuild_events", boom)
    with pytest.raises(RuntimeError):
        ingest(workspace, SHOP)
    assert workspace.table("order_lines").empty and workspace.table("events").empty
    assert workspace.table("ingest_log").empty


def test_constants_fill_a_column_on_any_ingest(workspace):
    frame = pd.DataFrame({"customer": ["a", "b"], "when": ["2024-01-01T10:00Z", "2024-01-02T10:00Z"],
                          "amount": [10.0, 20.0]})
    report = workspace.ingest("events", frame, mapping={"subscriber_id": "customer", "ts": "when",
                                                        "value": "amount"},
                              constants={"event_type": "purchase", "channel": "shop"})
    assert report.rows_loaded == 2
    got = workspace.table("events")
    assert set(got["event_type"]) == {"purchase"}
    assert json.loads(got["properties"].iloc[0]) == {"channel": "shop"}
    log = json.loads(workspace.table("ingest_log")["options"].iloc[0])
    assert log["set"] == {"event_type": "purchase", "channel": "shop"}


def test_a_constant_may_not_replace_a_source_column(workspace):
    frame = pd.DataFrame({"subscriber_id": ["a"], "Event_Type": ["open"], "ts": ["2024-01-01T10:00Z"]})
    with pytest.raises(InputError, match="--set event_type=... names a column the file already has"):
        workspace.ingest("events", frame, constants={"event_type": "purchase"})


def test_events_path_nets_returns_as_refunds(workspace):
    frame = pd.DataFrame({
        "subscriber_id": ["a", "a", "a", "b"],
        "event_type": ["purchase", "purchase", "refund", "open"],
        "ts": ["2024-01-01T10:00Z", "2024-01-02T10:00Z", "2024-01-03T10:00Z", "2024-01-03T10:00Z"],
        "value": [30.0, -10.0, 5.0, -1.0],
    })  # fmt: skip
    report = workspace.ingest("events", frame)
    assert (report.rows_loaded, report.rows_quarantined) == (3, 1)
    assert "only refunds" in report.quarantine["reason"].iloc[0]
    got = workspace.table("events").sort_values("ts")
    assert got["event_type"].tolist() == ["purchase", "refund", "refund"]
    assert got["value"].tolist() == [30.0, -10.0, -5.0]
    assert "1 purchase(s) with a negative value loaded as refunds" in report.summary()


def test_chunks_give_the_whole_file_result(tmp_path, monkeypatch):
    """Read in chunks of two lines, a file gives exactly the lines, ids, events, links and
    quarantine of one whole read: an order's owner, identical lines and the order a
    cancellation undoes are settled across chunk boundaries; a forgotten subscriber's lines
    are skipped but still settle the order's owner, as in a whole read."""
    from segkit.io import Workspace, _read
    from segkit.privacy import forget

    rows = lines(
        *SHOP.itertuples(index=False, name=None),
        ("1001", "C", 1, "2011-01-10 09:00:00", 1.00, "c9"),  # order 1001 belongs to c1 (row 1)
        ("1001", "B", 1, "2011-01-10 09:00:00", 10.00, "c1"),  # a third identical line
        ("C1001", "A", -2, "2011-04-01 09:00:00", 2.50, "c1"),  # cancels order 1001 by number
        ("4001", "K", 1, "2011-01-13 10:00:00", 3.00, "gone"),  # a forgotten subscriber ...
        ("4001", "K", 1, "2011-01-13 10:00:00", 3.00, "c3"),  # ... still owns order 4001
        ("5001", "K", 2, "2011-01-14 10:00:00", 3.00, "c3"),
    )
    path = tmp_path / "lines.csv"
    rows.to_csv(path, index=False)
    results = {}
    for chunk_rows in (10**6, 2):
        monkeypatch.setattr(_read, "CHUNK_ROWS", chunk_rows)
        with Workspace(tmp_path / f"ws{chunk_rows}.duckdb") as ws:
            ws.ingest("subscribers", pd.DataFrame({"subscriber_id": ["gone"]}))
            forget(ws, ["gone"], compact=False)
            report = ws.ingest("orders", path, mapping=MAPPING, tz="Europe/London")
            again = ws.ingest("orders", path, mapping=MAPPING, tz="Europe/London")
            results[chunk_rows] = (
                (report.rows_read, report.rows_loaded, report.rows_duplicate,
                 report.rows_quarantined, report.rows_suppressed),
                (again.rows_loaded, again.rows_duplicate, again.rows_quarantined),
                report.quarantine, report.notes,
                ws.table("order_lines").drop(columns="ingest_id").sort_values("line_id")
                .reset_index(drop=True),
                events(ws),
                ws.connection.execute("SELECT row_number, reason, raw FROM quarantine "
                                      "ORDER BY ingest_id, row_number").fetchall(),
            )
    whole, chunked = results[10**6], results[2]
    assert whole[0] == (15, 11, 0, 3, 1)  # a line without customer, two naming another
    assert whole[1] == (0, 11, 3)
    assert "order 1001 belongs to subscriber c1 (first on row 1)" in set(whole[2]["reason"])
    assert whole[4]["line_id"].str.endswith("-2").sum() == 1  # the 3rd B of order 1001
    assert whole[5].loc["order-C1001", "properties"]["refunds_order"] == "1001"
    assert "order 4001 belongs to subscriber gone (first on row 13)" in set(whole[2]["reason"])
    assert "order-5001" in whole[5].index and "gone" not in set(whole[4]["subscriber_id"])
    for got, expected in zip(chunked, whole, strict=True):
        if isinstance(got, pd.DataFrame):
            pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
        else:
            assert got == expected
