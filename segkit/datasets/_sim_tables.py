"""Turn the simulated arrays into the canonical tables of ``segkit._schema``."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from segkit._schema import EVENT_TYPES
from segkit.datasets._sim_email import THEMES
from segkit.datasets._sim_subscribers import EMAIL_DOMAINS, FIRST_NAMES
from segkit.datasets._truth import CATEGORIES, MPP_USER_AGENT, SIGNUP_SOURCES, ZONES

#: ``properties`` JSON by code: a category for codes 0..len(CATEGORIES)-1, then the extras.
PROPERTY_TEXT: tuple[str, ...] = (
    *(json.dumps({"category": c}) for c in CATEGORIES),
    json.dumps({"user_agent": MPP_USER_AGENT}),
    json.dumps({"source": "email"}),
    json.dumps({"page": "pricing", "url": "/pricing"}),
)
PROP_MPP = len(CATEGORIES)
PROP_FROM_EMAIL = len(CATEGORIES) + 1
PROP_PRICING_PAGE = len(CATEGORIES) + 2

#: Flags carried beside each event, for the truth object only.
FLAG_MACHINE_OPEN = 1
FLAG_CAMPAIGN_PURCHASE = 2


class EventParts:
    """Collects event columns from each simulation step, then sorts and renders them."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        event_type: str,
        sub: np.ndarray,
        t: np.ndarray,
        *,
        campaign: np.ndarray | None = None,
        value: np.ndarray | None = None,
        prop: np.ndarray | None = None,
        flag: int = 0,
    ) -> None:
        n = len(sub)
        self._parts.append(
            {
                "sub": np.asarray(sub, dtype=np.int64),
                "type": np.full(n, EVENT_TYPES.index(event_type), dtype=np.int8),
                "t": np.asarray(t, dtype=np.float64),
                "campaign": np.full(n, -1)
                if campaign is None
                else np.asarray(campaign, dtype=np.int64),
                "value": np.full(n, np.nan)
                if value is None
                else np.asarray(value, dtype=np.float64),
                "prop": np.full(n, -1) if prop is None else np.asarray(prop, dtype=np.int64),
                "flag": np.full(n, flag, dtype=np.int8),
            }
        )

    def arrays(self, horizon: float) -> dict[str, np.ndarray]:
        """All events inside [0, horizon), ordered by time, subscriber and event type."""
        cols = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        inside = (cols["t"] >= 0) & (cols["t"] < horizon)
        cols = {k: v[inside] for k, v in cols.items()}
        order = np.lexsort((cols["type"], cols["sub"], cols["t"]))
        return {k: v[order] for k, v in cols.items()}


def make_ids(prefix: str, n: int) -> pd.Series:
    """``prefix`` + a zero-padded counter from 1 (at least six digits), as a string Series."""
    width = max(6, len(str(n)))
    return prefix + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)


def _take(values: pd.Series | tuple | list, codes: np.ndarray) -> pd.Series:
    """``values[codes]`` as a string Series; code -1 gives a missing value."""
    table = pd.concat([pd.Series(values, dtype="str"), pd.Series([None], dtype="str")])
    return table.iloc[codes].reset_index(drop=True)


def utc(start: pd.Timestamp, seconds: np.ndarray) -> pd.Series:
    """Seconds from ``start`` as tz-aware UTC timestamps (microsecond unit, whole seconds)."""
    micros = np.round(np.asarray(seconds, dtype=np.float64)).astype("float64") * 1e6
    base = start.value // 1000  # .value is always nanoseconds
    values = np.where(
        np.isnan(micros), np.iinfo(np.int64).min, base + np.nan_to_num(micros).astype(np.int64)
    )
    return pd.Series(values.view("datetime64[us]")).dt.tz_localize("UTC")


def events_table(
    cols: dict[str, np.ndarray],
    subscriber_ids: pd.Series,
    campaign_ids: pd.Series,
    start: pd.Timestamp,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": make_ids("ev", len(cols["t"])),
            "subscriber_id": _take(subscriber_ids, cols["sub"]),
            "event_type": _take(EVENT_TYPES, cols["type"]),
            "ts": utc(start, cols["t"]),
            "campaign_id": _take(campaign_ids, cols["campaign"]),
            "value": cols["value"],
            "properties": _take(PROPERTY_TEXT, cols["prop"]),
        }
    )


def subscribers_table(
    subs: pd.DataFrame, subscriber_ids: pd.Series, unsubscribed: np.ndarray, start: pd.Timestamp
) -> pd.DataFrame:
    zone_names = np.array([z[0] for z in ZONES], dtype=object)[subs["zone_idx"].to_numpy()]
    countries = np.array([z[1] for z in ZONES], dtype=object)[subs["zone_idx"].to_numpy()]
    names = np.array(FIRST_NAMES, dtype=object)[subs["first_name"].to_numpy()]
    domains = np.array(EMAIL_DOMAINS, dtype=object)[subs["domain"].to_numpy()]
    sources = np.array(SIGNUP_SOURCES, dtype=object)[subs["signup_source"].to_numpy()]
    emails = [
        f"{name}{i + 1}@{dom}" for i, (name, dom) in enumerate(zip(names, domains, strict=True))
    ]
    attributes = [
        json.dumps({"country": c, "signup_source": s, "first_name": n.title()})
        for c, s, n in zip(countries, sources, names, strict=True)
    ]
    timezone = np.where(subs["zone_missing"].to_numpy(), None, zone_names)
    return pd.DataFrame(
        {
            "subscriber_id": pd.Series(subscriber_ids, dtype="str"),
            "email": pd.Series(emails, dtype="str"),
            "signup_at": utc(start, subs["signup"].to_numpy()),
            "timezone": pd.Series(timezone, dtype="str"),
            "consent": subs["consent"].to_numpy(dtype=bool),
            "unsubscribed_at": utc(start, unsubscribed),
            "attributes": pd.Series(attributes, dtype="str"),
        }
    )


def campaigns_table(
    slot_t: np.ndarray,
    theme: np.ndarray,
    experiment_slot: int,
    experiment_id: str,
    arms: tuple[str, ...],
    start: pd.Timestamp,
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per regular slot and one per experiment arm; also each slot's first row."""
    copies = np.ones(len(slot_t), dtype=np.int64)
    copies[experiment_slot] = len(arms)
    first_row = np.cumsum(copies) - copies
    slot = np.repeat(np.arange(len(slot_t)), copies)
    is_exp = slot == experiment_slot
    arm = np.full(len(slot), None, dtype=object)
    arm[is_exp] = arms
    sent = utc(start, slot_t[slot])
    names = [
        f"{THEMES[th]} {ts:%Y-%m-%d}" + (f" [test {a}]" if a else "")
        for th, ts, a in zip(theme[slot], sent, arm, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "campaign_id": make_ids("cmp", len(slot)),
            "name": pd.Series(names, dtype="str"),
            "sent_at": sent,
            "experiment_id": pd.Series(np.where(is_exp, experiment_id, None), dtype="str"),
            "arm": pd.Series(arm, dtype="str"),
        }
    )
    return frame, first_row


def assignments_table(
    experiment_id: str,
    subscriber_ids: np.ndarray,
    arms: np.ndarray,
    assigned_at: float,
    start: pd.Timestamp,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "experiment_id": pd.Series([experiment_id] * len(subscriber_ids), dtype="str"),
            "subscriber_id": pd.Series(subscriber_ids, dtype="str"),
            "arm": pd.Series(arms, dtype="str"),
            "assigned_at": utc(start, np.full(len(subscriber_ids), assigned_at)),
        }
    )
