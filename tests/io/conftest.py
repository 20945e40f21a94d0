"""Shared helpers for workspace and ingest tests: small temp workspaces and event frames."""

from __future__ import annotations

import pytest

from segkit.io import Workspace


@pytest.fixture
def workspace(tmp_path):
    with Workspace(tmp_path / "ws.duckdb") as ws:
        yield ws
