"""Read an ingest source (DataFrame, CSV, gzipped CSV, Parquet) into a DataFrame, or fail clearly.

Every structural problem (missing, unreadable, empty, not UTF-8, truncated gzip, ragged rows, wrong
format) raises :class:`~segkit.errors.InputError` naming the file, before anything is written.
CSV cells are read as text; the strings in :data:`MISSING_STRINGS` count as missing.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import re
import zlib
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from segkit.errors import InputError

#: CSV cells read as missing values (exact, case-sensitive match after nothing else).
MISSING_STRINGS: tuple[str, ...] = (
    "", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "none", "#N/A", "<NA>",
)
#: Missing-value strings that are a number (IEEE "not a number") in a numeric column: there the
#: cell is kept as text so validation quarantines it (a NaN revenue is not an unknown revenue).
NAN_STRINGS: tuple[str, ...] = ("NaN", "nan")
#: Delimiters tried, in this order of preference, when ``sep`` is not given.
CANDIDATE_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")

_GZIP_MAGIC = b"\x1f\x8b"
_PARQUET_MAGIC = b"PAR1"
_ZIP_MAGIC = b"PK\x03\x04"
_BOM = b"\xef\xbb\xbf"
_RAGGED = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
#: Data rows per chunk when an ingest reads a CSV in chunks (:func:`open_chunks`): a chunk of
#: text cells and its validated copy stay well under 1 GB, whatever the size of the file.
CHUNK_ROWS = 1_000_000


@dataclass
class RawInput:
    """A source read into memory, before column mapping."""

    frame: pd.DataFrame
    source: str
    sha256: str | None  # of the file's bytes; None for a DataFrame
    text_cells: bool
    notes: list[str] = field(default_factory=list)


@dataclass
class ChunkedInput:
    """A source read chunk by chunk: CSV files in :data:`CHUNK_ROWS` data rows at a time, a
    DataFrame or a Parquet file as one chunk (already in memory, or columnar).

    Each chunk keeps the file's row positions as its index (row number = index + 1), so every
    message and quarantine row names the file's row whatever the chunk size. Structural problems
    found in a later chunk (a ragged line, bad UTF-8) raise the same :class:`InputError` as a
    whole-file read would.
    """

    source: str
    sha256: str | None
    text_cells: bool
    notes: list[str]
    _whole: RawInput | None = None
    _csv: dict[str, object] | None = None
    _parquet: dict[str, object] | None = None
    rows_read: int = 0
    _last: pd.DataFrame | None = None

    @property
    def chunked(self) -> bool:
        """Whether the source is read from its file chunk by chunk (not already whole)."""
        return self._whole is None

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The chunks in file order (at least one, possibly empty, with the header's columns)."""
        if self._whole is not None:
            self.rows_read = len(self._whole.frame)
            yield self._whole.frame
            return
        self.rows_read, count = 0, 0
        for chunk in self._read():
            self.rows_read += len(chunk)
            count += 1
            self._last = chunk if count == 1 else None
            yield chunk
        if self.rows_read == 0 and self._csv is not None:
            self.notes.append("the file has a header but no data rows")

    def _read(self) -> Iterator[pd.DataFrame]:
        if self._csv is not None:
            return _csv_chunks(**self._csv)  # type: ignore[arg-type]
        assert self._parquet is not None
        return _parquet_chunks(**self._parquet)  # type: ignore[arg-type]

    def rows(self, positions: pd.Index) -> pd.DataFrame:
        """The raw rows at ``positions`` (for quarantine), reading the file again if it came in
        several chunks."""
        if self._whole is not None:
            return self._whole.frame.iloc[positions.to_numpy()]
        if self._last is not None:
            return self._last.loc[positions]
        wanted = positions.sort_values()
        parts = [chunk.loc[chunk.index.intersection(wanted)] for chunk in self._read()]
        return pd.concat(parts).loc[positions]


def open_chunks(
    source: pd.DataFrame | str | Path, *, sep: str | None = None, numeric: Collection[str] = (),
    booleans: Collection[str] = (), chunk_rows: int | None = None,
) -> ChunkedInput:
    """Check ``source`` as :func:`read_source` does and return it as a :class:`ChunkedInput`;
    a CSV is read ``chunk_rows`` data rows at a time (default :data:`CHUNK_ROWS`; ``0`` reads it
    whole, as orders need: their lines are grouped across the whole file). So is a Parquet file
    whose columns convert to pandas the same way in any chunk (see :func:`_parquet_streamable`);
    another one is read whole."""
    rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
    if isinstance(source, (str, Path)):
        path = Path(source)
        head = _check_file(path)
        if head.startswith(_PARQUET_MAGIC) and rows > 0 and _parquet_streamable(path, numeric,
                                                                               booleans):
            return ChunkedInput(str(path), file_sha256(path), False, [],
                                _parquet={"path": path, "chunk_rows": rows})
        if rows > 0 and not head.startswith((_PARQUET_MAGIC, _ZIP_MAGIC)) and path.suffix.lower() not in {
            ".parquet", ".pq"
        }:  # a whole-file read (rows == 0) works out the CSV options in read_source
            gzipped = head.startswith(_GZIP_MAGIC)
            options, notes = _csv_options(path, sep=sep, gzipped=gzipped, numeric=numeric)
            return ChunkedInput(str(path), file_sha256(path), True, notes,
                                _csv={**options, "chunk_rows": rows})
    raw = read_source(source, sep=sep, numeric=numeric)
    return ChunkedInput(raw.source, raw.sha256, raw.text_cells, raw.notes, _whole=raw)


def read_source(
    source: pd.DataFrame | str | Path, *, sep: str | None = None, numeric: Collection[str] = ()
) -> RawInput:
    """Read ``source`` into a :class:`RawInput` with a 0..n-1 index (row number = index + 1).

    ``numeric``: CSV column names (matched ignoring case and surrounding spaces) whose
    :data:`NAN_STRINGS` cells stay text instead of becoming missing, so they can be rejected.
    """
    if isinstance(source, pd.DataFrame):
        frame = source.reset_index(drop=True)
        return RawInput(frame, "DataFrame", None, text_cells=False)
    if not isinstance(source, (str, Path)):
        raise InputError(
            f"cannot ingest a {type(source).__name__}; pass a pandas DataFrame or a path to a "
            "CSV, CSV.gz or Parquet file"
        )
    path = Path(source)
    head = _check_file(path)
    if head.startswith(_PARQUET_MAGIC):
        return _read_parquet(path)
    if head.startswith(_ZIP_MAGIC):
        raise InputError(f"{path}: is a ZIP archive (an Excel workbook?); export it as CSV or Parquet")
    if path.suffix.lower() in {".parquet", ".pq"}:
        raise InputError(f"{path}: not a Parquet file (no PAR1 signature); is it CSV renamed?")
    return _read_csv(path, sep=sep, gzipped=head.startswith(_GZIP_MAGIC), numeric=numeric)


def _check_file(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as error:
        raise InputError(f"{path}: cannot be read ({error.strerror or error})") from error
    if not head:
        raise InputError(f"{path}: file is empty (0 bytes)")
    return head


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _parquet_streamable(path: Path, numeric: Collection[str], booleans: Collection[str]) -> bool:
    """Whether every column of the Parquet file becomes the same pandas dtype in any chunk as in
    the whole file, so validation sees the same values: text, timestamps, and numbers only in
    columns that may become numeric (``numeric``; read as float there whatever the chunk), and
    booleans only in those that may become boolean (``booleans``: ``bool``, or ``object`` in a
    chunk with nulls, parse to the same values; as an extra column they would not).
    Numbers elsewhere are not: an integer column with a null in one chunk turns float there (an
    extra column's JSON would change), and a float id prints without ``.0`` only when its whole
    column is integral."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception:  # a corrupt file: read_source gives the message
        return False
    wanted = {name.strip().lower() for name in numeric}
    flags = {name.strip().lower() for name in booleans}
    for field_ in schema:
        kind = field_.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        text = pa.types.is_string(kind) or pa.types.is_large_string(kind) or (
            hasattr(pa.types, "is_string_view") and pa.types.is_string_view(kind))
        number = pa.types.is_integer(kind) or pa.types.is_floating(kind)
        name = str(field_.name).strip().lower()
        if not (text or pa.types.is_timestamp(kind) or (number and name in wanted)
                or (pa.types.is_boolean(kind) and name in flags)):
            return False
    return True


def _parquet_chunks(path: Path, *, chunk_rows: int) -> Iterator[pd.DataFrame]:
    """The Parquet file in chunks of ``chunk_rows`` rows, numbered across chunks."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
        schema = handle.schema_arrow
        start = 0
        batches = handle.iter_batches(batch_size=chunk_rows)
        first = True
        while True:
            batch = next(batches, None)
            if batch is None and not first:
                return
            table = (pa.Table.from_batches([batch], schema=schema) if batch is not None
                     else schema.empty_table())
            frame = table.to_pandas().reset_index(drop=True)  # as pd.read_parquet, then numbered
            frame.index = pd.RangeIndex(start, start + len(frame))
            start += len(frame)
            first = False
            yield frame
            if batch is None:
                return
    except Exception as error:  # pyarrow raises many types for corrupt files
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(error)})") from error


def _read_parquet(path: Path) -> RawInput:
    try:
        frame = pd.read_parquet(path)
    except Exception as error:  # pyarrow raises many types for corrupt files
        raise InputError(f"{path}: not a readable Parquet file ({_first_line(error)})") from error
    return RawInput(frame.reset_index(drop=True), str(path), file_sha256(path), text_cells=False)


def _open_text_head(path: Path, gzipped: bool) -> bytes:
    opener = gzip.open if gzipped else open
    try:
        with opener(path, "rb") as handle:
            return handle.read(64 * 1024)
    except (EOFError, OSError, zlib.error) as error:
        raise InputError(f"{path}: truncated or corrupt gzip file ({_first_line(error)})") from error


def _csv_options(
    path: Path, *, sep: str | None, gzipped: bool, numeric: Collection[str]
) -> tuple[dict[str, object], list[str]]:
    """Check the head of a CSV and settle how to parse it: ``(options, notes)``."""
    head = _open_text_head(path, gzipped)
    if head.startswith(_BOM):
        head = head[len(_BOM) :]
    if not head.strip():
        raise InputError(f"{path}: file is empty (no header line)")
    if b"\x00" in head:
        raise InputError(f"{path}: contains NUL bytes, so it is not a text CSV; expected CSV or Parquet")
    notes: list[str] = []
    if sep is None:
        sep = _detect_delimiter(head)
        if sep != ",":
            notes.append(f"detected {sep!r} as the delimiter")
    header = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    hint = header_hint([header]) if sep not in header else ""
    options = {"path": path, "sep": sep, "gzipped": gzipped, "hint": hint,
               "missing": _missing_values(head, sep, numeric)}
    return options, notes


def _read_csv(path: Path, *, sep: str | None, gzipped: bool, numeric: Collection[str] = ()) -> RawInput:
    options, notes = _csv_options(path, sep=sep, gzipped=gzipped, numeric=numeric)
    frame = _parse_csv(**options)  # type: ignore[arg-type]
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if frame.empty:
        notes.append("the file has a header but no data rows")
    return RawInput(frame, str(path), file_sha256(path), text_cells=True, notes=notes)


def _missing_values(head: bytes, sep: str, numeric: Collection[str]) -> list[str] | dict[str, list[str]]:
    """``na_values`` for :func:`pandas.read_csv`: :data:`MISSING_STRINGS`, except the
    :data:`NAN_STRINGS` in the ``numeric`` columns (per-column lists need every header name)."""
    wanted = {name.strip().lower() for name in numeric}
    if not wanted:
        return list(MISSING_STRINGS)
    line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r")
    header = next(csv.reader([line], delimiter=sep), [])
    if len(set(header)) != len(header):  # pandas renames repeated names; keep it simple
        return list(MISSING_STRINGS)
    others = [value for value in MISSING_STRINGS if value not in NAN_STRINGS]
    return {name: others if name.strip().lower() in wanted else list(MISSING_STRINGS)
            for name in header}


def _csv_arguments(sep: str, gzipped: bool,
                   missing: list[str] | dict[str, list[str]] | None) -> dict[str, object]:
    return {
        "sep": sep,
        "dtype": str,
        "keep_default_na": False,
        "na_values": list(MISSING_STRINGS) if missing is None else missing,
        "encoding": "utf-8-sig",
        "compression": "gzip" if gzipped else None,
        "skipinitialspace": False,
    }


def _parse_csv(path: Path, *, sep: str, gzipped: bool, hint: str,
               missing: list[str] | dict[str, list[str]] | None = None) -> pd.DataFrame:
    with _csv_errors(path, gzipped, hint):
        return pd.read_csv(path, **_csv_arguments(sep, gzipped, missing))  # type: ignore[call-overload]


def _csv_chunks(path: Path, *, sep: str, gzipped: bool, hint: str,
                missing: list[str] | dict[str, list[str]] | None, chunk_rows: int
                ) -> Iterator[pd.DataFrame]:
    """The CSV in chunks of ``chunk_rows`` data rows, parsed exactly as :func:`_parse_csv` does
    (pandas numbers the rows across chunks, and its tokenizer counts lines across them too)."""
    arguments = _csv_arguments(sep, gzipped, missing)
    with _csv_errors(path, gzipped, hint):
        reader = pd.read_csv(path, chunksize=chunk_rows, **arguments)  # type: ignore[call-overload]
    with reader:
        while True:
            with _csv_errors(path, gzipped, hint):
                chunk = next(reader, None)
            if chunk is None:
                return
            chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
            yield chunk


@contextmanager
def _csv_errors(path: Path, gzipped: bool, hint: str) -> Iterator[None]:
    """Turn pandas' parse errors into :class:`InputError` naming the file and line."""
    try:
        yield
    except UnicodeDecodeError as error:
        line = _first_bad_utf8_line(path, gzipped)
        raise InputError(
            f"{path}: line {line} is not valid UTF-8 (byte {error.object[error.start]:#04x}); "
            "re-save the file as UTF-8"
        ) from error
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise InputError(f"{path}: truncated or corrupt gzip file ({_first_line(error)})") from error
    except pd.errors.EmptyDataError as error:
        raise InputError(f"{path}: file is empty (no header line)") from error
    except pd.errors.ParserError as error:
        match = _RAGGED.search(str(error))
        if match:
            expected, line, seen = match.groups()
            raise InputError(
                f"{path}: line {line} has {seen} fields but the header has {expected}; "
                f"check the delimiter (--sep) and the quoting of that line{hint}"
            ) from error
        raise InputError(f"{path}: cannot be parsed as CSV ({_first_line(error)})") from error


def _detect_delimiter(head: bytes) -> str:
    """The candidate delimiter that occurs most often in the header line outside quotes."""
    header = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in CANDIDATE_DELIMITERS}
    best = max(CANDIDATE_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _first_bad_utf8_line(path: Path, gzipped: bool) -> int:
    opener = gzip.open if gzipped else open
    line = 1
    with opener(path, "rb") as handle:
        for raw in handle:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line
            line += 1
    return line


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]{0,63}")


def describe_columns(columns: Sequence[object], *, quote: bool = True) -> str:
    """The columns a file has, for an error message, without quoting what may not be a header.

    Error messages end up in report HTML, ``run.json`` and the index, so they must not copy the
    content of an arbitrary file (``-p csv /etc/shadow``): a single "column" (a first line with
    no delimiter) is never quoted, nor is a name that does not look like a column name.
    """
    names = [str(c) for c in columns]
    if len(names) == 1:
        return "one column, not shown (is it a delimited file with a header line?)"
    shown = [name for name in names if _COLUMN_NAME.fullmatch(name)]
    text = ", ".join(map(repr, shown) if quote else shown) or "none"
    if hidden := len(names) - len(shown):
        text += f" and {hidden} not shown (they do not look like column names)"
    return text


def header_hint(columns: list[str]) -> str:
    """A hint when a single header cell looks like several columns joined by another delimiter."""
    if len(columns) != 1:
        return ""
    for delimiter in CANDIDATE_DELIMITERS:
        if delimiter in columns[0]:
            return f"; the header looks {delimiter!r}-separated: pass --sep {delimiter!r} (sep= in Python)"
    return ""
