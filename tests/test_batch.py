"""Batch runs: index page, manifest, skip on rerun, rerun after a data change, failure isolation, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from filelock import FileLock
from openpyxl import load_workbook

import zhidang_analysis as zd
from zhidang_analysis.running import batch
from zhidang_analysis.cli import main

pytestmark = pytest.mark.slow

TOWNS = ["青石镇", "河湾镇", "柳林镇"]
FLAKY = Path(__file__).parent / "notebooks" / "flaky_town.ipynb"


@pytest.fixture(scope="module")
def first_run(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    result = batch.run_batch([2025], data=data, towns=TOWNS, out=out, jobs=2, overview=False)
    return out, result


def manifest(out: Path, year: int = 2025) -> dict:
    return json.loads((out / str(year) / "manifest.json").read_text(encoding="utf-8"))


def test_first_run_produces_every_report(first_run):
    out, result = first_run
    assert result.ok and result.count("done") == 3 and result.count("failed") == 0
    for town in TOWNS:
        assert (out / "2025" / f"{town}.html").exists()
        assert (out / "2025" / f"{town}.ipynb").exists()
    assert result.summary().startswith("完成3份，跳过0份（无变化），失败0份")


def test_manifest_records_each_report(first_run, data):
    out, _ = first_run
    m = manifest(out)
    assert m["year"] == 2025 and m["package_version"] == zd.__version__
    assert set(m["data_files"]) == {"乡镇概况.xlsx", "示范县指标数据.xlsx", "目标任务.xlsx", "特色做法.xlsx"}
    assert set(m["reports"]) == set(TOWNS)
    for town in TOWNS:
        e = m["reports"][town]
        assert e["status"] == "done"
        assert e["parameters"] == {"town": town, "year": 2025, "data": str(data.resolve())}
        assert len(e["input_key"]) == 64 and len(e["notebook_hash"]) == 64
        assert e["html"] == f"{town}.html" and e["ipynb"] == f"{town}.ipynb"
        assert e["seconds"] > 0 and e["error"] is None and e["package_version"] == zd.__version__


def test_index_page_lists_towns_with_scores_and_links(first_run, data):
    out, _ = first_run
    s = BeautifulSoup((out / "2025" / "index.html").read_text(encoding="utf-8"), "html.parser")
    rows = s.select("#towns tbody tr")
    ds = zd.load_dataset(data)
    # every town of the county is listed with its rank; the ones in this batch link to their report
    assert sorted(r.find_all("td")[1].get_text() for r in rows) == sorted(ds.towns)
    scores = zd.indicators.composite_score(ds.values, ds.profile).xs(2025, level="year")
    assert [r.find_all("td")[0].get_text() for r in rows] == [str(i) for i in range(1, 15)]
    for r in rows:
        cells = [td.get_text() for td in r.find_all("td")]
        town = cells[1]
        assert cells[0] == str(int(scores.at[town, "rank"]))
        assert cells[2] == f"{scores.at[town, 'score']:.1f}"
        if town in TOWNS:
            assert r.find("a")["href"] == batch.quote(f"{town}.html")
        else:
            assert r.find("a") is None and "未生成" in cells[5]
    # sortable with an inline script, nothing remote
    assert all(not sc.get("src") for sc in s.find_all("script"))
    assert "http" not in str(s)


def test_rerun_skips_everything_up_to_date(first_run, data):
    out, _ = first_run
    before = {t: (out / "2025" / f"{t}.html").stat().st_mtime_ns for t in TOWNS}
    result = batch.run_batch([2025], data=data, towns=TOWNS, out=out, jobs=2, overview=False)
    assert result.count("skipped") == 3 and result.count("done") == 0 and result.ok
    assert {t: (out / "2025" / f"{t}.html").stat().st_mtime_ns for t in TOWNS} == before
    assert {e["status"] for e in manifest(out)["reports"].values()} == {"skipped"}


def test_changing_one_towns_row_reruns_that_town_only(first_run, data):
    out, _ = first_run
    wb = load_workbook(data / "示范县指标数据.xlsx")
    ws = wb["2025年"]
    header = next(r for r in ws.iter_rows() if r[0].value == "乡镇")
    col = next(c.column - 1 for c in header if c.value == "主题党日活动（次）")
    row = next(r for r in ws.iter_rows() if r[0].value == "柳林镇")
    row[col].value = 77  # one cell of 柳林镇: its theme party days
    wb.save(data / "示范县指标数据.xlsx")
    result = batch.run_batch([2025], data=data, towns=TOWNS, out=out, jobs=2, overview=False)
    status = {j.town: j.status for j in result.jobs}
    assert status == {"青石镇": "skipped", "河湾镇": "skipped", "柳林镇": "done"}
    s = BeautifulSoup((out / "2025" / "柳林镇.html").read_text(encoding="utf-8"), "html.parser")
    span = s.select_one('span.num[data-indicator="theme_party_days"]')
    assert span["data-value"] == "77" and span.get_text() == "77次"


def test_force_reruns_all(first_run, data):
    out, _ = first_run
    result = batch.run_batch([2025], data=data, towns=TOWNS[:1], out=out, jobs=1, overview=False, force=True)
    assert [j.status for j in result.jobs] == ["done"]
    # a partial batch keeps the other towns' manifest entries
    assert set(manifest(out)["reports"]) == set(TOWNS)


def test_failing_towns_are_isolated_and_previous_reports_kept(tmp_path):
    out = tmp_path / "out"
    towns = ["青石镇", "河湾镇", "柳林镇", "金川镇"]
    # a previous good report of the town that will fail
    (out / "2025").mkdir(parents=True)
    (out / "2025" / "河湾镇.html").write_text("上一次的好报告", encoding="utf-8")
    result = batch.run_batch([2025], towns=towns, out=out, jobs=2, overview=False, notebook=FLAKY, timeout=5)
    status = {j.town: j.status for j in result.jobs}
    assert status == {"青石镇": "done", "河湾镇": "failed", "柳林镇": "failed", "金川镇": "failed"}
    assert not result.ok
    errors = {j.town: j.error for j in result.jobs if j.error}
    # cell 2: papermill inserts the injected-parameters cell after the parameters cell
    assert "故意出错" in errors["河湾镇"]["message"] and errors["河湾镇"]["cell"] == 2
    assert "内核" in errors["柳林镇"]["message"] or "Dead" in errors["柳林镇"]["message"]
    assert "超时" in errors["金川镇"]["message"] or "timed out" in errors["金川镇"]["message"].lower()
    assert (out / "2025" / "青石镇.html").exists()
    assert (out / "2025" / "河湾镇.html").read_text(encoding="utf-8") == "上一次的好报告"
    assert not (out / "2025" / "柳林镇.html").exists()
    m = manifest(out)
    assert m["reports"]["河湾镇"]["status"] == "failed"
    assert "故意出错" in m["reports"]["河湾镇"]["error"]["message"]
    assert not [p for p in (out / "2025").iterdir() if p.name.startswith(".") and p.suffix != ".lock"]
    index = BeautifulSoup((out / "2025" / "index.html").read_text(encoding="utf-8"), "html.parser")
    failed_row = next(r for r in index.select("#towns tbody tr") if r.find_all("td")[1].get_text() == "河湾镇")
    assert "生成失败" in failed_row.get_text() and failed_row.find("a") is None


def test_cli_exit_codes_and_summary(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["batch", "--year", "2025", "--towns", "青石镇", "--out", str(tmp_path), "--no-overview",
                               "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "完成1份" in res.output and f"索引页：{tmp_path / '2025' / 'index.html'}" in res.output
    res = runner.invoke(main, ["batch", "--year", "2025", "--towns", "青石", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "未找到乡镇“青石”" in res.output
    res = runner.invoke(main, ["batch", "--year", "2025", "--years", "2024-2025", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--years" in res.output
    res = runner.invoke(main, ["batch", "--years", "二〇二五", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "无法识别" in res.output
    # without a year: the latest year of the data, here all skipped as up to date
    res = runner.invoke(main, ["batch", "--towns", "青石镇", "--out", str(tmp_path), "--no-overview"])
    assert res.exit_code == 0 and "跳过1份" in res.output


def test_a_second_batch_on_the_same_folder_is_refused(tmp_path):
    lock = FileLock(str(tmp_path / batch.LOCK_NAME))
    with lock.acquire(timeout=0):
        with pytest.raises(batch.BatchLockedError, match="正被另一个批量任务使用"):
            batch.run_batch([2025], towns=["青石镇"], out=tmp_path, jobs=1, overview=False)
        res = CliRunner().invoke(main, ["batch", "--year", "2025", "--towns", "青石镇", "--out", str(tmp_path)])
        assert res.exit_code == 1 and "正被另一个批量任务使用" in res.output


def test_interrupted_batch_records_what_was_not_done_and_resumes(tmp_path):
    def stop_after_first(job, n, total):
        if job is not None and job.status == "done":
            raise KeyboardInterrupt

    # (the executor has already handed the next job or two to the worker: those finish, the rest is not run)
    towns = ["青石镇", "河湾镇", "柳林镇", "城关镇", "金川镇", "红崖镇"]
    result = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=1, overview=False, progress=stop_after_first)
    assert result.interrupted and not result.ok
    done = [j.town for j in result.jobs if j.status == "done"]
    assert len(done) >= 1
    m = manifest(tmp_path)
    not_run = [t for t, e in m["reports"].items() if e["status"] == "not_run"]
    assert not_run and set(done) | set(not_run) == set(towns)
    for t in not_run:
        assert not (tmp_path / "2025" / f"{t}.html").exists()
    assert not [p for p in (tmp_path / "2025").iterdir() if p.name.startswith(".")]
    resumed = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=2, overview=False)
    assert {j.town for j in resumed.jobs if j.status == "skipped"} == set(done)
    assert {j.town for j in resumed.jobs if j.status == "done"} == set(towns) - set(done)


def test_parse_years():
    assert batch.parse_years("2025") == [2025]
    assert batch.parse_years("2021-2023") == [2021, 2022, 2023]
    assert batch.parse_years("2023，2021,2023") == [2021, 2023]


PROBE = Path(__file__).parent / "notebooks" / "kernel_probe.ipynb"


def _probe(tmp_path, name, **params):
    from zhidang_analysis.running.runner import execute_notebook

    html = tmp_path / f"{name}.html"
    execute_notebook(PROBE, tmp_path / f"{name}.ipynb", {"town": name, **params}, html=html, warm=True, timeout=60)
    seen, pid, frozen = (BeautifulSoup(html.read_text(encoding="utf-8"), "html.parser").select_one("#probe")
                         .get_text().split("|"))
    return seen == "True", int(pid), int(frozen)


def test_warm_kernel_is_reused_with_a_clean_namespace_and_replaced_after_a_failure(tmp_path):
    from zhidang_analysis.running.runner import WarmKernelEngine

    try:
        seen1, pid1, frozen1 = _probe(tmp_path, "甲镇")
        client = WarmKernelEngine._kc
        seen2, pid2, frozen2 = _probe(tmp_path, "乙镇")
        assert pid1 == pid2  # one kernel for both notebooks
        assert client is not None and WarmKernelEngine._kc is client  # and one client of it
        assert not seen1 and not seen2  # nothing of the first notebook is left for the second
        # the reset moved what the kernel keeps (modules, caches) out of the garbage collector's sight
        assert frozen1 == 0 and frozen2 > 10_000
        with pytest.raises(zd.ReportError, match="故意出错"):
            _probe(tmp_path, "丙镇", fail=True)
        assert WarmKernelEngine._km is None and WarmKernelEngine._kc is None  # nothing of a failed run is kept
        seen3, pid3, frozen3 = _probe(tmp_path, "丁镇")
        assert pid3 != pid1 and not seen3 and frozen3 == 0
    finally:
        WarmKernelEngine.shutdown()


def test_ctrl_c_on_a_real_batch_leaves_complete_reports_and_a_manifest_that_resumes(tmp_path):
    """A real SIGINT to the process group, as a terminal sends it, in the middle of a batch."""
    import os
    import signal
    import subprocess
    import sys
    import time

    towns = ["青石镇", "河湾镇", "柳林镇", "城关镇", "金川镇", "红崖镇", "松山乡", "石门乡"]
    cmd = [sys.executable, "-m", "zhidang_analysis", "batch", "--year", "2025", "--towns", ",".join(towns),
           "--out", str(tmp_path), "--jobs", "2", "--no-overview"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        manifest_file = tmp_path / "2025" / "manifest.json"
        while time.monotonic() < deadline:  # wait for the first finished report
            if manifest_file.exists() and '"status": "done"' in manifest_file.read_text(encoding="utf-8"):
                break
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 1, (out, err)
    assert "已中断" in out and "下次运行将继续" in out
    m = manifest(tmp_path)
    done = {t for t, e in m["reports"].items() if e["status"] == "done"}
    not_run = {t for t, e in m["reports"].items() if e["status"] == "not_run"}
    assert done and not_run and done | not_run == set(towns)
    for t in towns:  # a report is there exactly when the manifest says it was done
        assert (tmp_path / "2025" / f"{t}.html").exists() == (t in done)
    assert (tmp_path / "2025" / "index.html").exists()
    assert not [p for p in (tmp_path / "2025").iterdir() if p.name.startswith(".")]
    resumed = batch.run_batch([2025], towns=towns, out=tmp_path, jobs=2, overview=False)
    assert {j.town for j in resumed.jobs if j.status == "skipped"} == done
    assert {j.town for j in resumed.jobs if j.status == "done"} == not_run


def test_a_town_with_bad_data_fails_alone_and_the_others_are_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for f in zd.SAMPLE_DATA.glob("*.xlsx"):
        shutil.copy(f, data / f.name)
    wb = load_workbook(data / "示范县指标数据.xlsx")
    ws = wb["2025年"]
    header = next(r for r in ws.iter_rows() if r[0].value == "乡镇")
    col = next(c.column - 1 for c in header if c.value == "主题党日活动（次）")
    row = next(r for r in ws.iter_rows() if r[0].value == "河湾镇")
    row[col].value = "很多"
    bad_cell = row[col].coordinate
    wb.save(data / "示范县指标数据.xlsx")
    out = tmp_path / "out"
    (out / "2025").mkdir(parents=True)
    (out / "2025" / "河湾镇.html").write_text("上一次的好报告", encoding="utf-8")

    res = CliRunner().invoke(main, ["batch", "--year", "2025", "--towns", "青石镇,河湾镇,城关镇", "--data", str(data),
                                    "--out", str(out), "--jobs", "2"])
    assert res.exit_code == 1, res.output
    assert "完成3份" in res.output and "失败1份" in res.output  # two towns and the overview
    assert "失败：2025年 河湾镇：数据有误，未生成（1处错误）" in res.output and bad_cell in res.output
    m = manifest(out)
    assert m["reports"]["河湾镇"]["status"] == "failed" and bad_cell in m["reports"]["河湾镇"]["error"]["message"]
    assert {m["reports"][t]["status"] for t in ("青石镇", "城关镇", "overview")} == {"done"}
    assert m["reports"]["青石镇"]["parameters"]["exclude_towns"] == "河湾镇"
    assert (out / "2025" / "河湾镇.html").read_text(encoding="utf-8") == "上一次的好报告"
    overview = BeautifulSoup((out / "2025" / "overview.html").read_text(encoding="utf-8"), "html.parser")
    assert "全县13个乡镇" in overview.get_text()


class _RecordingExecutor:
    """An executor that 'runs' each job by writing stub outputs: the batch's bookkeeping without kernels."""

    def run(self, todo, timeout, finished):
        for job in todo:
            Path(job.html).parent.mkdir(parents=True, exist_ok=True)
            Path(job.html).write_text("<html><body>报告</body></html>", encoding="utf-8")
            Path(job.ipynb).write_text("{}", encoding="utf-8")
            job.status, job.seconds, job.finished_at = "done", 0.5, "2026-12-05T00:00:00+00:00"
            finished(job)
        return False


@pytest.mark.parametrize("spacing, writes", [(0, 1 + len(TOWNS)), (1e12, 2)])
def test_manifest_is_rewritten_after_each_job_unless_that_costs_too_much_and_always_at_the_end(
        data, tmp_path, monkeypatch, spacing, writes):
    """A small manifest is rewritten after every job; one whose rewrite costs more than a tenth of the time since
    the last (a province's) waits, and the end of the batch writes what is left: every job is recorded."""
    made = []
    real = batch.write_manifest

    def counted(*args, **kwargs):
        made.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "write_manifest", counted)
    monkeypatch.setattr(batch, "MANIFEST_SPACING", spacing)
    monkeypatch.setattr(batch, "get_executor", lambda name, **kw: _RecordingExecutor())
    result = batch.run_batch([2025], data=data, towns=TOWNS, out=tmp_path, overview=False)
    assert made == [2025] * writes
    reports = manifest(tmp_path)["reports"]
    assert sorted(e["town"] for e in reports.values()) == sorted(TOWNS)
    assert {e["status"] for e in reports.values()} == {"done"} and result.count("done") == len(TOWNS)


def test_a_batch_process_starts_without_jsonschemas_iri_parsers_and_still_validates_notebooks():
    """Importing the running package (a batch, each of its workers) leaves out ``rfc3987_syntax``, whose import
    builds some thirty parsers (a second of every start) for a format no notebook uses; notebooks still validate."""
    import subprocess
    import sys

    code = ("import sys, zhidang_analysis.running.batch, nbformat, jsonschema\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "nbformat.validate(nb)\n"
            "bad = nbformat.v4.new_notebook(); bad.cells.append({'cell_type': 'code'})\n"
            "try:\n    nbformat.validate(bad)\nexcept nbformat.ValidationError:\n    print('invalid caught')\n"
            "print(sys.modules.get('rfc3987_syntax', 'absent'))\n")
    out = subprocess.run([sys.executable, "-c", code, str(Path(zd.__file__).parent.parent / "notebooks" /
                                                         "town_report.ipynb")],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["invalid", "caught", "None"]


def test_a_batch_worker_process_loads_neither_pandas_nor_matplotlib_and_the_package_api_loads_on_first_use():
    """A worker runs notebooks through papermill and exports them: the modules it starts with (:mod:`.pool`, its
    executors, the runner, the export) leave out pandas, matplotlib and openpyxl, a second of each worker's start
    (the kernel imports them, not the worker). ``import zhidang_analysis`` is as light; each ``zd.<name>`` loads
    on first use and is the module's own object."""
    import subprocess
    import sys

    code = ("import sys, zhidang_analysis.running.pool, zhidang_analysis.running.executors\n"
            "heavy = sorted({'pandas', 'matplotlib', 'openpyxl'} & set(sys.modules))\n"
            "import zhidang_analysis as zd\n"
            "from zhidang_analysis.inputs.load import load_dataset\n"
            "print(heavy, zd.load_dataset is load_dataset, zd.narrative.__name__, 'load_dataset' in dir(zd))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True", "zhidang_analysis.report.narrative", "True"]
    code = "import sys, zhidang_analysis\nprint(sorted({'pandas', 'matplotlib', 'papermill'} & set(sys.modules)))\n"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["[]"]


def test_a_kernel_warmed_up_before_the_first_notebook_serves_it_cleared_and_ctrl_c_stays_as_it_was(tmp_path):
    import signal

    from zhidang_analysis.running.pool import warm_up_code
    from zhidang_analysis.running.runner import WarmKernelEngine

    marker = tmp_path / "warm.txt"
    before = signal.getsignal(signal.SIGINT)
    try:
        code = f"import os\nleftover = 1\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        assert WarmKernelEngine.warm_up(code, cwd=str(PROBE.parent))
        assert signal.getsignal(signal.SIGINT) is before  # a worker that ignores Ctrl-C goes on ignoring it
        seen, pid, frozen = _probe(tmp_path, "甲镇")
        assert pid == int(marker.read_text())  # the kernel the warm-up started ran the notebook
        assert not seen and frozen > 10_000  # cleared after the warm-up, what it loaded kept out of the collector's way
        WarmKernelEngine.shutdown()
        # a warm-up that fails keeps nothing: the first notebook starts its own kernel
        assert not WarmKernelEngine.warm_up("raise RuntimeError('x')", cwd=str(PROBE.parent))
        assert WarmKernelEngine._km is None and WarmKernelEngine._kc is None
        # the batch's own warm-up (the town notebook's imports, the sample, its first report) runs without error
        code = warm_up_code(None, 2025).replace("except Exception:\n    pass", "except Exception:\n    raise")
        assert WarmKernelEngine.warm_up(code, cwd=str(PROBE.parent))
    finally:
        WarmKernelEngine.shutdown()


def test_the_warm_up_hands_the_kernel_the_notebooks_parameters_so_it_never_imports_papermill():
    """Inspecting the town notebook's parameters in the kernel imported papermill there (0.4 s of every worker's
    start): the batch inspects them and the warm-up code hands them over (params.remember)."""
    from zhidang_analysis.report import params
    from zhidang_analysis.running.pool import warm_up_code
    from zhidang_analysis.running.runner import parameters_code

    # what WarmKernelEngine.warm_up runs in a worker's kernel: the parameters, then the batch's warm-up
    code = parameters_code() + warm_up_code(None, 2025).replace("except Exception:\n    pass", "except Exception:\n    raise")
    probe = code + ("import json, sys\n"
                    "print(json.dumps([zd.params.declared('town_report'), 'papermill' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    spec, papermill_loaded = json.loads(out.strip().splitlines()[-1])
    assert not papermill_loaded  # no papermill in a kernel's process
    assert spec == params.declared("town_report") and {"town", "year", "data"} <= set(spec)


def test_workers_started_before_the_batch_plans_warm_up_run_its_reports_and_stop(tmp_path):
    from zhidang_analysis.running.pool import LocalPool

    marker = tmp_path / "warm"
    code = f"import os\nopen({str(marker)!r} + str(os.getpid()), 'w').write('')\n"
    pool = LocalPool(2).start(warm_up=(code, str(PROBE.parent)))
    workers = [w.process for w in pool._started]
    result = batch.run_batch([2025], towns=["青石镇"], out=tmp_path / "out", overview=False, pool=pool)
    assert [j.status for j in result.jobs] == ["done"]
    assert (tmp_path / "out" / "2025" / "青石镇.html").is_file()
    assert len(list(tmp_path.glob("warm*"))) >= 1  # each worker's kernel ran the warm-up (one at least got to it)
    assert not any(p.is_alive() for p in workers)  # the one no report needed is stopped too
    # nothing to run: the workers started for it stop at once
    pool = LocalPool(2).start(warm_up=(code, str(PROBE.parent)))
    workers = [w.process for w in pool._started]
    again = batch.run_batch([2025], towns=["青石镇"], out=tmp_path / "out", overview=False, pool=pool)
    assert [j.status for j in again.jobs] == ["skipped"]
    assert not any(p.is_alive() for p in workers)
