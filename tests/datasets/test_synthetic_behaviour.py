"""The planted processes show in the generated events the way the truth object says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from segkit.datasets._truth import MPP_USER_AGENT

WEEK = pd.Timedelta(weeks=1)


def _of_type(data, event_type: str) -> pd.DataFrame:
    return data.events[data.events["event_type"] == event_type]


def test_campaigns_reach_only_consented_signed_up_subscribed_people(data):
    sends = _of_type(data, "send").merge(data.subscribers, on="subscriber_id")
    assert sends["consent"].all()
    assert (sends["signup_at"] < sends["ts"]).all()
    assert not (sends["unsubscribed_at"] <= sends["ts"]).any()
    campaign_sent = data.campaigns.set_index("campaign_id")["sent_at"]
    sent_at = campaign_sent.reindex(sends["campaign_id"]).reset_index(drop=True)
    spread = (sends["ts"].reset_index(drop=True) - sent_at).dt.total_seconds()
    assert spread.between(0, 300).all()
    assert not sends.duplicated(["subscriber_id", "campaign_id"]).any()


def test_unsubscribe_events_match_unsubscribed_at(data):
    unsubs = _of_type(data, "unsubscribe")
    assert unsubs["subscriber_id"].is_unique
    when = data.subscribers.set_index("subscriber_id")["unsubscribed_at"]
    assert (when.reindex(unsubs["subscriber_id"]).to_numpy() == unsubs["ts"].to_numpy()).all()
    before_period = when.notna() & ~when.index.isin(unsubs["subscriber_id"])
    assert (when[before_period] < data.truth.start).all()


def test_machine_opens_at_delivery_and_human_opens_after_a_minute(data, sends_and_opens):
    opens = sends_and_opens
    assert len(opens) == (data.events["event_type"] == "open").sum()  # every open has its send
    machine, human = opens[opens["machine"]], opens[~opens["machine"]]
    assert machine["delay_s"].between(0, 5).all() and machine["delay_s"].nunique() == 6
    assert (human["delay_s"] >= 60).all()
    openers = data.truth.subscribers["machine_opener"]
    assert machine["subscriber_id"].isin(openers[openers].index).all()
    with_agent = machine["properties"].notna()
    assert 0.4 < with_agent.mean() < 0.8  # both the explicit and the timing flag get exercised
    assert (machine.loc[with_agent, "properties"].str.contains(MPP_USER_AGENT, regex=False)).all()
    assert human["properties"].isna().all()
    sends = (data.events["event_type"] == "send").groupby(data.events["subscriber_id"]).sum()
    share = machine.groupby("subscriber_id").size() / sends.reindex(
        machine["subscriber_id"].unique()
    )
    assert share.mean() > 0.9  # a machine opener's client opens (nearly) every email


def _local_hours(opens: pd.DataFrame, truth) -> pd.DataFrame:
    frame = opens.join(
        truth.subscribers[["true_timezone", "preferred_local_hour"]], on="subscriber_id"
    )
    parts = []
    for zone, group in frame.groupby("true_timezone"):
        local = group["ts"].dt.tz_convert(zone)
        offset = local.dt.tz_localize(None) - group["ts"].dt.tz_localize(None)
        parts.append(group.assign(local_hour=local.dt.hour, utc_offset=offset))
    out = pd.concat(parts)
    out["hour_gap"] = (out["local_hour"] - out["preferred_local_hour"] + 12) % 24 - 12
    return out


def test_human_opens_cluster_at_the_preferred_local_hour(data, sends_and_opens):
    human = _local_hours(sends_and_opens[~sends_and_opens["machine"]], data.truth)
    assert (human["hour_gap"].abs() <= 1).mean() > 0.65
    counts = human.groupby("subscriber_id")["local_hour"].agg(["size", lambda s: s.mode().iloc[0]])
    counts.columns = ["n", "mode"]
    counts = counts[counts["n"] >= 10].join(data.truth.subscribers["preferred_local_hour"])
    gap = (counts["mode"] - counts["preferred_local_hour"] + 12) % 24 - 12
    assert len(counts) > 300 and (gap.abs() <= 1).mean() > 0.8


def test_open_hours_are_daylight_saving_correct(data, sends_and_opens):
    human = _local_hours(sends_and_opens[~sends_and_opens["machine"]], data.truth)
    near = human[human["hour_gap"].abs() <= 3]
    for zone in ("America/New_York", "Europe/London", "America/Los_Angeles"):
        by_offset = near[near["true_timezone"] == zone].groupby("utc_offset")["hour_gap"].mean()
        assert len(by_offset) == 2, zone  # opens on both sides of the change
        assert abs(by_offset.iloc[0] - by_offset.iloc[1]) < 0.25, (zone, by_offset)


def test_machine_opens_ignore_the_preferred_hour(data, sends_and_opens):
    machine = _local_hours(sends_and_opens[sends_and_opens["machine"]], data.truth)
    assert (machine["hour_gap"].abs() <= 1).mean() < 0.35


def _organic_purchases(data) -> pd.DataFrame:
    purchases = _of_type(data, "purchase")
    return purchases[~purchases["event_id"].isin(data.truth.campaign_purchase_event_ids)]


def test_purchases_follow_the_planted_bgnbd_process(data):
    """Repeat purchases agree with E[X(T) | lambda, p] = (1 - exp(-lambda p T)) / p per customer
    and with the population mean, eq. (9) of Fader, Hardie & Lee (2005)."""
    truth, bg = data.truth.subscribers, data.truth.bgnbd
    buyers = truth[truth["first_purchase_at"].notna()]
    organic = _organic_purchases(data)
    observed = organic.groupby("subscriber_id").size().reindex(buyers.index).fillna(0) - 1
    assert (observed == buyers["repeat_purchases"]).all()
    first = organic.groupby("subscriber_id")["ts"].min().reindex(buyers.index)
    assert (first == buyers["first_purchase_at"].dt.floor("s")).all()
    t = (data.truth.end - buyers["first_purchase_at"]) / WEEK
    lam, p = buyers["purchase_rate"], buyers["dropout_prob"]
    conditional = (1 - np.exp(-lam * p * t)) / p
    resid = observed - conditional
    assert abs(resid.mean()) < 4 * resid.std() / np.sqrt(len(resid))
    r, alpha, a, b = bg.r, bg.alpha, bg.a, bg.b
    z = t / (alpha + t)
    population = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * special.hyp2f1(r, b, a + b - 1, z))
    )
    assert observed.mean() == pytest.approx(population.mean(), rel=0.15)
    assert buyers["purchase_rate"].mean() == pytest.approx(bg.mean_rate, rel=0.1)
    assert buyers["dropout_prob"].mean() == pytest.approx(bg.a / (bg.a + bg.b), rel=0.1)
    dropped = buyers[~buyers["alive_at_end"]]
    last = organic.groupby("subscriber_id")["ts"].max().reindex(dropped.index)
    assert (last == dropped["dropout_at"].dt.floor("s")).all()


def test_spend_follows_the_planted_gamma_gamma(data):
    organic = _organic_purchases(data)
    expected = (
        data.truth.subscribers["mean_order_value"].reindex(organic["subscriber_id"]).to_numpy()
    )
    resid = organic["value"].to_numpy() - expected
    assert abs(resid.mean()) < 4 * resid.std() / np.sqrt(len(resid))
    gg = data.truth.gamma_gamma
    assert data.truth.subscribers["spend_rate"].mean() == pytest.approx(gg.q / gg.gamma, rel=0.05)


def test_purchases_come_after_browsing_and_some_carts_are_abandoned(data):
    events = data.events
    carts = events[events["event_type"] == "cart_add"][["subscriber_id", "ts"]].sort_values("ts")
    buys = events[events["event_type"] == "purchase"][["subscriber_id", "ts"]].sort_values("ts")
    matched = pd.merge_asof(
        carts,
        buys.rename(columns={"ts": "bought"}),
        left_on="ts",
        right_on="bought",
        by="subscriber_id",
        direction="forward",
        tolerance=pd.Timedelta(hours=24),
    )
    abandoned = matched["bought"].isna().mean()
    assert 0.2 < abandoned < 0.9
    attributed = buys.merge(
        events[events["event_type"] == "purchase"][["ts", "campaign_id"]], on="ts"
    )
    assert attributed["campaign_id"].notna().any()


def test_fatigue_raises_unsubscribes_above_the_planted_cap(data):
    cap = data.truth.fatigue_weekly_cap
    sends = _of_type(data, "send")[["subscriber_id", "campaign_id", "ts"]].sort_values(
        ["subscriber_id", "ts"]
    )
    sends["n"] = 1.0
    sends["trailing"] = (
        sends.set_index("ts").groupby("subscriber_id")["n"].rolling("7D").sum().to_numpy()
    )
    unsubs = _of_type(data, "unsubscribe")[["subscriber_id", "campaign_id"]].assign(unsub=1)
    sends = sends.merge(unsubs, on=["subscriber_id", "campaign_id"], how="left").fillna(
        {"unsub": 0}
    )
    assert sends["trailing"].max() >= cap + 2 and sends["trailing"].min() == 1
    over = sends["trailing"] > cap
    below_rate, above_rate = sends.loc[~over, "unsub"].mean(), sends.loc[over, "unsub"].mean()
    assert above_rate > 2.5 * below_rate
    table = [
        [sends.loc[~over, "unsub"].sum(), (~over).sum()],
        [sends.loc[over, "unsub"].sum(), over.sum()],
    ]
    assert stats.fisher_exact(table)[1] < 1e-6


def test_experiment_is_randomized_and_shows_the_planted_lifts(data, sends_and_opens):
    exp = data.truth.experiment
    assignments = data.assignments
    assert set(assignments["arm"]) == set(exp.arms) and assignments["subscriber_id"].is_unique
    counts = assignments["arm"].value_counts().reindex(list(exp.arms))
    assert stats.chisquare(counts, np.array(exp.allocation) * counts.sum()).pvalue > 0.001
    campaign_arm = {cid: arm for arm, cid in exp.campaign_ids.items()}
    sent = _of_type(data, "send")
    sent = sent[sent["campaign_id"].isin(campaign_arm)]
    recipients = sent.assign(arm=sent["campaign_id"].map(campaign_arm))[["subscriber_id", "arm"]]
    pd.testing.assert_frame_equal(
        recipients.sort_values("subscriber_id").reset_index(drop=True),
        assignments[["subscriber_id", "arm"]].sort_values("subscriber_id").reset_index(drop=True),
    )
    outcome = _experiment_outcomes(data, sends_and_opens, campaign_arm)
    lifts = exp.lifts.set_index(["arm", "metric"])["expected"]
    for (arm, metric), expected in lifts.items():
        values = outcome.loc[outcome["arm"] == arm, metric]
        assert abs(values.mean() - expected) < 4 * values.std() / np.sqrt(len(values)) + 1e-9, (
            arm,
            metric,
        )
    means = outcome.groupby("arm").mean(numeric_only=True)
    assert means.loc["subject_line", "human_open"] > means.loc["control", "human_open"]
    assert means.loc["offer", "click"] > means.loc["control", "click"]
    assert lifts["offer", "conversion"] > lifts["control", "conversion"]


def _experiment_outcomes(data, opens, campaign_arm) -> pd.DataFrame:
    frame = data.assignments[["subscriber_id", "arm"]].set_index("subscriber_id")
    events = data.events[data.events["campaign_id"].isin(campaign_arm)]
    exp_opens = opens[opens["campaign_id"].isin(campaign_arm)]
    frame["open"] = frame.index.isin(exp_opens["subscriber_id"])
    frame["human_open"] = frame.index.isin(exp_opens.loc[~exp_opens["machine"], "subscriber_id"])
    frame["click"] = frame.index.isin(events.loc[events["event_type"] == "click", "subscriber_id"])
    buys = events[events["event_type"] == "purchase"]
    frame["conversion"] = frame.index.isin(buys["subscriber_id"])
    frame["revenue"] = buys.groupby("subscriber_id")["value"].sum().reindex(frame.index).fillna(0.0)
    return frame.reset_index().astype(
        {m: float for m in ("open", "human_open", "click", "conversion")}
    )


def test_engagement_fades_for_subscribers_who_go_quiet(data, sends_and_opens):
    truth = data.truth.subscribers
    quiet = truth[
        truth["quiet_in_period"] & (truth["quiet_at"] < data.truth.end - pd.Timedelta(days=90))
    ]
    human = sends_and_opens[~sends_and_opens["machine"]].join(truth["quiet_at"], on="subscriber_id")
    human = human[human["subscriber_id"].isin(quiet.index)]
    before = (human["ts"] < human["quiet_at"] - pd.Timedelta(days=45)).sum()
    after = (human["ts"] > human["quiet_at"]).sum()
    assert len(quiet) > 100 and after < 0.35 * before


def test_personas_differ_in_behaviour(data):
    planted_extra = data.truth.machine_open_event_ids.append(data.truth.campaign_purchase_event_ids)
    events = data.events[~data.events["event_id"].isin(planted_extra)]
    counts = pd.crosstab(events["subscriber_id"], events["event_type"])
    persona = data.truth.subscribers["persona"]
    rates = (counts["open"] / counts["send"]).groupby(persona).mean()
    assert rates["champions"] > rates["occasional"] > rates["dormant"]
    buys = counts["purchase"].reindex(persona.index).fillna(0).groupby(persona).mean()
    assert (
        buys["champions"] > buys["occasional"] and buys["dormant"] == 0 == buys["engaged_browsers"]
    )
    web = counts["web_visit"].reindex(persona.index).fillna(0).groupby(persona).mean()
    assert web["engaged_browsers"] > web["champions"] > web["dormant"]
