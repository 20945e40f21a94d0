"""Shared helpers for the benchmark scripts: timing, peak memory, and child-process runs.

Peak RSS is only attributable per process, so each contender runs in its own subprocess that
reports ``{"seconds": ..., "peak_rss_mb": ...}`` (plus anything else) as one JSON line on stdout.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

__all__ = [
    "RESULT_PREFIX",
    "cpu_seconds",
    "emit_result",
    "format_mb",
    "peak_rss_mb",
    "run_child",
    "timer",
]

RESULT_PREFIX = "BENCH-RESULT "


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


@contextmanager
def timer() -> Iterator[dict[str, float]]:
    """``with timer() as t: ...`` then ``t["seconds"]`` is the wall time of the block and
    ``t["cpu_seconds"]`` its CPU time (useful on a shared machine, where wall time is noisy)."""
    result: dict[str, float] = {}
    start, cpu = time.perf_counter(), cpu_seconds()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
        result["cpu_seconds"] = cpu_seconds() - cpu


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def emit_result(**values: object) -> None:
    """Print one machine-readable result line (read back by :func:`run_child`)."""
    print(RESULT_PREFIX + json.dumps({**values, "peak_rss_mb": peak_rss_mb()}), flush=True)


def run_child(args: Sequence[str]) -> dict[str, object]:
    """Run ``python args...`` and return the dict it emitted; raise with its stderr on failure."""
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {args} failed:\n{proc.stderr[-4000:]}")
    lines = [line for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise RuntimeError(f"benchmark child {args} printed no result:\n{proc.stdout[-2000:]}")
    return json.loads(lines[-1][len(RESULT_PREFIX) :])


def format_mb(megabytes: float) -> str:
    """``1536.0`` -> ``'1.50 GiB'``; ``200`` -> ``'200 MiB'``."""
    return f"{megabytes / 1024:.2f} GiB" if megabytes >= 1024 else f"{megabytes:.0f} MiB"


if __name__ == "__main__":  # `make bench` runs every script; this one only holds helpers.
    print("benchmarks/_common.py: helpers only, nothing to run")
