"""Vectorised parsers for one input column each.

Each parser returns the converted column and a list of ``(mask, reason)`` pairs: boolean numpy
arrays marking rejected cells, with the reason shared by those cells (so the reasons cost one
boolean array each, not one Python object per row). Later pairs never override earlier ones. Missing values are reported separately by the caller,
which knows whether the column is required. Nothing here loops over rows in Python, except JSON
serialisation of dict/list cells in a DataFrame (which have no vectorised encoder).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from segkit._schema import EVENT_TYPE_ALIASES, EVENT_TYPES
from segkit._timezones import iana_zones
from segkit.errors import InputError

#: Timestamps outside [EARLIEST, LATEST) are quarantined as implausible (typos such as year 0202).
EARLIEST_TIMESTAMP = pd.Timestamp("1990-01-01", tz="UTC")
LATEST_TIMESTAMP = pd.Timestamp("2100-01-01", tz="UTC")
#: Purchase values above this are quarantined as implausible (a unit or parsing error, not a sale).
MAX_VALUE = 1e9
#: Text accepted for booleans (case-insensitive).
TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1", "1.0"})
FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0", "0.0"})

_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")


Problems = list[tuple[np.ndarray, str]]


def _mask(condition: pd.Series | np.ndarray) -> np.ndarray:
    return np.asarray(condition, dtype=bool)


def as_text(values: pd.Series) -> pd.Series:
    """Cells as stripped strings; blanks become missing. Integral floats print without ``.0``."""
    if pd.api.types.is_bool_dtype(values):
        text = values.astype(object).where(values.notna()).map(str, na_action="ignore")
    elif pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and np.isfinite(finite).all() and (finite == np.round(finite)).all():
            values = values.astype("Int64")
        text = values.astype(str).where(values.notna())
    elif pd.api.types.is_numeric_dtype(values):
        text = values.astype(str).where(values.notna())
    elif isinstance(values.dtype, pd.StringDtype):
        text = values
    elif not values.notna().any():
        return pd.Series(np.nan, index=values.index, dtype="str")
    else:
        text = values.where(values.isna(), values.astype(str))
    text = text.astype("str").str.strip()
    return text.mask(_mask(text == ""))


def normalise_event_types(text: pd.Series) -> tuple[pd.Series, Problems]:
    """Map spellings to :data:`EVENT_TYPES` via :data:`EVENT_TYPE_ALIASES` (a categorical)."""
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    canonical = [_canonical_event_type(str(u)) for u in uniques]
    categories = sorted({c for c in canonical if c is not None})
    position = {c: k for k, c in enumerate(categories)}
    code_map = np.array([position.get(c, -1) for c in canonical] + [-1], dtype=np.int64)
    new_codes = code_map[codes]  # a factorize code of -1 picks the trailing -1
    result = pd.Series(
        pd.Categorical.from_codes(new_codes, categories=categories), index=text.index
    )
    unknown = (new_codes == -1) & (codes != -1)
    valid = ", ".join(EVENT_TYPES)
    return result, [(unknown, f"unknown event type; valid: {valid} (or an alias such as 'opened')")]


def _canonical_event_type(raw: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", raw.strip().lower())
    if key in EVENT_TYPES:
        return key
    return EVENT_TYPE_ALIASES.get(key)


def parse_numbers(
    values: pd.Series, *, column: str, signed: bool = False
) -> tuple[pd.Series, Problems]:
    """Finite numbers no larger than :data:`MAX_VALUE` in magnitude, non-negative unless
    ``signed`` (returns and cancellations)."""
    if pd.api.types.is_bool_dtype(values):
        values = values.astype(object)
    if pd.api.types.is_numeric_dtype(values):
        numbers = values.astype("float64")
        unparsed = np.zeros(len(values), dtype=bool)
    else:
        text = as_text(values)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        unparsed = _mask(text.notna() & numbers.isna())
    array = numbers.to_numpy()
    with np.errstate(invalid="ignore"):
        problems = [
            (unparsed, f"{column} is not a number"),
            (np.isinf(array), f"{column} is not a finite number"),
            (np.zeros(len(array), dtype=bool) if signed else array < 0,
             f"{column} is negative; values must be >= 0"),
            (np.abs(array) > MAX_VALUE, f"{column} is implausibly large (> {MAX_VALUE:.0e})"),
        ]
    return numbers, problems


def parse_booleans(values: pd.Series) -> tuple[pd.Series, Problems]:
    """true/false, yes/no, y/n, t/f, 1/0 (any case)."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), []
    text = as_text(values).str.lower()
    result = pd.Series(pd.NA, index=values.index, dtype="boolean")
    result[text.isin(TRUE_STRINGS)] = True
    result[text.isin(FALSE_STRINGS)] = False
    bad = _mask(text.notna() & result.isna())
    return result, [(bad, "not a boolean (use true/false, yes/no or 1/0)")]


def check_timezones(text: pd.Series) -> Problems:
    """Cells that are not IANA zone names such as ``Europe/Paris``."""
    bad = _mask(text.notna() & ~text.isin(iana_zones()))
    return [(bad, "not an IANA time zone name (such as 'Europe/Paris' or 'America/New_York')")]


def check_tz_argument(tz: str | None) -> None:
    if tz is not None and tz not in iana_zones():
        raise InputError(f"unknown time zone {tz!r} for --tz; use an IANA name such as 'Europe/Paris'")


def check_emails(text: pd.Series) -> Problems:
    bad = _mask(text.notna() & ~text.str.contains("@", regex=False, na=False))
    return [(bad, "not an email address (no '@')")]


def parse_timestamps(
    values: pd.Series, *, column: str, tz: str | None, source: str
) -> tuple[pd.Series, Problems]:
    """Parse to UTC. Offsets (``Z``, ``+01:00``) are honoured per row, so mixed offsets are fine;
    naive values are read in ``tz`` and raise :class:`InputError` when ``tz`` is None.
    Only ISO 8601 text is accepted (no guessing between day-first and month-first dates)."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        raise InputError(
            f"{source}: column '{column}' holds numbers, not timestamps; convert epoch values first, "
            "e.g. pd.to_datetime(x, unit='s', utc=True), or export ISO 8601 text"
        )
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return _check_range(values.dt.tz_convert("UTC").astype("datetime64[us, UTC]"), [])
    if pd.api.types.is_datetime64_dtype(values):
        local, problems = _localise(values, column=column, tz=tz, source=source, text=values)
        return _check_range(local, problems)
    text = as_text(values)
    with_offset = _mask(text.str.contains(_OFFSET, na=False))
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    problems: Problems = []
    if with_offset.any():
        result[with_offset] = pd.to_datetime(
            text[with_offset], format="ISO8601", utc=True, errors="coerce"
        ).astype("datetime64[us, UTC]")
    naive_rows = ~with_offset & _mask(text.notna())
    if naive_rows.any():
        naive = pd.to_datetime(text[naive_rows], format="ISO8601", errors="coerce")
        local, local_problems = _localise(naive, column=column, tz=tz, source=source, text=text)
        result[naive_rows] = local
        problems += [(_spread(mask, naive_rows), reason) for mask, reason in local_problems]
    unparsed = _mask(text.notna() & result.isna())
    problems.append(
        (unparsed, "not an ISO 8601 timestamp (expected e.g. 2024-03-01T09:30:00+01:00)")
    )
    return _check_range(result, problems)


def _spread(mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    full = np.zeros(len(rows), dtype=bool)
    full[rows] = mask
    return full


def _localise(
    naive: pd.Series, *, column: str, tz: str | None, source: str, text: pd.Series
) -> tuple[pd.Series, Problems]:
    parsed = _mask(naive.notna())
    if not parsed.any():
        return naive.astype("datetime64[us]").dt.tz_localize("UTC"), []
    if tz is None:
        first = naive.index[parsed.argmax()]
        raise InputError(
            f"{source}: column '{column}' has timestamps without a time zone (e.g. "
            f"{str(text[first])!r} on row {first + 1}); pass --tz ZONE (tz= in Python) or add an "
            "offset such as +00:00"
        )
    local = naive.astype("datetime64[us]").dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    shifted = parsed & _mask(local.isna())
    reason = f"local time is ambiguous or does not exist in {tz} (DST change)"
    return local.dt.tz_convert("UTC"), [(shifted, reason)]


def _check_range(parsed: pd.Series, problems: Problems) -> tuple[pd.Series, Problems]:
    outside = _mask(parsed.notna() & ((parsed < EARLIEST_TIMESTAMP) | (parsed >= LATEST_TIMESTAMP)))
    window = f"{EARLIEST_TIMESTAMP:%Y-%m-%d}..{LATEST_TIMESTAMP:%Y-%m-%d}"
    return parsed, [*problems, (outside, f"implausible timestamp (outside {window})")]


def json_text(values: pd.Series) -> pd.Series:
    """Cells as JSON text: dicts/lists are serialised, strings kept as given (checked later)."""
    if values.dtype != object:
        return as_text(values)
    present = values.dropna()
    structured = present.map(lambda v: isinstance(v, (dict, list)))
    if not structured.any():
        return as_text(values)
    structured = structured[structured].index
    text = as_text(values.drop(index=structured)).astype(object).reindex(values.index)
    text[structured] = values[structured].map(lambda v: json.dumps(v, sort_keys=True, default=str))
    return text
