"""Workspace.connect and the zone rules of any Ibis source, on DuckDB as "another engine"
(the Spark parity tests are in tests/spark)."""

from __future__ import annotations

import duckdb
import ibis
import pandas as pd
import pytest
from typer.testing import CliRunner

from segkit.cli import app
from segkit.errors import InputError, TableNotFoundError, ValidationError
from segkit.features import FeatureTimeline, compute, rfm
from segkit.io import ConnectedWorkspace, Workspace
from segkit.segments import trigger_events

AS_OF = pd.Timestamp("2024-12-01", tz="UTC")


@pytest.fixture(scope="module")
def workspace_file(tmp_path_factory):
    from segkit.datasets import synthetic

    data = synthetic(150, seed=3)
    path = tmp_path_factory.mktemp("connect") / "ws.duckdb"
    with Workspace(path) as ws:
        ws.ingest("subscribers", data.subscribers)
        ws.ingest("events", data.events)
    return path


@pytest.fixture(scope="module")
def reference(workspace_file):
    with Workspace(workspace_file, read_only=True) as ws:
        return {"features": compute(ws, AS_OF), "events": ws.table("events"),
                "subscribers": ws.table("subscribers"), "triggers": trigger_events(ws, AS_OF)}


def _naive_copy(reference, zone: str = "UTC") -> ibis.BaseBackend:
    """An in-memory DuckDB holding the tables with zone-less TIMESTAMP columns (UTC wall times)
    and the session time zone ``zone``."""
    con = duckdb.connect()
    for name in ("events", "subscribers"):
        frame = reference[name].copy()
        for column in frame.columns:
            if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                frame[column] = frame[column].dt.tz_localize(None)
        con.register("frame", frame)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
    backend = ibis.duckdb.from_connection(con)  # which sets the session zone to UTC
    con.execute(f"SET TimeZone = '{zone}'").fetchall()
    return backend


def test_connect_by_url_reads_the_same_tables(workspace_file, reference):
    with Workspace.connect(f"duckdb:///{workspace_file}") as ws:
        assert isinstance(ws, ConnectedWorkspace) and ws.engine == "duckdb"
        pd.testing.assert_frame_equal(compute(ws, AS_OF), reference["features"])
        pd.testing.assert_frame_equal(trigger_events(ws, AS_OF), reference["triggers"])
        pd.testing.assert_frame_equal(ws.table("subscribers"), reference["subscribers"])
        with pytest.raises(TableNotFoundError, match="no table 'nothing'"):
            ws.table("nothing")


def test_zone_less_timestamps_in_a_utc_session_are_read_as_utc(reference):
    backend = _naive_copy(reference)
    assert backend.table("events").schema()["ts"].timezone is None
    pd.testing.assert_frame_equal(compute(backend, AS_OF), reference["features"])
    pd.testing.assert_frame_equal(trigger_events(backend, AS_OF), reference["triggers"])
    tables = {"events": backend.table("events"), "subscribers": backend.table("subscribers")}
    pd.testing.assert_frame_equal(compute(tables, AS_OF), reference["features"])  # Ibis tables


def test_a_session_in_another_zone_is_refused_even_with_assume_utc(reference):
    backend = _naive_copy(reference, "America/New_York")
    with pytest.raises(ValidationError, match="'America/New_York', not UTC") as caught:
        compute(backend, AS_OF)
    assert "SET TimeZone = 'UTC'" in str(caught.value)
    with pytest.raises(ValidationError, match="not UTC"):
        rfm(Workspace.connect(backend, assume_utc=True), AS_OF)


def test_an_engine_whose_zone_cannot_be_queried_needs_assume_utc(reference, monkeypatch):
    import segkit.features._source as source

    backend = _naive_copy(reference)
    monkeypatch.setattr(source, "session_time_zone", lambda backend: None)
    with pytest.raises(ValidationError, match="pass assume_utc=True") as caught:
        compute(backend, AS_OF)
    assert "events.ts" in str(caught.value)
    pd.testing.assert_frame_equal(compute(backend, AS_OF, assume_utc=True), reference["features"])
    pd.testing.assert_frame_equal(compute(Workspace.connect(backend, assume_utc=True), AS_OF),
                                  reference["features"])
    with pytest.raises(ValidationError, match="pass assume_utc=True"):
        FeatureTimeline(backend)
    timeline = FeatureTimeline(backend, assume_utc=True)
    pd.testing.assert_frame_equal(timeline.at(AS_OF), reference["features"])


def test_zone_less_dataframes_need_assume_utc(reference):
    naive = {name: reference[name].assign(**{
        c: reference[name][c].dt.tz_localize(None) for c in reference[name].columns
        if isinstance(reference[name][c].dtype, pd.DatetimeTZDtype)}) for name in ("events", "subscribers")}
    with pytest.raises(ValidationError, match="assume_utc=True if its values are UTC"):
        compute(naive, AS_OF)
    pd.testing.assert_frame_equal(compute(naive, AS_OF, assume_utc=True), reference["features"])


def test_writes_and_duckdb_sql_are_refused_on_a_connected_workspace(reference):
    ws = Workspace.connect(_naive_copy(reference))
    with pytest.raises(InputError, match="writes are DuckDB-only"):
        ws.ingest("events", reference["events"])
    with pytest.raises(InputError, match="needs the DuckDB workspace file"):
        ws.connection  # noqa: B018
    with pytest.raises(InputError, match="Ibis connection"):
        Workspace.connect(42)


def test_bad_urls_say_what_to_give_and_hide_passwords():
    with pytest.raises(InputError, match="give a URL such as pyspark://"):
        Workspace.connect("warehouse")
    with pytest.raises(InputError) as caught:
        Workspace.connect("postgres://ana:secret@127.0.0.1:1/db")
    assert "secret" not in str(caught.value) and "ana:***@" in str(caught.value)


def test_cli_backend_reads_and_refuses_writes(workspace_file, tmp_path):
    runner = CliRunner()
    args = ["export", "segment", "engagement:highly_engaged", "--as-of", "2024-12-01"]
    by_file = runner.invoke(app, ["-w", str(workspace_file), *args, "--out", str(tmp_path / "a.csv")])
    assert by_file.exit_code == 0, by_file.output
    by_url = runner.invoke(app, ["--backend", f"duckdb:///{workspace_file}", *args,
                                 "--out", str(tmp_path / "b.csv")])
    assert by_url.exit_code == 0, by_url.output
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    sendtime = runner.invoke(app, ["--backend", f"duckdb:///{workspace_file}", "sendtime", "export",
                                   "--as-of", "2024-12-01", "--out", str(tmp_path / "s.csv")])
    assert sendtime.exit_code == 0, sendtime.output
    for command in (["ingest", "events", str(tmp_path / "a.csv")], ["forget", "s1"],
                    ["prune", "--older-than", "2y"]):
        refused = runner.invoke(app, ["--backend", f"duckdb:///{workspace_file}", *command])
        assert refused.exit_code == 2, (command, refused.output)
        assert "does not take --backend" in refused.output
    bad = runner.invoke(app, ["--backend", "nowhere", *args, "--out", str(tmp_path / "c.csv")])
    assert bad.exit_code == 2 and "give a URL" in bad.output


@pytest.mark.parametrize(("url", "shown"), [
    ("postgres://ana:s3cret@db:5432/crm", "postgres://ana:***@db:5432/crm"),
    ("postgres://ana@db/crm?password=s3cret&sslmode=require",
     "postgres://ana@db/crm?password=***&sslmode=require"),
    ("snowflake://ana@acct/db/schema?warehouse=wh&private_key=abc%2Fdef&authenticator=x",
     "snowflake://ana@acct/db/schema?warehouse=wh&private_key=***&authenticator=***"),
    ("bigquery://project/dataset?access_token=tok", "bigquery://project/dataset?access_token=***"),
    ("pyspark://?spark.master=local[2]", "pyspark://?spark.master=local[2]"),
    ("postgres://ana@db/crm", "postgres://ana@db/crm"),
])
def test_shown_target_masks_every_secret_of_a_url(url, shown):
    from segkit.io import scrubbed, shown_target

    assert shown_target(url) == shown
    assert scrubbed(f"failed: {url} (abc/def)", url) == f"failed: {shown} (***)" if "abc" in url else True


def test_churn_labels_read_zone_less_engine_timestamps_by_the_shared_rule(reference):
    from segkit.churn import churn_labels

    expected = churn_labels(reference["events"], AS_OF, horizon_days=30)
    pd.testing.assert_frame_equal(churn_labels(_naive_copy(reference), AS_OF, horizon_days=30),
                                  expected, check_like=True)
    with pytest.raises(ValidationError, match="'Europe/Berlin', not UTC"):
        churn_labels(_naive_copy(reference, "Europe/Berlin"), AS_OF, horizon_days=30)
