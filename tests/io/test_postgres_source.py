"""A real Postgres server as the source: a throw-away cluster (initdb + pg_ctl, a Unix socket in a
temporary directory) holding the workspace's tables with zone-less ``timestamp`` columns, read
through ``Workspace.connect("postgres://...")`` and ``segkit --backend``.

Skipped when the Postgres server programs or the client (``segkit[postgres]``: psycopg) are
missing.
"""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("psycopg")

from typer.testing import CliRunner

from segkit.cli import app
from segkit.errors import ValidationError
from segkit.features import compute
from segkit.io import Workspace
from segkit.segments import trigger_events

AS_OF = pd.Timestamp("2024-12-01", tz="UTC")


@pytest.fixture(scope="module")
def server(postgres_server):
    return postgres_server


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    from segkit.datasets import synthetic

    data = synthetic(150, seed=3)
    path = tmp_path_factory.mktemp("pgref") / "ws.duckdb"
    with Workspace(path) as ws:
        ws.ingest("subscribers", data.subscribers)
        ws.ingest("events", data.events)
    with Workspace(path, read_only=True) as ws:
        return {"path": path, "features": compute(ws, AS_OF), "triggers": trigger_events(ws, AS_OF),
                "events": ws.table("events"), "subscribers": ws.table("subscribers")}


@pytest.fixture(scope="module")
def url(server, reference, postgres_copy):
    """The workspace's tables in Postgres, timestamps as ``timestamp without time zone``."""
    postgres_copy(server, {name: reference[name] for name in ("events", "subscribers")})
    return server


def test_postgres_zone_less_tables_give_the_workspace_features(url, reference):
    with Workspace.connect(url) as ws:
        assert ws.engine == "postgres"
        assert ws.ibis().table("events").schema()["ts"].timezone is None
        pd.testing.assert_frame_equal(compute(ws, AS_OF), reference["features"])
        pd.testing.assert_frame_equal(trigger_events(ws, AS_OF), reference["triggers"])


def test_postgres_session_in_another_zone_is_refused(url):
    with Workspace.connect(url) as ws:
        ws.ibis().raw_sql("SET TIME ZONE 'Europe/Berlin'").close()
        with pytest.raises(ValidationError, match="'Europe/Berlin', not UTC") as caught:
            compute(ws, AS_OF)
        assert "SET TIME ZONE 'UTC'" in str(caught.value)


def test_cli_exports_the_same_segment_from_postgres(url, reference, tmp_path):
    runner = CliRunner()
    args = ["export", "segment", "engagement:highly_engaged", "--as-of", "2024-12-01"]
    by_file = runner.invoke(app, ["-w", str(reference["path"]), *args, "--out", str(tmp_path / "a.csv")])
    assert by_file.exit_code == 0, by_file.output
    by_postgres = runner.invoke(app, ["--backend", url, *args, "--out", str(tmp_path / "b.csv")])
    assert by_postgres.exit_code == 0, by_postgres.output
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
