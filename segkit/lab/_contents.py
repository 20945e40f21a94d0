"""The Jupyter contents manager ``segkit lab`` runs: notebooks open clean, tracked ones are
saved without outputs.

JupyterLab copies the kernel's ``language_info`` (Python version, lexer, ...) into a notebook's
metadata when the kernel connects; a committed notebook carries only ``{"name": "python"}``, so
every notebook showed unsaved changes right after opening. Notebooks that declare the ``segkit``
kernel are served with this interpreter's ``language_info`` (what that kernel reports), so Lab
finds nothing to change; the save hook (:func:`~segkit.lab.strip_tracked_outputs`) writes the
short form back for tracked notebooks.
"""

from __future__ import annotations

import functools
from typing import Any

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager

from segkit.lab._lab import KERNEL_NAME, strip_tracked_outputs

__all__ = ["SegkitContentsManager", "kernel_language_info"]


@functools.cache
def kernel_language_info() -> dict[str, Any]:
    """``language_info`` as an IPython kernel on this interpreter reports it."""
    from ipykernel.ipkernel import IPythonKernel

    return dict(IPythonKernel.language_info)


class SegkitContentsManager(AsyncLargeFileManager):
    """Files as JupyterLab's default manager serves them, with segkit notebooks' metadata
    completed on open and :func:`~segkit.lab.strip_tracked_outputs` as the pre-save hook."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.pre_save_hook is None:
            self.pre_save_hook = strip_tracked_outputs

    async def get(self, path: str, content: bool = True, type: str | None = None,
                  format: str | None = None, **kwargs: Any) -> dict[str, Any]:
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        notebook = model.get("content") if model.get("type") == "notebook" else None
        if isinstance(notebook, dict):
            metadata = notebook.get("metadata", {})
            language = metadata.get("language_info", {}).get("name", "python")
            if metadata.get("kernelspec", {}).get("name") == KERNEL_NAME and language == "python":
                metadata["language_info"] = kernel_language_info()
        return model
