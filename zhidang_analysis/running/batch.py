"""Batch runs: every town (and/or every year) in parallel worker processes, incremental, failure-isolated.

Each report is one *job*. A job is skipped when its *input key* equals the key recorded in the year's
``manifest.json`` at its last successful run and its outputs still exist. The key hashes

- the town's own data: its rows of the tidy values (all years), its profile row and its targets;
- the code that turns data into a report: the notebook, the narrative and nbconvert templates, the package's
  data files and Python modules, and the package version;
- the job's parameters.

- the county context the report quotes (:func:`context_keys`): the town's rank, the county median and its
  other standing per indicator, its findings (some compare it with the county), its composite score and
  the county medians its charts draw.

So correcting one town's cell reruns that town, and the towns of its county whose rank, median, score or
findings moved with it; nothing in another county. A county overview's key covers its county's data, the
comparison of counties' key the whole dataset.

With several counties (a folder of county folders, or tables with a 县 column) a town is (county, town), and
the reports go to ``<out>/<year>/<county>/<town>.html``, each county's overview to
``<out>/<year>/<county>/overview.html`` and the comparison of the counties to ``<out>/<year>/overview.html``.

Workers run notebooks through papermill's Python API (:func:`runner.execute_notebook`), each with its own
kernel over IPC sockets and its own temporary files, so parallel runs do not collide. A lock file keeps two
batches off the same output folder. The manifest is rewritten atomically after every job, so an interrupted
batch leaves only complete reports and a manifest that says what was not done.

Faults. A worker runs one job at a time; when it dies (killed, crashed) that job alone fails and a new worker
runs the rest. Workers, and their kernels, die with the batch, even one killed with ``kill -9``, and a worker
writes into the output folder only while its batch, the lock's holder, is alive. Each batch first removes the
temporary files that killed runs left (beside the outputs, and the kernels' sockets). On an output folder that
cannot be written, a batch with nothing to run succeeds without writing anything; any other stops before it
starts, with a Chinese message.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from filelock import FileLock, Timeout
from jinja2 import Environment, PackageLoader, select_autoescape

from ..analysis import indicators as ind
from ..analysis.problems import town_problems
from ..analysis.plausibility import plausibility
from ..errors import ZhidangError
from ..model.bundled import __version__, sha
from ..model.dataset import Dataset
from ..outputs.checks import write_check_report
from ..outputs.files import atomic_write_text
from .executors import Executor, get_executor, register_executor, utc_now
from .job import OVERVIEW, REGION, Job
from .manifest import manifest_path, read_manifest, report_links, town_entries, write_manifest
from .plan import DEFAULT_OUT, TOWN_NOTEBOOK, county_folders, file_hash, layout, load_for_batch, plan, town_list_param  # noqa: F401 - re-exported: zd.batch.layout, zd.batch.town_list_param
from .pool import LocalPool, start_local_pool  # noqa: F401 - re-exported: the batch's own entry
from .runner import (
    OutputFolderError,
    clean_stale_kernel_files,
    clean_stale_temp_files,
    output_folder_problem,
    report_path_problem,
    unwritable_reason,
)

LOCK_NAME = ".zhidang-batch.lock"


class BatchLockedError(ZhidangError):
    """Another batch holds the output folder."""


# --------------------------------------------------------------------------------------------- index page
@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("zhidang_analysis", "templates/batch"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


@dataclass
class CountyFacts:
    """What the index page and the check report say of one county and year, whatever the reports' state: each
    town's score, rank, largest changes and number of problems, and the values to confirm (请核实)."""

    scores: pd.DataFrame
    flags: pd.Series
    changes: dict[str, str]
    towns: list[str]  # the towns with data of the year, in the county's order
    to_confirm: list


def county_facts(ds: Dataset, year: int) -> dict[str, CountyFacts]:
    """:class:`CountyFacts` of every county of ``ds`` for ``year`` (the slow part of the index page and the check
    report: a batch computes it while its reports are being made)."""
    out = {}
    for county in ds.counties:
        cv = ds.for_county(county)
        cat = cv.catalog
        scores = ind.composite_score(cv.values, cv.profile, catalog=cat)
        sc = scores.xs(year, level="year") if year in scores.index.get_level_values("year") else pd.DataFrame()
        # the problems each town's report lists (problems.town_problems), counted the same everywhere
        n_flags = town_problems(cv, year).groupby("town").size() if year in cv.years else pd.Series(dtype="int64")
        y = ind.yoy(cv.values[cv.values["year"].isin([year - 1, year])], catalog=cat)
        y = y[(y["year"] == year) & y["rate"].notna() & y["indicator"].isin(cat.frame.index[cat.frame["key"]])
              & (y["rate"] != 0)]
        have = set(cv.values.loc[cv.values["year"] == year, "town"])
        changes = {}
        for town, ty in y.assign(_abs=y["rate"].abs()).groupby("town", sort=False):
            ty = ty.sort_values("_abs", ascending=False, kind="stable")
            changes[town] = "；".join(f"{cat.name(r.indicator)}{'+' if r.rate > 0 else '−'}{abs(r.rate) * 100:.1f}%"
                                     for r in ty.head(2).itertuples())
        to_confirm = ([replace(p, county=county) for p in plausibility(cv, years=[year])]
                      if year in ds.years else [])
        out[county] = CountyFacts(sc, n_flags, changes, [t for t in cv.towns if t in have], to_confirm)
    return out


def index_rows(ds: Dataset, year: int, manifest: dict, bad_towns: dict[str, list] | None = None,
               checks: str = "", facts: dict[str, CountyFacts] | None = None) -> pd.DataFrame:
    """One row per town of ``year`` (county by county): its county, composite score and rank within the county,
    key changes, number of problems its report lists (:func:`problems.town_problems`), whether it has problems,
    links and status. A town whose data have errors (``bad_towns``, left out of ``ds``) has a row of its own,
    failed, with its errors and ``checks_href``: its part of the check report ``checks``. ``facts``
    (:func:`county_facts`) when already computed."""
    rows = []
    reports = town_entries(manifest)
    folders = county_folders(ds, bad_towns)
    facts = facts if facts is not None else county_facts(ds, year)
    for county in ds.counties:
        found = facts[county]
        sc, n_flags = found.scores, found.flags
        ov = manifest.get("reports", {}).get(f"{folders[county]}/{OVERVIEW}" if folders[county] else OVERVIEW, {})
        for town in found.towns:
            changes = found.changes.get(town, "")
            entry = reports.get(f"{county}/{town}" if ds.multi else town, {})
            status = entry.get("status", "not_run")
            n = int(n_flags.get(town, 0))
            rows.append({
                "county": county,
                "town": town,
                "score": float(sc.at[town, "score"]) if town in sc.index else float("nan"),
                "rank": int(sc.at[town, "rank"]) if town in sc.index and pd.notna(sc.at[town, "rank"]) else None,
                "changes": changes,
                "flags": n,
                "problems": n > 0 or status == "failed",
                "href": quote(entry["html"]) if entry.get("html") and status in {"done", "skipped"} else "",
                "links": report_links(entry),
                "status": status,
                "error": (entry.get("error") or {}).get("message", ""),
                "county_links": report_links(ov) if ov.get("kind") == OVERVIEW else [],
            })
    for key, found in (bad_towns or {}).items():
        county, _, town = key.rpartition("/") if ds.multi else (ds.county, "", key)
        entry = reports.get(key, {})
        ov = manifest.get("reports", {}).get(f"{folders.get(county, '')}/{OVERVIEW}" if folders.get(county) else
                                             OVERVIEW, {})
        errors = [p for p in found if getattr(p, "level", "error") == "error"] or list(found)
        told = f"数据有误，未生成（{len(errors)}处错误）" + (f"：{errors[0]}" if errors else "")  # as the batch tells it
        rows.append({
            "county": county, "town": town, "score": float("nan"), "rank": None, "changes": "", "flags": 0,
            "problems": True, "href": "", "links": [], "status": "failed",
            "error": (entry.get("error") or {}).get("message", "") or told,
            "checks_href": f"{quote(checks)}#{quote('town-' + key)}" if checks else "",
            "county_links": report_links(ov) if ov.get("kind") == OVERVIEW else [],
        })
    return pd.DataFrame(rows)


def local_time(stamp: str) -> str:
    """An ISO time (the manifest's ``updated_at``, in UTC) as a reader writes it, in this machine's time zone:
    ``2025年12月4日 19:00``; the text as it is when it is no time.

    >>> local_time("")
    ''
    """
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return stamp or ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone()
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def write_index(ds: Dataset, out: Path, year: int, *, checks: str = "",
                bad_towns: dict[str, list] | None = None, facts: dict[str, CountyFacts] | None = None) -> Path:
    """Write ``<out>/<year>/index.html``: the towns of every county, to search, filter and sort (inline script,
    nothing remote); ``checks`` is the file name of the year's check report beside it, to which the rows of the
    towns whose data have errors (``bad_towns``) link. ``facts``: :func:`county_facts`, when already computed."""
    manifest = read_manifest(out, year)
    rows = index_rows(ds, year, manifest, bad_towns, checks, facts)
    if len(rows):
        order = {c: i for i, c in enumerate(ds.counties)}
        rows = (rows.assign(_c=rows["county"].map(order).fillna(len(order)))
                .sort_values(["_c", "rank", "town"], na_position="last").drop(columns="_c"))
    reports = manifest.get("reports", {})
    folders = county_folders(ds)
    counties = []
    for county in ds.counties:
        ov = reports.get(f"{folders[county]}/{OVERVIEW}" if folders[county] else OVERVIEW, {})
        counties.append({"name": county, "links": report_links(ov) if ov.get("kind") == OVERVIEW else []})
    top = reports.get(OVERVIEW, {})
    top_kind = REGION if ds.multi else OVERVIEW
    overview = (quote(top["html"]) if top.get("kind") == top_kind and top.get("html")
                and top.get("status") in {"done", "skipped"} else "")
    html = _env().get_template("index.html.j2").render(
        year=year, county=ds.county, title=ds.county if len(ds.counties) <= 3 else f"{ds.counties[0]}等{len(ds.counties)}个县",
        rows=rows.to_dict("records"), counties=counties, overview=overview, version=__version__,
        overview_links=report_links(top) if top.get("kind") == top_kind else [], several=ds.multi,
        checks=quote(checks) if checks else "", updated=local_time(manifest.get("updated_at", "")),
    )
    return atomic_write_text(Path(out) / str(year) / "index.html", html)


def write_checks(ds: Dataset, bad_towns: dict[str, list], out: Path, year: int,
                 facts: dict[str, CountyFacts] | None = None) -> str:
    """Write the check report of the data a batch used (``<out>/<year>/checks.html``: every warning, the values of
    ``year`` to confirm (请核实, :func:`analysis.plausibility.plausibility`, each county on its own: the ones its
    overview lists) and the errors of the towns left out); its file name. ``facts``: :func:`county_facts`, when
    already computed."""
    problems = [*ds.problems, *(p for ps in bad_towns.values() for p in ps)]
    if year in ds.years:
        facts = facts if facts is not None else county_facts(ds, year)
        for county in ds.counties:
            problems += facts[county].to_confirm
    if ds.multi:
        problems = [replace(p, town=f"{p.county}/{p.town}") if p.town and p.county else p for p in problems]
    path = Path(out) / str(year) / "checks.html"
    towns = [*ds.towns, *sorted(bad_towns)]
    digest = sha(__version__.encode(), "\n".join(map(str, problems)).encode(), "\n".join(towns).encode())
    manifest = read_manifest(out, year)
    if manifest.get("checks", {}).get("digest") == digest and path.is_file():
        return path.name  # the same findings: the page stays as it is (like the reports, not rewritten)
    write_check_report(problems, path, towns=towns, catalog=ds.catalog, title=f"{year}年报告所用数据的审核结果")
    if manifest:
        manifest["checks"] = {"file": path.name, "digest": digest}
        atomic_write_text(manifest_path(out, year), json.dumps(manifest, ensure_ascii=False, indent=2))
    return path.name


# --------------------------------------------------------------------------------------------- the batch
def _dask_cluster(**options) -> Executor:
    # optional dependency and start-up cost: distributed loads only when a batch runs on a cluster
    from .cluster import DaskCluster

    return DaskCluster(**options)


register_executor("local", LocalPool)
register_executor("dask", _dask_cluster)


@dataclass
class BatchResult:
    jobs: list[Job]
    seconds: float
    index_pages: list[Path] = field(default_factory=list)
    interrupted: bool = False
    read_only: bool = False  # the output folder could not be written (and nothing needed writing)

    def count(self, status: str) -> int:
        return sum(j.status == status for j in self.jobs)

    @property
    def failed(self) -> list[Job]:
        return [j for j in self.jobs if j.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.interrupted

    def summary(self) -> str:
        text = (f"完成{self.count('done')}份，跳过{self.count('skipped')}份（无变化），失败{self.count('failed')}份"
                f"，用时{self.seconds:.1f}秒。")
        if self.interrupted:
            text += f"已中断：{self.count('pending') + self.count('not_run')}份未运行，下次运行将继续。"
        if self.read_only:
            text += "输出文件夹不可写，运行记录（manifest.json）和索引页未更新。"
        return text


def write_analyst_files(ds: Dataset, years: Iterable[int], out: str | Path, *, bad_towns: dict | None = None,
                        charts: bool = False, summary: bool = False) -> list[Path]:
    """After a batch, the analyst's own files of each year: ``charts.xlsx`` (the data of every chart) beside each
    county's overview, and the summary workbooks (全县汇总表) in ``<out>/<year>/``."""
    from ..outputs.chartbook import CHARTS_NAME, write_chart_workbook
    from ..outputs.summary import write_summaries

    written = []
    folders = county_folders(ds, bad_towns or {})
    for year in years:
        base = Path(out) / str(int(year))
        if charts:
            for county in ds.counties:
                cv = ds.for_county(county)
                if int(year) in cv.years:
                    written.append(write_chart_workbook(cv, year, base / folders.get(county, "") / CHARTS_NAME))
        if summary:
            written += write_summaries(ds, [year], base)
    return written


def parse_years(text: str) -> list[int]:
    """``2025`` → [2025]; ``2021-2025`` → [2021, …, 2025]; ``2021,2023`` → [2021, 2023].

    >>> parse_years("2021-2023,2025")
    [2021, 2022, 2023, 2025]
    """
    years: list[int] = []
    for part in str(text).replace("，", ",").split(","):
        part = part.strip().replace("—", "-").replace("～", "-").replace("~", "-")
        if not part:
            continue
        if "-" in part:
            a, b = (int(x) for x in part.split("-", 1))
            years += list(range(min(a, b), max(a, b) + 1))
        else:
            years.append(int(part))
    return sorted(dict.fromkeys(years))


#: The manifest is rewritten after a job when at least this many times its last rewrite's duration has passed.
MANIFEST_SPACING = 10


def run_batch(years: Iterable[int], *, data: str | Path | None = None, towns: Iterable[str] | None = None,
              out: str | Path = DEFAULT_OUT, jobs: int | None = None, force: bool = False,
              timeout: int | None = 600, overview: bool = True, options: dict | None = None,
              progress: Callable[[Job, int, int], None] | None = None, notebook: str | Path = TOWN_NOTEBOOK,
              dataset: Dataset | None = None, bad_towns: dict[str, list] | None = None,
              formats=("html",), scheduler: str | None = None, counties: Iterable[str] | None = None,
              pool: LocalPool | None = None) -> BatchResult:
    """Run the reports of ``towns`` (default: all) for ``years`` in ``jobs`` parallel worker processes, each
    written in ``formats`` (HTML always; ``docx``/``pdf`` made from it).

    ``dataset`` (with its ``bad_towns``, both from :func:`load_for_batch`) saves loading ``data`` again when
    the caller already has it; ``notebook`` replaces the town report notebook (see :func:`plan`). A town whose
    data have errors is recorded as failed with its bad cells; the other towns are reported on. ``timeout`` is
    the longest a cell may run, in seconds (at least 1; None for no limit). ``counties`` limits a batch over
    several counties to those (``towns`` may name a town as ``县/乡镇``). ``scheduler`` (``tcp://HOST:PORT``)
    runs the reports on that Dask cluster instead of local worker processes (see :mod:`cluster`); otherwise the
    local workers are started before anything is loaded or planned (:func:`start_local_pool`; ``pool``: workers
    the caller started so, which the batch then closes).

    Returns a :class:`BatchResult`; failures are recorded per job (manifest, summary), never raised: a report
    whose worker process dies (killed, crashed) fails alone, and a new worker runs the remaining ones.
    Raises :class:`BatchLockedError` when another batch is writing to ``out``, and
    :class:`runner.OutputFolderError` when ``out`` cannot be written and a report needs generating, before
    anything starts; a batch with nothing to run succeeds on a read-only ``out`` and writes nothing.
    """
    if timeout is not None and timeout < 1:
        raise ValueError(f"timeout 应为至少1秒的整数（None 表示不限时），不能是 {timeout!r}")
    start = time.perf_counter()
    out = Path(out)
    years = list(years)
    towns = list(towns) if towns is not None else None
    lock, unwritable = _lock_output(out)
    if scheduler is None and pool is None and unwritable is None:
        pool = start_local_pool(jobs, data=data, years=years, towns=towns, notebook=notebook)
    try:
        ds, bad = (dataset, bad_towns or {}) if dataset is not None else load_for_batch(data)
        years = [ds.check_year(y) for y in years]
        all_jobs = plan(ds, years, towns=towns, data=data, out=out, overview=overview, force=force, options=options,
                        notebook=notebook, bad_towns=bad, formats=formats, counties=counties)
        for j in all_jobs:
            if j.status == "pending" and (problem := report_path_problem(j.html, j.ipynb)):
                j.status, j.finished_at = "failed", utc_now()
                j.error = {"cell": None, "message": problem, "detail": ""}
        todo = [j for j in all_jobs if j.status == "pending"]
        folders = sorted({Path(j.html).parent for j in all_jobs} | {manifest_path(out, y).parent for y in years})
        if unwritable is None:
            unwritable = next(((f, r) for f in folders if (r := output_folder_problem(f))), None)
        if unwritable is not None and todo:
            folder, reason = unwritable
            raise OutputFolderError(f"无法写入输出文件夹“{folder}”：{reason}，而有{len(todo)}份报告需要生成。"
                                    "请换一个可写的文件夹，或修改它的权限后重试。")
        done_count = 0
        for j in all_jobs:
            if j.status in {"skipped", "failed"}:
                done_count += 1
                if progress:
                    progress(j, done_count, len(all_jobs))
        if unwritable is not None:  # nothing to run and nothing may be written: the folder stays as it is
            pages = [p for y in years if (p := manifest_path(out, y).with_name("index.html")).is_file()]
            return BatchResult(all_jobs, time.perf_counter() - start, pages, read_only=True)
        for folder in folders:  # what killed runs left behind (this batch holds the lock)
            clean_stale_temp_files(folder)
        clean_stale_kernel_files()
        data_files = {(f"{f.parent.name}/{f.name}" if ds.multi else f.name): file_hash(f) for f in ds.files}
        written: dict[int, tuple[float, float]] = {}  # year → (when its manifest was last written, how long it took)
        unsaved: set[int] = set()

        def save(year: int) -> None:
            t0 = time.perf_counter()
            write_manifest(out, year, all_jobs, data_files)
            written[year] = (t0, time.perf_counter() - t0)
            unsaved.discard(year)

        for y in years:
            save(y)

        def finished(job: Job) -> None:
            nonlocal done_count
            done_count += 1
            # after every job, unless rewriting the manifest would take more than a tenth of the time (a province's
            # manifest: 1,500 entries): then at most every ten times as long as it takes, and once at the end
            at, cost = written.get(job.year, (0.0, 0.0))
            if time.perf_counter() - at >= MANIFEST_SPACING * cost:
                save(job.year)
            else:
                unsaved.add(job.year)
            if progress:
                progress(job, done_count, len(all_jobs))

        interrupted = False
        # The county facts of the index page and the check report (scores, problems, values to confirm of every
        # county: most of a minute for a province) do not depend on the reports: computed meanwhile, in a thread
        # of this process, which otherwise only waits for its workers.
        background = ThreadPoolExecutor(1, thread_name_prefix="zhidang-index") if todo else None
        pending = {y: background.submit(county_facts, ds, y) for y in years} if background else {}
        if todo:
            n_workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
            executor = (get_executor("dask", scheduler=scheduler) if scheduler
                        else pool if pool is not None else get_executor("local", size=n_workers))
            try:
                interrupted = executor.run(todo, timeout, finished)
            finally:
                for y in sorted(unsaved):
                    save(y)
        if interrupted:
            for j in all_jobs:
                if j.status == "pending":
                    j.status = "not_run"
            for y in years:
                write_manifest(out, y, all_jobs, data_files)
        facts = {y: f.result() for y, f in pending.items()}
        if background is not None:
            background.shutdown()
        pages = [write_index(ds, out, y, checks=write_checks(ds, bad, out, y, facts.get(y)), bad_towns=bad,
                             facts=facts.get(y)) for y in years]
        return BatchResult(all_jobs, time.perf_counter() - start, pages, interrupted)
    finally:
        if pool is not None:
            pool.close()  # the workers no job needed
        if lock is not None:
            lock.release()  # the lock file stays: removing it would let two later batches lock different files


def _lock_output(out: Path) -> tuple[FileLock | None, tuple[Path, str] | None]:
    """Take the batch lock of ``out``: (lock, None); or (None, (folder, why)) when ``out`` cannot be written at
    all (read-only, no permission): then nothing may be written, but a batch with nothing to run may read it."""
    reason = output_folder_problem(out)
    if reason is None:
        try:
            out.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(out / LOCK_NAME))
            lock.acquire(timeout=0)
            return lock, None
        except Timeout:  # (a TimeoutError, so before OSError)
            raise BatchLockedError(f"输出文件夹“{out}”正被另一个批量任务使用，请等它结束后再运行") from None
        except OSError as e:
            reason = unwritable_reason(out if out.exists() else out.parent, e)
    return None, (out, reason)


def plain_progress(stream=None) -> Callable[[Job, int, int], None]:
    """Progress as plain lines (for logs and pipes)."""
    stream = stream or sys.stderr

    def report(job: Job | None, n: int, total: int) -> None:
        if job is None:  # the end of the batch
            return
        word = {"done": "完成", "skipped": "跳过（无变化）", "failed": "失败"}.get(job.status, job.status)
        secs = f"，{job.seconds:.1f}秒" if job.seconds and job.status != "skipped" else ""
        msg = f"[{n}/{total}] {job.label}：{word}{secs}"
        if job.status == "failed" and job.error:
            msg += f"：{job.error['message']}"
        print(msg, file=stream, flush=True)

    return report
