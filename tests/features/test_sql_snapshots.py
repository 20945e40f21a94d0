"""What the feature queries compile to on DuckDB, pinned as SQL files (like ibis' test_sql.py).

A change in feature logic shows up in review as a diff under ``tests/snapshots/features/``.
Regenerate after an intended change with ``SEGKIT_UPDATE_SNAPSHOTS=1 pytest tests/features``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import ibis
import pytest
from feature_data import AS_OF, duckdb_backend, utc

from segkit.features._compute import feature_queries
from segkit.features._holdout import _outcome_expr
from segkit.features._rfm import rfm_expr
from segkit.features._source import resolve

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots" / "features"
UPDATE = os.environ.get("SEGKIT_UPDATE_SNAPSHOTS", "") not in ("", "0")
QUERIES = ["events", "campaigns", "cart_abandonments", "rfm", "local_opens", "subscribers"]


@pytest.fixture(scope="module")
def tables(events, subscribers):
    return resolve(duckdb_backend({"events": events, "subscribers": subscribers}))


def normalise(sql: str) -> str:
    """In-memory tables get random names; give them a stable one."""
    return re.sub(r'"?ibis_pandas_memtable_[a-z0-9]+"?', '"tz_offsets"', sql).strip() + "\n"


def check(name: str, expr) -> None:
    sql = normalise(ibis.to_sql(expr, dialect="duckdb"))
    path = SNAPSHOTS / f"{name}.sql"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    assert path.exists(), f"no snapshot {path}; create it with SEGKIT_UPDATE_SNAPSHOTS=1"
    assert sql == path.read_text(), (
        f"{name} SQL changed; if intended, rerun with SEGKIT_UPDATE_SNAPSHOTS=1"
    )


@pytest.mark.parametrize("name", QUERIES)
def test_feature_query_sql(tables, name):
    queries = feature_queries(
        tables, AS_OF, windows=(30, 90, 365), rfm_unit="D", cart_abandon_hours=24
    )
    assert sorted(queries) == sorted(QUERIES)
    check(f"compute_{name}", queries[name])


def test_rfm_weeks_sql(tables):
    check("rfm_weeks_with_start", rfm_expr(tables.events, AS_OF, unit="W", start=utc("2024-01-01")))


def test_holdout_outcomes_sql(tables):
    check("holdout_outcomes", _outcome_expr(tables.events, utc("2024-05-31"), AS_OF))


def test_no_dialect_specific_sql_strings_in_features():
    """The feature code builds Ibis expressions only (portable to other backends)."""
    source = Path(__file__).resolve().parents[2] / "segkit" / "features"
    for path in source.glob("*.py"):
        text = path.read_text()
        for needle in ("raw_sql", ".sql(", "duckdb."):
            assert needle not in text, f"{path.name} uses {needle!r}"


def test_compute_expr_sql(tables):
    """The whole table as one expression (``features.compute_expr``)."""
    from segkit.features._expr import _feature_expr

    check("compute_expr", _feature_expr(tables, AS_OF, (30, 90, 365), "D", 24.0))
