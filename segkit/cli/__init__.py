"""The ``segkit`` command. Commands live in ``segkit/cli/_*.py`` modules, each registering on ``app``."""

from __future__ import annotations

from segkit.cli._app import app, main

# Command modules register themselves on import.
from segkit.cli import _demo, _ingest, _lab, _privacy, _recommend, _report, _segments, _sendtime  # noqa: F401  isort: skip

__all__ = ["app", "main"]
