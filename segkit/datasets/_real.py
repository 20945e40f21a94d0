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

__all__ = ["cdnow", "cdnow_raw", "hillstrom"]

#: SHA-256 of the original (uncompressed) files, as published in the data README.
CHECKSUMS = {
    "CDNOW_master.txt": "eff6889ed364c5199d6eacbbeb7a6d559971df4406ac876f322c373f00a072ef",
    "hillstrom.csv": "5dcfc1c792b2da9ce0cf6ef62eafd1d6f58ba85568f56bab09b68b4c6b5c1477",
}

HILLSTROM_EXPERIMENT_ID = "hillstrom_2008"
HILLSTROM_CONTROL_ARM = "No E-Mail"


def _verified_bytes(name: str) -> bytes:
    """Decompress a vendored file and check it against its published checksum."""
    with resources.files("segkit.datasets").joinpath(f"data/{name}.gz").open("rb") as handle:
        raw = gzip.decompress(handle.read())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != CHECKSUMS[name]:
        raise InputError(
            f"vendored dataset {name} is corrupted: SHA-256 {digest}, expected {CHECKSUMS[name]}; "
            "reinstall segkit"
        )
    return raw


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
