"""Regenerate the bad-input corpus (run from anywhere: ``python tests/data/bad/make_corpus.py``).

Each file is one malformed input; ``tests/cli/test_bad_corpus.py`` lists the expected exit code,
message fragment and counts for every file. The files are committed; this script documents how
each was made (some contain bytes an editor would "fix").
"""

from __future__ import annotations

import gzip
from pathlib import Path

HERE = Path(__file__).parent
HEADER = "event_id,subscriber_id,event_type,ts,campaign_id,value\n"

FILES: dict[str, bytes] = {
    "bom.csv": b"\xef\xbb\xbf" + (
        HEADER
        + "e1,s1,send,2024-01-01T10:00:00Z,c1,\n"
        + "e2,s1,open,2024-01-01T11:00:00Z,c1,\n"
        + "e3,s2,purchase,2024-01-02T09:00:00Z,,25.5\n"
    ).encode(),
    "semicolon.csv": (
        HEADER.replace(",", ";")
        + "e1;s1;send;2024-01-01T10:00:00Z;c1;\n"
        + "e2;s1;purchase;2024-01-01T12:00:00Z;;12,5\n"
        + "e3;s2;open;2024-01-01T11:00:00Z;c1;\n"
    ).encode(),
    "mixed_offsets.csv": (
        HEADER
        + "e1,s1,open,2024-03-01T10:00:00Z,c1,\n"
        + "e2,s1,open,2024-03-01T12:00:00+02:00,c1,\n"
        + "e3,s1,open,2024-03-01 05:00:00-05:00,c1,\n"
    ).encode(),
    "naive_timestamps.csv": (
        HEADER
        + "e1,s1,open,2024-07-01 10:00:00,c1,\n"
        + "e2,s2,open,2024-07-01 11:30:00,c1,\n"
    ).encode(),
    "unparseable_dates.csv": (
        HEADER
        + "e1,s1,open,yesterday,c1,\n"
        + "e2,s1,open,2024-13-45T00:00:00Z,c1,\n"
        + "e3,s1,open,01/02/2024 10:00+01:00,c1,\n"
        + "e4,s1,open,2024-02-01T10:00:00Z,c1,\n"
    ).encode(),
    "negative_amounts.csv": (
        HEADER
        + "e1,s1,purchase,2024-01-01T10:00:00Z,,-5\n"
        + "e2,s1,purchase,2024-01-02T10:00:00Z,,10\n"
        + "e3,s1,purchase,2024-01-03T10:00:00Z,,abc\n"
        + "e4,s1,purchase,2024-01-04T10:00:00Z,,$12\n"
    ).encode(),
    "nan_ids.csv": (
        HEADER
        + "e1,NaN,open,2024-01-01T10:00:00Z,c1,\n"
        + "e2,,open,2024-01-01T10:00:00Z,c1,\n"
        + "e3,null,open,2024-01-01T10:00:00Z,c1,\n"
        + "e4,s4,open,2024-01-01T10:00:00Z,c1,\n"
    ).encode(),
    "duplicate_ids.csv": (
        HEADER
        + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n"
        + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n"
        + "e1,s2,click,2024-01-01T10:05:00Z,c1,\n"
        + "e2,s2,open,2024-01-01T10:00:00Z,c1,\n"
    ).encode(),
    "unknown_event_types.csv": (
        HEADER
        + "e1,s1,opened,2024-01-01T10:00:00Z,c1,\n"
        + "e2,s1,Email-Open,2024-01-01T10:01:00Z,c1,\n"
        + "e3,s1,teleport,2024-01-01T10:02:00Z,c1,\n"
        + "e4,s1,ADD TO CART,2024-01-01T10:03:00Z,,\n"
    ).encode(),
    "huge_values.csv": (
        HEADER
        + "e1,s1,purchase,2024-01-01T10:00:00Z,,1e400\n"
        + "e2,s1,purchase,2024-01-01T11:00:00Z,,5e12\n"
        + "e3,s1,purchase,2024-01-01T12:00:00Z,,99.5\n"
    ).encode(),
    "latin1.csv": (
        HEADER + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n" + "e2,s\xe9bastien,open,2024-01-01T10:00:00Z,c1,\n"
    ).encode("latin-1"),
    "empty.csv": b"",
    "header_only.csv": HEADER.encode(),
    "extra_columns.csv": (
        "event_id,subscriber_id,event_type,ts,campaign_id,user_agent,category\n"
        + "e1,s1,send,2024-01-01T10:00:00Z,c1,,\n"
        + 'e2,s1,open,2024-01-01T12:00:00Z,c1,"Mozilla/5.0 (compatible; Barracuda Sentinel)",\n'
        + "e3,s2,product_view,2024-01-01T12:00:00Z,,,shoes\n"
    ).encode(),
    "quoted_newlines.csv": (
        "event_id,subscriber_id,event_type,ts,campaign_id,note\n"
        + 'e1,s1,open,2024-01-01T10:00:00Z,c1,"first line\nsecond line"\n'
        + 'e2,s1,click,2024-01-01T10:05:00Z,c1,"a, quoted ""comma"""\n'
        + "e3,s1,bogus,2024-01-01T10:06:00Z,c1,plain\n"
    ).encode(),
    "ragged_rows.csv": (
        HEADER + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n" + "e2,s1,open,2024-01-01T10:00:00Z,c1,,extra,more\n"
    ).encode(),
    "missing_column.csv": (
        "event_id,subscriber_id,event_type,campaign_id\n" + "e1,s1,open,c1\n"
    ).encode(),
    "not_parquet.parquet": (HEADER + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n").encode(),
    "bad_properties.csv": (
        "event_id,subscriber_id,event_type,ts,properties\n"
        + 'e1,s1,open,2024-01-01T10:00:00Z,"{not json"\n'
        + 'e2,s1,open,2024-01-01T10:01:00Z,"[1, 2]"\n'
        + 'e3,s1,open,2024-01-01T10:02:00Z,"{""machine_open"": true}"\n'
    ).encode(),
    "dst_gap.csv": (
        HEADER
        + "e1,s1,open,2024-03-31 02:30:00,c1,\n"
        + "e2,s1,open,2024-03-31 03:30:00,c1,\n"
    ).encode(),
    "implausible_dates.csv": (
        HEADER
        + "e1,s1,open,0202-01-01T10:00:00Z,c1,\n"
        + "e2,s1,open,2999-01-01T10:00:00Z,c1,\n"
        + "e3,s1,open,2024-01-01T10:00:00Z,c1,\n"
    ).encode(),
    "bad_subscribers.csv": (
        "subscriber_id,email,signup_at,timezone,consent,plan\n"
        + "s1,a@example.com,2023-01-01T00:00:00Z,Europe/Paris,true,gold\n"
        + "s2,b@example.com,2023-01-01T00:00:00Z,Mars/Olympus_Mons,yes,\n"
        + "s3,c@example.com,2023-01-01T00:00:00Z,America/New_York,maybe,silver\n"
        + "s4,not-an-email,2023-01-01T00:00:00Z,UTC,no,\n"
    ).encode(),
    "assignments_unknown_subscriber.csv": (
        "experiment_id,subscriber_id,arm,assigned_at\n"
        + "x1,s1,control,2024-01-01T00:00:00Z\n"
        + "x1,ghost,treatment,2024-01-01T00:00:00Z\n"
        + "x1,s2,,2024-01-01T00:00:00Z\n"
    ).encode(),
    "zip_disguised.csv": b"PK\x03\x04" + b"\x00" * 40,
}


def main() -> None:
    for name, content in FILES.items():
        (HERE / name).write_bytes(content)
    full = gzip.compress((HEADER + "e1,s1,open,2024-01-01T10:00:00Z,c1,\n" * 200).encode())
    (HERE / "truncated.csv.gz").write_bytes(full[: len(full) // 2])


if __name__ == "__main__":
    main()
