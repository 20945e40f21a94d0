"""The synthetic generator: determinism, canonical shape, realism of the subscriber list."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from segkit._schema import EVENT_TYPES, TABLES
from segkit.datasets import SyntheticTruth, synthetic
from segkit.datasets._truth import CATEGORIES, PERSONAS, ZONES
from segkit.errors import ValidationError


def test_same_seed_same_tables_and_other_seed_differs():
    first, again, other = synthetic(300, 5), synthetic(300, 5), synthetic(300, 6)
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, again.tables()[name])
    pd.testing.assert_frame_equal(first.truth.subscribers, again.truth.subscribers)
    pd.testing.assert_frame_equal(first.truth.experiment.lifts, again.truth.experiment.lifts)
    assert not first.events["ts"].equals(other.events["ts"])


@pytest.mark.parametrize("name", ["events", "subscribers", "campaigns", "assignments"])
def test_tables_have_the_canonical_columns(data, name):
    table = data.tables()[name]
    expected = [c for c in TABLES[name].column_names if c != "machine_open"]  # derived at ingest
    assert list(table.columns) == expected
    for column in table.columns:
        if column.endswith("_id") or column in {"email", "name", "event_type", "timezone", "arm"}:
            assert table[column].dtype == "str", column
        if column in {"ts", "signup_at", "sent_at", "unsubscribed_at", "assigned_at"}:
            assert isinstance(table[column].dtype, pd.DatetimeTZDtype), column
            assert str(table[column].dt.tz) == "UTC", column
    for column in TABLES[name].required:
        assert table[column].notna().all(), column
    for column in TABLES[name].key:
        assert not table.duplicated(list(TABLES[name].key)).any(), column


def test_events_are_valid_and_inside_the_period(data):
    events, truth = data.events, data.truth
    assert events["event_type"].isin(EVENT_TYPES).all()
    assert {
        "send",
        "open",
        "click",
        "purchase",
        "unsubscribe",
        "web_visit",
        "product_view",
        "cart_add",
    } <= set(events["event_type"])
    assert events["ts"].min() >= truth.start and events["ts"].max() < truth.end
    assert events["ts"].is_monotonic_increasing
    assert events["subscriber_id"].isin(data.subscribers["subscriber_id"]).all()
    assert events["campaign_id"].dropna().isin(data.campaigns["campaign_id"]).all()
    purchases = events["event_type"] == "purchase"
    assert (events.loc[purchases, "value"] > 0).all()
    assert events.loc[~purchases, "value"].isna().all()
    email = events["event_type"].isin(["send", "open", "click", "unsubscribe"])
    assert events.loc[email, "campaign_id"].notna().all()


def test_properties_are_json_with_categories_where_expected(data):
    events = data.events
    for event_type in ("product_view", "cart_add", "purchase", "click"):
        props = events.loc[events["event_type"] == event_type, "properties"]
        assert props.notna().all(), event_type
        assert {json.loads(p)["category"] for p in props.unique()} <= set(CATEGORIES)
    for text in events["properties"].dropna().unique():
        assert isinstance(json.loads(text), dict)


def test_category_preference_shows_in_behaviour(data):
    events = data.events
    views = events[events["event_type"] == "product_view"]
    category = views["properties"].map(lambda p: json.loads(p)["category"])
    favorite = (
        data.truth.subscribers["favorite_category"].reindex(views["subscriber_id"]).to_numpy()
    )
    assert (category.to_numpy() == favorite).mean() > 0.55


def test_subscriber_list_is_realistic(data):
    subs = data.subscribers
    assert subs["email"].is_unique
    assert subs["email"].str.fullmatch(r"[a-z]+\d+@([a-z]+\.)?example\.(com|org|net)").all()
    assert (subs["signup_at"] < data.truth.start).mean() > 0.5
    assert (subs["signup_at"] >= data.truth.start).mean() > 0.1
    assert 0.005 < subs["timezone"].isna().mean() < 0.08
    assert set(subs["timezone"].dropna()) <= {z[0] for z in ZONES}
    assert 0.01 < (~subs["consent"]).mean() < 0.1
    assert subs["unsubscribed_at"].notna().any()
    attributes = subs["attributes"].map(json.loads)
    country_of = {zone: country for zone, country, _ in ZONES}
    true_zone = data.truth.subscribers["true_timezone"].to_numpy()
    assert [a["country"] for a in attributes] == [country_of[z] for z in true_zone]
    assert {"signup_source", "first_name"} <= set(attributes.iloc[0])


def test_campaigns_vary_in_hour_and_volume(data):
    campaigns = data.campaigns
    regular = campaigns[campaigns["experiment_id"].isna()]
    assert regular["sent_at"].dt.hour.nunique() >= 10
    per_week = regular.groupby(regular["sent_at"].dt.isocalendar().week).size()
    assert 2.0 <= per_week.mean() <= 4.0 and per_week.max() > per_week.min()
    assert campaigns["name"].notna().all()


def test_truth_is_complete(data):
    truth = data.truth
    assert isinstance(truth, SyntheticTruth)
    frame = truth.subscribers
    assert list(frame.index) == list(data.subscribers["subscriber_id"])
    assert set(frame["persona"]) == set(PERSONAS)
    assert frame["persona"].value_counts(normalize=True).min() > 0.05
    assert frame["preferred_local_hour"].between(0, 23).all()
    assert 0.15 <= frame["machine_opener"].mean() <= 0.25
    assert "BG/NBD (weeks)" in truth.summary() and "fatigue cap 3" in truth.summary()
    assert truth.bgnbd.time_unit == "weeks"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_subscribers": 10}, "n_subscribers must be an integer >= 50"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"start": "2024-01-01", "end": "2024-02-01"}, "at least 12 weeks"),
        ({"start": "not a date"}, "start must be a date"),
        ({"machine_open_share": 1.5}, r"machine_open_share must be in \[0, 1\]"),
        ({"fatigue_weekly_cap": 0}, r"fatigue_weekly_cap must be an integer in \[1, 5\]"),
        ({"campaigns_per_week": 9}, r"campaigns_per_week must be in \[1, 6\]"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        synthetic(**kwargs)


def test_other_periods_and_shares_work():
    small = synthetic(200, 1, start="2023-03-01", end="2023-07-01", machine_open_share=0.0)
    assert small.events["ts"].min() >= pd.Timestamp("2023-03-01", tz="UTC")
    assert small.events["ts"].max() < pd.Timestamp("2023-07-01", tz="UTC")
    assert len(small.truth.machine_open_event_ids) == 0
    assert not np.any(small.truth.subscribers["machine_opener"])
