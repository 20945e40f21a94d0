"""Where the notebooks come from, and how ``segkit lab`` starts JupyterLab.

The repository's ``notebooks/`` is the one source of the report notebooks, ``explore.ipynb`` and
``segments.yaml``. A wheel carries a copy made at build time (``setup.py`` copies them into
``segkit/_notebooks``), so an installed segkit finds them without a checkout; in a checkout
(editable install) the repository folder itself is used.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from segkit.errors import ValidationError

#: Notebooks carried inside the installed package (filled by the build, absent in a checkout).
PACKAGED_NOTEBOOKS = Path(__file__).resolve().parents[1] / "_notebooks"
#: The repository's notebooks/ when segkit runs from a checkout.
_CHECKOUT_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPLORER = "explore.ipynb"
#: Import string of :func:`strip_tracked_outputs` for ``--ContentsManager.pre_save_hook``.
SAVE_HOOK = "segkit.lab.strip_tracked_outputs"
#: Import string of the contents manager ``segkit lab`` runs (opens notebooks clean, uses
#: :data:`SAVE_HOOK`); kept out of this module so importing segkit needs no jupyter_server.
CONTENTS_MANAGER = "segkit.lab._contents.SegkitContentsManager"
#: The kernel segkit's notebooks declare.
KERNEL_NAME = "segkit"


def source_notebooks() -> Path:
    """segkit's own notebooks: the checkout's ``notebooks/``, else those packaged in the wheel."""
    for folder in (_CHECKOUT_NOTEBOOKS, PACKAGED_NOTEBOOKS):
        if (folder / EXPLORER).is_file():
            return folder
    raise ValidationError(
        "segkit's notebooks are missing from this installation; reinstall segkit from a wheel "
        "or a checkout"
    )


def notebook_file(name: str) -> Path:
    """A file of :func:`source_notebooks`, e.g. ``notebook_file("segments.yaml")``."""
    path = source_notebooks() / name
    if not path.is_file():
        raise ValidationError(f"{name} is not one of segkit's notebook files ({source_notebooks()})")
    return path


def copy_explorer(folder: str | Path) -> tuple[Path, bool]:
    """Copy ``explore.ipynb`` into ``folder`` unless one is there; return its path and whether
    it was copied. The copy is the user's own: outputs they save stay in it."""
    target = Path(folder).expanduser().resolve() / EXPLORER
    if target.exists():
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(notebook_file(EXPLORER), target)
    return target, True


def _is_tracked(path: Path) -> bool:
    try:
        path.resolve().relative_to(source_notebooks().resolve())
    except (ValueError, ValidationError):
        return False
    return True


def strip_tracked_outputs(model: dict[str, Any], path: str, contents_manager: Any,
                          **_: Any) -> None:
    """Jupyter ``pre_save_hook``: before a notebook inside segkit's own ``notebooks/`` is saved
    (autosave included), drop its outputs, execution counts, widget state and the kernel's
    version details, so tracked notebooks stay as committed however they were run. Other notebooks (the user's
    copies) are saved as they are."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    root = Path(getattr(contents_manager, "root_dir", "."))
    if not _is_tracked(root / path.lstrip("/")):
        return
    notebook = model["content"]
    metadata = notebook.setdefault("metadata", {})
    metadata.pop("widgets", None)
    if isinstance(metadata.get("language_info"), dict):  # not the kernel's Python version
        metadata["language_info"] = {"name": metadata["language_info"].get("name", "python")}
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def lab_command(folder: Path, notebook: Path | None = None, *, port: int | None = None,
                open_browser: bool = True, extra: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command ``segkit lab`` runs: this interpreter's JupyterLab serving
    ``folder`` with segkit's contents manager and save hook, ``--allow-root`` when running as
    root, then ``notebook``."""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}",
               f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}",
               f"--ContentsManager.pre_save_hook={SAVE_HOOK}"]
    if running_as_root():
        command.append("--allow-root")
    if port is not None:
        command.append(f"--port={port}")
    if not open_browser:
        command.append("--no-browser")
    command += list(extra)
    if notebook is not None:
        command.append(str(notebook.relative_to(folder)))
    return command
