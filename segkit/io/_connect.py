"""A workspace whose tables live in another engine (Spark, a warehouse, another DuckDB), read
through Ibis: ``Workspace.connect("pyspark://...")`` or ``Workspace.connect(ibis_connection)``.

It is read-only. Features, rule segments, triggers, send time and the consent-checked exports
run their queries in that engine; writes (ingest, forget, prune, compact) and the commands that
read the workspace with DuckDB SQL (access, order-line recommendations) stay with the DuckDB
workspace file, and say so.
"""

from __future__ import annotations

import re
from types import TracebackType
from typing import Any

import pandas as pd

from segkit.errors import InputError, TableNotFoundError

__all__ = ["ConnectedWorkspace", "connect", "scrubbed", "shown_target"]

#: Short names accepted for a fresh connection (``segkit --backend spark``).
ALIASES = {"spark": "pyspark://", "pyspark": "pyspark://", "duckdb": "duckdb://"}
#: What the DuckDB-only operations say on a connected workspace.
DUCKDB_ONLY = (
    "{what} needs the DuckDB workspace file: a workspace opened on another engine "
    "({engine}) is read-only (features, segments, triggers, send time, consent-checked "
    "exports); run it without --backend / on Workspace(path)"
)


#: Query parameters of a connection URL whose values are secrets (compared case-insensitively;
#: a name containing one of these words counts: ``password``, ``access_token``, ``api_key``...).
SECRET_WORDS = ("password", "passwd", "pwd", "secret", "token", "key", "credential", "auth")
_USERINFO = re.compile(r"(://[^:/@?#]*:)([^@/?#]*)@")
_QUERY_PAIR = re.compile(r"([?&;])([^=&;#]+)=([^&;#]*)")


def shown_target(target: str) -> str:
    """``target`` with its secrets replaced by ``***``: the password of ``user:password@`` and
    the value of every query parameter named like a secret (``?password=...``, ``token``,
    ``key``...). Used for every message, report parameter and record that names a URL."""
    text = _USERINFO.sub(r"\1***@", target)

    def hide(match: re.Match[str]) -> str:
        name = match.group(2)
        if any(word in name.lower() for word in SECRET_WORDS):
            return f"{match.group(1)}{name}=***"
        return match.group(0)

    return _QUERY_PAIR.sub(hide, text)


def url_secrets(target: str) -> list[str]:
    """The secret values :func:`shown_target` hides in ``target`` (to scrub them from a driver's
    error text, which may quote the connection string)."""
    from urllib.parse import unquote

    found = [m.group(2) for m in _USERINFO.finditer(target)]
    found += [m.group(3) for m in _QUERY_PAIR.finditer(target)
              if any(word in m.group(2).lower() for word in SECRET_WORDS)]
    return [value for secret in found if secret for value in {secret, unquote(secret)}]


def scrubbed(text: str, target: str) -> str:
    """``text`` with every secret of the URL ``target`` replaced by ``***``."""
    for secret in sorted(url_secrets(target), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


class ConnectedWorkspace:
    """A read-only workspace over an Ibis backend; see :meth:`segkit.io.Workspace.connect`.

    Attributes
    ----------
    backend
        The Ibis backend (also returned by :meth:`ibis`).
    assume_utc
        Read zone-less timestamp columns as UTC although the engine's session zone cannot be
        queried (see :mod:`segkit.features._source`).
    path
        A label for messages: the URL (password hidden) or the engine's name.
    """

    read_only = True

    def __init__(self, backend: Any, *, assume_utc: bool = False, label: str | None = None,
                 owned: bool = False) -> None:
        import ibis

        if not isinstance(backend, ibis.BaseBackend):
            raise InputError(
                "Workspace.connect needs a URL such as 'pyspark://', 'duckdb:///path.duckdb' or "
                "'postgres://user@host/db', or an Ibis connection (ibis.pyspark.connect(spark), "
                f"ibis.postgres.connect(...)); got {type(backend).__name__}"
            )
        self.backend = backend
        self.assume_utc = bool(assume_utc)
        self.path = label or f"{backend.name} connection"
        self._owned = owned
        self._closed = False

    @property
    def engine(self) -> str:
        """The Ibis backend's name (``pyspark``, ``duckdb``, ``postgres``, ...)."""
        return str(self.backend.name)

    def ibis(self) -> Any:
        """The Ibis backend (for :mod:`segkit.features` and the other read paths)."""
        self._check_open()
        return self.backend

    def table(self, name: str) -> pd.DataFrame:
        """Table ``name`` collected into pandas, timestamps tz-aware UTC (zone-less columns are
        checked as :func:`segkit.features.compute` checks them). Collects every row: the
        analysis functions select what they need in the engine instead where they can."""
        from segkit.features._source import source_table

        self._check_open()
        table = source_table(self, name)
        if table is None:
            raise TableNotFoundError(f"no table {name!r} in {self.path}")
        return table.to_pyarrow().to_pandas()

    @property
    def connection(self) -> Any:
        raise InputError(DUCKDB_ONLY.format(what="this operation (DuckDB SQL on the workspace)",
                                            engine=self.path))

    def ingest(self, table: str, *args: Any, **kwargs: Any) -> Any:
        raise InputError(DUCKDB_ONLY.format(what=f"ingest into {table!r} (writes are DuckDB-only)",
                                            engine=self.path))

    def compact(self) -> None:
        raise InputError(DUCKDB_ONLY.format(what="compact", engine=self.path))

    def _check_open(self) -> None:
        if self._closed:
            raise InputError(f"workspace {self.path} is closed")

    def close(self) -> None:
        """Forget the backend; a connection this object opened from a URL is disconnected,
        except a Spark session (shared by the process, as Spark wants it)."""
        if not self._closed and self._owned and self.engine != "pyspark":
            self.backend.disconnect()
        self._closed = True

    def __enter__(self) -> ConnectedWorkspace:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConnectedWorkspace({self.path!r}, {'closed' if self._closed else 'open'})"


def connect(target: Any, *, assume_utc: bool = False) -> ConnectedWorkspace:
    """See :meth:`segkit.io.Workspace.connect`."""
    if not isinstance(target, str):
        return ConnectedWorkspace(target, assume_utc=assume_utc)
    import ibis

    url = ALIASES.get(target.strip().lower(), target.strip())
    if "://" not in url:
        raise InputError(
            f"--backend {target!r}: give a URL such as pyspark://, duckdb:///path/to.duckdb or "
            f"postgres://user@host:5432/db (or one of: {', '.join(sorted(ALIASES))})"
        )
    options: dict[str, Any] = {}
    if url.startswith("duckdb://") and url not in ("duckdb://", "duckdb:///:memory:"):
        options["read_only"] = True  # a reader; another process may hold a workspace file
    try:
        backend = _spark(url) if url.startswith("pyspark://") else ibis.connect(url, **options)
    except ImportError as error:
        scheme = url.split("://", 1)[0]
        package = {"pyspark": "segkit[spark]", "postgres": "segkit[postgres]"}.get(
            scheme, f"ibis-framework[{scheme}]")
        raise InputError(
            f"cannot connect to {shown_target(url)}: {scrubbed(str(error), url)}; install the "
            f"engine's client: pip install '{package}'"
        ) from None
    except Exception as error:  # the driver's text may quote the URL: secrets are scrubbed
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise InputError(f"cannot connect to {shown_target(url)}: {scrubbed(first, url)}") from None
    return ConnectedWorkspace(backend, assume_utc=assume_utc, label=shown_target(url), owned=True)


def _spark(url: str) -> Any:
    """``pyspark://[warehouse dir]?conf=value&...``: the process's Spark session (created with
    those settings when none runs, ``SparkSession.builder.getOrCreate()``), through Ibis.

    Settings go to the builder, not to the running session as ``ibis.connect`` would do
    (Spark refuses to change ``spark.master`` or ``spark.driver.memory`` after start-up)."""
    from urllib.parse import parse_qsl, urlparse

    import ibis
    from pyspark.sql import SparkSession

    parsed = urlparse(url)
    builder = SparkSession.builder
    if parsed.netloc + parsed.path:
        builder = builder.config("spark.sql.warehouse.dir", parsed.netloc + parsed.path)
    for key, value in parse_qsl(parsed.query):
        builder = builder.config(key, value)
    return ibis.pyspark.connect(builder.getOrCreate())
