"""Faults of a batch (issue 13): kill -9 of the batch or of one worker, a read-only or blocked output folder,
a time limit that is not one.

The kill tests are real: ``os.kill`` with SIGKILL on the pids of processes these tests started, every wait
bounded. Processes are found with psutil (a dependency of ipykernel).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from filelock import FileLock

import zhidang_analysis as zd
from zhidang_analysis.running import batch
from zhidang_analysis.running import runner
from zhidang_analysis.cli import main

from .conftest import wait_for, write_notebook

YEAR = 2025
TAG = "ZHIDANG_FAULT_TEST"  # environment variable marking every process a test starts (inherited by all)


# --------------------------------------------------------------------------------------------- helpers
def tagged(tag: str) -> list[psutil.Process]:
    """Living processes (zombies are dead) whose environment carries ``TAG=tag``: all a test's descendants,
    even those that lost their parent."""
    found = []
    for p in psutil.process_iter(["environ", "status"], ad_value=None):
        env = p.info["environ"] or {}
        if env.get(TAG) == tag and p.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(p)
    return found


def is_kernel(p: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return "ipykernel_launcher" in " ".join(p.cmdline())
    return False


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: relative path → (size, mtime in ns)."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_sample(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, folder / f.name)
    return folder


def make_up_to_date(out: Path, towns: list[str]) -> list[batch.Job]:
    """What a successful batch over ``towns`` (sample data, town notebook) leaves: reports and a manifest that
    says they are up to date. Written directly, without running any notebook."""
    ds, bad = batch.load_for_batch(None)
    jobs = batch.plan(ds, [YEAR], towns=towns, out=out, overview=False, bad_towns=bad)
    for job in jobs:
        Path(job.html).parent.mkdir(parents=True, exist_ok=True)
        Path(job.html).write_text(f"<p>{job.town}</p>", encoding="utf-8")
        Path(job.ipynb).write_text("{}", encoding="utf-8")
        job.status, job.seconds, job.finished_at = "done", 1.0, "2026-01-01T00:00:00+00:00"
    batch.write_manifest(out, YEAR, jobs, {})
    return jobs


HOLD_NOTEBOOK_CELLS = [
    ("parameters", 'town = "甲镇"\nyear = 2025\ndata = ""\nhold = ""  # a file: while it is absent, 河湾镇 hangs'),
    (None, "import os\nimport time\n\nfrom IPython.display import HTML\n\n"
           "if town == \"河湾镇\" and hold and not os.path.exists(hold):\n"
           "    with open(hold + \".part\", \"w\") as f:\n"
           "        f.write(f\"{os.getppid()} {os.getpid()}\")  # the worker that runs this kernel, the kernel\n"
           "    os.replace(hold + \".part\", hold)\n"
           "    time.sleep(120)\n"
           "HTML(f\"<p>{town}{year}</p>\")"),
]


def hold_notebook(folder: Path) -> Path:
    """A stand-in for the town report: 河湾镇 writes its worker's pid and hangs until the hold file exists."""
    return write_notebook(folder / "hold_town.ipynb", HOLD_NOTEBOOK_CELLS)


@contextlib.contextmanager
def read_only(*paths: Path):
    """Make ``paths`` (and everything under them) read-only for this process, then restore them.

    As root, permissions do not stop writes, so the process also takes the effective user ``nobody``; the
    paths must then be readable by everyone (see the ``ro_base`` fixture).
    """
    changed = []
    for top in paths:
        for p in [top, *top.rglob("*")]:
            mode = p.stat().st_mode
            changed.append((p, stat.S_IMODE(mode)))
            p.chmod(stat.S_IMODE(mode) & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    root = os.geteuid() == 0
    if root:
        os.setegid(65534)
        os.seteuid(65534)
    try:
        yield
    finally:
        if root:
            os.seteuid(0)
            os.setegid(0)
        for p, mode in reversed(changed):
            p.chmod(mode)


@pytest.fixture
def ro_base():
    """A folder that every user can read (pytest's own tmp_path is private to root when run as root)."""
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    base = Path(tempfile.mkdtemp(prefix="zhidang-ro-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


def no_traceback(res) -> bool:
    return (res.exception is None or isinstance(res.exception, SystemExit)) and "Traceback" not in res.output


# --------------------------------------------------------------------------------------------- --timeout
@pytest.mark.parametrize("command", [
    ["run", "--town", "青石镇", "--year", "2025"],
    ["batch", "--year", "2025", "--towns", "青石镇"],
    ["overview", "--year", "2025"],
])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_timeout_of_zero_or_less_is_refused_in_chinese(tmp_path, command, value):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, [*command, "--out", str(out), "--timeout", value])
    assert res.exit_code == 2, res.output
    assert f"{value} 不是有效的时限：应为至少1的秒数，如 600（0 或负数并不表示不限时）。" in res.output
    assert "--timeout" in res.output and no_traceback(res)
    assert not out.exists()  # refused before anything started


def test_timeout_that_is_not_a_number_and_the_help_text():
    res = CliRunner().invoke(main, ["batch", "--timeout", "十分钟"])
    assert res.exit_code == 2 and "“十分钟”不是整数，应为至少1的秒数，如 600。" in res.output
    res = CliRunner().invoke(main, ["batch", "--help"])
    assert "--timeout 秒" in res.output and "至少1" in res.output


def test_run_batch_refuses_a_timeout_below_one_second(tmp_path):
    for bad in (0, -1):
        with pytest.raises(ValueError, match="至少1秒"):
            batch.run_batch([YEAR], towns=["青石镇"], out=tmp_path / "out", overview=False, timeout=bad)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------- read-only --out
def test_read_only_out_with_nothing_to_run_succeeds_and_writes_nothing(ro_base):
    out = ro_base / "reports"
    make_up_to_date(out, ["青石镇"])
    (out / batch.LOCK_NAME).touch()  # left by the batch that wrote the reports
    before = snapshot(out)
    with read_only(out):
        res = CliRunner().invoke(main, ["batch", "--year", "2025", "--towns", "青石镇", "--out", str(out),
                                        "--no-overview", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "完成0份，跳过1份（无变化），失败0份" in res.output
    assert "输出文件夹不可写，运行记录（manifest.json）和索引页未更新。" in res.output
    assert snapshot(out) == before and no_traceback(res)


def test_read_only_out_with_reports_to_make_is_a_chinese_error_before_anything_starts(ro_base):
    out = ro_base / "reports"
    make_up_to_date(out, ["青石镇"])
    before = snapshot(out)
    runner_ = CliRunner()
    with read_only(out):
        res_batch = runner_.invoke(main, ["batch", "--year", "2025", "--towns", "青石镇,河湾镇", "--out", str(out),
                                          "--no-overview"])
        res_new = runner_.invoke(main, ["batch", "--year", "2025", "--towns", "青石镇", "--out", str(out / "新"),
                                        "--no-overview"])
        res_run = runner_.invoke(main, ["run", "--town", "河湾镇", "--year", "2025", "--out", str(out)])
        res_overview = runner_.invoke(main, ["overview", "--year", "2025", "--out", str(out)])
        with pytest.raises(runner.OutputFolderError, match="没有写入权限"):
            batch.run_batch([YEAR], towns=["河湾镇"], out=out, overview=False)
    assert res_batch.exit_code == 1 and no_traceback(res_batch), res_batch.output
    assert (f"Error: 无法写入输出文件夹“{out}”：没有写入权限，而有1份报告需要生成。"
            "请换一个可写的文件夹，或修改它的权限后重试。") in res_batch.output
    # a folder to be created inside a read-only one
    assert res_new.exit_code == 1 and no_traceback(res_new)
    assert f"无法写入输出文件夹“{out / '新'}”：没有写入权限，而有1份报告需要生成。" in res_new.output
    for res in (res_run, res_overview):  # before any kernel starts
        assert res.exit_code == 1 and no_traceback(res), res.output
        assert (f"Error: 无法写入输出文件夹“{out / '2025'}”：没有写入权限。请换一个可写的文件夹，或修改它的权限后重试。"
                in res.output)
    assert snapshot(out) == before and not (out / "新").exists()


def test_a_folder_where_a_report_should_be_is_not_taken_as_up_to_date(tmp_path):
    out = tmp_path / "out"
    jobs = make_up_to_date(out, ["青石镇", "河湾镇"])
    html = Path(jobs[0].html)
    html.unlink()
    html.mkdir()  # a folder named like the report
    (html / "某人的文件.txt").write_text("不要动", encoding="utf-8")
    result = batch.run_batch([YEAR], towns=["青石镇", "河湾镇"], out=out, overview=False, jobs=1)
    status = {j.town: j.status for j in result.jobs}
    assert status == {"青石镇": "failed", "河湾镇": "skipped"}
    message = f"报告文件“{html}”已存在，但不是普通文件（是文件夹或其他），不能覆盖；请把它移走或改名后重试"
    assert result.failed[0].error["message"] == message
    assert (html / "某人的文件.txt").read_text(encoding="utf-8") == "不要动"
    entry = batch.read_manifest(out, YEAR)["reports"][jobs[0].manifest_key]
    assert entry["status"] == "failed" and entry["error"]["message"] == message
    # zhidang run says the same, before a kernel starts
    res = CliRunner().invoke(main, ["run", "--town", "青石镇", "--year", "2025", "--out", str(out)])
    assert res.exit_code == 1 and f"Error: {message}" in res.output and no_traceback(res)


# --------------------------------------------------------------------------------------------- leftovers
def dead_pid() -> int:
    """The pid of a process that has ended (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait(30)
    return p.pid


def test_cleanup_removes_what_dead_processes_left_and_nothing_else(tmp_path):
    dead, me = dead_pid(), os.getpid()
    folder = tmp_path / "2025"
    folder.mkdir()
    keep = [folder / f".青石镇.{me}.abcd1234.ipynb", folder / "青石镇.html", folder / ".zhidang-batch.lock",
            folder / ".河湾镇.html.k2j4m9x_.tmp"]  # a live writer's, a report, the lock, a fresh atomic write
    remove = [folder / f".河湾镇.{dead}.x1y2z3w4.ipynb", folder / ".第2.5镇.abcdefgh.ipynb",
              folder / ".manifest.json.q9w8e7r6.tmp"]  # a dead writer's, and two old files naming no writer
    for p in keep + remove:
        p.write_text("x", encoding="utf-8")
    old = time.time() - runner.STALE_SECONDS - 10
    for p in remove[1:]:
        os.utime(p, (old, old))
    assert sorted(runner.clean_stale_temp_files(folder)) == sorted(remove)
    assert sorted(folder.iterdir()) == sorted(keep)

    kernels = tmp_path / "tmp"
    kernels.mkdir()
    mine = [kernels / f"zhidang-kernel-{me}-0123456789ab-1", kernels / f"zhidang-kernel-{me}-0123456789ab.json"]
    dead_files = [kernels / f"zhidang-kernel-{dead}-ba9876543210-{i}" for i in range(1, 6)]
    dead_files.append(kernels / f"zhidang-kernel-{dead}-ba9876543210.json")
    other = kernels / "kernel-1234.json"
    older_version = [kernels / "zhidang-kernel-0123456789abcdef-1", kernels / "zhidang-kernel-fedcba9876543210-1"]
    for p in [*mine, *dead_files, other, *older_version]:
        p.write_text("x", encoding="utf-8")
    os.utime(older_version[0], (old, old))  # an old version's file that names no process: by its age
    assert sorted(runner.clean_stale_kernel_files(kernels)) == sorted([*dead_files, older_version[0]])
    assert sorted(kernels.iterdir()) == sorted([*mine, other, older_version[1]])


# --------------------------------------------------------------------------------------------- kill -9
@pytest.mark.slow
def test_kill_9_of_the_batch_takes_its_workers_and_kernels_and_nothing_more_is_written(tmp_path):
    data = copy_sample(tmp_path / "data")
    out = tmp_path / "out"
    tag = uuid.uuid4().hex
    cmd = [sys.executable, "-m", "zhidang_analysis", "batch", "--year", "2025", "--towns", "青石镇,河湾镇,柳林镇",
           "--data", str(data), "--out", str(out), "--jobs", "2", "--no-overview"]
    log = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                            env={**os.environ, TAG: tag})
    try:
        # both workers have their kernels: two reports are being made, one more is waiting
        kernels = wait_for(lambda: len([p for p in tagged(tag) if is_kernel(p)]) >= 2 and
                           [p for p in tagged(tag) if is_kernel(p)], 60)
        assert kernels, (tmp_path / "stderr.txt").read_text()
        family = tagged(tag)
        workers = [p for p in family if p.ppid() == proc.pid and "spawn_main" in " ".join(p.cmdline())]
        assert len(workers) == 2 and {k.ppid() for k in kernels} == {w.pid for w in workers}
        assert len(list((out / "2025").glob("*.html"))) < 3  # reports still to be written

        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        written = snapshot(out)
        start = time.monotonic()
        survivors = wait_for(lambda: not tagged(tag), 10) or tagged(tag)
        assert survivors is True, [(p.pid, p.name(), p.ppid()) for p in survivors]
        assert time.monotonic() - start < 3  # with the batch, not after a poll interval or a report
        time.sleep(2)  # long enough for an orphan to write a temporary notebook or a report
        assert snapshot(out) == written
        assert not list((out / "2025").glob("*.html"))
        lock = FileLock(str(out / batch.LOCK_NAME))
        lock.acquire(timeout=0)  # the lock went with the batch
        lock.release()
    finally:
        for p in tagged(tag):  # only what this test started
            with contextlib.suppress(psutil.Error):
                p.kill()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        log.close()


@pytest.mark.slow
def test_kill_9_of_one_worker_fails_its_report_only_and_the_next_run_cleans_up(tmp_path):
    notebook = hold_notebook(tmp_path)
    out = tmp_path / "out"
    hold = tmp_path / "hold.pids"
    towns = ["青石镇", "河湾镇", "柳林镇", "城关镇"]
    killed: dict[str, int] = {}
    kernel_files: list[Path] = []

    def kill_the_worker_of_hewan() -> None:
        if not wait_for(hold.exists, 60):
            return
        worker, kernel = (int(x) for x in hold.read_text().split())
        if worker in {p.pid for p in psutil.Process().children()}:  # one of this batch's workers
            os.kill(worker, signal.SIGKILL)
            killed.update(worker=worker, kernel=kernel)
            # what its kernel could not remove (a new worker removes it when it starts its first report)
            kernel_files.extend(Path(tempfile.gettempdir()).glob(f"{runner.KERNEL_FILE_PREFIX}{worker}-*"))

    killer = threading.Thread(target=kill_the_worker_of_hewan, daemon=True)
    killer.start()
    kwargs = dict(towns=towns, out=out, jobs=2, overview=False, notebook=notebook, options={"hold": str(hold)},
                  timeout=60)
    result = batch.run_batch([YEAR], **kwargs)
    killer.join(10)
    assert killed, "the worker of 河湾镇 was not found"
    assert {j.town: j.status for j in result.jobs} == {"青石镇": "done", "河湾镇": "failed", "柳林镇": "done",
                                                       "城关镇": "done"}
    assert result.count("failed") == 1
    message = "工作进程意外退出（被信号SIGKILL终止），这份报告未生成；下次运行会重新生成"
    assert result.failed[0].error["message"] == message
    assert batch.read_manifest(out, YEAR)["reports"]["河湾镇"]["error"]["message"] == message
    for town in ("青石镇", "柳林镇", "城关镇"):
        assert (out / "2025" / f"{town}.html").is_file()
    assert not (out / "2025" / "河湾镇.html").exists()
    assert wait_for(lambda: gone(killed["kernel"]), 10)  # its kernel died with it
    # what the killed worker left: its temporary notebook, its kernel's sockets and connection file
    leftovers = [p.name for p in (out / "2025").iterdir() if p.name.startswith(".")]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".河湾镇.{killed['worker']}.")
    assert leftovers[0].endswith(".ipynb")
    assert any(p.suffix == ".json" for p in kernel_files) and any(p.name.endswith("-1") for p in kernel_files)

    again = batch.run_batch([YEAR], **kwargs)  # the hold file exists now: 河湾镇 does not hang
    assert {j.town: j.status for j in again.jobs} == {"青石镇": "skipped", "河湾镇": "done", "柳林镇": "skipped",
                                                      "城关镇": "skipped"}
    assert (out / "2025" / "河湾镇.html").is_file()
    assert not [p for p in (out / "2025").iterdir() if p.name.startswith(".")]
    assert not [p for p in kernel_files if os.path.lexists(p)]
