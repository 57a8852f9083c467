"""Run the parameterised notebooks with papermill (Python API) and export them with nbconvert.

The kernel is always this process's own Python (``sys.executable``), through a kernel manager that builds
its kernel spec in memory: it works inside the project's virtualenv without registering any kernel, and
never picks up a ``python3`` kernel registered elsewhere on the machine.

Outputs: ``<out>/<year>/<town>.ipynb`` (executed) beside ``<out>/<year>/<town>.html``, both written
atomically; a failed run leaves the previous good report untouched.

A kernel dies with the process that started it, even when that process is killed with ``kill -9``: on Linux
through ``PR_SET_PDEATHSIG`` (set between fork and exec), elsewhere through ipykernel's own parent poller
(within a second). What a killed process leaves behind (its temporary notebook beside the outputs, its kernel's
IPC sockets and connection file in the temporary folder) carries its pid in the file name, so the next run
removes it once that process is gone (:func:`clean_stale_temp_files`, :func:`clean_stale_kernel_files`).
"""

from __future__ import annotations

import functools
import os
import re
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill as pm
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger as pm_logger
from traitlets import default

from ..errors import ReportError, ZhidangError
from ..outputs.export import convert, export_html, notebook_to_html, parse_formats
from ..outputs.files import atomic_write_bytes
from ..report.titles import report_title
from .job import DEFAULT_OUT, OVERVIEW_NOTEBOOK, REGION_NOTEBOOK, TOWN_NOTEBOOK

#: names of :mod:`.plan` this module has always offered; loaded on first use, as a batch worker (which imports this
#: module) plans nothing and needs neither pandas nor the analysis
_FROM_PLAN = ("layout", "load_for_batch", "report_paths")


def __getattr__(name: str):
    if name in _FROM_PLAN:
        from . import plan

        return getattr(plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

WARM_ENGINE = "zhidang-warm-kernel"


#: A kernel's files (IPC sockets ``…-1`` to ``…-5``, connection file ``….json``) are
#: ``<tmp>/zhidang-kernel-<pid of the process that started it>-<random>…``: a later run removes those of a dead pid.
KERNEL_FILE_PREFIX = "zhidang-kernel-"
_KERNEL_FILE = re.compile(rf"^{KERNEL_FILE_PREFIX}(\d+)-[0-9a-f]+(?:-\d+|\.json)$")
_OLD_KERNEL_FILE = re.compile(rf"^{KERNEL_FILE_PREFIX}[0-9a-f]{{16}}-\d+$")  # before the pid was in the name
#: the temporary notebook of :func:`execute_notebook`, beside its outputs: ``.<stem>.<pid>.<random>.ipynb``
_TEMP_NOTEBOOK = re.compile(r"^\..+\.(\d+)\.[a-z0-9_]{8}\.ipynb$")
#: temporary files that name no pid: an atomic write's ``.<name>.<random>.tmp``, an older version's notebook
_TEMP_UNOWNED = re.compile(r"^\..+\.[a-z0-9_]{8}\.(?:tmp|ipynb)$")
#: a temporary file without a pid that is this old (seconds) is a leftover (an atomic write takes milliseconds)
STALE_SECONDS = 600
PR_SET_PDEATHSIG = 1


class OutputFolderError(ZhidangError):
    """The output folder cannot be written: read-only, no permission, or not a folder."""


class ProjectKernelManager(AsyncKernelManager):
    """Kernel manager whose kernel is ``sys.executable -m ipykernel_launcher``: the project's own Python.

    On POSIX the kernel talks over IPC sockets rather than loopback TCP: no ports to collide between
    parallel runs, and nothing reachable from other users of the machine.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc" if os.name == "posix" else "tcp"

    @default("ip")
    def _default_ip(self) -> str:
        # jupyter_client numbers IPC sockets "<ip>-1", "<ip>-2"… after the files it sees: kernels started at the
        # same moment by parallel workers would pick the same ones. A unique prefix per kernel rules that out.
        if self.transport == "ipc":
            return self._file_prefix()
        return "127.0.0.1"

    @default("connection_file")
    def _default_connection_file(self) -> str:
        return self._file_prefix() + ".json"

    def _file_prefix(self) -> str:
        """``<tmp>/zhidang-kernel-<this process's pid>-<random>``: how every file of this manager's kernel begins."""
        prefix = getattr(self, "_zhidang_file_prefix", None)
        if prefix is None:
            prefix = os.path.join(tempfile.gettempdir(),
                                  f"{KERNEL_FILE_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}")
            self._zhidang_file_prefix = prefix
        return prefix

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        # the kernel dies with the process that starts it (a batch worker, `zhidang run`), even one killed by -9
        if "preexec_fn" not in kw and (preexec := _die_with_parent_preexec()) is not None:
            kw["preexec_fn"] = preexec
        await super()._async_launch_kernel(kernel_cmd, **kw)

    @property
    def kernel_spec(self) -> KernelSpec:
        if self._kernel_spec is None:
            self._kernel_spec = KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="zhidang-analysis (Python)",
                language="python",
                env={"PYDEVD_DISABLE_FILE_VALIDATION": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline"},
                resource_dir="",
            )
        return self._kernel_spec


class WarmKernelEngine(NBClientEngine):
    """A papermill engine that keeps one kernel alive per process and runs notebook after notebook in it.

    Used by the batch workers: starting a kernel and importing pandas, matplotlib and this package costs
    more than rendering one report, so each worker pays it once. Between notebooks the kernel's namespace is
    cleared (``%reset -f``); modules stay imported and :func:`~zhidang_analysis.inputs.load.load_dataset` serves unchanged files
    from its cache. After any failure the kernel is shut down and the next notebook gets a fresh one, so a
    timed-out or broken kernel never serves another town.
    """

    _km: AsyncKernelManager | None = None
    #: The client of the kept kernel and the thread whose event loop its channels belong to: a new client costs
    #: 0.2 s (jupyter_client's ``wait_for_ready`` waits that long for IOPub to fall quiet), so it is kept too.
    _kc = None
    _kc_thread: int | None = None

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        if cls._km is None:
            cls._km = ProjectKernelManager(kernel_name=kernel_name)
        _guard_saves(nb_man)
        client = PapermillNotebookClient(
            nb_man, km=cls._km, timeout=execution_timeout, startup_timeout=start_timeout,
            kernel_name=kernel_name, log=pm_logger, log_output=log_output, stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        if cls._kc is not None and cls._kc_thread == threading.get_ident() and cls._km.has_kernel:
            client.kc = cls._kc  # replies and output are matched to their request: the last run's are ignored
        ok = False
        try:
            nb = client.execute(cwd=kwargs.get("cwd"))
            # a cell that raised is recorded by papermill, not raised here: that kernel is not kept either
            failed = nb_man.nb.metadata.get("papermill", {}).get("exception")
            ok = not failed and run_sync(cls._reset)(client)
            return nb
        finally:
            cls._keep(client, ok)

    @classmethod
    def _keep(cls, client, ok: bool) -> None:
        """After a run: keep the kernel and its client for the next notebook when ``ok``, else stop both."""
        if ok:
            cls._kc, cls._kc_thread = client.kc, threading.get_ident()
            return
        if client.kc is not None:
            client.kc.stop_channels()
        cls._kc = None
        cls.shutdown()

    @classmethod
    def warm_up(cls, code: str, *, cwd: str | None = None, kernel_name: str = "python3", timeout: int = 120) -> bool:
        """Start this process's kept kernel now and run ``code`` in it (see :func:`pool.warm_up_code`), told first what the town notebook's parameters are (:func:`parameters_code`): what the first
        notebook would pay (the kernel's start, the imports, the dataset, the county's figures, the first chart),
        paid while the batch still loads and plans. The namespace is then cleared as after a notebook. True when
        the kernel is kept; on any failure it is stopped (the first notebook starts its own) and False returned."""
        if cls._km is not None and cls._km.has_kernel:
            return True
        cls._km = ProjectKernelManager(kernel_name=kernel_name)
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(parameters_code() + code)])
        client = NotebookClient(nb, km=cls._km, kernel_name=kernel_name, timeout=timeout, startup_timeout=60)
        ok = False
        try:
            # the synchronous set-up, as papermill's client uses it: ``execute()`` would install asyncio handlers for
            # Ctrl-C and leave Python's own behind, and a worker must go on ignoring Ctrl-C (see :mod:`pool`)
            client.reset_execution_trackers()
            with client.setup_kernel(cwd=cwd):
                client.execute_cell(nb.cells[0], 0)
            ok = run_sync(cls._reset)(client)
        except Exception:  # noqa: BLE001 - a warm-up that fails costs nothing but itself: the first notebook starts over
            ok = False
        finally:
            cls._keep(client, ok)
        return ok

    #: Run in the kernel after each notebook: the namespace cleared (``%reset -f``: its two full garbage collections
    #: free the report's cycles), then every object left (modules, fonts, the dataset and the per-county memos, all
    #: kept for the next town) moved out of the collector's sight (``gc.freeze``). Without that, each full collection,
    #: these two and those the next report triggers while it allocates, scans the kernel's few hundred thousand
    #: long-lived objects again: 0.3–0.4 s a report, a third of its cells' cost.
    RESET_CODE = "get_ipython().run_line_magic('reset', '-f'); __import__('gc').freeze()"

    @staticmethod
    async def _reset(client) -> bool:
        msg_id = client.kc.execute(WarmKernelEngine.RESET_CODE, silent=True, store_history=False)
        reply = await client.async_wait_for_reply(msg_id)
        return bool(reply) and reply["content"].get("status") == "ok"

    @classmethod
    def shutdown(cls) -> None:
        """Stop the kept kernel (also called when a worker process exits)."""
        km, cls._km = cls._km, None
        kc, cls._kc = cls._kc, None
        if kc is not None:
            try:
                kc.stop_channels()
            except Exception:  # noqa: BLE001 - channels of a dead kernel may be gone already
                pass
        if km is not None and km.has_kernel:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - a dead kernel has nothing left to stop
                pass

    @classmethod
    def kill_now(cls) -> None:
        """Kill the kept kernel and its process group at once: no messages, no event loop, safe from any thread
        (for a worker whose batch is gone and which exits right after)."""
        km = cls._km
        provisioner = getattr(km, "provisioner", None)
        pid, pgid = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
        if not pid:
            return
        try:
            if pgid == pid and hasattr(os, "killpg"):  # the kernel leads its own session: take its children too
                os.killpg(pgid, signal.SIGKILL)
            else:
                os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))
        except OSError:
            pass


papermill_engines.register(WARM_ENGINE, WarmKernelEngine)


def _guard_saves(nb_man) -> None:
    """Check :func:`set_write_guard`'s guard before each of papermill's saves of the running notebook."""
    save = nb_man.save

    def guarded_save(**kwargs):
        before_write()
        return save(**kwargs)

    nb_man.save = guarded_save


# --------------------------------------------------------------------------------------------- processes
@functools.cache
def _prctl():
    """libc's ``prctl`` on Linux (looked up once, never between fork and exec), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _pdeathsig_args() -> tuple:
    import ctypes

    return (PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def die_with_parent(parent: int | None = None) -> bool:
    """Have this process killed (SIGKILL) the moment its parent process dies, even by ``kill -9`` (Linux).

    Returns False where that is not available; the caller then needs another way (a thread watching the parent).
    ``parent`` is the pid the caller expects as its parent: if that one died before the call, this process dies now.
    """
    prctl = _prctl()
    if prctl is None or prctl(*_pdeathsig_args()) != 0:
        return False
    if parent is not None and os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGKILL)
    return True


def _die_with_parent_preexec() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a child process die with this one, or None where that cannot be done.

    Only from the main thread: Linux signals the child when the *thread* that forked it ends.
    """
    prctl = _prctl()
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    args = _pdeathsig_args()
    me = os.getpid()

    def preexec() -> None:  # in the child, between fork and exec: one system call, no locks
        prctl(*args)
        if os.getppid() != me:  # this process died before prctl: do not outlive it
            os._exit(1)

    return preexec


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (a zombie, killed and not yet reaped, is not)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _windows_pid_alive(pid: int) -> bool:
    import ctypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    handle = kernel32.OpenProcess(0x00100000, False, pid)  # SYNCHRONIZE
    if not handle:
        return ctypes.get_last_error() == 5  # ERROR_ACCESS_DENIED: it exists
    try:
        return kernel32.WaitForSingleObject(handle, 0) == 0x102  # WAIT_TIMEOUT: still running
    finally:
        kernel32.CloseHandle(handle)


# --------------------------------------------------------------------------------------------- output folders
_write_guard: Callable[[], None] | None = None


def set_write_guard(guard: Callable[[], None] | None) -> None:
    """Have ``guard`` called before every write this process makes into an output folder.

    A batch worker's guard checks that its batch, which holds the output folder's lock, is still alive, and
    ends the worker otherwise: nothing is written into the folder without the lock held.
    """
    global _write_guard
    _write_guard = guard


def before_write() -> None:
    """Run the write guard (see :func:`set_write_guard`) before writing anything into the output folder."""
    if _write_guard is not None:
        _write_guard()


def output_folder_problem(folder: str | Path) -> str | None:
    """Why reports cannot be written into ``folder`` (Chinese, part of a message), or None when they can (it is,
    or can be created in, a writable folder)."""
    probe = Path(folder)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        return f"“{probe}”不是文件夹"
    effective = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
    if os.access(probe, os.W_OK | os.X_OK, **effective):
        return None
    return unwritable_reason(probe)


def unwritable_reason(path: str | Path, error: OSError | None = None) -> str:
    """Why ``path`` cannot be written (Chinese): a read-only disk, no permission, or ``error``'s own text."""
    import errno

    if error is not None and error.errno == errno.EROFS:
        return "所在磁盘是只读的"
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "所在磁盘是只读的"
    except (OSError, AttributeError):
        pass
    if error is not None and error.errno not in {errno.EACCES, errno.EPERM}:
        return error.strerror or str(error)
    return "没有写入权限"


def unwritable_message(folder: str | Path, reason: str) -> str:
    return f"无法写入输出文件夹“{folder}”：{reason}。请换一个可写的文件夹，或修改它的权限后重试。"


def check_output_folder(folder: str | Path) -> None:
    """Raise :class:`OutputFolderError` (one Chinese line) unless reports can be written into ``folder``."""
    reason = output_folder_problem(folder)
    if reason:
        raise OutputFolderError(unwritable_message(folder, reason))


def report_path_problem(*paths: str | Path | None) -> str | None:
    """A Chinese message when one of ``paths`` exists but is not a regular file (a folder, say): such a path
    is neither an up-to-date report nor something a report may replace."""
    for p in paths:
        if p is not None and Path(p).exists() and not Path(p).is_file():
            return f"报告文件“{p}”已存在，但不是普通文件（是文件夹或其他），不能覆盖；请把它移走或改名后重试"
    return None


def clean_stale_temp_files(folder: str | Path) -> list[Path]:
    """Remove the temporary files that killed runs left in the output folder ``folder``; returns them.

    A temporary notebook (``.<stem>.<pid>.<random>.ipynb``) goes once the process that wrote it is gone; a
    temporary file that names no pid (an atomic write's ``.<name>.<random>.tmp``, an older version's notebook)
    once it is older than :data:`STALE_SECONDS`. Call it holding the folder's lock.
    """
    now = time.time()

    def stale(entry: os.DirEntry) -> bool:
        if not entry.name.startswith(".") or not entry.is_file(follow_symlinks=False):
            return False
        if m := _TEMP_NOTEBOOK.match(entry.name):
            return not pid_alive(int(m.group(1)))
        return bool(_TEMP_UNOWNED.match(entry.name)) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS

    return _remove(folder, stale)


def _remove(folder: str | Path, stale) -> list[Path]:
    """Remove the entries of ``folder`` for which ``stale(entry)`` holds; returns them (errors skip an entry)."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        try:
            if stale(entry):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def clean_stale_kernel_files(folder: str | Path | None = None) -> list[Path]:
    """Remove this user's kernel files (IPC sockets, connection files) in the temporary folder whose starting
    process is gone (a kernel killed with its worker cannot remove them), and those of older versions, which
    name no process, once they are older than :data:`STALE_SECONDS`; returns them."""
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    now = time.time()

    def stale(entry: os.DirEntry) -> bool:
        m = _KERNEL_FILE.match(entry.name)
        if not m and not _OLD_KERNEL_FILE.match(entry.name):
            return False
        st = entry.stat(follow_symlinks=False)
        if entry.is_dir(follow_symlinks=False) or (uid is not None and st.st_uid != uid):
            return False
        return not pid_alive(int(m.group(1))) if m else now - st.st_mtime > STALE_SECONDS

    return _remove(folder or tempfile.gettempdir(), stale)


@functools.cache
def _clean_kernel_files_once() -> None:
    clean_stale_kernel_files()


@dataclass
class RunResult:
    """What one notebook run produced."""

    html: Path
    notebook: Path
    seconds: float
    parameters: dict = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)  # format → file ("html", "docx", "pdf")


def _failure(exc: BaseException, nb_path: Path | None) -> ReportError:
    """A ReportError naming the failing cell and the error text (Chinese message first)."""
    if isinstance(exc, pm.PapermillExecutionError):
        return ReportError(f"第{exc.exec_count}个单元格出错：{exc.ename}：{exc.evalue}",
                           cell=exc.cell_index, detail="\n".join(exc.traceback[-5:]))
    if isinstance(exc, TimeoutError) or type(exc).__name__ in {"CellTimeoutError", "DeadKernelError"}:
        kind = "超时" if "Timeout" in type(exc).__name__ else "内核意外退出"
        return ReportError(f"笔记本运行{kind}：{exc}", detail=str(exc))
    return ReportError(f"笔记本运行失败：{type(exc).__name__}：{exc}", detail=str(exc))


def parameters_code(notebook: Path = TOWN_NOTEBOOK) -> str:
    """Code that tells a kernel what ``notebook``'s parameters are (:func:`params.remember`), as papermill inspects
    them in this process: inspecting them in the kernel would import papermill there (0.4 s of every warm-up)."""
    from ..report import params

    spec = params.declared(notebook)
    return f"import zhidang_analysis as zd\nzd.params.remember({str(Path(notebook).resolve())!r}, {spec!r})\n"


def warm_up_export() -> None:
    """Load nbconvert and compile the report's template in this process (a worker's first export costs 0.2 s more
    than the others)."""
    notebook_to_html(nbformat.v4.new_notebook())


def execute_notebook(notebook: Path, output: Path, parameters: dict, *, timeout: int | None = 600,
                     title: str | None = None, html: Path | None = None, cwd: Path | None = None,
                     warm: bool = False) -> RunResult:
    """Execute ``notebook`` with ``parameters`` into ``output`` (and export ``html``), atomically.

    The executed notebook goes to a temporary file first; only when execution and export both succeed are
    the two outputs moved into place. Raises :class:`ReportError` on failure (also when an output path exists
    but is not a regular file) and :class:`OutputFolderError` when the output folder cannot be written, both
    before any kernel starts. ``warm=True`` runs in this process's kept kernel (:class:`WarmKernelEngine`)
    instead of a new one.
    """
    output = Path(output)
    check_output_folder(output.parent)
    problem = report_path_problem(output, html)
    if problem:
        raise ReportError(problem)
    _clean_kernel_files_once()
    before_write()
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    # the temporary notebook names its writer: a later run removes it once that process is gone
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.{os.getpid()}.", suffix=".ipynb", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            nb = pm.execute_notebook(
                _papermill_path(notebook), _papermill_path(tmp), parameters=parameters, kernel_name="python3",
                kernel_manager_class=ProjectKernelManager, progress_bar=False, log_output=False,
                execution_timeout=timeout, cwd=str(cwd or notebook.parent), report_mode=False,
                engine_name=WARM_ENGINE if warm else None,
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ReportError with context
            raise _failure(exc, tmp) from exc
        if title:
            nb.metadata["title"] = title
        if html is not None:
            before_write()
            export_html(nb, html, title=title)
        before_write()
        atomic_write_bytes(output, nbformat.writes(nb).encode("utf-8"))
    finally:
        tmp.unlink(missing_ok=True)
    return RunResult(html=html, notebook=output, seconds=time.perf_counter() - start, parameters=parameters)


def _papermill_path(path: Path) -> str:
    """``path`` as papermill must be given it: papermill formats input and output paths with the parameters
    (``path.format(**parameters)``), so a brace in a town name or folder would be expanded or fail; doubled
    braces come out as themselves. The path is absolute, so no papermill I/O scheme (``-``, ``s3://``…)
    can match its start."""
    return str(Path(path).resolve()).replace("{", "{{").replace("}", "}}")


def _layout(data: str | Path | None, town: str | None, county: str | None):
    """(town, county, stems, folder) of a report as a batch over ``data`` names its file: the town's name
    resolved (``县/乡镇``, or a bare name in one county only), and with several counties the county's folder.
    When the data cannot be read, the names as given (the notebook then reports why)."""
    from .plan import layout, load_for_batch

    try:
        ds, bad = load_for_batch(data)
        return layout(ds, bad, town, county)
    except ZhidangError:
        return town, county or "", None, ""


def run_town_report(town: str, year: int, *, data: str | Path | None = None, out: str | Path = DEFAULT_OUT,
                    timeout: int | None = 600, formats=("html",), county: str | None = None,
                    **options) -> RunResult:
    """Execute ``notebooks/town_report.ipynb`` for one town and year and export its report: HTML, and the
    other ``formats`` (``docx``, ``pdf``; see :func:`export.parse_formats`) made from it, beside it.

    ``town`` may be ``县/乡镇``, or come with ``county``, where the data hold several counties.
    ``options`` are the notebook's other parameters (``yoy``, ``general_problems``, ``round_approx``).
    """
    from .plan import report_paths

    data_param = str(Path(data).resolve()) if data else ""
    town, county, stems, folder = _layout(data, town, county)
    parameters = {"town": town, "year": int(year), "data": data_param, **options}
    if county:
        parameters["county"] = county
    html, ipynb = report_paths(Path(out), year, town, stems=stems, folder=folder)
    result = execute_notebook(TOWN_NOTEBOOK, ipynb, parameters, timeout=timeout, title=report_title(year, town),
                              html=html)
    return _with_formats(result, formats)


def _with_formats(result: RunResult, formats) -> RunResult:
    before_write()
    result.outputs = convert(result.html, parse_formats(formats))
    return result


def run_overview(year: int, *, data: str | Path | None = None, out: str | Path = DEFAULT_OUT,
                 timeout: int | None = 600, formats=("html",), county: str | None = None) -> RunResult:
    """Execute ``notebooks/county_overview.ipynb`` for one year and export ``<out>/<year>/overview.html``
    (the executed ``overview.ipynb`` beside it, and the other ``formats`` made from the HTML).

    Where the data hold several counties, ``county`` names one (``<out>/<year>/<county>/overview.html``);
    without it, the comparison of the counties is written (``notebooks/region_overview.ipynb``,
    ``<out>/<year>/overview.html``)."""
    from .plan import report_paths

    data_param = str(Path(data).resolve()) if data else ""
    parameters = {"year": int(year), "data": data_param}
    _, county, _, folder = _layout(data, None, county)
    if county:
        parameters["county"] = county
    notebook, title = OVERVIEW_NOTEBOOK, report_title(year, county=county if folder else "")
    if folder == "" and not county and _several(data):
        notebook, title = REGION_NOTEBOOK, report_title(year, region=True)
    html, ipynb = report_paths(Path(out), year, None, folder=folder)
    result = execute_notebook(notebook, ipynb, parameters, timeout=timeout, title=title, html=html)
    return _with_formats(result, formats)


def _several(data) -> bool:
    from .plan import load_for_batch

    try:
        return load_for_batch(data)[0].multi
    except ZhidangError:
        return False
