"""Named pause points for crash tests: a test sets ``$SEGKIT_PAUSE_AT`` to a point's name, waits
for the process to say so on stderr, and kills it there with SIGKILL (see
``tests/privacy/test_crash.py``). Unset (always, outside such tests), a pause point does nothing."""

from __future__ import annotations

import os
import sys
import time

PAUSE_ENV = "SEGKIT_PAUSE_AT"
#: What a paused process writes on stderr, followed by the point's name.
PAUSED = "segkit: paused at "


def pause_point(name: str) -> None:
    """Block forever (until killed) when ``$SEGKIT_PAUSE_AT`` names this point."""
    if os.environ.get(PAUSE_ENV) != name:
        return
    sys.stderr.write(PAUSED + name + "\n")
    sys.stderr.flush()
    while True:  # pragma: no cover - ended by the test's SIGKILL
        time.sleep(3600)
