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

import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from filelock import FileLock, Timeout
from jinja2 import Environment, PackageLoader, select_autoescape

from . import __version__
from . import indicators as ind
from .errors import AmbiguousTownError, DataError, UnknownNameError, ZhidangError
from .export import (FORMATS, RESERVED_STEMS, atomic_write_text, convert, format_path, format_word, outdated_formats,
                     output_stems, parse_formats)
from .loaders import Dataset, _town_list, load_dataset
from .problems import town_problems
from . import runner as _runner
from .runner import DEFAULT_OUT, OVERVIEW_NOTEBOOK, REGION_NOTEBOOK, TOWN_NOTEBOOK, report_paths
from .runner import (OutputFolderError, clean_stale_kernel_files, clean_stale_temp_files, output_folder_problem,
                     report_path_problem, unwritable_reason)

PACKAGE_DIR = Path(__file__).resolve().parent
LOCK_NAME = ".zhidang-batch.lock"
OVERVIEW = "overview"
REGION = "region"  # the comparison of counties


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
    """Hash of one town's own inputs: values (all years), profile row, targets and its practices (特色做法),
    with the cells they come from (the report cites them)."""
    v = ds.values[ds.values["town"] == town][["year", "indicator", "value", "approx", "status", "source"]]
    t = ds.targets[ds.targets["town"] == town][["year", "indicator", "target", "source"]]
    p = ds.profile.loc[[town]]
    pr = ds.practices[ds.practices["town"] == town]
    return _sha(v.to_csv(index=False).encode(), t.to_csv(index=False).encode(), p.to_csv().encode(),
                pr.to_csv(index=False).encode())


def dataset_hash(ds: Dataset) -> str:
    """Hash of the whole dataset (what the county overview reads)."""
    cols = ["county", "town", "year", "indicator", "value", "approx", "status"]
    return _sha(ds.values[cols].to_csv(index=False).encode(), ds.targets.to_csv(index=False).encode(),
                ds.profile.drop(columns=["source"], errors="ignore").to_csv().encode())


def context_keys(ds: Dataset, year: int) -> dict[str, str]:
    """town → hash of the county context its report of ``year`` quotes (``ds``: one county).

    That is the town's rows of :func:`narrative.county_context` (rank, number of towns, county median,
    streaks, targets), its data problems (:func:`problems.county_problems`), its
    composite score and section scores, and what is the same for every town: the county medians of the
    indicators and of the section scores that its charts draw. Computed once per county and year.
    """
    from .narrative import county_context, county_scores
    from .problems import county_problems

    cat = ds.catalog
    ctx = county_context(ds, year)
    flags = county_problems(ds, year)
    now = ds.values[ds.values["year"] == year]
    scores = county_scores(ds, year)
    scores = scores.xs(year, level="year") if len(scores) else scores
    medians = ind.county_compare(now, catalog=cat).groupby("indicator")["county_median"].first()
    common = _sha(medians.to_csv().encode(), scores.drop(columns=["rank"], errors="ignore").median().to_csv().encode(),
                  "\n".join(ds.towns).encode())  # 全县14个乡镇
    by_town = {
        "context": {t: g.to_csv(index=False) for t, g in ctx.groupby("town", sort=False)},
        "flags": {t: g.drop(columns=["town"]).to_csv(index=False) for t, g in flags.groupby("town", sort=False)},
    }
    keys = {}
    for town in ds.towns:
        score = scores.loc[[town]].to_csv() if town in scores.index else ""
        keys[town] = _sha(common.encode(), by_town["context"].get(town, "").encode(),
                          by_town["flags"].get(town, "").encode(), score.encode())
    return keys


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
    formats: tuple = ("html",)  # the formats asked for; HTML is always among them
    run_notebook: bool = True  # False: the notebook is up to date, only formats missing beside it are made
    county: str | None = None  # with several counties: the town's (or the overview's) county
    folder: str = ""  # with several counties: the county's folder under <out>/<year>/

    @property
    def ident(self) -> str | None:
        """The town as a batch names it: its name, or ``县/乡镇`` with several counties."""
        if self.kind != "town":
            return None
        return f"{self.county}/{self.town}" if self.folder else self.town

    @property
    def name(self) -> str:
        if self.kind == "town":
            return self.ident
        if self.kind == REGION:
            return "各县比较"
        return f"{self.county}概览" if self.folder else "全县概览"

    @property
    def label(self) -> str:
        return f"{self.year}年 {self.name}"

    @property
    def manifest_key(self) -> str:
        """The job's key in the manifest's ``reports``: its report's path under ``<out>/<year>/`` without the
        suffix. It is distinct per job (see :func:`export.output_stems`): ``overview`` for the county overview
        (``甲县/overview`` with several counties, ``overview`` then the comparison of counties), a town's own
        name when that is a safe file name, else its safe form (with a hash suffix if reserved, cut or shared)."""
        stem = Path(self.html).stem
        return f"{self.folder}/{stem}" if self.folder else stem

    def relative(self, name: str) -> str:
        """A file name of this job as a path under ``<out>/<year>/``."""
        return f"{self.folder}/{name}" if self.folder else name


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
        ds = load_dataset(*paths, exclude_towns=sorted({f"{p.county}/{p.town}" if p.county else p.town
                                                        for p in errors}))
        bad: dict[str, list] = {}
        for p in errors:
            bad.setdefault(f"{p.county}/{p.town}" if ds.multi and p.county else p.town, []).append(p)
        return ds, bad


def all_counties(ds: Dataset, bad_towns: dict[str, list] | None = None) -> list[str]:
    """The counties of a batch: those of the dataset, then those whose every town is in error (``县/乡镇`` keys
    of ``bad_towns``), which are left out of the dataset."""
    extra = [k.rpartition("/")[0] for k in bad_towns or {}] if ds.multi else []
    return list(dict.fromkeys([*ds.counties, *extra]))


def county_folders(ds: Dataset, bad_towns: dict[str, list] | None = None) -> dict[str, str]:
    """county → its folder under ``<out>/<year>/`` (distinct safe names; empty with one county)."""
    if not ds.multi:
        return {c: "" for c in ds.counties}
    return output_stems(all_counties(ds, bad_towns), reserved=RESERVED_STEMS)


def _bad_in(bad_towns: dict[str, list], county: str, multi: bool) -> dict[str, list]:
    """The towns in error (``bad_towns``' keys: names, ``县/乡镇`` with several counties) of ``county``, by name."""
    if not multi:
        return dict(bad_towns)
    return {k.rpartition("/")[2]: v for k, v in bad_towns.items() if k.rpartition("/")[0] == county}


def layout(ds: Dataset, bad_towns: dict[str, list], town: str | None, county: str | None):
    """(town, county, stems, folder) of one report as a batch names its file: the town resolved (``县/乡镇``
    or a bare name that one county has), its county ("" with one county and none given), the file stems of the
    county's towns and the county's folder ("" with one county). Raises :class:`UnknownNameError` (or
    :class:`AmbiguousTownError`) for a town or county not in the data."""
    if ds.multi:
        if town is not None:
            if "/" in town or county:
                county, town = (county, town) if county else tuple(town.rsplit("/", 1))
                if f"{county}/{town}" not in bad_towns:
                    county, town = ds.resolve(town, county)
            else:
                hits = [(c, t) for c, t in ds.town_keys if t == town]
                hits += [(k.rpartition("/")[0], town) for k in bad_towns if k.rpartition("/")[2] == town]
                if len(hits) != 1:
                    if hits:
                        raise AmbiguousTownError(town, [f"{c}/{t}" for c, t in hits])
                    raise UnknownNameError("乡镇", town, [*ds.towns, *bad_towns])
                county, town = hits[0]
        elif county and county not in all_counties(ds, bad_towns):
            raise UnknownNameError("县", county, all_counties(ds, bad_towns))
        if not county:
            return town, "", None, ""
        mine = ds.for_county(county).towns if county in ds.counties else []
        stems = output_stems([*mine, *sorted(_bad_in(bad_towns, county, True))])
        return town, county, stems, county_folders(ds, bad_towns)[county]
    if county:
        ds.for_county(county)
    return town, county or "", output_stems([*ds.towns, *sorted(bad_towns)]), ""


def town_list_param(towns: Iterable[str]) -> str:
    """Town names as one notebook parameter (``exclude_towns``): comma-separated when that reads back as the
    same names, else a JSON list (a name with a comma, 、 or surrounding spaces). :func:`loaders.load_dataset`
    reads both.

    >>> town_list_param(["河湾镇", "青石镇"])
    '河湾镇,青石镇'
    >>> town_list_param(["甲,镇", "乙镇"])
    '["甲,镇", "乙镇"]'
    """
    towns = list(towns)
    text = ",".join(towns)
    return text if _town_list(text) == towns else json.dumps(towns, ensure_ascii=False)


def plan(ds: Dataset, years: Iterable[int], *, towns: Iterable[str] | None = None, data: str | Path | None = None,
         out: str | Path = DEFAULT_OUT, overview: bool = True, force: bool = False,
         options: dict | None = None, notebook: str | Path = TOWN_NOTEBOOK,
         bad_towns: dict[str, list] | None = None, formats=("html",), counties: Iterable[str] | None = None) -> list[Job]:
    """The jobs of a batch, each marked ``skipped`` when its last successful run is still up to date.

    Each format is an output of its own: when the notebook's run is up to date but a format asked for
    (``formats``: ``docx``, ``pdf``) is missing or older than the HTML, the job only makes that format from the
    HTML (``run_notebook`` False).

    ``notebook`` is the town report notebook (default ``notebooks/town_report.ipynb``); it receives the
    parameters ``town``, ``year``, ``data`` and ``options``. ``bad_towns`` (from :func:`load_for_batch`)
    become failed jobs naming their bad cells, and every notebook is told to leave them out
    (``exclude_towns``).
    """
    out = Path(out)
    formats = parse_formats(formats)
    bad_towns = bad_towns or {}
    options = dict(options or {})
    if bad_towns:
        options["exclude_towns"] = town_list_param(sorted(bad_towns))
    data_param = str(Path(data).resolve()) if data else ""
    code = code_hash()
    notebook = Path(notebook).resolve()
    nb_hash = file_hash(notebook)
    ov_hash = file_hash(OVERVIEW_NOTEBOOK) if OVERVIEW_NOTEBOOK.exists() else ""
    region_hash = file_hash(REGION_NOTEBOOK) if ds.multi and REGION_NOTEBOOK.exists() else ""
    folders = county_folders(ds, bad_towns)
    wanted = _wanted(ds, bad_towns, towns, counties)  # county → the towns of the batch (names)
    jobs: list[Job] = []
    # a county whose every town is in error has no data left: only its failed jobs are recorded
    views = {c: ds.for_county(c) if c in ds.counties else None for c in wanted}
    town_keys = {(c, t): town_data_hash(views[c], t) for c, names in wanted.items() for t in names
                 if t not in _bad_in(bad_towns, c, ds.multi)}
    for year in years:
        year = ds.check_year(year)
        manifest = read_manifest(out, year)
        for county, names in wanted.items():
            cv = views[county]
            folder = folders[county]
            bad = _bad_in(bad_towns, county, ds.multi)
            # file names over every town of the county, not only this batch's: a town keeps its file with --towns
            stems = output_stems([*(cv.towns if cv is not None else []), *sorted(bad)], reserved=RESERVED_STEMS)
            present = set(cv.values.loc[cv.values["year"] == year, "town"]) if cv is not None else set()
            ctx = context_keys(cv, year) if any(t in present and t not in bad for t in names) else {}
            where = {"county": county} if ds.multi else {}
            for town in names:
                html, ipynb = report_paths(out, year, town, stems=stems, folder=folder)
                if town in bad:
                    problems = bad[town]
                    job = Job("town", year, town, {"town": town, "year": year, "data": data_param, **where},
                              str(notebook), str(html), str(ipynb), "", nb_hash, status="failed",
                              county=county, folder=folder)
                    job.error = {"cell": None, "message": f"数据有误，未生成（{len(problems)}处错误）：{problems[0]}",
                                 "detail": "\n".join(str(p) for p in problems[:50])}
                    jobs.append(job)
                    continue
                if town not in present:
                    continue
                params = {"town": town, "year": year, "data": data_param, **where, **options}
                key = _sha(town_keys[(county, town)].encode(), ctx[town].encode(), code.encode(), nb_hash.encode(),
                           json.dumps(_own(params, bad), sort_keys=True, ensure_ascii=False).encode())
                jobs.append(Job("town", year, town, params, str(notebook), str(html), str(ipynb), key, nb_hash,
                                county=county, folder=folder))
            if overview and ov_hash and cv is not None and year in cv.years:
                params = {"year": year, "data": data_param, **where}
                if bad_towns:
                    params["exclude_towns"] = options["exclude_towns"]
                html, ipynb = report_paths(out, year, None, folder=folder)
                key = _sha(dataset_hash(cv).encode(), code.encode(), ov_hash.encode(),
                           json.dumps(_own(params, bad), sort_keys=True, ensure_ascii=False).encode())
                jobs.append(Job(OVERVIEW, year, None, params, str(OVERVIEW_NOTEBOOK), str(html), str(ipynb), key,
                                ov_hash, county=county, folder=folder))
        if overview and region_hash:
            params = {"year": year, "data": data_param}
            if bad_towns:
                params["exclude_towns"] = options["exclude_towns"]
            html, ipynb = report_paths(out, year, None)
            key = _sha(dataset_hash(ds).encode(), code.encode(), region_hash.encode(),
                       json.dumps(params, sort_keys=True, ensure_ascii=False).encode())
            jobs.append(Job(REGION, year, None, params, str(REGION_NOTEBOOK), str(html), str(ipynb), key,
                            region_hash))
        for job in jobs:
            if job.year != year or force or job.status != "pending":
                continue
            prev = _previous(manifest.get("reports", {}), job)
            if (prev and prev.get("status") in {"done", "skipped"} and prev.get("input_key") == job.input_key
                    and prev.get("html") == job.relative(Path(job.html).name)
                    and Path(job.html).is_file() and Path(job.ipynb).is_file()):
                if outdated_formats(job.html, formats):
                    job.run_notebook = False
                else:
                    job.status = "skipped"
                    job.seconds = prev.get("seconds")
                    job.finished_at = prev.get("finished_at")
    for job in jobs:
        job.formats = formats
    return jobs


def _own(params: dict, bad: dict[str, list]) -> dict:
    """A county's job parameters as its input key sees them: of the towns left out (``exclude_towns``, every
    county's), only the county's own; correcting a town of another county reruns nothing here."""
    own = {k: v for k, v in params.items() if k != "exclude_towns"}
    if bad:
        own["exclude_towns"] = sorted(bad)
    return own


def _wanted(ds: Dataset, bad_towns: dict[str, list], towns, counties) -> dict[str, list[str]]:
    """county → names of the towns a batch reports on: every town (those in error too) of ``counties`` (default:
    all), or the ``towns`` asked for (names, ``县/乡镇`` where a name is in several counties)."""
    known = all_counties(ds, bad_towns)
    chosen = list(counties) if counties else known
    for c in chosen:
        if c not in known:
            raise UnknownNameError("县", c, known)
    if towns is None:
        out = {}
        for c in chosen:
            mine = ds.for_county(c).towns if c in ds.counties else []
            out[c] = list(dict.fromkeys([*mine, *sorted(_bad_in(bad_towns, c, ds.multi))]))
        return out
    out = {c: [] for c in chosen}
    for t in towns:
        name, county = t, None
        if ds.multi or t in bad_towns:
            name, county = layout(ds, bad_towns, t, None)[:2]
        elif t not in bad_towns:
            ds.check_town(t)
        county = county or ds.counties[0]
        if county in out and name not in out[county]:
            out[county].append(name)
    return {c: names for c, names in out.items() if names}


def _run_job(job: Job, timeout: int | None) -> Job:
    """Worker: run one job; every failure is recorded on the job, never raised."""
    from .errors import ReportError
    from .runner import execute_notebook, report_title

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
        _runner.before_write()
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
    job.finished_at = _now()
    return job


# --------------------------------------------------------------------------------------------- manifest
def manifest_path(out: Path, year: int) -> Path:
    return Path(out) / str(int(year)) / "manifest.json"


def read_manifest(out: Path, year: int) -> dict:
    """The year's manifest, or ``{}`` when there is none or it cannot be read (then every report is rerun)."""
    p = manifest_path(out, year)
    if not p.exists():
        return {}
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or not isinstance(doc.get("reports", {}), dict):
        return {}
    doc["reports"] = {k: e for k, e in doc.get("reports", {}).items() if isinstance(e, dict)}
    return doc


def _town_entries(manifest: dict) -> dict[str, dict]:
    """town (``县/乡镇`` with several counties) → its manifest entry (an entry that records its town wins over an
    older one keyed by the name)."""
    reports = manifest.get("reports", {})
    found: dict[str, dict] = {}
    for k, e in reports.items():
        if "town" not in e and _entry_town(k, e) is not None:
            found[k] = e
    for k, e in reports.items():
        if "town" in e and (town := _entry_town(k, e)) is not None:
            found[town] = e
    return found


def _entry_town(key: str, entry: dict) -> str | None:
    """The town of a manifest entry as :attr:`Job.ident` names it (entries written before ``town`` was recorded
    are keyed by the town)."""
    if entry.get("kind", "town") != "town":
        return None
    town = entry.get("town", key)
    return f"{entry.get('county')}/{town}" if entry.get("folder") else town


def _previous(reports: dict, job: Job) -> dict | None:
    """The manifest entry of ``job`` from an earlier run: under its key, or (its file name having changed since)
    the entry of the same town under another key."""
    key = job.manifest_key
    entry = reports.get(key)
    if entry is not None and entry.get("kind", "town") == job.kind and (job.kind != "town"
                                                                         or _entry_town(key, entry) == job.ident):
        return entry
    if job.kind != "town":
        return None
    return next((e for k, e in reports.items() if _entry_town(k, e) == job.ident), None)


def write_manifest(out: Path, year: int, jobs: list[Job], data_files: dict[str, str]) -> Path:
    """Rewrite ``<out>/<year>/manifest.json`` atomically from the jobs of that year.

    ``reports`` holds one entry per report under :attr:`Job.manifest_key` (its file stem: distinct for every
    job), each naming its ``kind`` and, for a town, its ``town``. Entries of towns not in this batch are kept
    as they were, so ``--towns`` does not forget the others; an entry of a town under an older key (its file
    name has changed) is replaced by the new one.
    """
    previous = read_manifest(out, year)
    old = previous.get("reports", {})
    reports = dict(old)
    for job in jobs:
        if job.year != year:
            continue
        key = job.manifest_key
        entry = {k: v for k, v in asdict(job).items()
                 if k not in {"kind", "year", "town", "notebook", "county", "folder"}}
        entry.update({"kind": job.kind, "package_version": __version__,
                      "html": job.relative(Path(job.html).name), "ipynb": job.relative(Path(job.ipynb).name),
                      "files": {f: job.relative(n) for f, n in _files(job.html).items()}})
        if job.folder:
            entry.update({"county": job.county, "folder": job.folder})
        if job.kind == "town":
            entry["town"] = job.town
        if job.status in {"pending", "not_run"}:
            prev = _previous(old, job)
            entry["status"] = "not_run"
            if prev and prev.get("status") in {"done", "skipped"}:
                entry["previous"] = {k: prev.get(k) for k in ("input_key", "finished_at", "seconds")}
        if job.kind == "town":
            for k in [k for k, e in reports.items() if k != key and _entry_town(k, e) == job.ident]:
                del reports[k]
        reports[key] = entry
    doc = {
        "year": int(year),
        "package_version": __version__,
        "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data_files": data_files,
        "reports": reports,
    }
    if isinstance(previous.get("checks"), dict):
        doc["checks"] = previous["checks"]
    return atomic_write_text(manifest_path(out, year), json.dumps(doc, ensure_ascii=False, indent=2))


def _files(html: str | Path) -> dict[str, str]:
    """format → file name of every format of a report that exists beside its HTML and is not older than it
    (a Word file left from before the report was made again is not listed, nor linked)."""
    stale = set(outdated_formats(html, FORMATS))
    return {f: format_path(html, f).name for f in FORMATS if f not in stale and format_path(html, f).is_file()}


def _links(entry: dict) -> list[tuple[str, str]]:
    """(label, href) of every format of a report the manifest records as made (HTML first)."""
    if not entry.get("html") or entry.get("status") not in {"done", "skipped"}:
        return []
    files = entry.get("files") or {"html": entry["html"]}
    return [(format_word(f), quote(files[f])) for f in FORMATS if f in files]


# --------------------------------------------------------------------------------------------- index page
@cache
def _env() -> Environment:
    return Environment(loader=PackageLoader("zhidang_analysis", "templates/batch"),
                       autoescape=select_autoescape(default=True, default_for_string=True))


def index_rows(ds: Dataset, year: int, manifest: dict) -> pd.DataFrame:
    """One row per town of ``year`` (county by county): its county, composite score and rank within the county,
    key changes, number of problems its report lists (:func:`problems.town_problems`), whether it has problems,
    links and status."""
    rows = []
    reports = _town_entries(manifest)
    folders = county_folders(ds)
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
        ov = manifest.get("reports", {}).get(f"{folders[county]}/{OVERVIEW}" if folders[county] else OVERVIEW, {})
        for town in cv.towns:
            if town not in have:
                continue
            ty = y[y["town"] == town].assign(_abs=lambda d: d["rate"].abs()).sort_values("_abs", ascending=False)
            changes = "；".join(f"{cat.name(r.indicator)}{'+' if r.rate > 0 else '−'}{abs(r.rate) * 100:.1f}%"
                               for r in ty.head(2).itertuples())
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
                "links": _links(entry),
                "status": status,
                "error": (entry.get("error") or {}).get("message", ""),
                "county_links": _links(ov) if ov.get("kind") == OVERVIEW else [],
            })
    return pd.DataFrame(rows)


def write_index(ds: Dataset, out: Path, year: int, *, checks: str = "") -> Path:
    """Write ``<out>/<year>/index.html``: the towns of every county, to search, filter and sort (inline script,
    nothing remote); ``checks`` is the file name of the year's check report beside it."""
    manifest = read_manifest(out, year)
    rows = index_rows(ds, year, manifest)
    if len(rows):
        order = {c: i for i, c in enumerate(ds.counties)}
        rows = (rows.assign(_c=rows["county"].map(order)).sort_values(["_c", "rank", "town"], na_position="last")
                .drop(columns="_c"))
    reports = manifest.get("reports", {})
    folders = county_folders(ds)
    counties = []
    for county in ds.counties:
        ov = reports.get(f"{folders[county]}/{OVERVIEW}" if folders[county] else OVERVIEW, {})
        counties.append({"name": county, "links": _links(ov) if ov.get("kind") == OVERVIEW else []})
    top = reports.get(OVERVIEW, {})
    top_kind = REGION if ds.multi else OVERVIEW
    overview = (quote(top["html"]) if top.get("kind") == top_kind and top.get("html")
                and top.get("status") in {"done", "skipped"} else "")
    html = _env().get_template("index.html.j2").render(
        year=year, county=ds.county, title=ds.county if len(ds.counties) <= 3 else f"{ds.counties[0]}等{len(ds.counties)}个县",
        rows=rows.to_dict("records"), counties=counties, overview=overview, version=__version__,
        overview_links=_links(top) if top.get("kind") == top_kind else [], several=ds.multi,
        checks=quote(checks) if checks else "", updated=manifest.get("updated_at", ""),
    )
    return atomic_write_text(Path(out) / str(year) / "index.html", html)


def write_checks(ds: Dataset, bad_towns: dict[str, list], out: Path, year: int) -> str:
    """Write the check report of the data a batch used (``<out>/<year>/checks.html``: every warning, and the
    errors of the towns left out); its file name."""
    from .checks import write_check_report

    problems = [*ds.problems, *(p for ps in bad_towns.values() for p in ps)]
    if ds.multi:
        problems = [replace(p, town=f"{p.county}/{p.town}") if p.town and p.county else p for p in problems]
    path = Path(out) / str(year) / "checks.html"
    towns = [*ds.towns, *sorted(bad_towns)]
    digest = _sha(__version__.encode(), "\n".join(map(str, problems)).encode(), "\n".join(towns).encode())
    manifest = read_manifest(out, year)
    if manifest.get("checks", {}).get("digest") == digest and path.is_file():
        return path.name  # the same findings: the page stays as it is (like the reports, not rewritten)
    write_check_report(problems, path, towns=towns, catalog=ds.catalog, title=f"{year}年报告所用数据的审核结果")
    if manifest:
        manifest["checks"] = {"file": path.name, "digest": digest}
        atomic_write_text(manifest_path(out, year), json.dumps(manifest, ensure_ascii=False, indent=2))
    return path.name


# --------------------------------------------------------------------------------------------- the batch
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
              dataset: Dataset | None = None, bad_towns: dict[str, list] | None = None,
              formats=("html",), scheduler: str | None = None, counties: Iterable[str] | None = None) -> BatchResult:
    """Run the reports of ``towns`` (default: all) for ``years`` in ``jobs`` parallel worker processes, each
    written in ``formats`` (HTML always; ``docx``/``pdf`` made from it).

    ``dataset`` (with its ``bad_towns``, both from :func:`load_for_batch`) saves loading ``data`` again when
    the caller already has it; ``notebook`` replaces the town report notebook (see :func:`plan`). A town whose
    data have errors is recorded as failed with its bad cells; the other towns are reported on. ``timeout`` is
    the longest a cell may run, in seconds (at least 1; None for no limit). ``counties`` limits a batch over
    several counties to those (``towns`` may name a town as ``县/乡镇``). ``scheduler`` (``tcp://HOST:PORT``)
    runs the reports on that Dask cluster instead of local worker processes (see :mod:`cluster`).

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
    lock, unwritable = _lock_output(out)
    try:
        ds, bad = (dataset, bad_towns or {}) if dataset is not None else load_for_batch(data)
        years = [ds.check_year(y) for y in years]
        all_jobs = plan(ds, years, towns=towns, data=data, out=out, overview=overview, force=force, options=options,
                        notebook=notebook, bad_towns=bad, formats=formats, counties=counties)
        for j in all_jobs:
            if j.status == "pending" and (problem := report_path_problem(j.html, j.ipynb)):
                j.status, j.finished_at = "failed", _now()
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
        for y in years:
            write_manifest(out, y, all_jobs, data_files)

        def finished(job: Job) -> None:
            nonlocal done_count
            done_count += 1
            write_manifest(out, job.year, all_jobs, data_files)
            if progress:
                progress(job, done_count, len(all_jobs))

        interrupted = False
        if todo:
            n_workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
            if scheduler:  # on a Dask cluster (``--scheduler``); see cluster.py
                from .cluster import run_jobs_on_cluster

                interrupted = run_jobs_on_cluster(todo, scheduler, timeout, finished)
            else:
                interrupted = _run_jobs(todo, n_workers, timeout, finished)
        if interrupted:
            for j in all_jobs:
                if j.status == "pending":
                    j.status = "not_run"
            for y in years:
                write_manifest(out, y, all_jobs, data_files)
        pages = [write_index(ds, out, y, checks=write_checks(ds, bad, out, y)) for y in years]
        return BatchResult(all_jobs, time.perf_counter() - start, pages, interrupted)
    finally:
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


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------- the pool
def _run_jobs(todo: list[Job], size: int, timeout: int | None, finished: Callable[[Job], None]) -> bool:
    """Run ``todo`` in ``size`` worker processes, calling ``finished`` with each job as it ends; True when
    interrupted by Ctrl-C.

    Town reports go first, each year's county overview last (it is the slowest). A worker runs one job at a
    time. When a worker dies (killed, crashed), its job fails — it is not retried: a report that kills its
    worker would kill the next one too — and a new worker takes the remaining jobs; the other workers go on
    undisturbed. On Ctrl-C nothing new starts and the reports under way finish (workers ignore Ctrl-C) and are
    recorded; a second Ctrl-C stops waiting for them (they are then recorded as not run).
    """
    queue = deque(sorted(todo, key=lambda j: (j.kind == OVERVIEW, j.year)))
    ctrl_c = _CtrlC()
    with ctrl_c.deferred():
        pool = _WorkerPool(size, timeout, ctrl_c)
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
        job.finished_at = _now()
    return job


class _CtrlC:
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

    def __init__(self, ctx) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child,), name="zhidang-batch-worker", daemon=True)
        with _ctrl_c_ignored_by_new_processes():
            self.process.start()
        child.close()
        self.job: Job | None = None
        self.since = 0.0
        self.fresh = True  # has not taken a job yet


class _WorkerPool:
    """Worker processes (spawned, so each has a clean interpreter) that run one job at a time."""

    def __init__(self, size: int, timeout: int | None, ctrl_c: _CtrlC) -> None:
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
        """Stop every worker: an idle one is asked to exit (it stops its kernel first), a busy one is killed."""
        for w in self.workers:
            if w.job is None:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
            else:
                w.process.terminate()
        deadline = time.monotonic() + 30
        for w in self.workers:
            w.process.join(max(0.1, deadline - time.monotonic()))
            if w.process.is_alive():
                w.process.kill()
                w.process.join(5)
            w.conn.close()
        self.workers = []


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


def _worker_main(conn) -> None:
    """A worker process: run the jobs the batch sends, one at a time, until it sends None or is gone."""
    _worker_init()
    from .runner import WarmKernelEngine

    try:
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                break
            if task is None:
                break
            job, timeout = task
            conn.send(_run_job(job, timeout))
    finally:
        WarmKernelEngine.shutdown()


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

    from . import runner

    global _PARENT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with it blocked too: unblock it for the kernels
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _PARENT = multiprocessing.parent_process()
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
        from .runner import WarmKernelEngine

        WarmKernelEngine.kill_now()
        os._exit(1)


def _watch_parent() -> None:
    while True:
        time.sleep(0.5)
        _exit_if_orphaned()


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
