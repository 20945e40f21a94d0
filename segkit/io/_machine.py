"""Machine opens: opens made by software (Apple Mail Privacy Protection, security scanners).

They are kept, with ``events.machine_open = true``, so features can count human opens and all
opens separately. An ``open`` is flagged when either

1. its ``properties`` say so: ``machine_open`` is ``true``/``"true"``/``"yes"``/``1``, or
   ``user_agent`` matches :data:`MACHINE_USER_AGENT_PATTERN` (case-insensitive): Apple Mail
   Privacy Protection proxy markers and known link/security scanners (Barracuda, Mimecast,
   Proofpoint, Microsoft Safe Links/Defender, Symantec/MessageLabs, Trend Micro, Cisco IronPort,
   FireEye, Sophos, Forcepoint, Zscaler) and generic bots (``bot``, ``crawler``, ``spider``,
   ``headless``, ``python-requests``, ``curl/``, ``wget/``); or
2. the timing heuristic holds: the open comes within ``machine_open_seconds`` (default 10 s)
   after a ``send`` or ``delivery`` of the same campaign to the same subscriber (0 <= open - send
   <= seconds), and that subscriber never clicked that campaign. People rarely open within seconds
   of delivery; proxies fetch images on delivery. Opens without ``campaign_id`` can only be
   flagged by rule 1.

Because the send, the open and a click can arrive in different ingests, every ingest recomputes
the flag for all opens of the subscribers it touches, inside its transaction.
"""

from __future__ import annotations

import duckdb

DEFAULT_MACHINE_OPEN_SECONDS = 10.0
#: Rows per slice when a statement over millions of events (machine opens, distinct event ids
#: at ingest) runs in slices of a hash, so each slice's hash tables fit in memory.
PARTITION_ROWS = 25_000_000

MACHINE_USER_AGENT_PATTERN = (
    r"apple ?mail ?privacy|mail ?privacy ?protection|applemailproxy|mpp ?proxy"
    r"|barracuda|mimecast|proofpoint|safe ?links|microsoft defender|messagelabs|symantec"
    r"|trend ?micro|ironport|fireeye|sophos|forcepoint|zscaler"
    r"|\bbot\b|bot/|crawler|spider|headless|python-requests|curl/|wget/"
)


def property_flag_sql(properties: str) -> str:
    """SQL for rule 1 over a JSON text column; false when properties are NULL."""
    return (
        f"(coalesce(lower(json_extract_string({properties}, '$.machine_open')) "
        f"IN ('true', '1', 'yes', '1.0'), false) OR coalesce(regexp_matches("
        f"json_extract_string({properties}, '$.user_agent'), '{MACHINE_USER_AGENT_PATTERN}', 'i'),"
        " false))"
    )


def refresh_machine_opens(
    con: duckdb.DuckDBPyConnection, affected_table: str | None, seconds: float
) -> int:
    """Recompute ``machine_open`` for every open of the subscribers listed in ``affected_table``
    (one column ``subscriber_id``), or of every subscriber when it is None (a first load: the
    list would hold them all); update only rows whose flag changes. Returns rows changed."""
    scope = "FROM events e" + (
        f" SEMI JOIN {affected_table} a ON e.subscriber_id = a.subscriber_id"
        if affected_table is not None else ""
    )
    # In slices of subscribers (a hash of the id) when there are many events: every rule looks
    # within one subscriber, and each slice's joins fit in memory instead of spilling.
    parts = hash_partitions(con.execute("SELECT count(*) FROM events").fetchall()[0][0])
    for part in range(parts):
        where = f"hash(e.subscriber_id) % {parts} = {part} AND " if parts > 1 else ""
        into = ("CREATE OR REPLACE TEMP TABLE _segkit_machine_changes AS" if part == 0
                else "INSERT INTO _segkit_machine_changes")
        con.execute(f"{into} {_changes_sql(scope, where, seconds)}")
    changed = con.execute("SELECT count(*) FROM _segkit_machine_changes").fetchall()[0][0]
    if changed:
        con.execute(
            "UPDATE events SET machine_open = c.flag FROM _segkit_machine_changes c "
            "WHERE events.event_id = c.event_id"
        )
    con.execute("DROP TABLE _segkit_machine_changes")
    return int(changed)


def hash_partitions(rows: int) -> int:
    """How many hash slices ``rows`` rows are processed in (at least one; see
    :data:`PARTITION_ROWS`)."""
    return max(1, -(-int(rows) // PARTITION_ROWS))


def _changes_sql(scope: str, where: str, seconds: float) -> str:
    """The opens (in ``scope``, also filtered by ``where``: a condition followed by AND, or
    empty) whose flag differs from the stored one, with the new flag."""
    return f"""
        WITH opens AS (
            SELECT e.event_id, e.subscriber_id, e.campaign_id, e.ts, e.properties, e.machine_open
            {scope} WHERE {where}e.event_type = 'open'
        ), sends AS (
            SELECT e.subscriber_id, e.campaign_id, e.ts {scope}
            WHERE {where}e.event_type IN ('send', 'delivery') AND e.campaign_id IS NOT NULL
        ), clicked AS (
            SELECT DISTINCT e.subscriber_id, e.campaign_id {scope}
            WHERE {where}e.event_type = 'click' AND e.campaign_id IS NOT NULL
        ), quick AS (  -- the rule depends on (subscriber, campaign, time) only: the big join
            -- carries those three columns, not each open's id and properties
            SELECT DISTINCT o.subscriber_id, o.campaign_id, o.ts
            FROM (SELECT subscriber_id, campaign_id, ts FROM opens
                  WHERE campaign_id IS NOT NULL) o
            JOIN sends s
              ON o.subscriber_id = s.subscriber_id AND o.campaign_id = s.campaign_id
             AND o.ts >= s.ts AND o.ts <= s.ts + to_microseconds({int(seconds * 1e6)})
            ANTI JOIN clicked c
              ON o.subscriber_id = c.subscriber_id AND o.campaign_id = c.campaign_id
        ), flags AS (
            SELECT o.event_id, o.machine_open,
                   ({property_flag_sql('o.properties')} OR q.ts IS NOT NULL) AS flag
            FROM opens o LEFT JOIN quick q
              ON o.subscriber_id = q.subscriber_id AND o.campaign_id = q.campaign_id
             AND o.ts = q.ts
        )
        SELECT event_id, flag FROM flags WHERE machine_open IS DISTINCT FROM flag
        """
