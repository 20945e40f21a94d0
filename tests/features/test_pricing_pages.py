"""``pricing_page_visits_{W}d``: web visits whose properties page/url/path mentions pricing."""

from __future__ import annotations

import json

import pytest
from feature_data import AS_OF, duckdb_backend, make_events

from segkit.errors import ValidationError
from segkit.features import compute

PRICING = json.dumps({"page": "pricing"})
ROWS = [  # (subscriber, event type, ts, properties)
    ("a", "web_visit", "2024-06-29 10:00", PRICING),  # 30d
    ("a", "web_visit", "2024-06-20 10:00", json.dumps({"url": "https://shop.example/Pricing?x=1"})),
    ("a", "web_visit", "2024-05-10 10:00", json.dumps({"path": "/plans/pricing"})),  # 90d only
    ("a", "web_visit", "2024-06-28 10:00", json.dumps({"page": "home"})),  # another page
    ("a", "web_visit", "2024-06-28 11:00", None),  # no properties
    ("a", "product_view", "2024-06-28 12:00", PRICING),  # not a web visit
    ("a", "web_visit", "2024-06-28 13:00", json.dumps({"category": "pricing"})),  # not a page
    ("a", "web_visit", "2024-07-02 10:00", PRICING),  # after as_of
    ("b", "web_visit", "2023-12-01 10:00", PRICING),  # 365d only
]


def _events(rows):
    events = make_events([(s, t, ts, None, None, False) for s, t, ts, _ in rows])
    events["properties"] = [p for *_, p in rows]
    return events


@pytest.mark.parametrize("as_backend", [False, True])
def test_pricing_page_visits_per_window(as_backend: bool) -> None:
    events = _events(ROWS)
    source = duckdb_backend({"events": events}) if as_backend else {"events": events}
    frame = compute(source, AS_OF)
    got = frame[["pricing_page_visits_30d", "pricing_page_visits_90d", "pricing_page_visits_365d"]]
    assert got.loc["a"].tolist() == [2, 3, 3]
    assert got.loc["b"].tolist() == [0, 0, 1]
    assert frame.loc["a", "web_visits_30d"] == 5


def test_pricing_pages_from_json_column() -> None:
    """A workspace stores properties as JSON, not text: same counts."""
    import ibis

    events = _events(ROWS)
    con = ibis.duckdb.connect()
    con.con.register("frame_view", events)
    con.con.execute(
        "CREATE TABLE events AS SELECT * REPLACE (CAST(properties AS JSON) AS properties) "
        "FROM frame_view"
    )
    assert con.table("events").properties.type().is_json()
    frame = compute(con, AS_OF)
    assert frame.loc["a", "pricing_page_visits_90d"] == 3


def test_mapping_properties_are_refused() -> None:
    events = _events(ROWS[:1])
    events["properties"] = [{"page": "pricing"}]
    with pytest.raises(ValidationError, match="properties must be JSON text"):
        compute({"events": events}, AS_OF)


def test_no_properties_column_counts_zero() -> None:
    events = _events(ROWS).drop(columns="properties")
    frame = compute({"events": events}, AS_OF)
    assert (frame["pricing_page_visits_365d"] == 0).all()
