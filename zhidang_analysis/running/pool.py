"""The local executor: worker processes on this machine, each keeping a warm kernel, one job at a time; a
worker that dies fails its job alone and is replaced.

This module is light on purpose (papermill, nbconvert and the export load in the workers, :func:`_runner`): a batch
starts its workers before it imports anything heavy itself, so their kernels warm up while it loads and plans."""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from .executors import CtrlC, Executor, run_job, utc_now
from .job import OVERVIEW, TOWN_NOTEBOOK, Job


class LocalPool(Executor):
    """The ``local`` executor: ``size`` worker processes on this machine (see :func:`run_jobs_in_pool`)."""

    def __init__(self, size: int = 1) -> None:
        self.size = max(1, int(size))
        self._started: list[_Worker] = []

    def start(self, warm_up: tuple[str, str | None] | None = None) -> LocalPool:
        """Start the workers now, before the batch has loaded and planned: each starts its kernel and runs
        ``warm_up`` (code and working folder, see :func:`warm_up_code`) in it while the batch still
        plans, so that its first report costs what the others do. :meth:`run` then uses them; :meth:`close`
        stops those it never used."""
        ctx = multiprocessing.get_context("spawn")
        self._started += [_Worker(ctx, warm_up) for _ in range(self.size - len(self._started))]
        return self

    def run(self, todo: list[Job], timeout: int | None, finished: Callable[[Job], None]) -> bool:
        started, self._started = self._started, []
        return run_jobs_in_pool(todo, self.size, timeout, finished, started)

    def close(self) -> None:
        """Stop the workers :meth:`start` started that no run took (nothing to run, or the batch stopped before)."""
        started, self._started = self._started, []
        _stop_workers(started)


def run_jobs_in_pool(todo: list[Job], size: int, timeout: int | None, finished: Callable[[Job], None],
                     started: list[_Worker] | None = None) -> bool:
    """Run ``todo`` in ``size`` worker processes (``started``: some already started, see :meth:`LocalPool.start`),
    calling ``finished`` with each job as it ends; True when interrupted by Ctrl-C.

    Town reports go first, each year's county overview last (it is the slowest). A worker runs one job at a
    time. When a worker dies (killed, crashed), its job fails — it is not retried: a report that kills its
    worker would kill the next one too — and a new worker takes the remaining jobs; the other workers go on
    undisturbed. On Ctrl-C nothing new starts and the reports under way finish (workers ignore Ctrl-C) and are
    recorded; a second Ctrl-C stops waiting for them (they are then recorded as not run).
    """
    queue = deque(sorted(todo, key=lambda j: (j.kind == OVERVIEW, j.year)))
    ctrl_c = CtrlC()
    with ctrl_c.deferred():
        pool = _WorkerPool(size, timeout, ctrl_c)
        pool.workers = list(started or [])
        try:
            try:
                while (queue or pool.busy) and not ctrl_c.presses:
                    _record(pool.dispatch(queue), finished)
                    if pool.busy:
                        _record(pool.wait(), finished)
            except KeyboardInterrupt:
                ctrl_c.presses = max(ctrl_c.presses, 1)
            if ctrl_c.presses:
                try:
                    while pool.busy and ctrl_c.presses < 2:
                        _record(pool.wait(), finished)
                except KeyboardInterrupt:
                    pass
        finally:
            pool.close()
    return bool(ctrl_c.presses)


def _record(ended: list[tuple[Job, Job | str]], finished: Callable[[Job], None]) -> None:
    """Record every ended job before reporting any (a report that raises must not lose the others)."""
    jobs = [_collect(job, outcome) for job, outcome in ended]
    for job in jobs:
        finished(job)


def _collect(job: Job, outcome: Job | str) -> Job:
    """Copy a worker's outcome onto the planned job: the job as the worker returned it, or the message saying
    why it never came back (the worker died)."""
    if isinstance(outcome, Job):
        job.__dict__.update(outcome.__dict__)
    else:
        job.status = "failed"
        job.error = {"cell": None, "message": outcome, "detail": ""}
        job.finished_at = utc_now()
    return job


@contextmanager
def _ctrl_c_ignored_by_new_processes():
    """While a worker process starts: it inherits Ctrl-C *ignored* (Python keeps an inherited "ignore"), so a
    Ctrl-C can never kill it before :func:`_worker_init`; this process holds a Ctrl-C of that moment back
    (blocked) and gets it right after."""
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield  # signal handlers can only be set from the main thread (and restored when set from Python)
        return
    mask = hasattr(signal, "pthread_sigmask")
    if mask and os.name == "posix":
        from multiprocessing import resource_tracker

        resource_tracker.ensure_running()  # now: starting it later would unblock Ctrl-C in this thread
    if mask:
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if mask:
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


class _Worker:
    """One worker process and the pipe to it; ``job`` is the job it is running (None when idle)."""

    def __init__(self, ctx, warm_up: tuple[str, str | None] | None = None) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, warm_up), name="zhidang-batch-worker",
                                   daemon=True)
        with _ctrl_c_ignored_by_new_processes():
            self.process.start()
        child.close()
        self.job: Job | None = None
        self.since = 0.0
        self.fresh = True  # has not taken a job yet


class _WorkerPool:
    """Worker processes (spawned, so each has a clean interpreter) that run one job at a time."""

    def __init__(self, size: int, timeout: int | None, ctrl_c: CtrlC) -> None:
        self.size, self.timeout, self.ctrl_c = size, timeout, ctrl_c
        self.ctx = multiprocessing.get_context("spawn")
        self.workers: list[_Worker] = []

    @property
    def busy(self) -> bool:
        return any(w.job is not None for w in self.workers)

    def dispatch(self, queue: deque) -> list[tuple[Job, Job | str]]:
        """Hand queued jobs to idle workers, starting workers up to ``size``; the jobs that could not start."""
        ended: list[tuple[Job, Job | str]] = []
        idle = [w for w in self.workers if w.job is None]
        while queue and (idle or len(self.workers) < self.size) and not self.ctrl_c.presses:
            if idle:
                w = idle.pop(0)
            else:
                w = _Worker(self.ctx)
                self.workers.append(w)
            job = queue.popleft()
            try:
                w.conn.send((job, self.timeout))
            except OSError:  # the worker is gone
                self._retire(w)
                if w.fresh:  # it died on starting: give up on this job (a retry could loop forever)
                    ended.append((job, _death_message(w.process.exitcode)))
                else:
                    queue.appendleft(job)
                continue
            w.job, w.since, w.fresh = job, time.perf_counter(), False
        return ended

    def wait(self) -> list[tuple[Job, Job | str]]:
        """Block until a worker reports or dies: the jobs that ended, each with its result or why it has none."""
        handles: dict = {}
        for w in self.workers:
            handles[w.conn] = w
            handles[w.process.sentinel] = w
        self.ctrl_c.waiting = True
        try:
            ready = multiprocessing.connection.wait(list(handles))
        finally:
            self.ctrl_c.waiting = False
        ended: list[tuple[Job, Job | str]] = []
        for w in dict.fromkeys(handles[r] for r in ready):
            result = None
            try:
                if w.conn.poll():
                    result = w.conn.recv()
            except (EOFError, OSError):
                pass
            if result is not None and w.job is not None:
                ended.append((w.job, result))
                w.job = None
            if result is None or not w.process.is_alive():
                self._retire(w)
                if w.job is not None:
                    w.job.seconds = round(time.perf_counter() - w.since, 2)
                    ended.append((w.job, _death_message(w.process.exitcode)))
                    w.job = None
        return ended

    def _retire(self, w: _Worker) -> None:
        w.process.join(5)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(5)
        w.conn.close()
        self.workers.remove(w)

    def close(self) -> None:
        """Stop every worker (see :func:`_stop_workers`)."""
        _stop_workers(self.workers)
        self.workers = []


def _stop_workers(workers: list[_Worker]) -> None:
    """Stop ``workers``: an idle one is asked to exit (it stops its kernel first), a busy one is killed, and one
    that never had a job and is not gone within a second (still warming its kernel up) is stopped."""
    for w in workers:
        if w.job is None:
            try:
                w.conn.send(None)
            except OSError:
                pass
        else:
            w.process.terminate()
    deadline = time.monotonic() + 30
    soon = time.monotonic() + 1
    for w in workers:
        w.process.join(max(0.1, (soon if w.fresh else deadline) - time.monotonic()))
        if w.process.is_alive() and w.fresh:
            w.process.terminate()  # its kernel dies with it
            w.process.join(5)
        if w.process.is_alive():
            w.process.kill()
            w.process.join(5)
        w.conn.close()


def _death_message(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"被信号{signal.Signals(-exitcode).name}终止"
        except ValueError:
            how = f"被信号{-exitcode}终止"
    else:
        how = f"退出码{exitcode}"
    return f"工作进程意外退出（{how}），这份报告未生成；下次运行会重新生成"


# --------------------------------------------------------------------------------------------- a worker
_PARENT = None  # in a worker: the batch process (multiprocessing.parent_process())


def _worker_main(conn, warm_up: tuple[str, str | None] | None = None) -> None:
    """A worker process: start its kernel and warm it up (``warm_up``: code and working folder; see
    :meth:`WarmKernelEngine.warm_up`) if asked, then run the jobs the batch sends, one at a time, until it sends
    None or is gone."""
    _worker_init()
    try:
        if warm_up is not None:
            code, cwd = warm_up
            _runner().WarmKernelEngine.warm_up(code, cwd=cwd)
            _runner().warm_up_export()
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            if task is None:
                break
            job, timeout = task
            conn.send(run_job(job, timeout))
    finally:
        _runner().WarmKernelEngine.shutdown()
    # Asked to stop: every result is sent and the kernel is stopped, so nothing is left to flush. Leave without the
    # interpreter's teardown (modules, caches and figures freed one by one: most of a second the batch would wait).
    conn.close()
    os._exit(0)


def _worker_init() -> None:
    """In each worker: ignore Ctrl-C, die with the batch, and stop the kept kernel when the worker exits.

    Ctrl-C on a terminal reaches the whole process group. The batch (the parent) handles it: it starts nothing
    new and lets the reports under way finish, so only complete reports are left. Workers must therefore not
    die of it themselves (they even start with it ignored, see :func:`_ctrl_c_ignored_by_new_processes`);
    kernels run in their own session and never see it.

    A worker must not outlive its batch: the batch holds the output folder's lock, and a worker left running
    would go on writing into the folder after the lock is gone. So on Linux the worker has itself killed with
    its parent (``PR_SET_PDEATHSIG``), a thread watches the parent on every system, and before each write into
    the output folder the worker checks that its parent is still there (:func:`runner.set_write_guard`); if
    not, it kills its kernel and exits at once. Its kernel dies with it in any case (see :mod:`runner`).
    """
    from multiprocessing.util import Finalize


    global _PARENT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with it blocked too: unblock it for the kernels
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _PARENT = multiprocessing.parent_process()
    runner = _runner()
    if _PARENT is not None:
        runner.die_with_parent(_PARENT.pid)
        runner.set_write_guard(_exit_if_orphaned)
        threading.Thread(target=_watch_parent, name="zhidang-watch-batch", daemon=True).start()
    Finalize(runner.WarmKernelEngine, runner.WarmKernelEngine.shutdown, exitpriority=10)


def _parent_alive() -> bool:
    if _PARENT is None:
        return True
    if os.name == "posix":  # an orphan is adopted by another process
        return os.getppid() == _PARENT.pid
    return _PARENT.is_alive()


def _exit_if_orphaned() -> None:
    """End this worker and its kernel at once if its batch is gone (the output folder's lock went with it)."""
    if not _parent_alive():
        _runner().WarmKernelEngine.kill_now()
        os._exit(1)


def _watch_parent() -> None:
    while True:
        time.sleep(0.5)
        _exit_if_orphaned()


def _runner():
    """The runner (papermill, nbconvert, the export), loaded where the notebooks run: in a worker, never in the batch
    that only starts it."""
    from . import runner

    return runner


def warm_up_code(data: str | Path | None = None, year: int | None = None) -> str:
    """The code a batch worker runs in its kernel before its first report (:meth:`WarmKernelEngine.warm_up`): the
    town notebook's imports and load of ``data`` (as the batch passes it), then the first town's narrative and trend
    chart of ``year`` (default: the latest), whose county figures are kept for every town of that county and year
    and whose figure is lent to the next report. Nothing is written, nothing is shown; a failure is silent (the
    report that follows says what is wrong). The kernel is told the notebook's parameters by the warm-up itself
    (:func:`runner.parameters_code`)."""
    data_param = str(Path(data).resolve()) if data else ""
    return (
        "import zhidang_analysis as zd\n"
        "from IPython.display import display\n"
        "try:\n"
        f"    _ds = zd.load_dataset({data_param!r} or zd.SAMPLE_DATA, exclude_towns='')\n"
        "    if not _ds.multi:\n"
        f"        _year, _town = {year!r} or _ds.years[-1], _ds.towns[0]\n"
        "        zd.narrative.town_report(_ds, _town, _year).text\n"
        "        zd.narrative.county_scores(_ds, _year)\n"
        "        zd.export.FigureHTML(zd.charts.town_trend(zd.indicators.up_to(_ds.values, _year), _town, reuse=True),"
        " '', dpi=300)._repr_html_()\n"
        "except Exception:\n"
        "    pass\n"
    )


def start_local_pool(jobs: int | None = None, *, data: str | Path | None = None, years: list[int] | None = None,
                     towns: list[str] | None = None, notebook: str | Path = TOWN_NOTEBOOK) -> LocalPool:
    """The local worker pool of a batch, started before the batch loads and plans (:meth:`LocalPool.start`): one
    worker per job (default: per CPU core), no more than the reports ``towns`` × ``years`` (and the overviews)
    could need, each warming its kernel up on ``data`` (and the year, when there is one) meanwhile. The caller
    passes it to :func:`batch.run_batch` and closes it (:meth:`LocalPool.close`) when the batch ends."""
    size = max(1, jobs or os.cpu_count() or 1)
    if towns is not None and years:
        size = min(size, max(1, len(towns)) * len(years) + len(years))
    year = years[0] if years and len(years) == 1 else None
    return LocalPool(size).start(warm_up=(warm_up_code(data, year), str(Path(notebook).resolve().parent)))
