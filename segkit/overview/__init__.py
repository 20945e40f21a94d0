"""Workspace overview: row counts, ingest balance, quarantine reasons, weekly events, machine opens."""

from segkit.overview._summary import (
    WORKSPACE_SUMMARY_TABLES,
    WorkspaceSummary,
    summarize_tables,
    workspace_summary,
)

__all__ = ["WORKSPACE_SUMMARY_TABLES", "WorkspaceSummary", "summarize_tables", "workspace_summary"]
