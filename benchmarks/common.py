"""Helpers the benchmarks share (they run as scripts: ``python benchmarks/bench_x.py`` finds this module)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def load_average() -> str:
    """The machine's load average, printed beside the figures: a busy machine makes every time longer."""
    try:
        return "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "load average unavailable"


def timed(fn, towns: list[str], year: int, prefix: str = "zhidang-bench-") -> float:
    """Wall-clock seconds of one run of ``fn(towns, year, out)`` into a fresh temporary output folder."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        t0 = time.perf_counter()
        fn(towns, year, Path(tmp))
        return time.perf_counter() - t0


class BenchError(RuntimeError):
    """A benchmark that cannot measure (a tool missing, a report not made): one line on stderr, exit status 1."""


def run_script(main) -> None:
    """Run a benchmark's ``main()`` as a script: its return value is the exit status; a :class:`BenchError` is
    printed without a traceback."""
    import sys

    try:
        raise SystemExit(main())
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(1) from None
