"""A batch on an existing ``dask.distributed`` cluster: ``zhidang batch --scheduler tcp://HOST:PORT``.

The cluster is started with the standard commands, ``dask scheduler`` on one machine and
``dask worker tcp://HOST:PORT --nworkers N --nthreads 1`` on each machine that renders reports; this package
(the same version) must be installed on every worker machine. This process (the *client*) keeps everything
the local batch does: planning, the lock on the output folder, the manifest (written by ``finished``), the
index pages, progress and Ctrl-C. Only the notebooks run on the workers.

Shipping. Workers may be other machines, so nothing assumes the client's paths exist there. A
:class:`ReportPlugin`, registered once per batch, carries the batch's notebooks and data files (bytes, with
their relative layout) to every worker, also to workers that join later; its ``setup`` writes them into a
private temporary folder of that worker and each job's ``data`` parameter is rewritten to that copy (an empty
one, the bundled sample, stays empty when the worker has the sample, else it points at a shipped copy).

Running. Each worker process has one thread that runs reports (:class:`KernelThread`), one at a time, in a
warm kernel (:class:`runner.WarmKernelEngine`, one per process), through :func:`batch.run_job`, into a
private temporary folder. The outputs (HTML, the executed notebook, Word/PDF as asked) come back as bytes with
the job's status, error and seconds, and the client writes them atomically to the job's real paths: a worker
never writes into the output folder, and nothing is half-written. The plugin's ``teardown`` stops the kernel and
removes the temporary folder.

Faults. A failing report is recorded failed, the others go on. A worker killed mid-run: Dask runs its report
again on another worker (``distributed.scheduler.allowed-failures`` times, default 3), then records it failed
(``KilledWorker``); a rerun of the batch completes what is missing. At most one report per connected worker
process is in flight, so nothing floods the scheduler and a first Ctrl-C can stop what has not started: the
client submits nothing new, tells the workers to start nothing more of this batch, and waits for the reports
under way (they are recorded); a second Ctrl-C stops waiting and cancels them (recorded as not run).
"""

from __future__ import annotations

import importlib
import logging
import os
import queue as _queue
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath

from ..errors import ZhidangError
from ..model.bundled import PACKAGE_DIR, SAMPLE_DATA, __version__, code_hash
from ..outputs.export import format_path, outdated_formats
from ..outputs.files import atomic_write_bytes
from .executors import CtrlC, Executor, run_job, utc_now
from .job import OVERVIEW, Job
from .runner import WarmKernelEngine, pid_alive

try:  # the plugin must subclass distributed's WorkerPlugin; without distributed this module still imports
    from distributed import WorkerPlugin
except ImportError:  # pragma: no cover - run_jobs_on_cluster says so in Chinese
    WorkerPlugin = object  # type: ignore[assignment,misc]

#: seconds to wait for the scheduler to answer
CONNECT_TIMEOUT = 5
#: seconds to wait for at least one worker, at the start and whenever none is left during a batch
WORKER_WAIT = 30
#: seconds between looks at the running reports
POLL = 0.2
#: seconds between refreshes of the number of connected workers
WORKERS_REFRESH = 2.0
#: a worker's temporary folder: ``<tmp>/zhidang-cluster-<pid>-<random>`` (removed by a later worker once the pid
#: is gone, as after ``kill -9``)
FOLDER_PREFIX = "zhidang-cluster-"
_FOLDER = re.compile(rf"^{FOLDER_PREFIX}(\d+)-")

_log = logging.getLogger("distributed.worker.zhidang")


class ClusterError(ZhidangError):
    """The cluster cannot run the batch: no distributed, no scheduler, no workers, a different package."""


# --------------------------------------------------------------------------------------------- the client
class DaskCluster(Executor):
    """The ``dask`` executor: the cluster whose scheduler is at ``scheduler`` (see :func:`run_jobs_on_cluster`)."""

    def __init__(self, scheduler: str, worker_wait: float | None = None) -> None:
        self.scheduler, self.worker_wait = scheduler, worker_wait

    def run(self, todo: list[Job], timeout: int | None, finished: Callable[[Job], None]) -> bool:
        return run_jobs_on_cluster(todo, self.scheduler, timeout, finished, worker_wait=self.worker_wait)


def run_jobs_on_cluster(todo: list[Job], scheduler: str, timeout: int | None, finished: Callable[[Job], None],
                        *, worker_wait: float | None = None) -> bool:
    """Run ``todo`` on the Dask cluster whose scheduler is at ``scheduler`` (``tcp://HOST:PORT``), calling
    ``finished`` with each job as it ends (its outcome copied onto it, its files written); True when interrupted
    by Ctrl-C. The same contract as :meth:`.executors.Executor.run`.

    Raises :class:`ClusterError` (Chinese) before anything runs when ``distributed`` is not installed, the
    scheduler does not answer within :data:`CONNECT_TIMEOUT` seconds, no worker connects within ``worker_wait``
    seconds (default :data:`WORKER_WAIT`), or the workers run another version of this package.
    """
    distributed = _import_distributed()
    worker_wait = WORKER_WAIT if worker_wait is None else worker_wait
    queue = deque(sorted(todo, key=lambda j: (j.kind == OVERVIEW, j.year)))
    ctrl_c = CtrlC()
    with ctrl_c.deferred():
        client = _connect(distributed, scheduler)
        name = None
        try:
            try:
                _wait_for_workers(client, scheduler, worker_wait)
                plugin = ReportPlugin.for_jobs(todo)
                name = plugin.name  # from now on unregistered at the end, whatever happens
                _register(client, plugin)
                run = _ClusterRun(client, name, timeout, finished, ctrl_c, worker_wait, scheduler)
                return run.run(queue)
            except KeyboardInterrupt:  # only where someone else handles Ctrl-C (see batch.CtrlC)
                return True
        finally:
            _close(client, name)


def _import_distributed():
    try:
        return importlib.import_module("distributed")
    except ImportError:
        raise ClusterError("未安装 dask.distributed，无法使用 --scheduler：请先运行 pip install distributed "
                           "（或 conda install distributed），再重试；不给 --scheduler 则在本机并行运行。") from None


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else ""
    return f"{type(e).__name__}：{text}" if text else type(e).__name__


def _connect(distributed, scheduler: str):
    try:
        return distributed.Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except Exception as e:  # noqa: BLE001 - a bad address, a refused or silent port: one Chinese message
        raise ClusterError(f"无法连接 Dask 调度器“{scheduler}”（{CONNECT_TIMEOUT}秒内未连上；{_reason(e)}）。"
                           "请确认已在那台机器上运行 dask scheduler，地址和端口无误（如 tcp://10.0.0.5:8786），"
                           "且防火墙放行该端口。") from None


def _no_workers_message(scheduler: str, seconds: float) -> str:
    return (f"Dask 调度器“{scheduler}”上没有可用的工作进程（等待了{seconds:g}秒）。请在每台工作机器上安装同一版本的"
            f"本软件包后运行：dask worker {scheduler} --nworkers 核数 --nthreads 1")


def _wait_for_workers(client, scheduler: str, seconds: float) -> None:
    try:
        client.wait_for_workers(1, timeout=seconds)
    except (TimeoutError, OSError):
        raise ClusterError(_no_workers_message(scheduler, seconds)) from None


def _register(client, plugin: ReportPlugin) -> None:
    """Register ``plugin`` on every worker; raise :class:`ClusterError` when a worker cannot take it."""
    try:
        client.register_plugin(plugin, name=plugin.name)
    except Exception as e:  # noqa: BLE001 - e.g. the package is missing on a worker machine
        raise ClusterError(f"无法在工作机器上准备本次批量任务（{_reason(e)}）。请确认每台工作机器都安装了同一版本的"
                           f"zhidang-analysis（{__version__}），且临时文件夹可写。") from None
    try:
        problems = client.run(_plugin_problem, plugin.name)
    except Exception:  # noqa: BLE001 - a worker that left meanwhile: its jobs go elsewhere
        problems = {}
    bad = {w: p for w, p in problems.items() if p}
    if bad:
        _unregister(client, plugin.name)
        raise ClusterError("；".join(f"工作进程{w}：{p}" for w, p in sorted(bad.items())))


def _unregister(client, name: str) -> None:
    try:
        client.unregister_worker_plugin(name)
    except Exception:  # noqa: BLE001 - a cluster that is gone has nothing to tear down
        pass


def _close(client, name: str | None) -> None:
    if name is not None:
        _unregister(client, name)
    try:
        client.close(timeout=10)
    except Exception:  # noqa: BLE001
        pass


def _message_killed() -> str:
    return "运行这份报告的工作进程多次意外退出（Dask 已在其他工作进程上重试），这份报告未生成；下次运行会重新生成"


class _ClusterRun:
    """The client side of one batch: submits at most one job per connected worker process, collects results."""

    def __init__(self, client, name: str, timeout: int | None, finished: Callable[[Job], None], ctrl_c: CtrlC,
                 worker_wait: float, scheduler: str) -> None:
        self.client, self.name, self.timeout, self.finished = client, name, timeout, finished
        self.ctrl_c, self.worker_wait, self.scheduler = ctrl_c, worker_wait, scheduler
        self.inflight: dict = {}  # future → (job, perf_counter at submission)
        self.slots, self.checked = self._workers(), time.monotonic()
        self.no_workers_since: float | None = None

    def run(self, queue: deque) -> bool:
        try:
            while (queue or self.inflight) and not self.ctrl_c.presses:
                self._refresh()
                self._submit(queue)
                if not self._collect():
                    self._check_workers(queue)
                    time.sleep(POLL)
        except KeyboardInterrupt:
            self.ctrl_c.presses = max(self.ctrl_c.presses, 1)
        if self.ctrl_c.presses:
            self._stop_workers()
            try:
                while self.inflight and self.ctrl_c.presses < 2:
                    if not self._collect():
                        time.sleep(POLL)
            except KeyboardInterrupt:
                pass
            try:
                self.client.cancel(list(self.inflight))
            except Exception:  # noqa: BLE001
                pass
        return bool(self.ctrl_c.presses)

    # -- workers
    def _workers(self) -> int:
        try:
            return len(self.client.nthreads())
        except Exception:  # noqa: BLE001 - the scheduler is unreachable for a moment
            return 0

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self.checked >= WORKERS_REFRESH:
            self.slots, self.checked = self._workers(), now

    def _check_workers(self, queue: deque) -> None:
        """When the connection to the scheduler is lost, or no worker has been connected for ``worker_wait``
        seconds, fail what is left (nothing would run)."""
        if getattr(self.client, "status", "running") in {"closing", "closed"}:  # it gave up reconnecting
            message = f"与 Dask 调度器“{self.scheduler}”的连接中断，这份报告未生成；下次运行会重新生成"
        elif self.slots:
            self.no_workers_since = None
            return
        else:
            now = time.monotonic()
            self.no_workers_since = self.no_workers_since or now
            if now - self.no_workers_since < self.worker_wait:
                return
            message = _no_workers_message(self.scheduler, self.worker_wait) + "；这份报告未生成，下次运行会重新生成"
        try:
            self.client.cancel(list(self.inflight))
        except Exception:  # noqa: BLE001
            pass
        ended = [(job, _failed(message)) for job, _ in self.inflight.values()]
        ended += [(job, _failed(message)) for job in queue]
        self.inflight.clear()
        queue.clear()
        self._record(ended)

    def _stop_workers(self) -> None:
        """First Ctrl-C: the workers start no more reports of this batch (those queued return at once)."""
        try:
            self.client.run(_stop_plugin, self.name, on_error="ignore")
        except Exception:  # noqa: BLE001
            pass

    # -- jobs
    def _submit(self, queue: deque) -> None:
        while queue and len(self.inflight) < self.slots and not self.ctrl_c.presses:
            job = queue.popleft()
            try:
                spec = _spec(job)
            except OSError as e:
                self._record([(job, _failed(f"无法读取已有的报告“{job.html}”：{e.strerror or e}"))])
                continue
            try:
                future = self.client.submit(_execute, spec, self.timeout, self.name, pure=False,
                                            key=f"zhidang-report-{uuid.uuid4().hex}")
            except Exception as e:  # noqa: BLE001 - the connection to the scheduler is lost
                self._record([(job, _failed(f"无法提交到 Dask 调度器“{self.scheduler}”（{_reason(e)}），"
                                            "这份报告未生成；下次运行会重新生成"))])
                continue
            self.inflight[future] = (job, time.perf_counter())

    def _collect(self) -> bool:
        """Record the jobs whose futures have ended; whether any had."""
        ended = []
        for future in [f for f in self.inflight if f.done()]:
            job, since = self.inflight.pop(future)
            outcome = _outcome(future)
            if outcome.get("seconds") is None:
                outcome["seconds"] = round(time.perf_counter() - since, 2)
            ended.append((job, outcome))
        self._record(ended)
        return bool(ended)

    def _record(self, ended: list[tuple[Job, dict]]) -> None:
        """Write and copy every outcome before reporting any (as :func:`.pool.run_jobs_in_pool` does); a job a worker did not
        start (after Ctrl-C) stays pending, so the batch records it as not run."""
        jobs = [job for job, outcome in ended if _apply(job, outcome)]
        for job in jobs:
            self.finished(job)


def _failed(message: str) -> dict:
    return {"status": "failed", "error": {"cell": None, "message": message, "detail": ""}, "seconds": None,
            "finished_at": None, "files": {}}


def _outcome(future) -> dict:
    """The result a worker sent for ``future``, or a failure saying why there is none."""
    from distributed.scheduler import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return _failed(_message_killed())
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as e:  # noqa: BLE001 - cancelled, lost, or an error outside run_job
        if type(e).__name__ in {"CancelledError", "FutureCancelledError"}:
            return _failed("与 Dask 调度器的连接中断或任务被取消，这份报告未生成；下次运行会重新生成")
        return _failed(f"工作机器上运行出错：{_reason(e)}")
    finally:
        try:
            future.release()
        except Exception:  # noqa: BLE001
            pass


def _apply(job: Job, outcome: dict) -> bool:
    """Write the files of a finished job atomically to its real paths and copy its outcome onto it; False for a
    job the worker did not start."""
    if outcome.get("status") == "not_run":
        return False
    status, error = outcome["status"], outcome.get("error")
    if status == "done":
        try:
            for fmt, data in _ordered(outcome.get("files") or {}):
                atomic_write_bytes(Path(job.ipynb) if fmt == "ipynb" else format_path(job.html, fmt), data)
        except OSError as e:
            status = "failed"
            error = {"cell": None, "message": f"无法写入报告文件（{job.html}）：{e.strerror or e}", "detail": ""}
    job.status, job.error = status, error
    job.seconds = outcome.get("seconds")
    job.finished_at = outcome.get("finished_at") or utc_now()
    return True


def _ordered(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    """HTML first, then the executed notebook, then the formats made from the HTML (never older than it)."""
    rank = {"html": 0, "ipynb": 1}
    return sorted(files.items(), key=lambda kv: rank.get(kv[0], 2))


def _spec(job: Job) -> dict:
    """What a worker needs to run ``job``: a copy of it, its file stem, its notebook's key and, when only other
    formats are to be made from its up-to-date HTML, that HTML."""
    run = replace(job, parameters=dict(job.parameters))
    html = None
    if not job.run_notebook:
        run.formats = ("html", *outdated_formats(job.html, job.formats))
        html = Path(job.html).read_bytes()
    return {"job": run, "stem": Path(job.html).stem, "notebook": str(job.notebook), "html": html,
            "version": __version__}


# --------------------------------------------------------------------------------------------- the worker
class KernelThread:
    """The one thread of a worker process that runs reports, one at a time, in the process's warm kernel
    (:class:`runner.WarmKernelEngine` keeps one kernel per process, and its kernel manager belongs to the
    thread that made it). Shared by every batch's plugin in the process; the last one to leave stops the kernel.
    The thread is a daemon: a worker that exits does not wait for a report (its kernel dies with it)."""

    _lock = threading.Lock()
    _tasks: _queue.Queue | None = None
    _users = 0

    @classmethod
    def acquire(cls) -> None:
        with cls._lock:
            if cls._tasks is None:
                cls._tasks = _queue.Queue()
                threading.Thread(target=cls._loop, args=(cls._tasks,), name="zhidang-kernel", daemon=True).start()
            cls._users += 1

    @classmethod
    def submit(cls, fn: Callable, *args) -> Future:
        future: Future = Future()
        with cls._lock:
            if cls._tasks is None:
                future.set_exception(RuntimeError("the report thread is stopped"))
            else:
                cls._tasks.put((future, fn, args))
        return future

    @classmethod
    def release(cls) -> None:
        """One user fewer; the last one stops the kernel (in the thread, after any report under way) and the
        thread."""
        with cls._lock:
            cls._users = max(0, cls._users - 1)
            if cls._users or cls._tasks is None:
                return
            tasks, cls._tasks = cls._tasks, None
        tasks.put((Future(), WarmKernelEngine.shutdown, ()))
        tasks.put(None)

    @staticmethod
    def _loop(tasks: _queue.Queue) -> None:
        while (item := tasks.get()) is not None:
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting task
                future.set_exception(e)


class ReportPlugin(WorkerPlugin):
    """Carries one batch's notebooks and data to every worker and runs its reports there.

    ``notebooks``: client path → bytes. ``data``: the client's ``data`` parameter → (path of the parameter
    relative to the shipped folder, {relative path: bytes}); ``""`` (the bundled sample) → the sample's files,
    used only on a worker that has no sample of its own.
    """

    idempotent = False

    def __init__(self, name: str, notebooks: dict[str, bytes], data: dict[str, tuple[str, dict[str, bytes]]],
                 version: str, code: str, installed: tuple[str, str] = ("", "")) -> None:
        self.name, self.notebooks, self.data, self.version, self.code = name, notebooks, data, version, code
        self.installed = installed  # (host, package folder) of the client: the same there means the same files

    @classmethod
    def for_jobs(cls, jobs: list[Job]) -> ReportPlugin:
        """The plugin of a batch, read on the client: every notebook and data parameter of ``jobs``."""
        try:
            notebooks = {str(j.notebook): Path(j.notebook).read_bytes() for j in jobs}
            data = {}
            for param in dict.fromkeys(str(j.parameters.get("data") or "") for j in jobs):
                data[param] = _data_files(param)
        except OSError as e:
            raise ClusterError(f"无法读取要发送给工作机器的文件“{e.filename}”：{e.strerror or e}") from None
        # the files as they are now (code_hash() keeps its first answer for the process's life)
        return cls(f"zhidang-batch-{uuid.uuid4().hex}", notebooks, data, __version__, code_hash.__wrapped__(),
                   _installed())

    # -- lifecycle (in the worker's main thread)
    def setup(self, worker) -> None:
        self.stopping = False
        self.running = False
        self.problem = None
        self.folder = None
        self.notebook_paths: dict[str, Path] = {}
        self.data_paths: dict[str, str] = {}
        if self.version != __version__:
            self.problem = (f"这台工作机器上的 zhidang-analysis 是版本{__version__}，与运行批量任务的机器"
                            f"（版本{self.version}）不同：请安装同一版本并重启 dask worker 后重试")
            return
        # the same package folder on the same machine holds the same files (a file edited meanwhile is no
        # other installation); anywhere else the files must be the same as the client's
        if self.installed != _installed() and self.code != code_hash.__wrapped__():
            self.problem = ("这台工作机器上的 zhidang-analysis 代码与运行批量任务的机器不一致（版本号相同但文件不同）："
                            "请安装相同的代码并重启 dask worker 后重试")
            return
        _remove_stale_folders()
        self.folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        for i, (path, content) in enumerate(self.notebooks.items()):
            target = self.folder / "notebooks" / str(i) / (_name(path) or "notebook.ipynb")
            _write(target, content)
            self.notebook_paths[path] = target
        for i, (param, (top, files)) in enumerate(self.data.items()):
            if param == "" and SAMPLE_DATA.is_dir():
                self.data_paths[param] = ""
                continue
            root = self.folder / "data" / str(i)
            for rel, content in files.items():
                _write(root / rel, content)
            self.data_paths[param] = str(root / top)
        (self.folder / "jobs").mkdir()
        self.notebooks, self.data = {}, {}  # written: no need to keep them in memory
        KernelThread.acquire()
        nthreads = getattr(getattr(worker, "state", None), "nthreads", None) or getattr(worker, "nthreads", 1)
        if nthreads and nthreads > 1:
            _log.warning("本工作进程有%d个线程，但每个工作进程一次只运行一份报告（一个内核）；"
                         "请用 dask worker --nworkers 核数 --nthreads 1 启动，以用满各核", nthreads)

    def teardown(self, worker) -> None:
        self.stopping = True
        if self.folder is None:
            return
        if self.running:  # a report of this batch still runs (a second Ctrl-C): stop it, nobody waits for it
            WarmKernelEngine.kill_now()
        KernelThread.submit(shutil.rmtree, self.folder, True)  # after the report under way, in its thread
        KernelThread.release()

    # -- a job (in a Dask thread, then in the kernel thread)
    def execute(self, spec: dict, timeout: int | None) -> dict:
        if self.problem:
            return _failed(self.problem)
        if spec.get("version") != __version__:
            return _failed(f"这台工作机器上的 zhidang-analysis 版本（{__version__}）与本机（{spec.get('version')}）不同")
        if self.stopping:
            return {"status": "not_run"}
        return KernelThread.submit(self._run, spec, timeout).result()

    def _run(self, spec: dict, timeout: int | None) -> dict:
        if self.stopping:
            return {"status": "not_run"}
        self.running = True
        job: Job = spec["job"]
        tmp = Path(tempfile.mkdtemp(dir=self.folder / "jobs"))
        try:
            original = str(job.parameters.get("data") or "")
            local = self.data_paths.get(original, original)
            stem = spec["stem"]
            job.html, job.ipynb = str(tmp / f"{stem}.html"), str(tmp / f"{stem}.ipynb")
            job.notebook = str(self.notebook_paths[spec["notebook"]])
            job.parameters["data"] = local
            if not job.run_notebook:
                _write(Path(job.html), spec["html"])
            run_job(job, timeout)
            files: dict[str, bytes] = {}
            if job.status == "done":
                if job.run_notebook:
                    files["html"] = Path(job.html).read_bytes()
                    files["ipynb"] = _restore_parameter(Path(job.ipynb).read_bytes(), "data", local, original)
                for fmt in job.formats:
                    if fmt != "html":
                        files[fmt] = format_path(job.html, fmt).read_bytes()
            error = job.error
            if error and local != original:  # name the client's data, not this worker's copy
                error = {k: v.replace(local, original) if isinstance(v, str) else v for k, v in error.items()}
            return {"status": job.status, "error": error, "seconds": job.seconds, "finished_at": job.finished_at,
                    "files": files}
        except Exception as e:  # noqa: BLE001 - e.g. a file that vanished: this report fails, the worker goes on
            return _failed(f"工作机器上运行出错：{_reason(e)}")
        finally:
            self.running = False
            shutil.rmtree(tmp, ignore_errors=True)


def _installed() -> tuple[str, str]:
    """(host name, package folder) of this process's zhidang_analysis."""
    import socket

    return socket.gethostname(), str(PACKAGE_DIR)


def _execute(spec: dict, timeout: int | None, name: str) -> dict:
    """The Dask task of one report: run it through this worker's plugin of its batch."""
    from distributed import get_worker

    plugin = get_worker().plugins.get(name)
    if plugin is None:
        return _failed("这个工作进程上没有本次批量任务的数据（插件未注册），这份报告未生成；下次运行会重新生成")
    return plugin.execute(spec, timeout)


def _plugin_problem(name: str, dask_worker=None) -> str | None:
    plugin = dask_worker.plugins.get(name) if dask_worker is not None else None
    return getattr(plugin, "problem", None)


def _stop_plugin(name: str, dask_worker=None) -> None:
    plugin = dask_worker.plugins.get(name) if dask_worker is not None else None
    if plugin is not None:
        plugin.stopping = True


# --------------------------------------------------------------------------------------------- files
def _data_files(param: str) -> tuple[str, dict[str, bytes]]:
    """The files of a ``data`` parameter, to ship: (the parameter's path relative to the shipped folder,
    {relative path: bytes}). A file ships alone; a folder ships with every file under it (county folders
    included), layout kept, except hidden files and Excel's lock files (``~$…``); ``""`` ships the bundled
    sample."""
    path = Path(param) if param else SAMPLE_DATA
    top = path.name or "data"
    if path.is_file():
        return top, {top: path.read_bytes()}
    files = {}
    if path.is_dir():
        for f in sorted(path.rglob("*")):
            rel = f.relative_to(path)
            if any(part.startswith((".", "~$")) for part in rel.parts) or not f.is_file():
                continue
            files[PurePosixPath(top, *rel.parts).as_posix()] = f.read_bytes()
    return top, files


def _name(path: str) -> str:
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)


def _restore_parameter(ipynb: bytes, key: str, local: str, original: str) -> bytes:
    """The executed notebook with parameter ``key`` shown as the client gave it (``original``) instead of this
    worker's copy (``local``): in papermill's metadata and its injected-parameters cell."""
    if local == original:
        return ipynb
    import nbformat
    from papermill.translators import PythonTranslator

    nb = nbformat.reads(ipynb.decode("utf-8"), as_version=4)
    params = nb.metadata.get("papermill", {}).get("parameters")
    if isinstance(params, dict) and params.get(key) == local:
        params[key] = original
    old, new = f"{key} = {PythonTranslator.translate(local)}", f"{key} = {PythonTranslator.translate(original)}"
    for cell in nb.cells:
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell.source = cell.source.replace(old, new)
    return nbformat.writes(nb).encode("utf-8")


def _remove_stale_folders() -> None:
    """Remove the temporary folders of this user's worker processes that are gone (killed with ``kill -9``)."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    try:
        entries = list(os.scandir(tempfile.gettempdir()))
    except OSError:
        return
    for entry in entries:
        m = _FOLDER.match(entry.name)
        try:
            if (not m or not entry.is_dir(follow_symlinks=False) or pid_alive(int(m.group(1)))
                    or (uid is not None and entry.stat(follow_symlinks=False).st_uid != uid)):
                continue
        except OSError:
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
