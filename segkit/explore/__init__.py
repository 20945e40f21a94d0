"""Interactive segment explorer for JupyterLab (ipywidgets); never used by reports.

:class:`SegmentExplorer` is a thin widget layer over pure pieces that tests and scripts can call
directly: :class:`ExplorerData` (features computed once per as-of date), :class:`ExplorerState`
(what the analyst chose) and :func:`explore` (-> :class:`ExplorerResult`: sizes, performance with
intervals, charts, the selection as :mod:`segkit.segments` rules), and :func:`export_audience`
(the consent-safe export through :func:`segkit.segments.export_segment`, written by
:func:`write_audience` to ``exports/`` under the repository root unless told otherwise).
"""

from segkit.explore._app import SegmentExplorer
from segkit.explore._data import ATTRIBUTE_COLUMNS, ExplorerData, Snapshot, subscriber_attributes
from segkit.explore._export import (
    DEFAULT_EXPORT_NAME,
    export_audience,
    export_file_path,
    write_audience,
)
from segkit.explore._params import (
    EXPLORER_SCHEMES,
    SCHEME_PARAMETERS,
    SchemeParameter,
    default_parameters,
)
from segkit.explore._rulefile import CONSENT_FILTERS, condition_spec
from segkit.explore._state import DEFAULT_RULES, ExplorerResult, ExplorerState, explore

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "CONSENT_FILTERS",
    "DEFAULT_EXPORT_NAME",
    "DEFAULT_RULES",
    "EXPLORER_SCHEMES",
    "ExplorerData",
    "ExplorerResult",
    "ExplorerState",
    "SCHEME_PARAMETERS",
    "SchemeParameter",
    "SegmentExplorer",
    "Snapshot",
    "condition_spec",
    "default_parameters",
    "explore",
    "export_audience",
    "export_file_path",
    "subscriber_attributes",
    "write_audience",
]
