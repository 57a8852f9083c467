"""Where the jobs of a batch run: one small interface (:class:`Executor`), a registry of executors by name,
and what every executor shares: running one job (:func:`run_job`), Ctrl-C handling (:class:`CtrlC`), the time.

An executor takes the jobs to run and a callback for each job that ends, and returns whether Ctrl-C
interrupted it. ``local`` (:mod:`.pool`, worker processes on this machine) and ``dask`` (:mod:`.cluster`, a
``dask.distributed`` cluster) are registered; the batch chooses one by name."""

from __future__ import annotations

import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ReportError, UnknownNameError, ZhidangError
from .job import REGION, Job


class Executor(ABC):
    """Where the jobs of a batch run. The batch never looks inside: it hands over the jobs and hears of each one
    that ends."""

    @abstractmethod
    def run(self, todo: list[Job], timeout: int | None, finished: Callable[[Job], None]) -> bool:
        """Run ``todo`` (each job's cells limited to ``timeout`` seconds; None for no limit), calling
        ``finished`` with each job as it ends (its outcome copied onto it, its files written); True when
        interrupted by Ctrl-C (jobs not started stay pending)."""


#: The executors by name: a factory taking the executor's options (``size``, ``scheduler`` …).
EXECUTORS: dict[str, Callable[..., Executor]] = {}


def register_executor(name: str, factory: Callable[..., Executor]) -> None:
    """Make ``factory`` the executor called ``name`` (replacing any of that name)."""
    EXECUTORS[name] = factory


def get_executor(name: str, **options) -> Executor:
    """The executor called ``name``, made with ``options``; :class:`UnknownNameError` for an unknown name."""
    if name not in EXECUTORS:
        raise UnknownNameError("执行方式", name, sorted(EXECUTORS))
    return EXECUTORS[name](**options)


def run_job(job: Job, timeout: int | None) -> Job:
    """Worker: run one job; every failure is recorded on the job, never raised."""
    from ..outputs.export import convert, outdated_formats
    from .runner import before_write, execute_notebook, report_title

    start = time.perf_counter()
    title = report_title(job.year, job.town if job.kind == "town" else None, county=job.county if job.folder else "",
                         region=job.kind == REGION)
    try:
        if job.run_notebook:
            execute_notebook(Path(job.notebook), Path(job.ipynb), job.parameters, timeout=timeout, title=title,
                             html=Path(job.html), warm=True)
            todo = [f for f in job.formats if f != "html"]
        else:
            todo = outdated_formats(job.html, job.formats)
        before_write()
        convert(job.html, todo)
        job.status, job.error = "done", None
    except ReportError as e:
        job.status = "failed"
        job.error = {"cell": e.cell, "message": str(e), "detail": e.detail[-2000:]}
    except ZhidangError as e:  # e.g. the output folder cannot be written
        job.status = "failed"
        job.error = {"cell": None, "message": str(e), "detail": ""}
    except Exception as e:  # noqa: BLE001 - a worker must report, not crash the batch
        job.status = "failed"
        job.error = {"cell": None, "message": f"{type(e).__name__}：{e}", "detail": ""}
    job.seconds = round(time.perf_counter() - start, 2)
    job.finished_at = utc_now()
    return job


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class CtrlC:
    """Ctrl-C during a batch: counted, and raised as KeyboardInterrupt only while the batch waits for its workers,
    so that recording a finished job, or starting a worker, is never cut in half."""

    def __init__(self) -> None:
        self.presses = 0
        self.waiting = False

    @contextmanager
    def deferred(self):
        if (threading.current_thread() is not threading.main_thread()
                or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
            yield  # someone else handles Ctrl-C here; a KeyboardInterrupt may come at any point
            return

        def on_ctrl_c(signum, frame):
            self.presses += 1
            if self.waiting:
                raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, on_ctrl_c)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
