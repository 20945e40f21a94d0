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
    con: duckdb.DuckDBPyConnection, affected_table: str, seconds: float
) -> int:
    """Recompute ``machine_open`` for every open of the subscribers listed in ``affected_table``
    (one column ``subscriber_id``); update only rows whose flag changes. Returns rows changed."""
    scope = f"FROM events e SEMI JOIN {affected_table} a ON e.subscriber_id = a.subscriber_id"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _segkit_machine_changes AS
        WITH opens AS (
            SELECT e.event_id, e.subscriber_id, e.campaign_id, e.ts, e.properties, e.machine_open
            {scope} WHERE e.event_type = 'open'
        ), sends AS (
            SELECT e.subscriber_id, e.campaign_id, e.ts {scope}
            WHERE e.event_type IN ('send', 'delivery') AND e.campaign_id IS NOT NULL
        ), clicked AS (
            SELECT DISTINCT e.subscriber_id, e.campaign_id {scope}
            WHERE e.event_type = 'click' AND e.campaign_id IS NOT NULL
        ), quick AS (
            SELECT DISTINCT o.event_id
            FROM opens o JOIN sends s
              ON o.subscriber_id = s.subscriber_id AND o.campaign_id = s.campaign_id
             AND o.ts >= s.ts AND o.ts <= s.ts + to_microseconds({int(seconds * 1e6)})
            ANTI JOIN clicked c
              ON o.subscriber_id = c.subscriber_id AND o.campaign_id = c.campaign_id
        ), flags AS (
            SELECT o.event_id, o.machine_open,
                   ({property_flag_sql('o.properties')} OR q.event_id IS NOT NULL) AS flag
            FROM opens o LEFT JOIN quick q ON o.event_id = q.event_id
        )
        SELECT event_id, flag FROM flags WHERE machine_open IS DISTINCT FROM flag
        """
    )
    changed = con.execute("SELECT count(*) FROM _segkit_machine_changes").fetchall()[0][0]
    if changed:
        con.execute(
            "UPDATE events SET machine_open = c.flag FROM _segkit_machine_changes c "
            "WHERE events.event_id = c.event_id"
        )
    con.execute("DROP TABLE _segkit_machine_changes")
    return int(changed)
