"""segkit: an analytics workbench for email programs.

Submodules load on first use so that ``import segkit`` stays fast in report kernels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from segkit._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from segkit.io import IngestReport, Workspace

__all__ = [
    "IngestReport",
    "Workspace",
    "__version__",
    "charts",
    "churn",
    "clv",
    "consent",
    "datasets",
    "explore",
    "features",
    "io",
    "overview",
    "privacy",
    "reports",
    "segments",
    "sendtime",
    "stats",
]

_LAZY_ATTRIBUTES = {"Workspace": "segkit.io", "IngestReport": "segkit.io"}
_SUBMODULES = {name for name in __all__ if name.islower() and not name.startswith("_")}


def __getattr__(name: str) -> Any:
    if name in _LAZY_ATTRIBUTES:
        return getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"segkit.{name}")
    raise AttributeError(f"module 'segkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
