"""Churn labels aggregated in the engine (a workspace, an Ibis backend or table) equal the pandas
labels computed from the loaded events."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from segkit.churn import churn_labels
from segkit.errors import ValidationError


@pytest.fixture(scope="module")
def backend(events):
    con = ibis.duckdb.connect()
    con.con.register("frame_view", events)
    con.con.execute('CREATE TABLE "events" AS SELECT * FROM frame_view')
    con.con.unregister("frame_view")
    return con


@pytest.mark.parametrize(
    ("as_of", "kwargs"),
    [
        ("2024-06-30", {}),
        ("2024-03-15 12:00", {"horizon_days": 30, "lookback_days": 60}),
        ("2024-09-01", {"event_types": ("click", "purchase")}),
        ("2024-09-01", {"event_types": ("open",)}),  # machine opens excluded
    ],
)
def test_engine_labels_equal_pandas(events, backend, as_of, kwargs):
    as_of = pd.Timestamp(as_of, tz="UTC")
    expected = churn_labels(events, as_of, **kwargs)
    for source in (backend, backend.table("events")):
        got = churn_labels(source, as_of, **kwargs)
        pd.testing.assert_frame_equal(got, expected)
        assert got.attrs == expected.attrs
    assert expected["churned"].notna().sum() > 50 and expected["churned"].isna().any()


def test_engine_labels_refuse_the_same_windows(events, backend):
    last = events["ts"].max()
    for as_of in (events["ts"].min() - pd.Timedelta(days=1), last - pd.Timedelta(days=10)):
        with pytest.raises(ValidationError) as pandas_error:
            churn_labels(events, as_of)
        with pytest.raises(ValidationError) as engine_error:
            churn_labels(backend, as_of)
        assert str(engine_error.value) == str(pandas_error.value)


def test_a_workspace_like_source_is_read_through_its_ibis_backend(events, backend):
    class Workspace:
        def ibis(self):
            return backend

        def table(self, name):  # pragma: no cover - must not be used
            raise AssertionError("the events must not be loaded")

    as_of = pd.Timestamp("2024-06-30", tz="UTC")
    pd.testing.assert_frame_equal(churn_labels(Workspace(), as_of), churn_labels(events, as_of))
