"""What segkit asks of an Ibis engine beyond portable expressions: its session time zone.

Engine-specific on purpose (each engine names the setting differently); the feature code itself
stays portable Ibis (``tests/features/test_sql_snapshots.py`` checks that).
"""

from __future__ import annotations

from typing import Any

__all__ = ["SET_UTC", "UTC_NAMES", "session_time_zone"]

#: Session time-zone names that mean UTC (compared case-insensitively).
UTC_NAMES = frozenset({
    "utc", "etc/utc", "z", "zulu", "etc/zulu", "gmt", "etc/gmt", "gmt0", "etc/gmt0", "gmt+0",
    "etc/gmt+0", "gmt-0", "etc/gmt-0", "greenwich", "etc/greenwich", "universal", "etc/universal",
    "uct", "etc/uct", "+00:00", "-00:00", "utc+0", "utc+00:00",
})
#: How to make a session UTC, per engine (quoted in errors and the README).
SET_UTC = (
    "Spark: spark.conf.set('spark.sql.session.timeZone', 'UTC'); "
    "DuckDB: SET TimeZone = 'UTC'; Postgres: SET TIME ZONE 'UTC'"
)


def session_time_zone(backend: Any) -> str | None:
    """The session time zone of ``backend`` (Spark ``spark.sql.session.timeZone``, DuckDB and
    Postgres ``TimeZone``), or None when segkit cannot query it for this engine."""
    engine = getattr(backend, "name", "")
    try:
        if engine == "pyspark":
            return str(backend._session.conf.get("spark.sql.session.timeZone"))
        if engine == "duckdb":
            return str(backend.con.execute("SELECT current_setting('TimeZone')").fetchall()[0][0])
        if engine == "postgres":
            with backend._safe_raw_sql("SHOW TIME ZONE") as cursor:
                return str(cursor.fetchall()[0][0])
    except Exception:  # a session that cannot answer is one whose zone is unknown
        return None
    return None
