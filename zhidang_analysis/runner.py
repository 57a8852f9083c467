"""Run the parameterised notebooks with papermill (Python API) and export them with nbconvert.

The kernel is always this process's own Python (``sys.executable``), through a kernel manager that builds
its kernel spec in memory: it works inside the project's virtualenv without registering any kernel, and
never picks up a ``python3`` kernel registered elsewhere on the machine.

Outputs: ``<out>/<year>/<town>.ipynb`` (executed) beside ``<out>/<year>/<town>.html``, both written
atomically; a failed run leaves the previous good report untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import papermill as pm
from jupyter_client.kernelspec import KernelSpec
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.log import logger as pm_logger
from traitlets import default

from .errors import ReportError
from .export import atomic_write_bytes, export_html, safe_filename
from .params import NOTEBOOKS

TOWN_NOTEBOOK = NOTEBOOKS / "town_report.ipynb"
OVERVIEW_NOTEBOOK = NOTEBOOKS / "county_overview.ipynb"
DEFAULT_OUT = Path("reports")
WARM_ENGINE = "zhidang-warm-kernel"


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
            return os.path.join(tempfile.gettempdir(), f"zhidang-kernel-{uuid.uuid4().hex[:16]}")
        return "127.0.0.1"

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
    cleared (``%reset -f``); modules stay imported and :func:`loaders.load_dataset` serves unchanged files
    from its cache. After any failure the kernel is shut down and the next notebook gets a fresh one, so a
    timed-out or broken kernel never serves another town.
    """

    _km: AsyncKernelManager | None = None

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, **kwargs):
        if cls._km is None:
            cls._km = ProjectKernelManager(kernel_name=kernel_name)
        client = PapermillNotebookClient(
            nb_man, km=cls._km, timeout=execution_timeout, startup_timeout=start_timeout,
            kernel_name=kernel_name, log=pm_logger, log_output=log_output, stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        ok = False
        try:
            nb = client.execute(cwd=kwargs.get("cwd"))
            # a cell that raised is recorded by papermill, not raised here: that kernel is not kept either
            failed = nb_man.nb.metadata.get("papermill", {}).get("exception")
            ok = not failed and run_sync(cls._reset)(client)
            return nb
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
            if not ok:
                cls.shutdown()

    @staticmethod
    async def _reset(client) -> bool:
        msg_id = client.kc.execute("get_ipython().run_line_magic('reset', '-f')", silent=True, store_history=False)
        reply = await client.async_wait_for_reply(msg_id)
        return bool(reply) and reply["content"].get("status") == "ok"

    @classmethod
    def shutdown(cls) -> None:
        """Stop the kept kernel (also called when a worker process exits)."""
        km, cls._km = cls._km, None
        if km is not None and km.has_kernel:
            try:
                run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # noqa: BLE001 - a dead kernel has nothing left to stop
                pass


papermill_engines.register(WARM_ENGINE, WarmKernelEngine)


@dataclass
class RunResult:
    """What one notebook run produced."""

    html: Path
    notebook: Path
    seconds: float
    parameters: dict = field(default_factory=dict)


def _failure(exc: BaseException, nb_path: Path | None) -> ReportError:
    """A ReportError naming the failing cell and the error text (Chinese message first)."""
    if isinstance(exc, pm.PapermillExecutionError):
        return ReportError(f"第{exc.exec_count}个单元格出错：{exc.ename}：{exc.evalue}",
                           cell=exc.cell_index, detail="\n".join(exc.traceback[-5:]))
    if isinstance(exc, TimeoutError) or type(exc).__name__ in {"CellTimeoutError", "DeadKernelError"}:
        kind = "超时" if "Timeout" in type(exc).__name__ else "内核意外退出"
        return ReportError(f"笔记本运行{kind}：{exc}", detail=str(exc))
    return ReportError(f"笔记本运行失败：{type(exc).__name__}：{exc}", detail=str(exc))


def execute_notebook(notebook: Path, output: Path, parameters: dict, *, timeout: int | None = 600,
                     title: str | None = None, html: Path | None = None, cwd: Path | None = None,
                     warm: bool = False) -> RunResult:
    """Execute ``notebook`` with ``parameters`` into ``output`` (and export ``html``), atomically.

    The executed notebook goes to a temporary file first; only when execution and export both succeed are
    the two outputs moved into place. Raises :class:`ReportError` on failure. ``warm=True`` runs in this
    process's kept kernel (:class:`WarmKernelEngine`) instead of a new one.
    """
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".ipynb", dir=output.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            nb = pm.execute_notebook(
                str(notebook), str(tmp), parameters=parameters, kernel_name="python3",
                kernel_manager_class=ProjectKernelManager, progress_bar=False, log_output=False,
                execution_timeout=timeout, cwd=str(cwd or notebook.parent), report_mode=False,
                engine_name=WARM_ENGINE if warm else None,
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ReportError with context
            raise _failure(exc, tmp) from exc
        if title:
            nb.metadata["title"] = title
        if html is not None:
            export_html(nb, html, title=title)
        atomic_write_bytes(output, nbformat.writes(nb).encode("utf-8"))
    finally:
        tmp.unlink(missing_ok=True)
    return RunResult(html=html, notebook=output, seconds=time.perf_counter() - start, parameters=parameters)


def report_title(year: int, town: str | None = None) -> str:
    """The HTML ``<title>`` of a town report, or of the county overview when ``town`` is None."""
    from .narrative import chinese_year

    if town is None:
        return f"{chinese_year(year)}年度乡镇党委履行全面从严治党主体责任情况综合分析"
    return f"{town}{chinese_year(year)}年度履行全面从严治党主体责任情况报告"


def report_paths(out: Path, year: int, name: str) -> tuple[Path, Path]:
    """(html, ipynb) paths of a report: ``<out>/<year>/<safe name>.html`` and ``.ipynb``."""
    folder = Path(out) / str(int(year))
    stem = safe_filename(name)
    return folder / f"{stem}.html", folder / f"{stem}.ipynb"


def run_town_report(town: str, year: int, *, data: str | Path | None = None, out: str | Path = DEFAULT_OUT,
                    timeout: int | None = 600, **options) -> RunResult:
    """Execute ``notebooks/town_report.ipynb`` for one town and year and export its HTML report.

    ``options`` are the notebook's other parameters (``yoy``, ``general_problems``, ``round_approx``).
    """
    data_param = str(Path(data).resolve()) if data else ""
    parameters = {"town": town, "year": int(year), "data": data_param, **options}
    html, ipynb = report_paths(Path(out), year, town)
    return execute_notebook(TOWN_NOTEBOOK, ipynb, parameters, timeout=timeout, title=report_title(year, town),
                            html=html)


def run_overview(year: int, *, data: str | Path | None = None, out: str | Path = DEFAULT_OUT,
                 timeout: int | None = 600) -> RunResult:
    """Execute ``notebooks/county_overview.ipynb`` for one year and export ``<out>/<year>/overview.html``
    (the executed ``overview.ipynb`` beside it)."""
    data_param = str(Path(data).resolve()) if data else ""
    parameters = {"year": int(year), "data": data_param}
    html, ipynb = report_paths(Path(out), year, "overview")
    return execute_notebook(OVERVIEW_NOTEBOOK, ipynb, parameters, timeout=timeout, title=report_title(year),
                            html=html)
