"""Workspace overview: row counts, ingest balance, quarantine reasons, weekly events, machine opens."""

from segkit.overview._shape import EMAIL_EVENT_TYPES, SCHEME_NEEDS, DataShape, data_shape
from segkit.overview._summary import (
    WORKSPACE_SUMMARY_TABLES,
    WorkspaceSummary,
    summarize_tables,
    workspace_summary,
)

__all__ = [
    "DataShape",
    "EMAIL_EVENT_TYPES",
    "SCHEME_NEEDS",
    "WORKSPACE_SUMMARY_TABLES",
    "WorkspaceSummary",
    "data_shape",
    "summarize_tables",
    "workspace_summary",
]
