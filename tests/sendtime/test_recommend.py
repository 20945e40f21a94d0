"""recommend(): planted preferred hours, shrinkage, machine opens, exposure correction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import segkit.sendtime as sendtime
from segkit.errors import InputError, ValidationError
from segkit.sendtime import ENGAGEMENT_TIERS, recommend
from segkit.sendtime._evaluate import circular_distance
from segkit.sendtime._exposure import fit_delay_hour
from segkit.sendtime._inputs import with_machine_flag

from ._helpers import make_events, simulate_opens

REQUIRED = ["subscriber_id", "timezone", "recommended_local_hour", "recommended_utc_hour",
            "second_best_local_hour", "preferred_weekdays", "confidence", "n_opens", "source",
            "timezone_fallback"]


def test_all_is_sorted_and_complete():
    assert sendtime.__all__ == sorted(sendtime.__all__)
    public = {n for n in vars(sendtime) if not n.startswith("_")} - {"annotations"}
    assert public <= set(sendtime.__all__) | {"frequency"}
    for name in sendtime.__all__:
        assert getattr(sendtime, name) is not None


def test_columns_and_domains(recs, synth):
    assert set(REQUIRED) <= set(recs.columns)
    assert recs["subscriber_id"].is_unique and len(recs) == len(synth.subscribers)
    for col in ("recommended_local_hour", "recommended_utc_hour", "second_best_local_hour"):
        assert recs[col].between(0, 23).all()
    assert (recs["recommended_local_hour"] != recs["second_best_local_hour"]).all()
    assert recs["confidence"].between(0, 1).all()
    assert set(recs["source"]) <= {"personal", "segment", "global"}
    assert recs.attrs["as_of"].startswith("2025-01-01")
    assert recs.attrs["segments"] == "engagement tiers"
    assert set(recs["segment"]) <= {*ENGAGEMENT_TIERS, "none"}


def test_n_opens_counts_human_opens_only(synth):
    events = synth.events.assign(
        machine_open=synth.events["event_id"].isin(synth.truth.machine_open_event_ids))
    out = recommend({"events": events, "subscribers": synth.subscribers}, as_of="2025-01-01")
    human = events[(events["event_type"] == "open") & ~events["machine_open"]]
    expected = human.groupby("subscriber_id").size()
    got = out.set_index("subscriber_id")["n_opens"]
    pd.testing.assert_series_equal(got[got > 0].sort_index(), expected.sort_index(),
                                   check_names=False, check_dtype=False)


def test_missing_machine_flag_uses_the_ingest_rule(synth):
    """Raw events: the ingest rule flags every planted machine open except those in campaigns
    the subscriber clicked (the rule's documented exception), and never a human open."""
    flagged = with_machine_flag(synth.events)
    opens = flagged[flagged["event_type"] == "open"]
    planted = opens["event_id"].isin(synth.truth.machine_open_event_ids)
    assert not opens.loc[~planted, "machine_open"].any()
    missed = opens[planted & ~opens["machine_open"]]
    clicks = synth.events.loc[synth.events["event_type"] == "click", ["subscriber_id", "campaign_id"]]
    clicked = missed.merge(clicks.drop_duplicates(), on=["subscriber_id", "campaign_id"])
    assert len(clicked) == len(missed)
    assert opens.loc[planted, "machine_open"].mean() > 0.95


def test_recovers_planted_preferred_hour(recs, synth):
    joined = recs.set_index("subscriber_id").join(synth.truth.subscribers)
    enough = joined[joined["n_opens"] >= 10]
    assert len(enough) > 300
    close = circular_distance(enough["recommended_local_hour"], enough["preferred_local_hour"]) <= 1
    assert close.mean() >= 0.70


def test_few_opens_mostly_prior(recs):
    few = recs[recs["n_opens"] <= 2]
    assert len(few) > 50
    assert (few["confidence"] < 0.5).all()
    assert (few["source"] != "personal").all()
    none = recs[recs["n_opens"] == 0]
    assert (none["confidence"] == 0).all()
    # subscribers with no data in the same segment all get the same (prior) hour
    assert none.groupby("segment")["recommended_local_hour"].nunique().max() == 1


def test_machine_openers_do_not_get_the_delivery_hour():
    """Sends (and machine opens seconds later) at 14:00 UTC; people prefer 08:00 UTC."""
    rng = np.random.default_rng(0)
    rows = []
    days = pd.date_range("2024-01-01 14:00", periods=60, freq="D", tz="UTC")
    for i in range(60):
        sends = pd.DatetimeIndex(rng.choice(pd.date_range("2024-01-01", periods=60 * 24, freq="h", tz="UTC"), 40))
        rows += simulate_opens(rng, f"p{i}", sends.sort_values(), 8, immediate_share=0.2)
    events = make_events(rows)
    machine = []
    for sent in days:
        machine += [("m1", "send", sent), ("m1", "open", sent + pd.Timedelta(seconds=3))]
    raw = pd.concat([events.drop(columns="machine_open"), make_events(machine).drop(columns="machine_open")])
    raw["campaign_id"] = None
    raw["properties"] = None
    # no machine_open column: the ingest timing rule flags opens 3 s after a send, but it needs
    # campaign ids, so give each send and its machine open the same one
    m1 = raw["subscriber_id"] == "m1"
    raw.loc[m1, "campaign_id"] = raw.loc[m1, "ts"].dt.floor("D").astype(str)
    subs = pd.DataFrame({"subscriber_id": [f"p{i}" for i in range(60)] + ["m1"], "timezone": "UTC"})
    out = recommend({"events": raw, "subscribers": subs}, as_of="2024-03-15").set_index("subscriber_id")
    assert out.loc["m1", "n_opens"] == 0
    assert out.loc["m1", "source"] != "personal"
    assert out.loc["m1", "recommended_local_hour"] != 14
    assert out.loc["m1", "recommended_local_hour"] == 8


def test_exposure_correction_beats_the_naive_mode():
    """Group B is always sent to at 09:00 and opens 60% of mails right away, the rest at 20:00:
    the naive mode says 9, the exposure-adjusted rate says 20."""
    rng = np.random.default_rng(1)
    hours = pd.date_range("2024-01-01", periods=90 * 24, freq="h", tz="UTC")
    rows = []
    for i in range(150):  # varied send hours identify the time-to-open curve
        sends = pd.DatetimeIndex(rng.choice(hours, 40, replace=False)).sort_values()
        rows += simulate_opens(rng, f"a{i}", sends, int(rng.choice([7, 12, 20])), 0.6)
    days = pd.date_range("2024-01-01 09:00", periods=90, freq="D", tz="UTC")
    for i in range(40):
        sends = pd.DatetimeIndex(rng.choice(days, 40, replace=False)).sort_values()
        rows += simulate_opens(rng, f"b{i}", sends, 20, 0.6)
    events = make_events(rows)
    subs = pd.DataFrame({"subscriber_id": pd.unique(events["subscriber_id"]), "timezone": "UTC"})
    out = recommend({"events": events, "subscribers": subs}, as_of="2024-04-15").set_index("subscriber_id")
    group_b = out[out.index.str.startswith("b")]
    opens = events[(events["event_type"] == "open") & events["subscriber_id"].str.startswith("b")]
    naive = opens.groupby("subscriber_id")["ts"].agg(lambda t: t.dt.hour.mode().iloc[0])
    assert (circular_distance(naive, 9) <= 1).mean() > 0.8
    assert (group_b["recommended_local_hour"] == 20).mean() > 0.9


def test_delay_hour_model_recovers_planted_factors():
    rng = np.random.default_rng(2)
    a = np.exp(-np.arange(48) / 6.0)
    a /= a.sum()
    b = 1 + 0.8 * np.sin(np.arange(24) / 24 * 2 * np.pi)
    at_risk = rng.integers(20_000, 50_000, size=(48, 24)).astype(float)
    opens = rng.poisson(at_risk * np.outer(a, b) * 0.5).astype(float)
    a_hat, b_hat = fit_delay_hour(opens, at_risk)
    np.testing.assert_allclose(b_hat, b / b.mean(), rtol=0.05)
    np.testing.assert_allclose(a_hat[:12], a[:12], rtol=0.05)


def test_dst_new_york_eight_am_across_march_change():
    rng = np.random.default_rng(3)
    local_days = pd.date_range("2024-02-01", "2024-04-20", freq="D")
    rows = []
    for day in local_days:
        send = (day + pd.Timedelta(hours=6)).tz_localize("America/New_York")
        opened = (day + pd.Timedelta(hours=8, minutes=int(rng.integers(0, 50)))).tz_localize("America/New_York")
        rows += [("ny", "send", send.tz_convert("UTC")), ("ny", "open", opened.tz_convert("UTC"))]
    for i in range(20):  # others in London, with their own preferred hours
        sends = pd.date_range("2024-02-01 10:00", periods=50, freq="D", tz="UTC")
        rows += simulate_opens(rng, f"l{i}", sends, int(rng.choice([7, 12, 20])), 0.1)
    events = make_events(rows)
    subs = pd.DataFrame({"subscriber_id": ["ny"] + [f"l{i}" for i in range(20)],
                         "timezone": ["America/New_York"] + ["Europe/London"] * 20})
    spring = recommend({"events": events, "subscribers": subs}, as_of="2024-04-30").set_index("subscriber_id")
    assert spring.loc["ny", "recommended_local_hour"] == 8
    assert spring.loc["ny", "recommended_utc_hour"] == 12  # EDT, UTC-4
    assert spring.loc["ny", "source"] == "personal"
    winter = recommend({"events": events[events["ts"] < "2024-03-05"], "subscribers": subs},
                       as_of="2024-03-05").set_index("subscriber_id")
    assert winter.loc["ny", "recommended_local_hour"] == 8
    assert winter.loc["ny", "recommended_utc_hour"] == 13  # EST, UTC-5


def test_invalid_zone_is_a_clear_error(tables):
    subs = tables["subscribers"].copy()
    subs.loc[subs.index[5], "timezone"] = "Mars/Olympus_Mons"
    with pytest.raises(ValidationError, match="Mars/Olympus_Mons"):
        recommend({"events": tables["events"], "subscribers": subs}, as_of="2024-06-01")


def test_missing_zone_falls_back_to_dominant_zone_with_flag(recs, synth):
    missing = synth.subscribers["timezone"].isna().to_numpy()
    assert missing.any()
    dominant = synth.subscribers["timezone"].value_counts().index[0]
    assert recs.attrs["dominant_timezone"] == dominant
    assert (recs.loc[missing, "timezone"] == dominant).all()
    assert recs.loc[missing, "timezone_fallback"].all()
    assert not recs.loc[~missing, "timezone_fallback"].any()


def test_future_events_do_not_change_recommendations(tables):
    small_events = tables["events"][tables["events"]["ts"] < "2024-07-01"]
    base = recommend({"events": small_events, "subscribers": tables["subscribers"]}, as_of="2024-05-01")
    more = recommend({"events": tables["events"], "subscribers": tables["subscribers"]}, as_of="2024-05-01")
    pd.testing.assert_frame_equal(base, more)


def test_given_segments_are_used(tables):
    ids = tables["subscribers"]["subscriber_id"]
    segments = pd.Series(np.where(np.arange(len(ids)) % 2, "odd", "even"), index=ids)
    out = recommend({**tables, "segments": segments}, as_of="2024-09-01")
    assert set(out["segment"]) == {"odd", "even"}
    assert out.attrs["segments"] == "given"


def test_bad_arguments(tables):
    with pytest.raises(ValidationError, match="as_of"):
        recommend(tables, as_of="not a date")
    with pytest.raises(ValidationError, match="exposure_hours"):
        recommend(tables, as_of="2024-06-01", exposure_hours=0)
    with pytest.raises(InputError, match="ts"):
        recommend({"events": tables["events"].drop(columns="ts")}, as_of="2024-06-01")
    with pytest.raises(ValidationError, match="valid"):
        recommend({"events": tables["events"], "campaigns": None}, as_of="2024-06-01")


@pytest.mark.parametrize("dtype", ["str", "object"])
def test_subscribers_only_in_events_get_the_fallback_zone(dtype):
    rows = [("a", "send", pd.Timestamp("2024-01-02 09:00")), ("a", "open", pd.Timestamp("2024-01-02 18:00")),
            ("ghost", "send", pd.Timestamp("2024-01-02 09:00")), ("late", "send", pd.Timestamp("2024-03-01"))]
    events = make_events(rows).astype({"subscriber_id": dtype})
    subs = pd.DataFrame({"subscriber_id": ["a", "b"], "timezone": ["Europe/Berlin", None]})
    out = recommend({"events": events, "subscribers": subs}, as_of="2024-02-01").set_index("subscriber_id")
    assert list(out.index) == ["a", "b", "ghost"]  # "late" has no event up to as_of
    assert list(out["timezone"]) == ["Europe/Berlin"] * 3
    assert list(out["timezone_fallback"]) == [False, True, True]
    assert list(out["n_opens"]) == [1, 0, 0] and list(out["n_sends"]) == [1, 0, 1]


def test_no_opens_warns():
    from segkit.errors import DataSufficiencyWarning

    events = make_events([("a", "send", pd.Timestamp("2024-01-02 09:00"))])
    with pytest.warns(DataSufficiencyWarning, match="no human opens"):
        out = recommend({"events": events}, as_of="2024-02-01")
    assert out["source"].tolist() == ["global"] and out["timezone"].tolist() == ["UTC"]
