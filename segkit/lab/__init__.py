"""JupyterLab as home: where segkit's notebooks come from, a copy of the explorer in the user's
folder, the ``jupyter lab`` command line ``segkit lab`` runs, and the save hook that keeps
tracked notebooks free of outputs."""

from segkit.lab._lab import (
    CONTENTS_MANAGER,
    EXPLORER,
    KERNEL_NAME,
    PACKAGED_NOTEBOOKS,
    SAVE_HOOK,
    copy_explorer,
    lab_command,
    notebook_file,
    source_notebooks,
    strip_tracked_outputs,
)

__all__ = [
    "CONTENTS_MANAGER",
    "EXPLORER",
    "KERNEL_NAME",
    "PACKAGED_NOTEBOOKS",
    "SAVE_HOOK",
    "copy_explorer",
    "lab_command",
    "notebook_file",
    "source_notebooks",
    "strip_tracked_outputs",
]
