"""The real public datasets vendored with segkit, verified by SHA-256 on every load.

Provenance and formats: ``segkit/datasets/data/PROVENANCE.md``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from importlib import resources

import pandas as pd

from segkit.errors import InputError

__all__ = ["cdnow", "cdnow_raw", "hillstrom", "online_retail"]

#: SHA-256 as published in the data README: of the original (uncompressed) file, or of the
#: gzip itself for a name ending in ``.gz`` (vendored byte for byte).
CHECKSUMS = {
    "CDNOW_master.txt": "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    "hillstrom.csv": "5dcfc1c792b2da9ce0cf6ef62eafd1d6f58ba85568f56bab09b68b4c6b5c1477",
    "online_retail.csv.gz": "31d7905780e7fb2b98ace8f2058ac2989feccec79840b5d85f6b608a65dc89b2",
}

#: The Online Retail columns as published, text ones read as strings (``CustomerID`` too).
_ONLINE_RETAIL_TEXT = ("InvoiceNo", "StockCode", "Description", "CustomerID", "Country")

HILLSTROM_EXPERIMENT_ID = "hillstrom_2008"
HILLSTROM_CONTROL_ARM = "No E-Mail"


def _verified_bytes(name: str) -> bytes:
    """The decompressed bytes of a vendored file, checked against its published checksum (of the
    gzip itself when ``name`` ends in ``.gz``, else of the decompressed file)."""
    packed_name = name if name.endswith(".gz") else f"{name}.gz"
    with resources.files("segkit.datasets").joinpath(f"data/{packed_name}").open("rb") as handle:
        packed = handle.read()
    checked = packed if name.endswith(".gz") else gzip.decompress(packed)
    digest = hashlib.sha256(checked).hexdigest()
    if digest != CHECKSUMS[name]:
        raise InputError(
            f"vendored dataset {name} is corrupted: SHA-256 {digest}, expected {CHECKSUMS[name]}; "
            "reinstall segkit"
        )
    return gzip.decompress(packed) if name.endswith(".gz") else checked


def cdnow_raw() -> pd.DataFrame:
    """The CDNOW master file as published: one row per purchase record.

    Columns: ``customer_id`` (zero-padded string), ``date`` (datetime64), ``number_of_cds`` (int),
    ``dollar_value`` (float). 69,659 rows for 23,570 customers (first purchase in Q1 1997, observed
    through 1998-06-30).
    """
    frame = pd.read_csv(
        io.BytesIO(_verified_bytes("CDNOW_master.txt")),
        sep=r"\s+",
        dtype={"customer_id": str, "date": str, "number_of_cds": "int64", "dollar_value": "float64"},
    )
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def cdnow() -> pd.DataFrame:
    """The CDNOW transaction log as canonical ``purchase`` events.

    Columns: ``event_id`` (``cdnow-<line>``, stable), ``subscriber_id`` (the zero-padded customer
    id), ``event_type`` ("purchase"), ``ts`` (purchase date at 00:00 UTC), ``campaign_id`` (null),
    ``value`` (dollars), ``properties`` (JSON ``{"quantity": number_of_cds}``).

    Several purchases on one day stay separate rows; RFM features count them as one repeat
    purchase, as Fader, Hardie & Lee do.
    """
    raw = cdnow_raw()
    return pd.DataFrame(
        {
            "event_id": [f"cdnow-{i + 1}" for i in range(len(raw))],
            "subscriber_id": raw["customer_id"],
            "event_type": "purchase",
            "ts": raw["date"].dt.tz_localize("UTC"),
            "campaign_id": pd.Series([None] * len(raw), dtype="string"),
            "value": raw["dollar_value"],
            "properties": [f'{{"quantity": {q}}}' for q in raw["number_of_cds"]],
        }
    )


def hillstrom() -> pd.DataFrame:
    """The Hillstrom (MineThatData 2008) email experiment: assignments and outcomes in one table.

    One row per customer (64,000). ``subscriber_id`` (``h00001``...), ``experiment_id``
    ("hillstrom_2008") and ``arm`` (the source's ``segment``: "Mens E-Mail", "Womens E-Mail",
    "No E-Mail" — the control) come first, then the source's covariates (``recency``,
    ``history_segment``, ``history``, ``mens``, ``womens``, ``zip_code``, ``newbie``,
    ``channel``) and two-week outcomes (``visit``, ``conversion``, ``spend``), unchanged.
    """
    raw = pd.read_csv(io.BytesIO(_verified_bytes("hillstrom.csv")))
    ids = pd.Series([f"h{i + 1:05d}" for i in range(len(raw))], name="subscriber_id")
    front = pd.DataFrame(
        {"subscriber_id": ids, "experiment_id": HILLSTROM_EXPERIMENT_ID, "arm": raw["segment"]}
    )
    return pd.concat([front, raw.drop(columns="segment")], axis=1)


def online_retail() -> pd.DataFrame:
    """The UCI "Online Retail" invoice lines as published (Chen, Sain & Guo 2012; CC BY 4.0).

    One row per invoice line of a UK online gift retailer, 2010-12-01 to 2011-12-09: 541,909 lines,
    25,900 invoices, 4,372 customer ids. Columns as published: ``InvoiceNo``, ``StockCode``,
    ``Description``, ``CustomerID``, ``Country`` (strings; ``CustomerID`` and ``Description`` are
    missing on some lines), ``Quantity`` (int), ``InvoiceDate`` (naive datetime64, UK local
    time) and ``UnitPrice`` (GBP float). Nothing is cleaned: cancellations (``InvoiceNo``
    starting with "C", negative ``Quantity``), the 135,080 lines without a customer and zero or
    negative prices are all here. ``segkit ingest orders`` / ``Workspace.ingest("orders", ...)``
    turns them into one purchase per invoice with cancellations netted as refunds.
    """
    frame = pd.read_csv(
        io.BytesIO(_verified_bytes("online_retail.csv.gz")),
        dtype={**dict.fromkeys(_ONLINE_RETAIL_TEXT, "string"), "Quantity": "int64",
               "UnitPrice": "float64"},
        keep_default_na=False,
        na_values={"CustomerID": [""], "Description": [""]},
    )
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"], format="%Y-%m-%d %H:%M:%S")
    return frame
