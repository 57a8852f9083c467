"""A batch on a real ``dask.distributed`` cluster (``zhidang batch --scheduler``): a scheduler and workers started
with the standard ``dask scheduler`` / ``dask worker`` commands on loopback, as subprocesses in their own process
groups, killed with them at the end. Every wait is bounded."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

import zhidang_analysis as zd
from zhidang_analysis.running import batch
from zhidang_analysis.running import cluster
from zhidang_analysis.cli import main

from .conftest import wait_for, write_notebook

YEAR = 2025
TOWNS = ["青石镇", "河湾镇", "柳林镇"]
BIN = Path(sys.executable).parent
DASK = str(BIN / "dask")
NO_DASHBOARD = ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]  # not even the plain HTTP server on 8787


# --------------------------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def start(cmd: list[str], log: Path) -> subprocess.Popen:
    """A process in its own process group (so it and its children can be killed together)."""
    with open(log, "wb") as f:
        return subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """End ``proc``'s process group: politely, then for good."""
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            if sig == signal.SIGTERM:  # the group may still hold children (worker processes, kernels)
                continue
            return
        except subprocess.TimeoutExpired:
            continue


def n_workers(address: str) -> int:
    from distributed import Client

    with Client(address, timeout=10, set_as_default=False) as c:
        return len(c.nthreads())


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and ``dask worker … --nworkers 2 --nthreads 1`` on loopback: the scheduler's address."""
    logs = tmp_path_factory.mktemp("dask-logs")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), *NO_DASHBOARD],
                   logs / "scheduler.log")]
    try:
        assert wait_for(lambda: listening(port), 60), (logs / "scheduler.log").read_text()
        procs.append(start([DASK, "worker", address, "--nworkers", "2", "--nthreads", "1", *NO_DASHBOARD],
                           logs / "worker.log"))
        assert wait_for(lambda: n_workers(address) == 2, 120, step=1), (logs / "worker.log").read_text()
        yield address
    finally:
        for p in reversed(procs):
            stop(p)


def manifest(out: Path, year: int = YEAR) -> dict:
    return json.loads((out / str(year) / "manifest.json").read_text(encoding="utf-8"))


#: A stand-in town report: ``fail_town`` raises; a town of ``hold_towns`` the first time writes the pid of the
#: worker process running its kernel to ``<hold>.<town>`` and waits (up to 120 s) for the file ``release``.
TEST_NOTEBOOK_CELLS = [
    ("parameters", 'town = "甲镇"\nyear = 2025\ndata = ""\nhold_towns = ""\nhold = ""\nrelease = ""\nfail_town = ""'),
    (None, textwrap.dedent("""\
        import os
        import time

        from IPython.display import HTML

        if town == fail_town:
            raise ValueError(f"故意失败：{town}")
        mark = f"{hold}.{town}"
        if hold and town in hold_towns.split(",") and not os.path.exists(mark):
            with open(mark + ".part", "w") as f:
                f.write(str(os.getppid()))  # the worker process that runs this kernel
            os.replace(mark + ".part", mark)
            deadline = time.time() + 120
            while time.time() < deadline and not (release and os.path.exists(release)):
                time.sleep(0.2)
        HTML(f"<p>{town}{year}：{len(os.listdir(data))}个数据文件</p>")
        """)),
]


def town_notebook(folder: Path) -> Path:
    return write_notebook(folder / "test_town.ipynb", TEST_NOTEBOOK_CELLS)




# --------------------------------------------------------------------------------------------- errors (fast)
def test_an_unreachable_scheduler_fails_quickly_in_chinese(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"  # nothing listens there
    t0 = time.monotonic()
    with pytest.raises(cluster.ClusterError, match="无法连接 Dask 调度器") as e:
        batch.run_batch([YEAR], towns=["青石镇"], out=tmp_path, overview=False, scheduler=address)
    assert time.monotonic() - t0 < cluster.CONNECT_TIMEOUT + 10
    assert address in str(e.value) and "dask scheduler" in str(e.value)
    # nothing was made, and the manifest says the report was not run
    assert not (tmp_path / str(YEAR) / "青石镇.html").exists()
    assert manifest(tmp_path)["reports"]["青石镇"]["status"] == "not_run"


def test_cli_reports_an_unreachable_scheduler_in_one_line(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    r = CliRunner().invoke(main, ["batch", "--year", str(YEAR), "--towns", "青石镇", "--no-overview",
                                  "--out", str(tmp_path), "--scheduler", address])
    assert r.exit_code == 1
    assert "无法连接 Dask 调度器" in r.output and "Traceback" not in r.output


def test_cli_help_names_the_scheduler_option():
    r = CliRunner().invoke(main, ["batch", "--help"])
    assert r.exit_code == 0
    assert "--scheduler" in r.output and "Dask 调度器地址" in r.output


def test_without_distributed_the_message_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    with pytest.raises(cluster.ClusterError, match="未安装 dask.distributed.*pip install distributed"):
        batch.run_batch([YEAR], towns=["青石镇"], out=tmp_path, overview=False, scheduler="tcp://127.0.0.1:1")


def test_data_are_shipped_with_their_layout_without_hidden_or_lock_files(tmp_path):
    top = tmp_path / "全省"
    for rel in ["甲县/乡镇概况.xlsx", "乙县/指标.xlsx", "说明.csv", ".DS_Store", "甲县/~$指标.xlsx", ".git/x"]:
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_bytes(rel.encode())
    param, files = cluster._data_files(str(top))
    assert param == "全省"
    assert files == {f"全省/{rel}": rel.encode() for rel in ["乙县/指标.xlsx", "甲县/乡镇概况.xlsx", "说明.csv"]}
    one = top / "说明.csv"
    assert cluster._data_files(str(one)) == ("说明.csv", {"说明.csv": "说明.csv".encode()})
    param, files = cluster._data_files("")  # the bundled sample, for a worker that has none
    assert {f.name for f in zd.SAMPLE_DATA.glob("*.xlsx")} <= {Path(f).name for f in files}


def test_a_worker_with_another_version_or_other_code_takes_no_report(tmp_path):
    from types import SimpleNamespace

    worker = SimpleNamespace(state=SimpleNamespace(nthreads=1))
    old = cluster.ReportPlugin("zhidang-batch-test", {}, {}, "0.0.1", "x")
    old.setup(worker)
    assert "版本" in old.problem and old.folder is None
    other = cluster.ReportPlugin("zhidang-batch-test", {}, {}, zd.__version__, "not the code")
    other.setup(worker)
    assert "代码" in other.problem
    outcome = other.execute({"version": zd.__version__}, None)
    assert outcome["status"] == "failed" and outcome["error"]["message"] == other.problem
    other.teardown(worker)  # nothing was set up: nothing to tear down
    # the same package folder on the same machine: the same files, even if one was edited since the client looked
    same = cluster.ReportPlugin("zhidang-batch-test", {}, {}, zd.__version__, "not the code", cluster._installed())
    same.setup(worker)
    assert same.problem is None and same.folder.is_dir()
    same.teardown(worker)
    assert wait_for(lambda: not same.folder.exists(), 10)


def test_the_executed_notebook_names_the_clients_data():
    from papermill.translators import PythonTranslator

    local, original = "/tmp/zhidang-cluster-1-x/data/0/数据", 'D:\\县"数据'
    nb = nbformat.v4.new_notebook()  # as papermill injects the parameters
    cell = nbformat.v4.new_code_cell(f'# Parameters\ntown = "青石镇"\ndata = {PythonTranslator.translate(local)}\n')
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.append(cell)
    nb.metadata["papermill"] = {"parameters": {"town": "青石镇", "data": local}}
    raw = nbformat.writes(nb).encode()
    fixed = nbformat.reads(cluster._restore_parameter(raw, "data", local, original), as_version=4)
    assert fixed.metadata.papermill.parameters == {"town": "青石镇", "data": original}
    assert fixed.cells[0].source == f'# Parameters\ntown = "青石镇"\ndata = {PythonTranslator.translate(original)}\n'
    assert cluster._restore_parameter(raw, "data", "", "") == raw


@pytest.mark.slow
def test_a_scheduler_without_workers_fails_after_a_bounded_wait(tmp_path, monkeypatch):
    port = free_port()
    proc = start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), *NO_DASHBOARD],
                 tmp_path / "scheduler.log")
    try:
        assert wait_for(lambda: listening(port), 60)
        monkeypatch.setattr(cluster, "WORKER_WAIT", 2)
        t0 = time.monotonic()
        with pytest.raises(cluster.ClusterError, match="没有可用的工作进程.*dask worker"):
            batch.run_batch([YEAR], towns=["青石镇"], out=tmp_path / "out", overview=False,
                            scheduler=f"tcp://127.0.0.1:{port}")
        assert time.monotonic() - t0 < 30
    finally:
        stop(proc)


# --------------------------------------------------------------------------------------------- real batches
@pytest.mark.slow
def test_batch_on_the_cluster_makes_every_report_and_a_rerun_skips_them(dask_cluster, data, tmp_path):
    out = tmp_path / "reports"
    result = batch.run_batch([YEAR], data=data, towns=TOWNS, out=out, overview=False, scheduler=dask_cluster)
    assert result.ok, [j.error for j in result.failed]
    assert result.count("done") == 3
    m = manifest(out)
    for town in TOWNS:
        html = out / str(YEAR) / f"{town}.html"
        soup = BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser")
        assert town in soup.title.get_text() and town in soup.get_text()
        assert m["reports"][town]["status"] == "done" and m["reports"][town]["seconds"] > 0
        # the executed notebook names the client's data, not the worker's copy of it
        nb = nbformat.read(out / str(YEAR) / f"{town}.ipynb", as_version=4)
        assert nb.metadata.papermill.parameters["data"] == str(data.resolve())
        injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
        assert json.dumps(str(data.resolve()), ensure_ascii=False) in injected.source
    assert (out / str(YEAR) / "index.html").is_file()
    assert not [p for p in (out / str(YEAR)).iterdir() if p.name.startswith(".")]  # no temporary files left

    again = batch.run_batch([YEAR], data=data, towns=TOWNS, out=out, overview=False, scheduler=dask_cluster)
    assert again.ok and again.count("skipped") == 3 and again.count("done") == 0

    # Word asked later: only the Word files are made, from the HTML the client sends; the HTML stays as it was
    before = {t: (out / str(YEAR) / f"{t}.html").stat().st_mtime_ns for t in TOWNS}
    word = batch.run_batch([YEAR], data=data, towns=TOWNS[:1], out=out, overview=False, scheduler=dask_cluster,
                           formats=("html", "docx"))
    assert word.ok and word.count("done") == 1
    assert (out / str(YEAR) / f"{TOWNS[0]}.docx").stat().st_size > 0
    assert (out / str(YEAR) / f"{TOWNS[0]}.html").stat().st_mtime_ns == before[TOWNS[0]]
    assert manifest(out)["reports"][TOWNS[0]]["files"]["docx"] == f"{TOWNS[0]}.docx"


@pytest.mark.slow
def test_a_failing_report_and_a_killed_worker_fail_only_their_reports_and_a_rerun_completes(dask_cluster, data,
                                                                                          tmp_path):
    """One town's notebook raises; another's worker process is killed (SIGKILL) while it runs it. The others are
    done; the killed one is run again elsewhere by Dask (or recorded failed); a rerun completes what is missing."""
    towns = ["青石镇", "河湾镇", "柳林镇", "城关镇"]
    victim, failing = "河湾镇", "柳林镇"
    notebook = town_notebook(tmp_path)
    hold = tmp_path / "hold"
    options = {"hold_towns": victim, "hold": str(hold), "release": "", "fail_town": failing}
    out = tmp_path / "reports"
    killed = {}

    def kill_the_victims_worker():
        mark = Path(f"{hold}.{victim}")
        if wait_for(mark.exists, 180):
            pid = int(wait_for(lambda: mark.read_text().strip(), 10))
            killed["pid"] = pid
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_the_victims_worker, daemon=True)
    killer.start()
    result = batch.run_batch([YEAR], data=data, towns=towns, out=out, overview=False, notebook=notebook,
                             options=options, scheduler=dask_cluster)
    killer.join(10)
    assert killed, "the victim's worker was never seen"
    status = {j.town: j.status for j in result.jobs}
    assert status[failing] == "failed" and "故意失败" in next(j for j in result.jobs if j.town == failing
                                                           ).error["message"]
    assert status["青石镇"] == status["城关镇"] == "done"
    assert status[victim] in {"done", "failed"}
    for town in ["青石镇", "城关镇"]:
        text = (out / str(YEAR) / f"{town}.html").read_text(encoding="utf-8")
        assert town in text and "4个数据文件" in text  # the data were shipped to the worker
    assert manifest(out)["reports"][failing]["status"] == "failed"
    assert not (out / str(YEAR) / f"{failing}.html").exists()
    # the cluster recovers (the nanny restarts the killed worker) and a rerun completes the missing reports
    assert wait_for(lambda: n_workers(dask_cluster) == 2, 120, step=1)
    options["fail_town"] = ""
    rerun = batch.run_batch([YEAR], data=data, towns=towns, out=out, overview=False, notebook=notebook,
                            options=options, scheduler=dask_cluster)
    assert rerun.ok, [j.error for j in rerun.failed]
    assert all(j.status in {"done", "skipped"} for j in rerun.jobs)
    for town in towns:
        assert town in (out / str(YEAR) / f"{town}.html").read_text(encoding="utf-8")


CTRL_C_SCRIPT = """
import json, sys
from zhidang_analysis.running import batch
args = json.loads(sys.argv[1])
result = batch.run_batch([args["year"]], data=args["data"], towns=args["towns"], out=args["out"], overview=False,
                         notebook=args["notebook"], options=args["options"], scheduler=args["scheduler"])
print(json.dumps({"interrupted": result.interrupted, "status": {j.town: j.status for j in result.jobs}}))
"""


@pytest.mark.slow
def test_ctrl_c_waits_for_the_reports_under_way_and_records_the_rest_as_not_run(dask_cluster, data, tmp_path):
    """A real SIGINT to a batch on the cluster while two reports run: nothing new starts, the two finish and are
    recorded, the others are recorded as not run, and a rerun completes them."""
    towns = ["青石镇", "河湾镇", "柳林镇", "城关镇", "金川镇"]
    notebook = town_notebook(tmp_path)
    hold, release = tmp_path / "hold", tmp_path / "release"
    options = {"hold_towns": ",".join(towns), "hold": str(hold), "release": str(release), "fail_town": ""}
    out = tmp_path / "reports"
    args = {"year": YEAR, "data": str(data), "towns": towns, "out": str(out), "notebook": str(notebook),
            "options": options, "scheduler": dask_cluster}
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C_SCRIPT, json.dumps(args, ensure_ascii=False)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert wait_for(lambda: Path(f"{hold}.{towns[0]}").exists(), 180), "the first report never started"
        time.sleep(3)  # the second worker takes the second report
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(2)
        release.touch()  # the reports under way may now finish
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, stderr
    outcome = json.loads(stdout.strip().splitlines()[-1])
    assert outcome["interrupted"] is True
    status = outcome["status"]
    assert status[towns[0]] == "done"
    assert status[towns[1]] in {"done", "not_run"}
    assert all(status[t] == "not_run" for t in towns[2:])
    m = manifest(out)
    for town in towns:
        assert m["reports"][town]["status"] == status[town]
        assert (out / str(YEAR) / f"{town}.html").exists() == (status[town] == "done")
    rerun = batch.run_batch([YEAR], data=data, towns=towns, out=out, overview=False, notebook=notebook,
                            options=options, scheduler=dask_cluster)
    assert rerun.ok
    # (the reports done before are skipped unless the package's files changed in between: then all are made again)
    assert {t for t in towns if status[t] == "not_run"} <= {j.town for j in rerun.jobs if j.status == "done"}
    assert all(j.status in {"done", "skipped"} for j in rerun.jobs)
    assert all((out / str(YEAR) / f"{t}.html").is_file() for t in towns)
