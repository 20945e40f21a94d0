"""Workspace.compact: same schema and rows in a fresh file; a failure leaves the old one."""

from __future__ import annotations

import pytest

from segkit.io import Workspace

COLUMNS = ("SELECT table_name, column_name, data_type, column_default, is_nullable "
           "FROM duckdb_columns() WHERE database_name = current_database() ORDER BY ALL")


def _state(ws: Workspace):
    con = ws.connection
    tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() "
                                        "WHERE database_name = current_database() ORDER BY 1").fetchall()]
    rows = {t: sorted(map(str, con.execute(f'SELECT x::VARCHAR FROM "{t}" x').fetchall())) for t in tables}
    return con.execute(COLUMNS).fetchall(), rows


def test_compact_keeps_schema_rows_views_and_sequences(ws_path):
    with Workspace(ws_path) as ws:
        ws.connection.execute("CREATE VIEW n_events AS SELECT count(*) AS n FROM events")
        ws.connection.execute("CREATE SEQUENCE run_id START 7")
        before = _state(ws)
        ws.compact()
        assert _state(ws) == before
        assert ws.connection.execute("SELECT n FROM n_events").fetchall()[0][0] == len(ws.table("events"))
        assert ws.connection.execute("SELECT nextval('run_id')").fetchall() == [(7,)]
    assert not ws_path.with_name(ws_path.name + ".compact").exists()


def test_failed_compaction_leaves_the_workspace_as_it_was(ws_path, monkeypatch):
    import segkit.io._workspace as module

    def refuse(src, dst):
        raise OSError("cross-device link")

    with Workspace(ws_path) as ws:
        before = _state(ws)
        monkeypatch.setattr(module.os, "replace", refuse)
        with pytest.raises(OSError, match="cross-device"):
            ws.compact()
        assert _state(ws) == before  # reopened on the original file
    assert not ws_path.with_name(ws_path.name + ".compact").exists()
    with Workspace(ws_path, read_only=True) as ws, pytest.raises(Exception, match="read-only"):
        ws.compact()


def test_compaction_refuses_while_another_connection_shares_the_file(ws_path):
    # DuckDB shares one instance per file within a process; replacing the file under a second
    # connection would send its later writes to the old, unlinked file (lost data).
    with Workspace(ws_path) as ws, Workspace(ws_path) as other:
        before = _state(ws)
        with pytest.raises(Exception, match="another connection to this workspace is open"):
            ws.compact()
        assert _state(ws) == before and _state(other) == before
        assert not ws_path.with_name(ws_path.name + ".compact").exists()
        other.close()
        ws.compact()
        assert _state(ws) == before


@pytest.mark.parametrize("name", ['we"ird.duckdb', "it's a space.duckdb", 'a"b\'c d;--.duckdb'])
def test_compaction_and_forget_work_on_paths_with_quotes_and_spaces(ws_path, name):
    from segkit.privacy import forget

    from .conftest import PLANTED_ID

    odd = ws_path.with_name(name)
    ws_path.rename(odd)
    with Workspace(odd) as ws:
        report = forget(ws, [PLANTED_ID])
        assert report.compacted and PLANTED_ID not in set(ws.table("subscribers")["subscriber_id"])
    assert PLANTED_ID.encode() not in odd.read_bytes()
    assert sorted(p.name for p in odd.parent.iterdir()) == [name]


def test_compaction_refuses_to_pair_a_stale_log_with_the_new_file(ws_path, monkeypatch):
    import segkit.io._workspace as module

    real_close = Workspace.close

    def close_leaving_a_log(self):
        real_close(self)
        ws_path.with_name(ws_path.name + ".wal").write_bytes(b"stale")

    with Workspace(ws_path) as ws:
        before = _state(ws)
        monkeypatch.setattr(module.Workspace, "close", close_leaving_a_log)
        with pytest.raises(Exception, match="write-ahead log remained"):
            ws.compact()
        monkeypatch.undo()
        ws_path.with_name(ws_path.name + ".wal").unlink()
    with Workspace(ws_path) as ws:
        assert _state(ws) == before
    assert not ws_path.with_name(ws_path.name + ".compact").exists()
