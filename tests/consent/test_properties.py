"""Property: whatever the as-of date and whenever people unsubscribe, re-subscribe, complain or
bounce, no export path writes a subscriber who is ineligible in the latest state.

The reference is a plain loop over each subscriber's history, written independently of the gate's
vectorised pandas; the paths are the Python functions behind every export (segment exports, the
explorer's, trigger audiences, send-time files)."""

from __future__ import annotations

import os

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segkit.consent import consent_events, eligible
from segkit.segments import export_segment, parse_rules, trigger_audience
from segkit.sendtime import EXPORT_COLUMNS, export_send_times

RULES = parse_rules("segments:\n  - name: everyone\n    where: tenure_days >= 0\n")
START = pd.Timestamp("2023-01-01", tz="UTC")
#: A coarse grid of instants (days), so ties between events are common.
DAYS = st.integers(min_value=0, max_value=60).map(lambda d: START + pd.Timedelta(days=10 * d))
TYPES = ("unsubscribe", "subscribe", "complaint", "hard_bounce", "soft_bounce", "bounce",
         "delivery", "open", "click", "send", "purchase")
IDS = [f"s{i}" for i in range(6)]
#: Examples per run (``SEGKIT_CONSENT_EXAMPLES=2000`` searches harder).
EXAMPLES = int(os.environ.get("SEGKIT_CONSENT_EXAMPLES", "40"))
RESETS = {"delivery", "open", "click"}


@st.composite
def histories(draw):
    n = draw(st.integers(min_value=1, max_value=len(IDS)))
    ids = IDS[:n]
    subscribers = pd.DataFrame({
        "subscriber_id": ids,
        "email": [f"{i}@example.org" for i in ids],
        "consent": pd.array(draw(st.lists(st.sampled_from([True, True, False, None]), min_size=n, max_size=n)),
                            dtype="boolean"),
        "unsubscribed_at": pd.to_datetime(
            draw(st.lists(st.none() | DAYS, min_size=n, max_size=n)), utc=True).astype("datetime64[us, UTC]"),
        "signup_at": pd.to_datetime(draw(st.lists(DAYS, min_size=n, max_size=n)), utc=True),
    })
    rows = draw(st.lists(st.tuples(st.sampled_from([*ids, "ghost"]), st.sampled_from(TYPES), DAYS), max_size=25))
    events = pd.DataFrame(rows, columns=["subscriber_id", "event_type", "ts"])
    events["ts"] = pd.to_datetime(events["ts"], utc=True)
    suppressed = draw(st.lists(st.sampled_from([*ids, *(f"{i.upper()}@EXAMPLE.ORG" for i in ids)]), max_size=2))
    return subscribers, events, suppressed


def ineligible_latest(subscribers: pd.DataFrame, events: pd.DataFrame, suppressed: list[str],
                      limit: int) -> set[str]:
    """Who may not be emailed in the latest state, one subscriber at a time."""
    blocked = set()
    keys = {s.lower() for s in suppressed}
    for row in subscribers.itertuples():
        mine = sorted(((e.ts, e.event_type) for e in events.itertuples() if e.subscriber_id == row.subscriber_id),
                      key=lambda pair: (pair[0], pair[1] == "soft_bounce"))  # at a tie, the bounce comes last
        outs = [t for t, kind in mine if kind == "unsubscribe"]
        if not pd.isna(row.unsubscribed_at):
            outs.append(row.unsubscribed_at)
        resubscribed = bool(outs) and any(kind == "subscribe" and t > max(outs) for t, kind in mine)
        run = 0
        for _, kind in mine:
            run = 0 if kind in RESETS else run + (kind == "soft_bounce")
        consented = row.consent is not pd.NA and bool(row.consent)
        if ((outs and not resubscribed) or not consented
                or any(kind in ("complaint", "hard_bounce", "bounce") for _, kind in mine)
                or run >= limit or row.subscriber_id in keys or row.email.lower() in keys):
            blocked.add(row.subscriber_id)
    return blocked


def features_at(subscribers: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """A feature table as of ``as_of``: subscribers who had signed up, and an id with events only."""
    known = subscribers[subscribers["signup_at"] <= as_of]
    tenure = (as_of - known["signup_at"]).dt.total_seconds().to_numpy() / 86400
    frame = pd.DataFrame({"tenure_days": [*tenure, 1.0]},
                         index=pd.Index([*known["subscriber_id"], "ghost"], name="subscriber_id"))
    frame = frame.assign(days_since_last_open=float("nan"), revenue_365d=0.0, open_rate_30d=0.0,
                         open_rate_365d=0.0)
    frame.attrs["as_of"] = as_of.isoformat()
    return frame


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), as_of=DAYS, limit=st.integers(min_value=1, max_value=4))
def test_no_export_path_writes_anyone_ineligible_today(history, as_of, limit):
    subscribers, events, suppressed = history
    blocked = ineligible_latest(subscribers, events, suppressed, limit) | {"ghost"}
    features = features_at(subscribers, as_of)
    members = set(features.index)
    expected = members - blocked

    segment = export_segment("everyone", features, subscribers, rules=RULES, events=events,
                             suppressed=suppressed, soft_bounce_limit=limit)
    assert set(segment.audience["subscriber_id"]) == expected
    assert segment.consent.counts.sum() == len(segment.consent.excluded) == len(members - expected)

    triggered = trigger_audience(features, events, subscribers, as_of, inactive_days=0, triggers=["inactivity"],
                                 suppressed=suppressed, soft_bounce_limit=limit)
    assert set(triggered.table["subscriber_id"]) == expected

    recs = pd.DataFrame({"subscriber_id": sorted(members), "recommended_utc_hour": 9,
                         "recommended_local_hour": 9, "timezone": "UTC"})
    table, gate = export_send_times(recs[list(EXPORT_COLUMNS)], subscribers, events=events,
                                    suppressed=suppressed, soft_bounce_limit=limit)
    assert set(table["subscriber_id"]) == expected

    # the events the explorer keeps decide the same (tests/consent/test_state.py: the workspace's)
    ids = subscribers["subscriber_id"]
    full = eligible(ids, subscribers, events=events, soft_bounce_limit=limit).to_frame()
    kept = eligible(ids, subscribers, events=consent_events(events), soft_bounce_limit=limit).to_frame()
    pd.testing.assert_frame_equal(full, kept)
