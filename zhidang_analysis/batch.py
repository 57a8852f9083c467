"""Batch runs: every town (and/or every year) in parallel worker processes, incremental, failure-isolated.

Each report is one *job*. A job is skipped when its *input key* equals the key recorded in the year's
``manifest.json`` at its last successful run and its outputs still exist. The key hashes

- the town's own data: its rows of the tidy values (all years), its profile row and its targets;
- the code that turns data into a report: the notebook, the narrative and nbconvert templates, the package's
  data files and Python modules, and the package version;
- the job's parameters.

So changing one town's row reruns that town only. (Its county-relative context, such as county medians and
ranks, is deliberately not part of the key; after county-wide corrections use ``--force``.) The county
overview's key covers the whole dataset.

Workers run notebooks through papermill's Python API (:func:`runner.execute_notebook`), each with its own
kernel over IPC sockets and its own temporary files, so parallel runs do not collide. A lock file keeps two
batches off the same output folder. The manifest is rewritten atomically after every job, so an interrupted
batch leaves only complete reports and a manifest that says what was not done.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from filelock import FileLock, Timeout
from jinja2 import Environment, PackageLoader, select_autoescape

from . import __version__
from . import indicators as ind
from .errors import DataError, ZhidangError
from .export import atomic_write_text
from .loaders import Dataset, load_dataset
from .runner import DEFAULT_OUT, OVERVIEW_NOTEBOOK, TOWN_NOTEBOOK, report_paths

PACKAGE_DIR = Path(__file__).resolve().parent
LOCK_NAME = ".zhidang-batch.lock"
OVERVIEW = "overview"


class BatchLockedError(ZhidangError):
    """Another batch holds the output folder."""


# --------------------------------------------------------------------------------------------- keys
def _sha(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@cache
def code_hash() -> str:
    """Hash of everything that turns data into a report, other than the notebook itself."""
    files = sorted(
        p for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix in {".py", ".yaml", ".j2", ".css", ".json"} and "__pycache__" not in p.parts
    )
    return _sha(__version__.encode(), *(str(p.relative_to(PACKAGE_DIR)).encode() + p.read_bytes() for p in files))


def town_data_hash(ds: Dataset, town: str) -> str:
    """Hash of one town's own inputs: values (all years), profile row and targets."""
    v = ds.values[ds.values["town"] == town][["year", "indicator", "value", "approx", "status"]]
    t = ds.targets[ds.targets["town"] == town][["year", "indicator", "target"]]
    p = ds.profile.loc[[town]].drop(columns=["source"], errors="ignore")
    return _sha(v.to_csv(index=False).encode(), t.to_csv(index=False).encode(), p.to_csv().encode())


def dataset_hash(ds: Dataset) -> str:
    """Hash of the whole dataset (what the county overview reads)."""
    cols = ["town", "year", "indicator", "value", "approx", "status"]
    return _sha(ds.values[cols].to_csv(index=False).encode(), ds.targets.to_csv(index=False).encode(),
                ds.profile.drop(columns=["source"], errors="ignore").to_csv().encode())


# --------------------------------------------------------------------------------------------- jobs
@dataclass
class Job:
    """One report to produce."""

    kind: str  # "town" or "overview"
    year: int
    town: str | None
    parameters: dict
    notebook: str
    html: str
    ipynb: str
    input_key: str
    notebook_hash: str
    status: str = "pending"  # pending | done | skipped | failed | not_run
    seconds: float | None = None
    error: dict | None = None
    finished_at: str | None = None

    @property
    def name(self) -> str:
        return self.town if self.kind == "town" else "全县概览"

    @property
    def label(self) -> str:
        return f"{self.year}年 {self.name}"


def load_for_batch(data: str | Path | None = None) -> tuple[Dataset, dict[str, list]]:
    """Load the data of a batch; a town whose own rows have errors is left out, not the whole county.

    Returns the dataset of the other towns and, per left-out town, its problems (each with file, sheet and
    cell). Errors that belong to no town (an unreadable file, an unknown header) still raise
    :class:`DataError` for the whole batch.
    """
    paths = [data] if data else []
    try:
        return load_dataset(*paths), {}
    except DataError as e:
        errors = [p for p in e.problems if p.level == "error"]
        if not errors or any(not p.town for p in errors):
            raise
        bad: dict[str, list] = {}
        for p in errors:
            bad.setdefault(p.town, []).append(p)
        return load_dataset(*paths, exclude_towns=sorted(bad)), bad


def plan(ds: Dataset, years: Iterable[int], *, towns: Iterable[str] | None = None, data: str | Path | None = None,
         out: str | Path = DEFAULT_OUT, overview: bool = True, force: bool = False,
         options: dict | None = None, notebook: str | Path = TOWN_NOTEBOOK,
         bad_towns: dict[str, list] | None = None) -> list[Job]:
    """The jobs of a batch, each marked ``skipped`` when its last successful run is still up to date.

    ``notebook`` is the town report notebook (default ``notebooks/town_report.ipynb``); it receives the
    parameters ``town``, ``year``, ``data`` and ``options``. ``bad_towns`` (from :func:`load_for_batch`)
    become failed jobs naming their bad cells, and every notebook is told to leave them out
    (``exclude_towns``).
    """
    out = Path(out)
    bad_towns = bad_towns or {}
    options = dict(options or {})
    if bad_towns:
        options["exclude_towns"] = ",".join(sorted(bad_towns))
    data_param = str(Path(data).resolve()) if data else ""
    code = code_hash()
    notebook = Path(notebook).resolve()
    nb_hash = file_hash(notebook)
    ov_hash = file_hash(OVERVIEW_NOTEBOOK) if OVERVIEW_NOTEBOOK.exists() else ""
    all_towns = ds.towns
    wanted = list(towns) if towns is not None else all_towns + sorted(bad_towns)
    broken = [t for t in wanted if t in bad_towns]
    wanted = [t for t in wanted if t not in bad_towns]
    for t in wanted:
        ds.check_town(t)
    jobs: list[Job] = []
    town_keys = {t: town_data_hash(ds, t) for t in wanted}
    whole = dataset_hash(ds) if overview and ov_hash else ""
    for year in years:
        year = ds.check_year(year)
        manifest = read_manifest(out, year)
        present = set(ds.values.loc[ds.values["year"] == year, "town"])
        for town in wanted:
            if town not in present:
                continue
            params = {"town": town, "year": year, "data": data_param, **options}
            html, ipynb = report_paths(out, year, town)
            key = _sha(town_keys[town].encode(), code.encode(), nb_hash.encode(),
                       json.dumps(params, sort_keys=True, ensure_ascii=False).encode())
            jobs.append(Job("town", year, town, params, str(notebook), str(html), str(ipynb), key, nb_hash))
        for town in broken:
            problems = bad_towns[town]
            html, ipynb = report_paths(out, year, town)
            job = Job("town", year, town, {"town": town, "year": year, "data": data_param}, str(notebook), str(html),
                      str(ipynb), "", nb_hash, status="failed")
            job.error = {"cell": None, "message": f"数据有误，未生成（{len(problems)}处错误）：{problems[0]}",
                         "detail": "\n".join(str(p) for p in problems[:50])}
            jobs.append(job)
        if overview and ov_hash:
            params = {"year": year, "data": data_param}
            if bad_towns:
                params["exclude_towns"] = options["exclude_towns"]
            html, ipynb = report_paths(out, year, OVERVIEW)
            key = _sha(whole.encode(), code.encode(), ov_hash.encode(),
                       json.dumps(params, sort_keys=True, ensure_ascii=False).encode())
            jobs.append(Job(OVERVIEW, year, None, params, str(OVERVIEW_NOTEBOOK), str(html), str(ipynb), key, ov_hash))
        for job in jobs:
            if job.year != year or force or job.status != "pending":
                continue
            prev = manifest.get("reports", {}).get(job.town or OVERVIEW)
            if (prev and prev.get("status") in {"done", "skipped"} and prev.get("input_key") == job.input_key
                    and Path(job.html).exists() and Path(job.ipynb).exists()):
                job.status = "skipped"
                job.seconds = prev.get("seconds")
                job.finished_at = prev.get("finished_at")
    return jobs


def _run_job(job: Job, timeout: int | None) -> Job:
    """Worker: run one job; every failure is recorded on the job, never raised."""
    from .errors import ReportError
    from .runner import execute_notebook, report_title

    start = time.perf_counter()
    title = report_title(job.year, job.town if job.kind == "town" else None)
    try:
        execute_notebook(Path(job.notebook), Path(job.ipynb), job.parameters, timeout=timeout, title=title,
                         html=Path(job.html), warm=True)
        job.status, job.error = "done", None
    except ReportError as e:
        job.status = "failed"
        job.error = {"cell": e.cell, "message": str(e), "detail": e.detail[-2000:]}
    except Exception as e:  # noqa: BLE001 - a worker must report, not crash the batch
        job.status = "failed"
        job.error = {"cell": None, "message": f"{type(e).__name__}：{e}", "detail": ""}
    job.seconds = round(time.perf_counter() - start, 2)
    job.finished_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return job


# --------------------------------------------------------------------------------------------- manifest
def manifest_path(out: Path, year: int) -> Path:
    return Path(out) / str(int(year)) / "manifest.json"


def read_manifest(out: Path, year: int) -> dict:
    p = manifest_path(out, year)
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_manifest(out: Path, year: int, jobs: list[Job], data_files: dict[str, str]) -> Path:
    """Rewrite ``<out>/<year>/manifest.json`` atomically from the jobs of that year.

    Entries of towns not in this batch are kept as they were, so ``--towns`` does not forget the others.
    """
    old = read_manifest(out, year).get("reports", {})
    reports = dict(old)
    for job in jobs:
        if job.year != year:
            continue
        entry = {k: v for k, v in asdict(job).items() if k not in {"kind", "year", "town", "notebook"}}
        entry.update({"kind": job.kind, "package_version": __version__,
                      "html": Path(job.html).name, "ipynb": Path(job.ipynb).name})
        if job.status in {"pending", "not_run"}:
            prev = old.get(job.town or OVERVIEW)
            entry["status"] = "not_run"
            if prev and prev.get("status") in {"done", "skipped"}:
                entry["previous"] = {k: prev.get(k) for k in ("input_key", "finished_at", "seconds")}
        reports[job.town or OVERVIEW] = entry
    doc = {
        "year": int(year),
        "package_version": __version__,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_files": data_files,
        "reports": reports,
    }
    return atomic_write_text(manifest_path(out, year), json.dumps(doc, ensure_ascii=False, indent=2))


# --------------------------------------------------------------------------------------------- index page
@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("zhidang_analysis", "templates/batch"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def index_rows(ds: Dataset, year: int, manifest: dict) -> pd.DataFrame:
    """One row per town of ``year``: composite score, rank, key changes, flags, link and status."""
    cat = ds.catalog
    scores = ind.composite_score(ds.values, ds.profile, catalog=cat)
    sc = scores.xs(year, level="year") if year in scores.index.get_level_values("year") else pd.DataFrame()
    flags = ind.flags(ds.values[ds.values["year"].isin([year - 1, year])], targets=ds.targets, profile=ds.profile,
                      catalog=cat)
    flags = flags[flags["year"] == year]
    n_flags = flags.groupby("town").size()
    y = ind.yoy(ds.values[ds.values["year"].isin([year - 1, year])], catalog=cat)
    y = y[(y["year"] == year) & y["rate"].notna() & y["indicator"].isin(cat.frame.index[cat.frame["key"]])
          & (y["rate"] != 0)]
    rows = []
    reports = manifest.get("reports", {})
    for town in ds.towns:
        if not ((ds.values["town"] == town) & (ds.values["year"] == year)).any():
            continue
        ty = y[y["town"] == town].assign(_abs=lambda d: d["rate"].abs()).sort_values("_abs", ascending=False).head(2)
        changes = "；".join(
            f"{cat.name(r.indicator)}{'+' if r.rate > 0 else '−'}{abs(r.rate) * 100:.1f}%" for r in ty.itertuples()
        )
        entry = reports.get(town, {})
        rows.append({
            "town": town,
            "score": float(sc.at[town, "score"]) if town in sc.index else float("nan"),
            "rank": int(sc.at[town, "rank"]) if town in sc.index and pd.notna(sc.at[town, "rank"]) else None,
            "changes": changes,
            "flags": int(n_flags.get(town, 0)),
            "href": quote(entry["html"]) if entry.get("html") and entry.get("status") in {"done", "skipped"} else "",
            "status": entry.get("status", "not_run"),
            "error": (entry.get("error") or {}).get("message", ""),
        })
    return pd.DataFrame(rows)


def write_index(ds: Dataset, out: Path, year: int) -> Path:
    """Write ``<out>/<year>/index.html``: a sortable table of towns (inline script, nothing remote)."""
    manifest = read_manifest(out, year)
    rows = index_rows(ds, year, manifest).sort_values(["rank", "town"], na_position="last")
    ov = manifest.get("reports", {}).get(OVERVIEW, {})
    overview = quote(ov["html"]) if ov.get("html") and ov.get("status") in {"done", "skipped"} else ""
    html = _env().get_template("index.html.j2").render(
        year=year, county=ds.county, rows=rows.to_dict("records"), overview=overview, version=__version__,
        updated=manifest.get("updated_at", ""),
    )
    return atomic_write_text(Path(out) / str(year) / "index.html", html)


# --------------------------------------------------------------------------------------------- the batch
@dataclass
class BatchResult:
    jobs: list[Job]
    seconds: float
    index_pages: list[Path] = field(default_factory=list)
    interrupted: bool = False

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
        return text


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


def run_batch(years: Iterable[int], *, data: str | Path | None = None, towns: Iterable[str] | None = None,
              out: str | Path = DEFAULT_OUT, jobs: int | None = None, force: bool = False,
              timeout: int | None = 600, overview: bool = True, options: dict | None = None,
              progress: Callable[[Job, int, int], None] | None = None, notebook: str | Path = TOWN_NOTEBOOK,
              dataset: Dataset | None = None, bad_towns: dict[str, list] | None = None) -> BatchResult:
    """Run the reports of ``towns`` (default: all) for ``years`` in ``jobs`` parallel worker processes.

    ``dataset`` (with its ``bad_towns``, both from :func:`load_for_batch`) saves loading ``data`` again when
    the caller already has it; ``notebook`` replaces the town report notebook (see :func:`plan`). A town whose
    data have errors is recorded as failed with its bad cells; the other towns are reported on.

    Returns a :class:`BatchResult`; failures are recorded per job (manifest, summary), never raised.
    Raises :class:`BatchLockedError` when another batch is writing to ``out``.
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(out / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise BatchLockedError(f"输出文件夹“{out}”正被另一个批量任务使用，请等它结束后再运行") from None
    try:
        ds, bad = (dataset, bad_towns or {}) if dataset is not None else load_for_batch(data)
        years = [ds.check_year(y) for y in years]
        all_jobs = plan(ds, years, towns=towns, data=data, out=out, overview=overview, force=force, options=options,
                        notebook=notebook, bad_towns=bad)
        data_files = {str(f.name): file_hash(f) for f in ds.files}
        todo = [j for j in all_jobs if j.status == "pending"]
        done_count = 0
        for j in all_jobs:
            if j.status in {"skipped", "failed"}:
                done_count += 1
                if progress:
                    progress(j, done_count, len(all_jobs))
        for y in years:
            write_manifest(out, y, all_jobs, data_files)
        interrupted = False
        n_workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
        by_id = {id(j): j for j in all_jobs}
        if todo:
            ctx = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_worker_init)
            futures = {}
            try:
                # town reports first, the county overview of each year last (it is the slowest)
                for j in sorted(todo, key=lambda j: (j.kind == OVERVIEW, j.year)):
                    futures[pool.submit(_run_job, j, timeout)] = id(j)
                pending = set(futures)
                while pending:
                    finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        original = _collect(fut, by_id[futures[fut]])
                        done_count += 1
                        write_manifest(out, original.year, all_jobs, data_files)
                        if progress:
                            progress(original, done_count, len(all_jobs))
            except KeyboardInterrupt:
                interrupted = True
                for fut in futures:
                    fut.cancel()
                # the jobs already running finish (or die with the same Ctrl-C); record what they did
                pool.shutdown(wait=True, cancel_futures=True)
                for fut, job_id in futures.items():
                    if fut.done() and not fut.cancelled() and by_id[job_id].status == "pending":
                        _collect(fut, by_id[job_id])
                for j in all_jobs:
                    if j.status == "pending":
                        j.status = "not_run"
                for y in years:
                    write_manifest(out, y, all_jobs, data_files)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        pages = [write_index(ds, out, y) for y in years]
        return BatchResult(all_jobs, time.perf_counter() - start, pages, interrupted)
    finally:
        lock.release()  # the lock file stays: removing it would let two later batches lock different files


def _worker_init() -> None:
    """In each worker: ignore Ctrl-C and stop the kept kernel when the worker exits.

    Ctrl-C on a terminal reaches the whole process group. The batch (the parent) handles it: it cancels what
    has not started and lets the reports under way finish, so only complete reports are left. Workers must
    therefore not die of it themselves; kernels run in their own session and never see it.
    """
    import signal
    from multiprocessing.util import Finalize

    from .runner import WarmKernelEngine

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    Finalize(WarmKernelEngine, WarmKernelEngine.shutdown, exitpriority=10)


def _collect(fut, job: Job) -> Job:
    """Copy a finished future's outcome onto the planned job (a crashed worker is a failure)."""
    try:
        job.__dict__.update(fut.result().__dict__)
    except BaseException as e:  # noqa: BLE001 - e.g. a worker process killed
        job.status = "failed"
        job.error = {"cell": None, "message": f"工作进程异常退出：{type(e).__name__}：{e}", "detail": ""}
    return job


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
