"""The randomized campaign experiment: arms, planted multipliers, conversions and true lifts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from segkit.datasets import _sim_commerce as commerce
from segkit.datasets._sim_email import Sends
from segkit.datasets._sim_subscribers import MACHINE_OPEN_PROB
from segkit.datasets._sim_tables import FLAG_CAMPAIGN_PURCHASE, EventParts
from segkit.datasets._truth import ExperimentTruth, GammaGammaTruth

EXPERIMENT_ID = "exp_subject_offer"
ARMS = ("control", "subject_line", "offer")
ALLOCATION = (1 / 3, 1 / 3, 1 / 3)
#: Planted multipliers per arm: human open, click given open, purchase given click, order value.
ARM_MULTIPLIERS = {
    "control": (1.0, 1.0, 1.0, 1.0),
    "subject_line": (1.25, 1.0, 1.0, 1.0),
    "offer": (1.0, 1.5, 1.6, 0.85),
}
CONVERSION_GIVEN_CLICK = 0.15


def arm_factor(arm: np.ndarray, which: int) -> np.ndarray:
    table = np.array([ARM_MULTIPLIERS[a][which] for a in ARMS] + [1.0])
    return table[arm]  # arm -1 picks the trailing 1.0


def experiment_purchases(
    rng: np.random.Generator,
    sends: Sends,
    c: np.ndarray,
    click_t: np.ndarray,
    cat: np.ndarray,
    subs: pd.DataFrame,
    gg: GammaGammaTruth,
    parts: EventParts,
) -> None:
    """Purchases caused by clicks in the experiment (with the view and cart add before them)."""
    exp = sends.arm[c] >= 0
    p_conv = CONVERSION_GIVEN_CLICK * arm_factor(sends.arm[c][exp], 2)
    buy = rng.random(exp.sum()) < p_conv
    rows = c[exp][buy]
    t = click_t[exp][buy] + 60 + np.round(rng.exponential(1800.0, len(rows)))
    value = commerce.order_values(rng, gg.p, subs["spend_rate"].to_numpy()[sends.sub[rows]])
    value = np.round(value * arm_factor(sends.arm[rows], 3), 2)
    parts.add(
        "purchase",
        sends.sub[rows],
        t,
        campaign=sends.campaign[rows],
        value=value,
        prop=cat[exp][buy],
        flag=FLAG_CAMPAIGN_PURCHASE,
    )
    funnel = commerce.funnel_before(rng, sends.sub[rows], t, cat[exp][buy])
    parts.add("product_view", funnel["view_sub"], funnel["view_t"], prop=funnel["view_cat"])
    parts.add("cart_add", funnel["cart_sub"], funnel["cart_t"], prop=funnel["cart_cat"])


def experiment_truth(
    sends: Sends,
    p_human: np.ndarray,
    subs: pd.DataFrame,
    gg: GammaGammaTruth,
    campaigns: pd.DataFrame,
) -> ExperimentTruth:
    """Expected per-recipient metrics per arm over the actual recipients, and the true lifts."""
    exp = sends.arm >= 0
    sub = sends.sub[exp]
    base_open = p_human[exp] / arm_factor(sends.arm[exp], 0)
    machine = subs["machine_opener"].to_numpy()[sub] * MACHINE_OPEN_PROB
    click_prob = subs["click_prob"].to_numpy()[sub]
    order_value = gg.p / subs["spend_rate"].to_numpy()[sub]
    rows = []
    for arm in ARMS:
        m_open, m_click, m_conv, m_value = ARM_MULTIPLIERS[arm]
        human = np.minimum(base_open * m_open, 1.0)
        click = human * np.minimum(click_prob * m_click, 1.0)
        conversion = click * CONVERSION_GIVEN_CLICK * m_conv
        rows.append(
            {
                "arm": arm,
                "open": float(np.mean(1 - (1 - human) * (1 - machine))),
                "human_open": float(np.mean(human)),
                "click": float(np.mean(click)),
                "conversion": float(np.mean(conversion)),
                "revenue": float(np.mean(conversion * order_value * m_value)),
            }
        )
    expected = pd.DataFrame(rows).set_index("arm")
    lifts = expected.stack().rename("expected").rename_axis(["arm", "metric"]).reset_index()
    lifts["control_expected"] = [expected.loc["control", m] for m in lifts["metric"]]
    lifts["abs_lift"] = lifts["expected"] - lifts["control_expected"]
    lifts["rel_lift"] = lifts["abs_lift"] / lifts["control_expected"]
    multipliers = pd.DataFrame(
        ARM_MULTIPLIERS, index=["open", "click", "conversion", "order_value"]
    ).T
    exp_campaigns = campaigns[campaigns["experiment_id"] == EXPERIMENT_ID]
    return ExperimentTruth(
        experiment_id=EXPERIMENT_ID,
        control="control",
        arms=ARMS,
        allocation=ALLOCATION,
        campaign_ids=dict(zip(exp_campaigns["arm"], exp_campaigns["campaign_id"], strict=True)),
        conversion_given_click=CONVERSION_GIVEN_CLICK,
        multipliers=multipliers.rename_axis("arm"),
        lifts=lifts,
    )
