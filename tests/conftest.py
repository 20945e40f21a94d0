"""Fixtures shared across the test packages: real faults for tests, a small tmpfs (disk full), a read-only bind mount, a filled disk.

Both mounts need root (the tests run as root in CI); elsewhere the tests using them are skipped.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount here ({done.stderr.strip() or done.returncode})")


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``tmpfs("2m")`` mounts a tmpfs of that size and returns its directory (unmounted after)."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        target = tmp_path / f"tmpfs{len(mounted)}"
        target.mkdir()
        _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target))
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """``read_only(directory)``: a read-only bind mount of it (root ignores ``chmod``)."""
    mounted: list[Path] = []

    def mount(directory: Path) -> Path:
        target = tmp_path / f"ro{len(mounted)}"
        target.mkdir()
        _mount("--bind", str(directory), str(target))
        mounted.append(target)
        _mount("-o", "remount,bind,ro", str(target))
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _fill_disk(directory: Path, leave: int = 0) -> Path:
    """Write ``directory/filler`` until the file system is full, then free ``leave`` bytes."""
    filler = directory / "filler"
    chunk = b"\0" * (1 << 16)
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(chunk)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


@pytest.fixture
def fill_disk() -> Callable[..., Path]:
    """``fill_disk(directory, leave=0)``: fill its file system, leaving ``leave`` bytes free."""
    return _fill_disk


@pytest.fixture(scope="session")
def online_retail_purchases() -> pd.DataFrame:
    """The vendored UCI Online Retail log as canonical purchase events: one purchase per invoice
    (value = sum of quantity x price), cancellations and lines without a customer left out."""
    from segkit.datasets import online_retail

    lines = online_retail()
    lines = lines[lines["CustomerID"].notna() & ~lines["InvoiceNo"].str.startswith("C")]
    lines = lines.assign(value=lines["Quantity"] * lines["UnitPrice"])
    orders = lines.groupby("InvoiceNo").agg(
        subscriber_id=("CustomerID", "first"), ts=("InvoiceDate", "min"), value=("value", "sum"))
    local = orders["ts"].dt.tz_localize("Europe/London")
    return orders.reset_index(drop=True).assign(
        event_type="purchase", campaign_id=None, properties=None, ts=local.dt.tz_convert("UTC").to_numpy())


@pytest.fixture(scope="session")
def synthetic_workspace() -> Callable[..., Path]:
    """``build(path, n, seed)``: a workspace at ``path`` holding the subscribers, campaigns and
    events of ``segkit.datasets.synthetic(n, seed=seed)``; returns ``path`` (closed)."""
    from segkit.datasets import synthetic
    from segkit.io import Workspace

    def build(path: Path, n: int, seed: int) -> Path:
        data = synthetic(n, seed=seed)
        with Workspace(path) as ws:
            ws.ingest("subscribers", data.subscribers)
            ws.ingest("campaigns", data.campaigns)
            ws.ingest("events", data.events)
        return path

    return build


def _postgres_program(name: str) -> str | None:
    for folder in ("/usr/local/bin", *sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)):
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)


def _run_postgres(args: list[str], owner: str | None) -> None:
    command = args if owner is None else ["su", owner, "-s", "/bin/sh", "-c",
                                          " ".join(f"'{a}'" for a in args)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.skip(f"cannot run a Postgres server here: {done.stderr.strip()[:200]}")


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """A throw-away Postgres cluster for one test module (initdb + pg_ctl, trust authentication,
    session zone UTC, a Unix socket only in a fresh /tmp folder, so modules never collide);
    yields its URL. Skipped when the server programs or the client (psycopg) are missing."""
    pytest.importorskip("psycopg")
    initdb, pg_ctl = _postgres_program("initdb"), _postgres_program("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("the Postgres server programs (initdb, pg_ctl) are not installed")
    owner = "postgres" if os.geteuid() == 0 else None  # Postgres refuses to run as root
    # directly under /tmp: pytest's own folders are private to root, so the server could not
    # reach them (and a Unix socket path must stay short)
    folder = Path(tempfile.mkdtemp(prefix="segkit-pg-"))
    if owner is not None:
        shutil.chown(folder, owner)
    data, port = folder / "data", 55433
    _run_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "segkit", "--no-sync"], owner)
    _run_postgres([pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                   f"-k {folder} -p {port} -c listen_addresses= -c fsync=off -c TimeZone=UTC",
                   "start"], owner)
    yield f"postgres://segkit@/postgres?host={folder}&port={port}"
    _run_postgres([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], owner)
    shutil.rmtree(folder, ignore_errors=True)


def _copy_to_postgres(url: str, tables: dict[str, pd.DataFrame]) -> None:
    """Create each table in the Postgres at ``url`` as a warehouse would hold it: timestamps
    ``timestamp without time zone`` (UTC values), text columns ``text``."""
    import ibis

    con = ibis.connect(url)
    try:
        for name, frame in tables.items():
            frame = frame.copy()
            for column in frame.columns:
                if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
                    frame[column] = frame[column].dt.tz_localize(None)
                elif frame[column].dtype == object or str(frame[column].dtype) in ("str", "string"):
                    frame[column] = frame[column].astype("string")
            con.create_table(name, frame)  # a fresh server: nothing to overwrite
    finally:
        con.disconnect()


@pytest.fixture(scope="session")
def postgres_copy() -> Callable[[str, dict[str, pd.DataFrame]], None]:
    """``copy(url, {"events": frame, ...})``: create those tables in a ``postgres_server``."""
    return _copy_to_postgres
