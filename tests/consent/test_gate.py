"""The consent gate: every exclusion reason from the latest state (never an as-of date), its
priority, re-subscribes, bounces, and the counts adding up."""

from __future__ import annotations

import pandas as pd
import pytest

from segkit.consent import DEFAULT_SOFT_BOUNCE_LIMIT, EXCLUSION_REASONS, consent_events, eligible
from segkit.errors import InputError, ValidationError

AS_OF = pd.Timestamp("2024-06-30", tz="UTC")


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def events_frame(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame({"subscriber_id": [r[0] for r in rows], "event_type": [r[1] for r in rows],
                         "ts": pd.to_datetime([r[2] for r in rows], utc=True, format="ISO8601")})


@pytest.fixture
def subscribers() -> pd.DataFrame:
    ids = ["ok", "unsub", "later", "noconsent", "nullconsent", "supp", "event_unsub", "complainer",
           "hard", "plain_bounce", "soft3"]
    return pd.DataFrame({
        "subscriber_id": ids,
        "email": [f"{i}@x.com" for i in ids[:5]] + ["Supp@X.com"] + [f"{i}@x.com" for i in ids[6:]],
        "consent": pd.array([True, True, True, False, None, True, True, True, True, True, True], dtype="boolean"),
        "unsubscribed_at": pd.to_datetime(
            [None, "2024-06-30", "2025-03-01", None, None, None, None, None, None, None, None], utc=True),
    })


@pytest.fixture
def events() -> pd.DataFrame:
    return events_frame(
        ("event_unsub", "unsubscribe", "2025-01-02"),  # long after any as-of date used below
        ("complainer", "complaint", "2025-02-01"),
        ("hard", "hard_bounce", "2023-01-01"),
        ("plain_bounce", "bounce", "2024-01-01"),
        ("soft3", "soft_bounce", "2024-05-01"), ("soft3", "soft_bounce", "2024-05-08"),
        ("soft3", "soft_bounce", "2024-05-15"),
        ("ok", "open", "2024-05-01"), ("ok", "soft_bounce", "2024-05-02"),
    )


def test_each_reason_is_applied_whatever_the_date(subscribers, events) -> None:
    result = eligible([*subscribers["subscriber_id"], "ghost"], subscribers, events=events,
                      suppressed=["supp@x.com"])
    assert list(result.eligible) == ["ok"]
    reasons = dict(zip(result.excluded["subscriber_id"], result.excluded["reason"], strict=True))
    assert reasons == {
        "unsub": "unsubscribed", "later": "unsubscribed", "event_unsub": "unsubscribed",
        "noconsent": "no consent", "nullconsent": "no consent", "supp": "suppressed",
        "complainer": "complained", "hard": "hard bounced", "plain_bounce": "hard bounced",
        "soft3": "soft bounced", "ghost": "not in the subscribers table",
    }
    assert result.counts.to_dict() == {
        "not in the subscribers table": 1, "unsubscribed": 3, "no consent": 2, "complained": 1,
        "hard bounced": 2, "soft bounced": 1, "suppressed": 1,
    }
    assert list(result.counts.index) == list(EXCLUSION_REASONS)
    assert result.counts.sum() == len(result.excluded) == 11
    assert len(result.to_frame()) == 12


def test_the_issue_labels_are_printed_with_counts_that_add_up(subscribers, events) -> None:
    result = eligible(subscribers["subscriber_id"], subscribers, events=events)
    text = result.summary()
    for label in ("unsubscribed", "no consent", "complained", "hard bounced", "suppressed",
                  "not in the subscribers table"):
        assert f" {label}" in text
    assert text.startswith("2 may be emailed, 9 excluded (0 not in the subscribers table, 3 unsubscribed, "
                           "2 no consent, 1 complained, 2 hard bounced, 1 soft bounced, 0 suppressed)")
    numbers = [int(part.split()[0]) for part in result.reasons().split(", ")]
    assert sum(numbers) == len(result.excluded) == 9
    assert "latest state" in text and "whatever the as-of date" in text


def test_the_gate_takes_no_as_of_date(subscribers) -> None:
    with pytest.raises(TypeError):
        eligible(["ok"], subscribers, AS_OF)  # type: ignore[misc]


def test_a_later_subscribe_lifts_an_unsubscribe_only(subscribers) -> None:
    events = events_frame(
        ("unsub", "subscribe", "2024-07-01"),  # after unsubscribed_at 2024-06-30: back in
        ("later", "subscribe", "2025-03-01"),  # same instant as unsubscribed_at: stays out
        ("event_unsub", "unsubscribe", "2024-01-01"), ("event_unsub", "subscribe", "2024-02-01"),
        ("event_unsub", "unsubscribe", "2024-03-01"),  # out again after the re-subscribe
        ("complainer", "complaint", "2024-01-01"), ("complainer", "subscribe", "2024-05-01"),
        ("hard", "hard_bounce", "2024-01-01"), ("hard", "subscribe", "2024-05-01"),
        ("ok", "subscribe", "2020-01-01"),
    )
    result = eligible(["unsub", "later", "event_unsub", "complainer", "hard", "ok"], subscribers,
                      events=events)
    assert list(result.eligible) == ["unsub", "ok"]
    assert result.excluded.set_index("subscriber_id")["reason"].to_dict() == {
        "later": "unsubscribed", "event_unsub": "unsubscribed", "complainer": "complained",
        "hard": "hard bounced"}


def test_soft_bounces_count_only_in_an_unbroken_run(subscribers) -> None:
    run = [("ok", "soft_bounce", f"2024-05-0{day}") for day in (1, 2, 3)]
    assert eligible(["ok"], subscribers, events=events_frame(*run[:2])).eligible.tolist() == ["ok"]
    assert eligible(["ok"], subscribers, events=events_frame(*run)).excluded["reason"].tolist() == ["soft bounced"]
    for reset in ("delivery", "open", "click"):  # a message that arrived ends the run
        broken = events_frame(*run[:2], ("ok", reset, "2024-05-02 12:00"), run[2])
        assert "ok" in eligible(["ok"], subscribers, events=broken).eligible
    for other in ("send", "purchase", "web_visit"):  # these prove nothing about delivery
        kept = events_frame(*run[:2], ("ok", other, "2024-05-02 12:00"), run[2])
        assert "ok" not in eligible(["ok"], subscribers, events=kept).eligible
    after = events_frame(*run, ("ok", "open", "2024-06-01"))  # an old run, then a delivery
    assert "ok" in eligible(["ok"], subscribers, events=after).eligible
    tie = events_frame(("ok", "delivery", "2024-05-01"), *run)  # a bounce at the same instant counts
    assert "ok" not in eligible(["ok"], subscribers, events=tie).eligible
    assert DEFAULT_SOFT_BOUNCE_LIMIT == 3
    assert "ok" in eligible(["ok"], subscribers, events=events_frame(*run), soft_bounce_limit=4).eligible
    assert "ok" not in eligible(["ok"], subscribers, events=events_frame(*run[:1]), soft_bounce_limit=1).eligible
    for bad in (0, -2, 2.5, True, "3"):
        with pytest.raises(ValidationError, match="soft_bounce_limit must be an integer >= 1"):
            eligible(["ok"], subscribers, soft_bounce_limit=bad)


def test_first_reason_wins_and_ids_suppress(subscribers, events) -> None:
    result = eligible(["unsub", "ok", "complainer"], subscribers, events=events,
                      suppressed=["unsub", "ok", "complainer"])
    assert result.excluded["reason"].tolist() == ["unsubscribed", "suppressed", "complained"]
    assert len(result.eligible) == 0


def test_without_events_only_the_table_counts(subscribers) -> None:
    result = eligible(["event_unsub", "later", "complainer"], subscribers)
    assert list(result.eligible) == ["event_unsub", "complainer"]
    assert result.excluded["reason"].tolist() == ["unsubscribed"]


def test_the_reduced_events_decide_the_same(subscribers, events) -> None:
    noise = events_frame(("ok", "purchase", "2024-05-03"), ("soft3", "send", "2024-05-20"),
                         ("soft3", "open", "2024-04-01"), ("hard", "click", "2024-01-01"))
    full = pd.concat([events, noise], ignore_index=True)
    reduced = consent_events(full)
    assert set(reduced["event_type"]) <= {"soft_bounce", "complaint", "hard_bounce", "bounce",
                                          "unsubscribe", "open"}
    assert len(reduced) == len(events) + 1  # plus soft3's open: the resets kept are ok's and soft3's
    ids = subscribers["subscriber_id"]
    pd.testing.assert_frame_equal(eligible(ids, subscribers, events=full).to_frame(),
                                  eligible(ids, subscribers, events=reduced).to_frame())


def test_input_checks(subscribers) -> None:
    with pytest.raises(InputError, match="lacks column.*consent"):
        eligible(["ok"], subscribers.drop(columns="consent"))
    with pytest.raises(InputError, match="repeats subscriber_id 'ok'"):
        eligible(["ok"], pd.concat([subscribers, subscribers.iloc[:1]]))
    with pytest.raises(InputError, match="events lack column.*ts"):
        eligible(["ok"], subscribers, events=pd.DataFrame({"subscriber_id": [], "event_type": []}))


def test_no_subscribers_cannot_prove_consent(subscribers) -> None:
    with pytest.raises(InputError, match="no subscribers table.*consent cannot be proven"):
        eligible(["ok"], subscribers.iloc[:0])
