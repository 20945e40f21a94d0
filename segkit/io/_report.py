"""The result of one ingest: counts that always add up, and the quarantined rows with reasons."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import pandas as pd

QUARANTINE_COLUMNS = ("row_number", "column", "value", "reason")


def empty_quarantine() -> pd.DataFrame:
    """A quarantine frame with no rows and the documented columns."""
    return pd.DataFrame(
        {
            "row_number": pd.Series([], dtype="int64"),
            "column": pd.Series([], dtype="object"),
            "value": pd.Series([], dtype="object"),
            "reason": pd.Series([], dtype="object"),
        }
    )


@dataclass(frozen=True)
class IngestReport:
    """What one :meth:`segkit.io.Workspace.ingest` call did.

    ``rows_read == rows_loaded + rows_duplicate + rows_quarantined + rows_suppressed`` always
    holds (checked on construction); ``rows_suppressed`` counts rows of forgotten subscribers
    skipped because of the suppression list (see :func:`segkit.privacy.forget`).
    ``quarantine`` has one row per rejected input row: ``row_number`` (1-based data row: the
    first row after a CSV header is 1; for a DataFrame, position + 1), the first failing
    ``column``, the offending ``value`` as text and the ``reason``. ``notes`` lists decisions taken
    on the input as a whole (extra columns kept or ignored, a detected delimiter, ...).
    """

    table: str
    source: str
    ingest_id: int
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    quarantine: pd.DataFrame = field(default_factory=empty_quarantine, repr=False, compare=False)
    notes: tuple[str, ...] = ()
    rows_suppressed: int = 0

    def __post_init__(self) -> None:
        total = (self.rows_loaded + self.rows_duplicate + self.rows_quarantined
                 + self.rows_suppressed)
        if self.rows_read != total:
            raise AssertionError(
                f"ingest counts do not add up: read {self.rows_read} != loaded {self.rows_loaded}"
                f" + duplicates {self.rows_duplicate} + quarantined {self.rows_quarantined}"
                f" + suppressed {self.rows_suppressed}"
            )
        if len(self.quarantine) != self.rows_quarantined:
            raise AssertionError(
                f"{len(self.quarantine)} quarantine rows for {self.rows_quarantined} quarantined"
            )

    def __str__(self) -> str:
        return (
            f"{self.table} from {self.source}: read {self.rows_read}, loaded {self.rows_loaded}, "
            f"duplicates skipped {self.rows_duplicate}, quarantined {self.rows_quarantined}"
            + (f", suppressed (forgotten) {self.rows_suppressed}" if self.rows_suppressed else "")
        )

    def reasons(self) -> pd.Series:
        """Quarantined rows counted by column and reason, most frequent first."""
        if self.quarantine.empty:
            return pd.Series([], dtype="int64", name="rows")
        counts = self.quarantine.groupby(["column", "reason"]).size().rename("rows")
        return counts.sort_values(ascending=False, kind="stable")

    def summary(self) -> str:
        """The report line, the notes, and quarantine reasons with their row counts."""
        lines = [str(self)]
        lines += [f"  note: {note}" for note in self.notes]
        for (column, reason), rows in self.reasons().items():
            lines.append(f"  quarantined {rows} row(s): {column}: {reason}")
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One row with the counts, suitable for concatenating several reports."""
        return pd.DataFrame(
            [
                {
                    "ingest_id": self.ingest_id,
                    "table": self.table,
                    "source": self.source,
                    "rows_read": self.rows_read,
                    "rows_loaded": self.rows_loaded,
                    "rows_duplicate": self.rows_duplicate,
                    "rows_quarantined": self.rows_quarantined,
                    "rows_suppressed": self.rows_suppressed,
                }
            ]
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(str(column))}</td><td>{html.escape(str(reason))}</td>"
            f"<td>{count}</td></tr>"
            for (column, reason), count in self.reasons().items()
        )
        table = (
            "<table><tr><th>column</th><th>reason</th><th>rows</th></tr>" + rows + "</table>"
            if rows
            else ""
        )
        return f"<div><p>{html.escape(str(self))}</p>{table}</div>"
