"""Where the explorer's numbers come from: a workspace, in-memory tables or a feature table,
and one cached :class:`Snapshot` (features plus subscriber attributes) per as-of date.

Computing features with :func:`segkit.features.compute` reads every event up to the date (about
3 s at 100k subscribers and 11M events). :meth:`ExplorerData.index_events` therefore builds a
:class:`segkit.features.FeatureTimeline`, here or in a background thread (about 8 s there, once);
after that any date takes a fraction of a second. :meth:`ExplorerData.prefetch` computes chosen
dates in the background thread, so picking one of them is a cache hit.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from segkit._timestamps import utc_timestamp
from segkit.consent import consent_events, consent_tables
from segkit.errors import InputError, SegkitError, ValidationError
from segkit.overview import DataShape
from segkit.segments import PERFORMANCE_STEMS

__all__ = ["ATTRIBUTE_COLUMNS", "UNKNOWN", "ExplorerData", "Snapshot", "subscriber_attributes"]

#: Columns the explorer adds to the feature table so filters are plain rule conditions.
ATTRIBUTE_COLUMNS = ("country", "signup_cohort")
#: The value of an attribute the subscriber does not have.
UNKNOWN = "unknown"
#: Snapshots kept besides the prefetched ones (least recently used dropped first).
_CACHED_SNAPSHOTS = 3


def _country(attributes: pd.Series) -> pd.Series:
    """The ``country`` key of each subscriber's ``attributes`` (JSON text or a mapping)."""
    def read(value: Any) -> Any:
        if isinstance(value, Mapping):
            return value.get("country")
        if isinstance(value, str) and value.strip():
            try:
                parsed = json.loads(value)
            except ValueError:
                return None
            return parsed.get("country") if isinstance(parsed, dict) else None
        return None

    return attributes.map(read)


def subscriber_attributes(subscribers: pd.DataFrame) -> pd.DataFrame:
    """``country`` (a ``country`` column, else the ``country`` key of ``attributes``) and
    ``signup_cohort`` (signup quarter in UTC, e.g. ``2024Q3``) per ``subscriber_id``; missing
    values are :data:`UNKNOWN`."""
    ids = pd.Index(subscribers["subscriber_id"].astype(str), name="subscriber_id")
    if "country" in subscribers.columns:
        country = subscribers["country"]
    elif "attributes" in subscribers.columns:
        country = _country(subscribers["attributes"])
    else:
        country = pd.Series(None, index=subscribers.index, dtype=object)
    if "signup_at" in subscribers.columns:
        signup = pd.to_datetime(subscribers["signup_at"], utc=True).dt.tz_localize(None)
        cohort = signup.dt.to_period("Q").astype(str).where(signup.notna())
    else:
        cohort = pd.Series(None, index=subscribers.index, dtype=object)
    return pd.DataFrame(
        {"country": country.astype(object).to_numpy(), "signup_cohort": cohort.astype(object).to_numpy()},
        index=ids,
    ).fillna(UNKNOWN).astype(str)


@dataclass(eq=False)
class Snapshot:
    """The feature table as of ``as_of`` with the explorer's columns, computed once per date.

    ``base`` is :func:`segkit.features.compute`'s table plus ``country`` and ``signup_cohort``
    (filters). ``features`` adds, when the CLV models can be fitted, ``predicted_clv`` and
    ``engagement_score`` (the ``value`` scheme); ``value_error`` says why they are absent. Both
    are computed on first use (BG/NBD and Gamma-Gamma fits: about 0.4 s at 100k subscribers), so
    a date looked at with other schemes does not pay for them.
    ``performance_units`` holds only the columns :func:`segkit.segments.segment_performance`
    reads, on a positional index (cheaper to subset at every interaction).
    """

    as_of: pd.Timestamp
    base: pd.DataFrame
    performance_units: pd.DataFrame
    windows: tuple[int, ...]
    cache: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _valued: tuple[pd.DataFrame, str | None] | None = field(default=None, repr=False)
    _valuing: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def features(self) -> pd.DataFrame:
        """``base`` plus the ``value`` scheme's columns (when they can be computed)."""
        return self._with_value()[0]

    @property
    def value_error(self) -> str | None:
        """Why ``predicted_clv`` and ``engagement_score`` are absent (None when present)."""
        return self._with_value()[1]

    def _with_value(self) -> tuple[pd.DataFrame, str | None]:
        with self._valuing:  # the prefetch thread may compute them at the same time
            if self._valued is None:
                value, error = _value_columns(self.base)
                frame = self.base.assign(**{k: v.to_numpy() for k, v in value.items()})
                frame.attrs = dict(self.base.attrs)
                self._valued = (frame, error)
            return self._valued

    @property
    def shape(self) -> DataShape:
        """What the features say the data hold (email events, purchases, repeat buyers)."""
        return self.cached("shape", lambda: DataShape.from_features(self.base))

    def options(self, column: str) -> list[str]:
        """The distinct values of an attribute column, sorted (:data:`UNKNOWN` last)."""
        def build() -> list[str]:
            found = {str(v) for v in pd.unique(self.base[column].to_numpy())}  # hashed once
            return sorted(found - {UNKNOWN}) + ([UNKNOWN] if UNKNOWN in found else [])

        return list(self.cached(("options", column), build))

    def cached(self, key: Any, build: Any, limit: int = 32) -> Any:
        """``build()`` once per ``key`` (the last ``limit`` keys are kept)."""
        if key in self.cache:
            self.cache.move_to_end(key)
            return self.cache[key]
        value = build()
        self.cache[key] = value
        while len(self.cache) > limit:
            self.cache.popitem(last=False)
        return value


def _feature_windows(features: pd.DataFrame) -> tuple[int, ...]:
    windows = features.attrs.get("windows")
    if windows:
        return tuple(int(w) for w in windows)
    found = {int(c[len("sends_"):-1]) for c in features.columns
             if c.startswith("sends_") and c.endswith("d") and c[len("sends_"):-1].isdigit()}
    return tuple(sorted(found))


def _value_columns(features: pd.DataFrame) -> tuple[dict[str, pd.Series], str | None]:
    """``predicted_clv`` and ``engagement_score`` as the built-in ``value`` scheme computes them
    (:func:`segkit.segments.predicted_clv`, :func:`segkit.segments.engagement_score` without
    events), or the reason they cannot be computed."""
    from segkit.segments import engagement_score, predicted_clv

    try:
        return {"predicted_clv": predicted_clv(features),
                "engagement_score": engagement_score(features)}, None
    except SegkitError as error:
        return {}, f"the value scheme is unavailable: {error}"


def build_snapshot(features: pd.DataFrame, attributes: pd.DataFrame | None,
                   as_of: pd.Timestamp) -> Snapshot:
    """Add the explorer's columns to ``features`` (see :class:`Snapshot`)."""
    extra: dict[str, Any] = {}
    known = attributes is not None and len(attributes) > 0  # a purchase log may have no subscribers table
    rows = attributes.index.get_indexer(features.index.astype(str)) if known else None
    for column in ATTRIBUTE_COLUMNS:
        if column in features.columns:
            extra[column] = features[column].astype(object).fillna(UNKNOWN).astype(str).to_numpy()
        elif rows is not None:  # looked up once for both columns
            values = attributes[column].to_numpy(dtype=object)
            extra[column] = np.where(rows >= 0, values[np.maximum(rows, 0)], UNKNOWN)
        else:
            extra[column] = np.full(len(features), UNKNOWN, dtype=object)
    frame = features.assign(**extra)
    frame.attrs = dict(features.attrs)
    windows = _feature_windows(features)
    columns = [f"{stem}_{w}d" for w in windows for stem in PERFORMANCE_STEMS
               if f"{stem}_{w}d" in features.columns]
    units = features[columns].astype(float).reset_index(drop=True)
    return Snapshot(as_of, frame, units, windows)


class ExplorerData:
    """The explorer's source: computes features per as-of date (cached, optionally prefetched in
    the background) and holds the tables the consent gate needs.

    Parameters
    ----------
    source
        A :class:`segkit.io.Workspace`, a path to a workspace file, a mapping
        ``{"events": df, "subscribers": df}``, or a precomputed feature table (indexed by
        ``subscriber_id``, as :func:`segkit.features.compute` returns).
    subscribers, events
        Optional with a feature table: ``subscribers`` enables the country/cohort filters and
        the export; ``events`` with ``subscribers`` enables other as-of dates (features are then
        computed from them). Taken from the source otherwise.

    DataFrames are registered once in a private in-memory DuckDB (Arrow, no copy); all feature
    computations, foreground or prefetch, take turns on one lock, so the database is never used
    by two threads at once.
    """

    def __init__(self, source: Any, *, subscribers: pd.DataFrame | None = None,
                 events: pd.DataFrame | None = None) -> None:
        self._workspace: Any = None
        self._path: Path | None = None
        self._tables: dict[str, pd.DataFrame] | None = None
        self._backend: Any = None
        self._features: pd.DataFrame | None = None
        self._snapshots: OrderedDict[pd.Timestamp, Snapshot] = OrderedDict()
        self._prefetched: set[pd.Timestamp] = set()
        self._queue: list[pd.Timestamp] = []
        self._in_flight: dict[pd.Timestamp, Future] = {}
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # guards the cache, the queue and the in-flight dates
        self._compute_lock = threading.Lock()  # one feature computation at a time
        self._on_ready: Callable[[], None] | None = None
        self._worker_connection: Any = None  # the DuckDB connection of the prefetch's running query
        self._foreground = 0  # foreground computations running or waiting: the prefetch holds off
        self._foreground_done = threading.Condition(self._lock)
        self._timeline: Any = None  # a FeatureTimeline once index_events has built it
        self._index_wanted = False
        self.prefetch_errors: dict[pd.Timestamp, str] = {}
        #: Why the events could not be indexed (dates are then computed one by one).
        self.index_error: str | None = None
        self._data_end: pd.Timestamp | None = None
        self.subscribers = subscribers
        #: The events the consent gate reads (all dates: consent is today's), or None.
        self.consent_events = None if events is None else consent_events(events)
        if isinstance(source, pd.DataFrame):
            self._features = source
            if events is not None and subscribers is not None:
                self._tables = {"events": events, "subscribers": subscribers}
        elif isinstance(source, Mapping):
            if "events" not in source:
                raise InputError("a mapping source needs an 'events' DataFrame (and 'subscribers')")
            self._tables = dict(source)
            self.subscribers = self._tables.get("subscribers", subscribers)
            self.consent_events = consent_events(self._tables["events"])
        elif isinstance(source, str | Path):
            self._path = Path(source).expanduser()
            if not self._path.is_file():
                raise InputError(f"workspace {self._path} does not exist; build one with `segkit demo`")
            self._load_workspace_tables()
        elif hasattr(source, "ibis") and hasattr(source, "table"):
            self._workspace = source
            self._load_workspace_tables()
        else:
            raise InputError(
                "SegmentExplorer needs a Workspace, a workspace path, a mapping of DataFrames "
                f"{{'events', 'subscribers'}} or a feature DataFrame; got {type(source).__name__}"
            )
        self.attributes = None if self.subscribers is None else subscriber_attributes(self.subscribers)

    @property
    def fixed_as_of(self) -> pd.Timestamp | None:
        """The only as-of date available (a feature table without events), else None."""
        if self._features is not None and self._tables is None:
            stamp = self._features.attrs.get("as_of")
            return None if stamp is None else utc_timestamp(stamp)
        return None

    @property
    def data_end(self) -> pd.Timestamp:
        """The default as-of date, as in every report: the end of the data (the last event's
        time; a feature table's own date when there are no events)."""
        if self.fixed_as_of is not None:
            return self.fixed_as_of
        if self._data_end is None:
            self._data_end = self._last_event()
        return self._data_end

    def _last_event(self) -> pd.Timestamp:
        if self._tables is not None:
            stamps = pd.to_datetime(self._tables["events"]["ts"], utc=True)
            last = stamps.max() if len(stamps) else None
        else:
            def query(workspace: Any) -> Any:
                events = workspace.ibis().table("events")
                return events.ts.max().to_pandas()

            last = self._with_workspace(query)
        if last is None or pd.isna(last):
            raise ValidationError("the data hold no events, so there is no end of the data to "
                                  "default to; pass as_of= (a time-zone-aware date)")
        return utc_timestamp(pd.Timestamp(last), "last event", naive_as_utc=True)

    @property
    def can_change_as_of(self) -> bool:
        return self._features is None or self._tables is not None

    def _load_workspace_tables(self) -> None:
        def load(workspace: Any) -> None:
            try:
                tables = consent_tables(workspace)
            except InputError:  # no subscribers: the explorer works, the export refuses
                self.subscribers, self.consent_events = workspace.table("subscribers"), None
            else:
                self.subscribers, self.consent_events = tables.subscribers, tables.events

        self._with_workspace(load)

    def _with_workspace(self, work: Any, *, background: bool = False) -> Any:
        if self._workspace is not None:
            if not background:
                return work(self._workspace)
            import ibis  # a cursor: its own connection to the database, safe in this thread

            cursor = self._workspace.connection.cursor()
            try:
                with self._interruptible(cursor, background):
                    return work(ibis.duckdb.from_connection(cursor))
            finally:
                cursor.close()
        from segkit.io import Workspace

        with Workspace(self._path, read_only=True) as workspace:  # released between calls
            with self._interruptible(workspace.connection, background):
                return work(workspace)

    @contextlib.contextmanager
    def _interruptible(self, connection: Any, background: bool) -> Iterator[None]:
        """While the prefetch queries ``connection``, a foreground pick may interrupt it
        (:meth:`_interrupt_prefetch`); it is forgotten before the connection closes."""
        if not background:
            yield
            return
        with self._lock:
            self._worker_connection = connection
        try:
            yield
        finally:
            with self._lock:
                self._worker_connection = None

    def _table_backend(self) -> Any:
        """The private in-memory DuckDB holding the DataFrames (registered on first use)."""
        if self._backend is None:
            import ibis
            import pyarrow as pa

            backend = ibis.duckdb.connect()
            for name, frame in self._tables.items():
                if frame is not None:
                    table = frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index(drop=True)
                    backend.con.register(name, pa.Table.from_pandas(table, preserve_index=False))
            self._backend = backend
        return self._backend

    def features_at(self, as_of: pd.Timestamp, *, background: bool = False) -> pd.DataFrame:
        """The feature table as of ``as_of`` (:func:`segkit.features.compute`; from the index
        once :meth:`index_events` has built it, which gives the same table)."""
        from segkit.features import compute

        if self._features is not None:
            given = self._features.attrs.get("as_of")
            given = None if given is None else utc_timestamp(given)
            if given == as_of or (given is None and self._tables is None):
                return self._features
            if self._tables is None:
                raise ValidationError(
                    f"the feature table is as of {given.isoformat()}; pass events= and "
                    "subscribers= (or a workspace) to explore other dates"
                )
        timeline = self._timeline
        if timeline is not None:  # numpy over read-only arrays: no database, no lock
            return timeline.at(as_of)
        with self._compute_lock:
            if self._tables is not None:
                backend = self._table_backend()
                with self._interruptible(backend.con, background):
                    return compute(backend, as_of)
            return self._with_workspace(lambda workspace: compute(workspace, as_of),
                                        background=background)

    def _build(self, stamp: pd.Timestamp, *, background: bool = False) -> Snapshot:
        return build_snapshot(self.features_at(stamp, background=background), self.attributes, stamp)

    def _store(self, stamp: pd.Timestamp, snapshot: Snapshot) -> None:
        """Cache ``snapshot`` (call with ``_lock`` held): prefetched dates are kept, of the
        others the :data:`_CACHED_SNAPSHOTS` most recently used."""
        self._snapshots[stamp] = snapshot
        self._snapshots.move_to_end(stamp)
        others = [date for date in self._snapshots if date not in self._prefetched]
        for old in others[:-_CACHED_SNAPSHOTS]:
            del self._snapshots[old]

    def snapshot(self, as_of: object) -> Snapshot:
        """Features and explorer columns as of ``as_of``, computed once (the prefetched dates and
        the 3 most recent others are kept). A date the prefetch is computing is awaited; a
        date still queued for prefetch is computed here and taken off the queue."""
        stamp = utc_timestamp(as_of)
        with self._lock:
            if stamp in self._snapshots:
                self._snapshots.move_to_end(stamp)
                return self._snapshots[stamp]
            running = self._in_flight.get(stamp)
            if stamp in self._queue:
                self._queue.remove(stamp)
        if running is not None:
            try:
                return running.result()
            except (SegkitError, _Interrupted):
                pass  # computed here, so an error reaches the caller from here
        with self._lock:
            self._foreground += 1
        try:
            self._interrupt_prefetch()
            snapshot = self._build(stamp)
        finally:
            with self._lock:
                self._foreground -= 1
                self._foreground_done.notify_all()
        with self._lock:
            self._store(stamp, snapshot)
        return snapshot

    def _interrupt_prefetch(self) -> None:
        """Cut off the prefetch's running query so a date picked now does not wait for it (the
        interrupted date goes back to the head of the queue)."""
        with self._lock:  # the connection stays open while it is recorded
            if self._worker_connection is not None:
                self._worker_connection.interrupt()

    # ------------------------------------------------------------------ background work
    @property
    def indexed(self) -> bool:
        """True once the events are indexed: every as-of date is then computed in well under
        a second."""
        return self._timeline is not None

    @property
    def indexing(self) -> bool:
        """True while the background thread is (or will be) indexing the events."""
        return self._index_wanted and self._timeline is None and self.index_error is None

    def index_events(self, *, on_ready: Callable[[], None] | None = None, wait: bool = False) -> bool:
        """Index the events (:class:`segkit.features.FeatureTimeline`) so every as-of date is
        computed in well under a second; returns False when there is nothing to index (a fixed
        feature table, or already indexed).

        With ``wait=True`` the index is built here (about 8 s for 11M events on 2 cores). Else it
        is built in the background thread, before any dates queued for :meth:`prefetch`, and
        ``on_ready`` is called (in that thread) when it is done; until then dates are computed
        by :func:`segkit.features.compute` (a pick interrupts the indexing's database reads,
        which start again afterwards). If indexing fails, :attr:`index_error` says why and dates
        are computed one by one, as without an index.
        """
        if not self.can_change_as_of or self._timeline is not None:
            return False
        if wait:
            self.index_error = None
            self._index_now()
            return True
        with self._lock:
            self._index_wanted = True
            self.index_error = None
            if on_ready is not None:
                self._on_ready = on_ready
            self._start_worker()
        return True

    def _build_timeline(self) -> Any:
        from segkit.features import FeatureTimeline

        if self._tables is not None:
            with self._compute_lock:
                backend = self._table_backend()
            return FeatureTimeline(backend, read_lock=self._reading(backend.con))
        return self._with_workspace(lambda source: FeatureTimeline(source, read_lock=self._compute_lock),
                                    background=True)

    @contextlib.contextmanager
    def _reading(self, connection: Any) -> Iterator[None]:
        """The index's database reads: one user of the database at a time, interruptible."""
        with self._compute_lock, self._interruptible(connection, True):
            yield

    def _start_worker(self) -> None:
        """Start the background thread unless it runs (call with ``_lock`` held)."""
        if self._worker is None or not self._worker.is_alive():
            self._stopping.clear()
            self._worker = threading.Thread(target=self._prefetch_loop, name="segkit-explorer-prefetch",
                                            daemon=True)
            self._worker.start()
            _LIVE.add(self)

    def prefetch(self, dates: Iterable[object], *,
                 on_ready: Callable[[], None] | None = None) -> list[pd.Timestamp]:
        """Compute the snapshots of ``dates`` in a background thread (in the order given) and
        keep them; returns the dates queued. ``on_ready`` is called (in that thread) after each
        date. Nothing happens for a fixed feature table."""
        if not self.can_change_as_of:
            return []
        stamps = list(dict.fromkeys(utc_timestamp(d) for d in dates))
        with self._lock:
            queued = [s for s in stamps if s not in self._snapshots and s not in self._queue
                      and s not in self._in_flight]
            self._prefetched.update(stamps)
            self._queue.extend(queued)
            if on_ready is not None:
                self._on_ready = on_ready
            if queued:
                self._start_worker()
        return queued

    def _prefetch_loop(self) -> None:
        while not self._stopping.is_set():
            with self._lock:
                while self._foreground and not self._stopping.is_set():
                    self._foreground_done.wait()
                if self._stopping.is_set():
                    return
                index = self.indexing
                if not index:
                    if not self._queue:
                        return
                    stamp = self._queue.pop(0)
                    if stamp in self._snapshots:  # computed by the foreground meanwhile
                        continue
                    future: Future = Future()
                    self._in_flight[stamp] = future
            if index:
                if self._index_now() and self._on_ready is not None:
                    self._on_ready()
                continue
            try:
                snapshot = self._build(stamp, background=True)
                snapshot.features  # the value columns too, while nobody waits  # noqa: B018
            except duckdb.InterruptException:  # the foreground needed the database: retry later
                with self._lock:
                    if stamp not in self._snapshots:
                        self._queue.insert(0, stamp)
                future.set_exception(_Interrupted(stamp))
            except Exception as error:  # reported in prefetch_errors; the foreground recomputes
                self.prefetch_errors[stamp] = f"{type(error).__name__}: {error}"
                future.set_exception(error)
            else:
                with self._lock:
                    self._store(stamp, snapshot)
                future.set_result(snapshot)
            finally:
                with self._lock:
                    self._in_flight.pop(stamp, None)
            if self._on_ready is not None:
                self._on_ready()

    def _index_now(self) -> bool:
        """Build the index here; False when a picked date interrupted its reads (try again)."""
        try:
            self._timeline = self._build_timeline()
        except duckdb.InterruptException:
            return False
        except Exception as error:  # dates are then computed one by one
            self.index_error = f"{type(error).__name__}: {error}"
        return True

    @property
    def prefetch_pending(self) -> list[pd.Timestamp]:
        """Dates queued or being computed in the background."""
        with self._lock:
            return list(self._in_flight) + list(self._queue)

    @property
    def ready_dates(self) -> list[pd.Timestamp]:
        """Dates whose snapshot is cached (sorted)."""
        with self._lock:
            return sorted(self._snapshots)

    def wait_for_prefetch(self, timeout: float | None = None) -> bool:
        """Block until the background prefetch is done; False if ``timeout`` (s) ran out."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return worker is None or not worker.is_alive()

    def close(self, timeout: float | None = 30.0) -> None:
        """Stop prefetching (the snapshot being computed is finished first)."""
        with self._lock:
            self._queue.clear()
            self._index_wanted = False
            self._stopping.set()
            self._foreground_done.notify_all()
        self.wait_for_prefetch(timeout)


class _Interrupted(Exception):
    """A prefetch interrupted for the foreground (its date is queued again)."""


#: Explorer data with a prefetch thread, stopped at interpreter exit so no query is cut off.
_LIVE: weakref.WeakSet[ExplorerData] = weakref.WeakSet()


@atexit.register
def _stop_prefetching() -> None:
    for data in list(_LIVE):
        data.close(timeout=60.0)



