"""Report notebooks: validate parameters, execute with papermill, export offline HTML, index, batch.

Notebooks call :mod:`segkit.reports.sections` (what each section computes) and
:mod:`segkit.reports.display` (safe tables, charts, text, ``write_summary``);
importing this package is cheap (papermill and nbconvert load only when a report runs).
"""

from segkit.reports import display
from segkit.reports._batch import BatchResult, load_manifest, run_batch
from segkit.reports._fingerprint import input_fingerprint, workspace_fingerprint
from segkit.reports._index import build_index, list_runs, runs_mentioning
from segkit.reports._params import Parameter, coerce_parameters, notebook_parameters
from segkit.reports._runner import (
    NOTEBOOKS_ENV,
    ReportRun,
    available_reports,
    notebooks_dir,
    prepare_parameters,
    report_parameters,
    run_report,
)

__all__ = [
    "BatchResult",
    "NOTEBOOKS_ENV",
    "Parameter",
    "ReportRun",
    "available_reports",
    "build_index",
    "coerce_parameters",
    "display",
    "input_fingerprint",
    "list_runs",
    "load_manifest",
    "notebook_parameters",
    "notebooks_dir",
    "prepare_parameters",
    "report_parameters",
    "run_batch",
    "run_report",
    "runs_mentioning",
    "workspace_fingerprint",
]
