"""``segkit._engine.release_memory``: DuckDB hands back its cached table blocks and keeps the
session's memory limit (as DuckDB states it); other engines are left alone."""

from __future__ import annotations

import ibis
import pytest

from segkit._engine import _stated_bytes, release_memory


def _stated(backend) -> str:
    return str(backend.raw_sql("SELECT current_setting('memory_limit')").fetchall()[0][0])


def _cached(backend) -> int:
    return int(backend.raw_sql(
        "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    ).fetchall()[0][0])


@pytest.mark.parametrize("limit", ["4GB", "1GB", "3.7GiB", "500MB"])
def test_cached_blocks_are_freed_and_the_limit_reads_as_before(tmp_path, limit):
    path = tmp_path / "db.duckdb"
    writer = ibis.duckdb.connect(str(path))
    writer.raw_sql("CREATE TABLE t AS SELECT range AS a, random() AS b, random() AS c FROM range(4000000)")
    writer.disconnect()
    backend = ibis.duckdb.connect(str(path), read_only=True, memory_limit=limit)
    backend.raw_sql("SELECT sum(a), sum(b), sum(c) FROM t").fetchall()
    before = _stated(backend)
    assert _cached(backend) > 32 * 2**20
    for _ in range(3):  # repeated calls do not drift the limit down
        release_memory(backend)
    assert _cached(backend) <= 32 * 2**20
    assert _stated(backend) == before
    assert backend.raw_sql("SELECT sum(a) FROM t").fetchall()[0][0] == 4000000 * 3999999 // 2


def test_in_memory_tables_stay_and_nothing_changes_without_cached_blocks():
    backend = ibis.duckdb.connect(memory_limit="1GB")
    backend.raw_sql("CREATE TABLE t AS SELECT range AS a FROM range(2000000)")
    before = _stated(backend)
    release_memory(backend)
    assert _stated(backend) == before
    assert backend.raw_sql(
        "SELECT sum(temporary_storage_bytes) FROM duckdb_memory()"
    ).fetchall()[0][0] == 0


def test_other_engines_are_left_alone():
    class Other:
        name = "pyspark"

        @property
        def con(self):
            raise AssertionError("release_memory must not touch a non-DuckDB session")

    release_memory(Other())


@pytest.mark.parametrize(("text", "expected"), [
    ("3.7 GiB", (3972844749, 2**30 // 40)), ("953.6 MiB", (999922074, 2**20 // 40)),
    ("512 bytes", (512, 1)), ("nonsense", None),
])
def test_stated_bytes_is_the_smallest_size_stated_so(text, expected):
    assert _stated_bytes(text) == expected
