"""Export files: owner-only (0600) from the first byte, atomic, with a unique temporary name."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from segkit.errors import StorageError
from segkit.io import personal_data_note, write_export_csv

TABLE = pd.DataFrame({"subscriber_id": ["a", "b"], "email": ["a@example.org", "b@example.org"]})


@pytest.fixture
def open_umask():
    """A umask that would leave new files world-readable (0666)."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_export_is_owner_only_from_the_first_byte(tmp_path, monkeypatch, open_umask) -> None:
    seen = []
    original = pd.DataFrame.to_csv

    def spy(frame, target, *args, **kwargs):  # the mode of the file as the rows go in
        name = os.readlink(f"/proc/self/fd/{target.fileno()}") if Path("/proc/self/fd").is_dir() else ""
        seen.append((stat.S_IMODE(os.fstat(target.fileno()).st_mode), Path(name).name))
        return original(frame, target, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", spy)
    out = write_export_csv(TABLE, tmp_path / "nested" / "audience.csv")
    assert seen and seen[0][0] == 0o600
    if seen[0][1]:  # a unique hidden temporary beside the target (Linux tells its name)
        assert seen[0][1].startswith(".audience.csv.") and seen[0][1].endswith(".partial")
    assert mode(out) == 0o600 and pd.read_csv(out).equals(TABLE)
    assert sorted(p.name for p in out.parent.iterdir()) == ["audience.csv"]


def test_an_older_readable_file_is_replaced_by_an_owner_only_one(tmp_path, open_umask) -> None:
    target = tmp_path / "audience.csv"
    target.write_text("old\n")
    target.chmod(0o644)
    write_export_csv(TABLE, target)
    assert mode(target) == 0o600 and "a@example.org" in target.read_text()


def test_failures_leave_nothing_behind(tmp_path, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", broken)
    with pytest.raises(StorageError, match="cannot write the export: .*No space left on device"):
        write_export_csv(TABLE, tmp_path / "audience.csv")
    assert list(tmp_path.iterdir()) == []


def test_personal_data_note() -> None:
    assert personal_data_note("email addresses") == (
        "it holds personal data (email addresses) and is readable by its owner only (mode 600)")
