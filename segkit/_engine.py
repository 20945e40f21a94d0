"""What segkit asks of an Ibis engine beyond portable expressions: its session time zone, and
(DuckDB only) to hand back the memory it keeps between queries.

Engine-specific on purpose (each engine names the setting differently); the feature code itself
stays portable Ibis (``tests/features/test_sql_snapshots.py`` checks that).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["SET_UTC", "UTC_NAMES", "release_memory", "session_time_zone"]

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


#: Bytes of cached table blocks :func:`release_memory` lets DuckDB keep.
_KEEP_CACHED = 32 * 2**20
#: DuckDB's units in ``current_setting('memory_limit')`` (it states sizes in binary units).
_UNITS = {"bytes": 1, "b": 1, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
          "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def _stated_bytes(text: str) -> tuple[int, int] | None:
    """The byte count ``text`` (e.g. ``'3.7 GiB'``, DuckDB's statement of a size) spells,
    rounded up, and a 40th of its unit (a step well below the tenth DuckDB states); None for
    text that is not a size."""
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]+)\s*", text)
    if match is None or match.group(2).lower() not in _UNITS:
        return None
    unit = _UNITS[match.group(2).lower()]
    return math.ceil(float(match.group(1)) * unit), max(unit // 40, 1)


def _set_limit(con: Any, stated: str, size: int, step: int) -> None:
    """Set ``memory_limit`` to the smallest of ``size``, ``size + step``, ... (a few steps) that
    DuckDB states as ``stated`` (it states limits rounded; the exact one is not readable)."""
    for k in range(16):
        con.execute(f"SET memory_limit = '{size + k * step}B'")
        if str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]) == stated:
            return


def release_memory(backend: Any) -> None:
    """Let a DuckDB ``backend`` return the memory it keeps after a query (its cache of the
    database's table blocks) to the operating system; nothing for other engines.

    DuckDB evicts down to its ``memory_limit`` when the limit is lowered, so the limit is set
    to what the session holds besides cached table blocks (temporary tables stay in memory)
    and at once set back. DuckDB states the limit only rounded to a tenth of a unit
    (``'3.7 GiB'`` for ``'4GB'``) and the exact value cannot be read: the limit set back is
    the smallest near it that DuckDB states the same way, so
    ``current_setting('memory_limit')`` reads as before (nothing is done when the stated
    limit cannot be read). Fetched results are not DuckDB's and stay. Used between
    fetching a large result and spreading it, so the two are not held together.
    """
    if getattr(backend, "name", "") != "duckdb":
        return
    con = backend.con
    before = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    restore = _stated_bytes(before)
    cached, other = con.execute(
        "SELECT coalesce(sum(memory_usage_bytes) FILTER (WHERE tag = 'BASE_TABLE'), 0), "
        "coalesce(sum(memory_usage_bytes) FILTER (WHERE tag <> 'BASE_TABLE'), 0) "
        "FROM duckdb_memory()"
    ).fetchall()[0]
    if restore is None or cached <= _KEEP_CACHED:
        return
    try:
        con.execute(f"SET memory_limit = '{int(other) + _KEEP_CACHED}B'")
    except Exception:  # memory DuckDB cannot free now: it keeps it, nothing else changes
        pass
    finally:
        _set_limit(con, before, *restore)
