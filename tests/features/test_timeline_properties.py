"""FeatureTimeline.at equals compute on small random event sets built to hit the edge cases.

Hypothesis draws a few anchor instants (UTC midnight, a year end, DST changes in New York and
Lord Howe, random microsecond times) and places every event, signup and unsubscription at an
anchor plus an offset that is often 0 (ties: same subscriber, campaign and time across streams),
one microsecond, a cart deadline or a window length. The as-of dates are event times, a
microsecond before them, window edges and cart deadlines after them, and random times.

``SEGKIT_TIMELINE_EXAMPLES=300`` searches harder than the default 25 examples.
"""

from __future__ import annotations

import os

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segkit.features import FeatureTimeline, compute

EXAMPLES = int(os.environ.get("SEGKIT_TIMELINE_EXAMPLES", "25"))
US = pd.Timedelta(microseconds=1)
DAY = pd.Timedelta(days=1)
#: Edge instants: UTC midnight, the last microsecond of a year, New York's spring-forward and
#: fall-back, Lord Howe's half-hour changes (April back to +10:30, October on to +11).
ANCHORS = [
    pd.Timestamp(text, tz="UTC")
    for text in (
        "2024-06-01 00:00",
        "2023-12-31 23:59:59.999999",
        "2024-03-10 07:00",
        "2024-11-03 06:00",
        "2024-04-06 15:00",
        "2024-10-05 15:30",
    )
]
FIRST = pd.Timestamp("2023-01-01", tz="UTC")
SPAN_US = int((pd.Timestamp("2025-12-31", tz="UTC") - FIRST) / US)
HOURS = (0.5, 2.5, 24.0, 48.0)
EVENT_TYPES = (
    "send", "open", "click", "purchase", "web_visit", "product_view", "cart_add",
    "unsubscribe", "refund", "survey",
)  # fmt: skip
PROPERTIES = (
    None,
    '{"page": "pricing"}',
    '{"url": "https://x/Pricing"}',
    '{"path":"/plans/PRICING?x=1"}',
    '{"page": "home"}',
    '{"ref": "pricing"}',
    "{}",
)
ZONES = (None, "UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe", "Europe/Berlin")
#: Purchase values: dyadic ones (negative refunds included) add up exactly in any order; the
#: decimal ones are positive, so sums in another order stay within the relative tolerance.
VALUES = {"exact": (0.0, 0.25, 2.5, 19.75, 100.0, -8.5), "decimal": (0.1, 0.2, 9.99, 19.5, 250.0)}

random_instant = st.integers(0, SPAN_US).map(lambda us: FIRST + us * US)


@st.composite
def offsets(draw, windows: tuple[int, ...], hours: float) -> pd.Timedelta:
    """Often 0 (ties), else one microsecond either way, a cart deadline, a window length or
    30 days, or anything up to 400 days (microsecond precision)."""
    return draw(
        st.one_of(
            st.just(pd.Timedelta(0)),
            st.sampled_from([US, -US, pd.Timedelta(hours=hours), 30 * DAY]),
            st.sampled_from([w * DAY for w in windows]),
            st.integers(-400 * 86_400 * 10**6, 400 * 86_400 * 10**6).map(lambda us: us * US),
        )
    )


def _value(draw, kind: str, values: tuple[float, ...]) -> float | None:
    """A purchase's value (maybe missing), a refund's negative value, else none."""
    if kind == "purchase":
        return draw(st.none() | st.sampled_from(values))
    if kind == "refund":
        return -abs(draw(st.sampled_from(values)))
    return None


@st.composite
def scenarios(draw):
    windows = tuple(sorted(draw(st.sets(st.integers(1, 400), min_size=1, max_size=4))))
    hours = draw(st.sampled_from(HOURS))
    anchors = draw(st.lists(st.sampled_from(ANCHORS) | random_instant, min_size=1, max_size=4))

    def instant() -> pd.Timestamp:
        return draw(st.sampled_from(anchors)) + draw(offsets(windows, hours))

    def maybe_instant() -> pd.Timestamp | None:
        return instant() if draw(st.booleans()) else None

    n_subscribers = draw(st.integers(1, 6))
    listed_ids = [f"s{i}" for i in range(n_subscribers)]
    # Each example uses a few of the ids ("ghost" has events but no subscribers row), event
    # types and campaigns, so repeats (the same campaign opened twice, ties) are common.
    ids = draw(
        st.just([*listed_ids, "ghost"])
        | st.sets(st.sampled_from([*listed_ids, "ghost"]), min_size=1).map(sorted)
    )
    kinds = draw(
        st.just(EVENT_TYPES) | st.sets(st.sampled_from(EVENT_TYPES), min_size=1).map(sorted)
    )
    campaigns = draw(st.sampled_from([(), ("c1",), ("c1", "c2"), ("c1", "c2", "c3")]))
    values = VALUES[draw(st.sampled_from(sorted(VALUES)))]
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(kinds))
        rows.append({
            "subscriber_id": draw(st.sampled_from(ids)),
            "event_type": kind,
            "ts": instant(),
            "campaign_id": draw(st.sampled_from([None, *campaigns])),
            "value": _value(draw, kind, values),
            "machine_open": draw(st.booleans()) if kind == "open" else False,
            "properties": draw(st.sampled_from(PROPERTIES)),
        })  # fmt: skip
    unit = draw(st.sampled_from(["us", "ns"]))
    events = pd.DataFrame(
        rows,
        columns=["subscriber_id", "event_type", "ts", "campaign_id", "value", "machine_open",
                 "properties"],
    )  # fmt: skip
    events["ts"] = pd.to_datetime(events["ts"], utc=True).astype(f"datetime64[{unit}, UTC]")
    events["value"] = events["value"].astype("float64")
    events["machine_open"] = events["machine_open"].astype(bool)
    events.insert(0, "event_id", [f"e{i}" for i in range(len(events))])
    source = {"events": events}
    if draw(st.integers(0, 4)):  # four times in five: a subscribers table
        subscribers = pd.DataFrame(
            {
                "subscriber_id": listed_ids,
                "signup_at": [maybe_instant() for _ in listed_ids],
                "timezone": [draw(st.sampled_from(ZONES)) for _ in listed_ids],
                "consent": [draw(st.sampled_from([True, False, None])) for _ in listed_ids],
                "unsubscribed_at": [maybe_instant() for _ in listed_ids],
            }
        )
        for column in ("signup_at", "unsubscribed_at"):
            subscribers[column] = pd.to_datetime(subscribers[column], utc=True).astype(
                f"datetime64[{unit}, UTC]"
            )
        subscribers["consent"] = subscribers["consent"].astype("boolean")
        subscribers["email"] = subscribers["subscriber_id"] + "@example.com"
        source["subscribers"] = subscribers

    # As-of dates at an event's time, a microsecond before it, its window edges, its cart
    # deadline (cart adds) or random.
    window_edges = [30 * DAY, *(w * DAY for w in windows)]
    edges = [(row["ts"], row["event_type"]) for row in rows] or [(t, "") for t in anchors]

    def edge() -> pd.Timestamp:
        ts, kind = draw(st.sampled_from(edges))
        after = [pd.Timedelta(0), -US, *window_edges]
        if kind == "cart_add":
            after = [pd.Timedelta(hours=hours), pd.Timedelta(hours=hours) - US, *after]
        return ts + draw(st.sampled_from(after))

    as_of_dates = [edge(), edge(), draw(random_instant) if draw(st.booleans()) else edge()]
    options = {
        "windows": windows,
        "cart_abandon_hours": hours,
        "rfm_unit": draw(st.sampled_from("DW")),
    }
    return source, options, as_of_dates


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_timeline_equals_compute_on_random_edge_cases(scenario):
    source, options, as_of_dates = scenario
    timeline = FeatureTimeline(source, **options)
    for as_of in as_of_dates:
        expected = compute(source, as_of, **options)
        got = timeline.at(as_of)
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9, atol=0)
        assert got.attrs == expected.attrs
