"""One small synthetic list with planted consent problems, its features computed once."""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

# Kernels and altair's jsonschema skip this slow import (see segkit.reports._runner.KERNEL_STARTUP).
sys.modules.setdefault("rfc3987_syntax", None)

AS_OF = pd.Timestamp("2024-12-31", tz="UTC")
EARLIER = pd.Timestamp("2024-10-01", tz="UTC")
#: About a minute on 2 cores (constant memory) unless interrupted: stands in for a slow read.
LONG_QUERY = "SELECT sum(hash(i) % 7) FROM range(10000000000) t(i)"


def planted_tables(planted) -> dict[str, pd.DataFrame]:
    """The planted list as the mapping source ``{"events", "subscribers"}``."""
    return {"events": planted["events"], "subscribers": planted["subscribers"]}


@pytest.fixture(scope="session")
def planted():
    """Synthetic tables (400 subscribers) with planted exclusions among consented subscribers:
    no consent, unsubscribed_at before the date, an unsubscribe event before the date, a
    suppressed email, and one unsubscribing only after the date (excluded too: consent is today's)."""
    from segkit.datasets import synthetic

    data = synthetic(n_subscribers=400, seed=5)
    subscribers, events = data.subscribers.copy(), data.events.copy()
    ok = subscribers.index[subscribers["consent"] & subscribers["unsubscribed_at"].isna()
                           & (subscribers["signup_at"] < AS_OF - pd.Timedelta(days=60))]
    chosen = np.random.default_rng(0).choice(ok, 13, replace=False)
    ids = subscribers.loc[chosen, "subscriber_id"].to_numpy()
    groups = {"no_consent": ids[0:3], "unsubscribed_at": ids[3:6], "unsubscribe_event": ids[6:9],
              "suppressed": ids[9:12], "unsubscribes_later": ids[12:13]}
    rows = subscribers["subscriber_id"]
    subscribers.loc[rows.isin(groups["no_consent"]), "consent"] = False
    subscribers.loc[rows.isin(groups["unsubscribed_at"]), "unsubscribed_at"] = AS_OF - pd.Timedelta(days=10)
    subscribers.loc[rows.isin(groups["unsubscribes_later"]), "unsubscribed_at"] = AS_OF + pd.Timedelta(days=3)
    extra = pd.DataFrame({"event_id": [f"planted-{i}" for i in groups["unsubscribe_event"]],
                          "subscriber_id": groups["unsubscribe_event"], "event_type": "unsubscribe",
                          "ts": AS_OF - pd.Timedelta(days=5)})
    events = pd.concat([events, extra], ignore_index=True)
    emails = subscribers.loc[rows.isin(groups["suppressed"]), "email"].str.upper().tolist()
    return {"subscribers": subscribers, "events": events, "groups": groups, "suppressed": emails}


@pytest.fixture(scope="session")
def data(planted):
    from segkit.explore import ExplorerData

    explorer_data = ExplorerData({"events": planted["events"], "subscribers": planted["subscribers"]})
    explorer_data.snapshot(AS_OF)  # features computed once for the session
    return explorer_data


@pytest.fixture(scope="session")
def features(data) -> pd.DataFrame:
    return data.snapshot(AS_OF).features


@pytest.fixture(scope="session")
def countries(planted) -> pd.Series:
    """Country per subscriber, read independently of the explorer (json of ``attributes``)."""
    subs = planted["subscribers"]
    return pd.Series([json.loads(a).get("country") for a in subs["attributes"]],
                     index=subs["subscriber_id"].astype(str))
