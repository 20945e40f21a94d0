"""Reading, validating and loading data into the DuckDB workspace. Only this package touches files.

``Workspace(path).ingest(table, source, ...) -> IngestReport``; see :class:`Workspace`.
"""

from __future__ import annotations

from segkit.io._connect import ConnectedWorkspace, scrubbed, shown_target
from segkit.io._experiment import (
    EXPERIMENT_METRICS,
    experiment_units,
    list_experiments,
    read_experiment_csv,
)
from segkit.io._ingest import INGEST_PROGRESS_TOTAL
from segkit.io._interactions import INTERACTION_EVENT_TYPES, read_interactions
from segkit.io._lists import personal_data_note, read_id_list, write_export_csv, write_private_file
from segkit.io._machine import DEFAULT_MACHINE_OPEN_SECONDS, MACHINE_USER_AGENT_PATTERN
from segkit.io._report import IngestReport
from segkit.io._workspace import WORKSPACE_TABLES, Workspace, wait_for_workspace

__all__ = [
    "ConnectedWorkspace",
    "DEFAULT_MACHINE_OPEN_SECONDS",
    "EXPERIMENT_METRICS",
    "INGEST_PROGRESS_TOTAL",
    "INTERACTION_EVENT_TYPES",
    "IngestReport",
    "MACHINE_USER_AGENT_PATTERN",
    "WORKSPACE_TABLES",
    "Workspace",
    "experiment_units",
    "list_experiments",
    "personal_data_note",
    "read_experiment_csv",
    "read_id_list",
    "read_interactions",
    "scrubbed",
    "shown_target",
    "wait_for_workspace",
    "write_export_csv",
    "write_private_file",
]
