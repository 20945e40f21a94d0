"""Consent: the one gate that decides who may be emailed, always from the latest known state of
each subscriber (subscribed, consented, no complaint or hard bounce, not repeatedly soft-bouncing,
not suppressed, not erased), whatever the as-of date of the segment behind an export.

Every export and audience in segkit passes through :func:`eligible`; :func:`consent_tables`
reads what it needs from a workspace.
"""

from segkit.consent._gate import (
    CONSENT_EVENT_TYPES,
    DEFAULT_SOFT_BOUNCE_LIMIT,
    EXCLUSION_REASONS,
    RESET_EVENT_TYPES,
    ConsentResult,
    consent_events,
    eligible,
)
from segkit.consent._state import ConsentTables, consent_tables, read_consent_events

__all__ = [
    "CONSENT_EVENT_TYPES",
    "ConsentResult",
    "ConsentTables",
    "DEFAULT_SOFT_BOUNCE_LIMIT",
    "EXCLUSION_REASONS",
    "RESET_EVENT_TYPES",
    "consent_events",
    "consent_tables",
    "eligible",
    "read_consent_events",
]
