"""Small SQL-text helpers for the ingest statements (identifiers and literals are always quoted)."""

from __future__ import annotations

from segkit._schema import TableSchema


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_object_sql(columns: list[str]) -> str:
    """A JSON object of ``columns`` keyed by their names, with NULL members dropped
    (merging into ``{}`` applies RFC 7396, which removes nulls)."""
    pairs = ", ".join(f"{literal(c)}, {ident(c)}" for c in columns)
    return f"json_merge_patch('{{}}', json_object({pairs}))"


def free_json_sql(base: str | None, extras: list[str]) -> str:
    """A JSON value combining a JSON column (wins on key clashes) with extra columns; NULL if
    empty. Typed JSON, so inserting it into a JSON column does not parse it again."""
    if not extras:
        return f"json({base})" if base else "NULL::JSON"
    combined = json_object_sql(extras)
    if base:
        combined = f"json_merge_patch({combined}, coalesce({base}, '{{}}'))"
    return f"nullif(json({combined})::VARCHAR, '{{}}')::JSON"


def content_hash_sql(columns: list[str]) -> str:
    """md5 over the columns' text; NULL and empty text hash differently."""
    parts = ", ".join(f"coalesce({ident(c)}::VARCHAR, chr(0))" for c in columns)
    return f"md5(concat_ws(chr(31), {parts}))"


def key_match_sql(schema: TableSchema, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in schema.key)
