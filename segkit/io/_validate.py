"""Column mapping and row-level validation: clean typed rows plus one reason per rejected row."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from segkit._schema import TableSchema
from segkit.errors import InputError
from segkit.io import _parse
from segkit.io._read import describe_columns, header_hint

#: Columns derived at ingest, never read from the source (a source ``machine_open`` column is kept
#: as a property, where the machine-open detection reads it).
DERIVED_COLUMNS: dict[str, frozenset[str]] = {
    "events": frozenset({"machine_open"}),
    "order_lines": frozenset({"line_id", "ingest_id"}),
}
#: Where extra source columns go, per table; tables not listed ignore them (with a note).
EXTRA_COLUMNS_INTO: dict[str, str] = {
    "events": "properties", "subscribers": "attributes", "order_lines": "attributes"
}
#: Numeric columns that may be negative: returns and cancellations (an event's value is
#: negative only on a refund; see :func:`_refund_signs`).
SIGNED_COLUMNS = frozenset({("events", "value"), ("order_lines", "quantity"),
                            ("order_lines", "value")})
MISSING_REASON = "required value is missing"


@dataclass
class Validated:
    """Rows that passed (typed, canonical names) and one problem per rejected row."""

    clean: pd.DataFrame
    problems: pd.DataFrame  # index: row position; columns: column, value, reason
    provided: list[str]
    extras: list[str]
    notes: list[str] = field(default_factory=list)
    #: (purchases with a negative value loaded as refunds, refunds given as positive amounts)
    refund_counts: tuple[int, int] = (0, 0)


def input_columns(schema: TableSchema) -> list[str]:
    derived = DERIVED_COLUMNS.get(schema.name, frozenset())
    return [c for c in schema.column_names if c not in derived]


def map_columns(
    frame: pd.DataFrame, schema: TableSchema, mapping: Mapping[str, str] | None, source: str
) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Rename source columns to canonical names; return the frame, provided and extra columns.

    ``mapping`` is ``{canonical: source_column}``. Unmapped source columns whose name equals a
    canonical name ignoring case and surrounding spaces are taken as that column.
    """
    canonical = input_columns(schema)
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    renames = _explicit_renames(mapping or {}, canonical, columns, schema.name, source)
    taken = set(renames.values())
    by_lower = {c.lower(): c for c in canonical}
    for column in columns:
        target = by_lower.get(column.strip().lower())
        if column not in renames and target and target not in taken:
            renames[column] = target
            taken.add(target)
    mapped = frame.rename(columns=renames)
    repeated = sorted(set(mapped.columns[mapped.columns.duplicated()]))
    if repeated:
        raise InputError(f"{source}: several columns are named {repeated[0]!r} (ignoring case)")
    missing = sorted(set(schema.required) - set(mapped.columns))
    if missing:
        raise InputError(
            f"{source}: required column(s) {', '.join(map(repr, missing))} missing for "
            f"{schema.name}; found: {describe_columns(columns)}; map one with "
            f"--map {missing[0]}=SOURCE_COLUMN{header_hint(columns)}"
        )
    provided = [c for c in canonical if c in mapped.columns]
    extras = [c for c in mapped.columns if c not in set(canonical)]
    return mapped, provided, extras


def _explicit_renames(
    mapping: Mapping[str, str], canonical: list[str], columns: list[str], table: str, source: str
) -> dict[str, str]:
    renames: dict[str, str] = {}
    for target, column in mapping.items():
        if target not in canonical:
            raise InputError(
                f"{source}: unknown mapping target {target!r} for {table}; valid: {', '.join(canonical)}"
            )
        if column not in columns:
            raise InputError(
                f"{source}: mapping {target}={column} names no column of the file; "
                f"found: {describe_columns(columns)}"
            )
        if column in renames:
            raise InputError(f"{source}: column {column!r} is mapped twice ({renames[column]}, {target})")
        renames[column] = target
    targets = set(renames.values())
    clashes = [c for c in columns if c not in renames and c.strip().lower() in targets]
    if clashes:
        raise InputError(
            f"{source}: column {clashes[0]!r} clashes with a --map target; rename or drop it"
        )
    return renames


def validate(
    frame: pd.DataFrame,
    schema: TableSchema,
    *,
    provided: list[str],
    extras: list[str],
    tz: str | None,
    source: str,
    con: duckdb.DuckDBPyConnection,
) -> Validated:
    """Convert each provided column and keep the first problem of every rejected row (columns in
    schema order, checks in the order each parser lists them)."""
    n = len(frame)
    reason_codes = np.zeros(n, dtype=np.int32)  # 0 = fine, k = reasons[k - 1]
    reasons: list[tuple[str, str]] = []
    clean = pd.DataFrame(index=frame.index)
    required = set(schema.required)
    types = {c.name: c.sql_type for c in schema.columns}
    for column in provided:
        signed = (schema.name, column) in SIGNED_COLUMNS
        converted, problems = _convert(
            frame[column], column, types[column], tz, source, con, signed=signed
        )
        if schema.name == "events" and column == "value" and "event_type" in clean:
            problems = [*problems, _negative_non_money(converted, clean["event_type"])]
        if column in required:
            # after the parser's problems, so only truly absent values remain NaN here
            problems = [*problems, (np.asarray(converted.isna(), dtype=bool), MISSING_REASON)]
        for mask, reason in problems:
            new = mask & (reason_codes == 0)
            if new.any():
                reasons.append((column, reason))
                reason_codes[new] = len(reasons)
        clean[column] = converted
    for column in extras:
        clean[column] = frame[column]
    bad = reason_codes > 0
    codes = reason_codes[bad] - 1
    columns = pd.Series([reasons[k][0] for k in range(len(reasons))], dtype=object)
    problems = pd.DataFrame(
        {
            "column": columns.to_numpy()[codes] if len(reasons) else [],
            "reason": np.array([r for _, r in reasons], dtype=object)[codes] if len(reasons) else [],
        },
        index=frame.index[bad],
    )
    problems.insert(1, "value", _cell_text(frame, problems["column"]))
    clean = clean[~bad]
    counts = (0, 0)
    if schema.name == "events" and {"event_type", "value"} <= set(clean.columns):
        clean, counts = _refund_signs(clean)
    notes = validation_notes(schema.name, extras, counts)
    return Validated(clean, problems, provided, extras, notes, counts)


def validation_notes(table: str, extras: list[str], refund_counts: tuple[int, int]) -> list[str]:
    """The notes :func:`validate` gives: extra columns, then refund signs (so an ingest read in
    chunks can give the same notes for the whole file from the summed counts)."""
    notes = _extra_notes(table, extras)
    returned, positive_refund = refund_counts
    if returned:
        notes.append(f"{returned} purchase(s) with a negative value loaded as refunds")
    if positive_refund:
        notes.append(f"{positive_refund} refund value(s) given as positive amounts "
                     "stored negative (refunds reduce revenue)")
    return notes


def _negative_non_money(value: pd.Series, event_type: pd.Series) -> tuple[np.ndarray, str]:
    """Negative values on events other than purchases and refunds."""
    money = np.asarray(event_type.isin(["purchase", "refund"]), dtype=bool)
    with np.errstate(invalid="ignore"):
        negative = np.asarray(value.to_numpy(dtype=float, na_value=np.nan) < 0, dtype=bool)
    return negative & ~money, "value is negative; only refunds (and returned purchases) may be"


def _refund_signs(clean: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, int]]:
    """A purchase with a negative value is a return: loaded as a ``refund``; a refund's value is
    stored negative whichever sign the source used, so sums of ``value`` are net revenue.
    Returns the rows and how many of each kind were changed."""
    value = clean["value"]
    returned = (clean["event_type"] == "purchase") & (value < 0)
    positive_refund = (clean["event_type"] == "refund") & (value > 0)
    if returned.any():
        clean = clean.assign(event_type=clean["event_type"].astype(object).where(~returned, "refund"))
    if positive_refund.any():
        clean = clean.assign(value=value.where(~positive_refund, -value))
    return clean, (int(returned.sum()), int(positive_refund.sum()))


def _convert(
    values: pd.Series, column: str, sql_type: str, tz: str | None, source: str, con,
    *, signed: bool = False,
) -> tuple[pd.Series, _parse.Problems]:
    if sql_type == "TIMESTAMPTZ":
        return _parse.parse_timestamps(values, column=column, tz=tz, source=source)
    if sql_type == "DOUBLE":
        return _parse.parse_numbers(values, column=column, signed=signed)
    if sql_type == "BOOLEAN":
        return _parse.parse_booleans(values)
    if sql_type == "JSON":
        text = _parse.json_text(values)
        return text, _check_json_objects(text, column, con)
    if column == "event_type":
        return _parse.normalise_event_types(_parse.as_text(values))
    text = _parse.as_text(values)
    if column == "timezone":
        return text, _parse.check_timezones(text)
    if column == "email":
        return text, _parse.check_emails(text)
    return text, []


def _check_json_objects(
    text: pd.Series, column: str, con: duckdb.DuckDBPyConnection
) -> _parse.Problems:
    present = np.asarray(text.notna(), dtype=bool)
    if not present.any():
        return []
    probe = pd.DataFrame({"position": np.arange(present.sum()), "j": text[present].astype(str)})
    probe.index = range(len(probe))
    con.register("_segkit_json_probe", probe)
    try:
        ok = con.execute(
            "SELECT CASE WHEN json_valid(j) THEN json_type(j::JSON) = 'OBJECT' ELSE false END AS ok "
            "FROM _segkit_json_probe ORDER BY position"
        ).fetchnumpy()["ok"]
    finally:
        con.unregister("_segkit_json_probe")
    bad = np.zeros(len(text), dtype=bool)
    bad[np.flatnonzero(present)] = ~np.asarray(ok, dtype=bool)
    return [(bad, f"{column} is not a JSON object")]


def _cell_text(frame: pd.DataFrame, columns: pd.Series) -> pd.Series:
    values = pd.Series(None, index=columns.index, dtype=object)
    for column in columns.unique():
        rows = columns.index[columns == column]
        cells = frame.loc[rows, column]
        values[rows] = cells.astype(object).where(cells.notna()).map(str, na_action="ignore")
    return values


def _extra_notes(table: str, extras: list[str]) -> list[str]:
    if not extras:
        return []
    names = ", ".join(extras)
    into = EXTRA_COLUMNS_INTO.get(table)
    if into:
        return [f"extra column(s) {names} kept in {into}"]
    return [f"extra column(s) {names} ignored ({table} has no free-form column)"]
