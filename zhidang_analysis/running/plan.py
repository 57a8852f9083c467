"""The job plan of a batch: one job per report, its input key (the hashes of the town's data, of the county
context it quotes, of the code and the notebook), and where each report goes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis import indicators as ind
from ..analysis.problems import county_problems
from ..errors import AmbiguousTownError, DataError, UnknownNameError
from ..inputs.load import load_dataset, parse_towns
from ..model.bundled import code_hash, sha
from ..model.dataset import Dataset
from ..outputs.export import outdated_formats, parse_formats
from ..outputs.names import RESERVED_STEMS, output_stems
from ..report.narrative import county_context, county_scores
from .job import DEFAULT_OUT, OVERVIEW, OVERVIEW_NOTEBOOK, REGION, REGION_NOTEBOOK, TOWN_NOTEBOOK, Job
from .manifest import keys_by_town, previous_entry, read_manifest

OVERVIEW_STEM = "overview"


# --------------------------------------------------------------------------------------------- keys
def file_hash(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def town_data_hash(ds: Dataset, town: str) -> str:
    """Hash of one town's own inputs: values (all years), profile row, targets and its practices (特色做法),
    with the cells they come from (the report cites them)."""
    return town_data_hashes(ds, [town])[town]


def town_data_hashes(ds: Dataset, towns: Iterable[str]) -> dict[str, str]:
    """:func:`town_data_hash` of each of ``towns`` (``ds``: one county), every table hashed row by row once
    (pandas' ``hash_pandas_object``, column names included) rather than written out as text town by town."""
    tables = [(ds.values, ["year", "indicator", "value", "approx", "status", "source"]),
              (ds.targets, ["year", "indicator", "target", "source"]),
              (ds.profile.reset_index(), list(ds.profile.reset_index().columns)),
              (ds.practices, list(ds.practices.columns))]
    rows = []
    for frame, cols in tables:
        cols = [c for c in cols if c in frame.columns]
        hashed = pd.util.hash_pandas_object(frame[cols], index=False).to_numpy() if len(frame) else np.empty(0, "u8")
        town = frame["town"].to_numpy() if "town" in frame.columns else np.empty(0, object)
        rows.append((",".join(cols), town, hashed))
    out = {}
    for name in towns:
        out[name] = sha(*(cols.encode() + hashed[town == name].tobytes() for cols, town, hashed in rows))
    return out


def dataset_hash(ds: Dataset) -> str:
    """Hash of the whole dataset (what the county overview reads)."""
    cols = ["county", "town", "year", "indicator", "value", "approx", "status"]
    return sha(ds.values[cols].to_csv(index=False).encode(), ds.targets.to_csv(index=False).encode(),
                ds.profile.drop(columns=["source"], errors="ignore").to_csv().encode())


def context_keys(ds: Dataset, year: int) -> dict[str, str]:
    """town → hash of the county context its report of ``year`` quotes (``ds``: one county).

    That is the town's rows of :func:`narrative.county_context` (rank, number of towns, county median,
    streaks, targets), its data problems (:func:`problems.county_problems`), its
    composite score and section scores, and what is the same for every town: the county medians of the
    indicators and of the section scores that its charts draw. Computed once per county and year.
    """
    cat = ds.catalog
    ctx = county_context(ds, year)
    flags = county_problems(ds, year)
    now = ds.values[ds.values["year"] == year]
    scores = county_scores(ds, year)
    scores = scores.xs(year, level="year") if len(scores) else scores
    medians = ind.county_compare(now, catalog=cat).groupby("indicator")["county_median"].first()
    common = sha(medians.to_csv().encode(), scores.drop(columns=["rank"], errors="ignore").median().to_csv().encode(),
                  "\n".join(ds.towns).encode())  # 全县14个乡镇
    by_town = {
        "context": {t: g.to_csv(index=False) for t, g in ctx.groupby("town", sort=False)},
        "flags": {t: g.drop(columns=["town"]).to_csv(index=False) for t, g in flags.groupby("town", sort=False)},
    }
    keys = {}
    for town in ds.towns:
        score = scores.loc[[town]].to_csv() if town in scores.index else ""
        keys[town] = sha(common.encode(), by_town["context"].get(town, "").encode(),
                          by_town["flags"].get(town, "").encode(), score.encode())
    return keys


def report_paths(out: Path, year: int, town: str | None, *,
                 stems: Mapping[str, str] | None = None, folder: str = "") -> tuple[Path, Path]:
    """(html, ipynb) paths of a report: ``<out>/<year>/<stem>.html`` and ``.ipynb``, or
    ``<out>/<year>/<folder>/<stem>.html`` when the data hold several counties (``folder``: the county's).

    ``town=None`` is the county overview (``overview.html``). A town's stem comes from
    :func:`export.output_stems`: ``stems`` is its result for every town of the county (so that two towns never
    share a file), computed here for ``town`` alone when not given. No town ever gets ``overview``, ``index``
    or ``manifest``.
    """
    folder = Path(out) / str(int(year)) / folder if folder else Path(out) / str(int(year))
    if town is None:
        stem = OVERVIEW_STEM
    elif stems is not None and town in stems:
        stem = stems[town]
    else:
        stem = output_stems([town])[town]
    return folder / f"{stem}.html", folder / f"{stem}.ipynb"


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
    same names, else a JSON list (a name with a comma, 、 or surrounding spaces). :func:`~zhidang_analysis.inputs.load.load_dataset`
    reads both.

    >>> town_list_param(["河湾镇", "青石镇"])
    '河湾镇,青石镇'
    >>> town_list_param(["甲,镇", "乙镇"])
    '["甲,镇", "乙镇"]'
    """
    towns = list(towns)
    text = ",".join(towns)
    return text if parse_towns(text) == towns else json.dumps(towns, ensure_ascii=False)


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
    town_keys = {(c, t): key for c, names in wanted.items() if views[c] is not None
                 for t, key in town_data_hashes(views[c], [t for t in names
                                                           if t not in _bad_in(bad_towns, c, ds.multi)]).items()}
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
                key = sha(town_keys[(county, town)].encode(), ctx[town].encode(), code.encode(), nb_hash.encode(),
                           json.dumps(_own(params, bad), sort_keys=True, ensure_ascii=False).encode())
                jobs.append(Job("town", year, town, params, str(notebook), str(html), str(ipynb), key, nb_hash,
                                county=county, folder=folder))
            if overview and ov_hash and cv is not None and year in cv.years:
                params = {"year": year, "data": data_param, **where}
                if bad_towns:
                    params["exclude_towns"] = options["exclude_towns"]
                html, ipynb = report_paths(out, year, None, folder=folder)
                key = sha(dataset_hash(cv).encode(), code.encode(), ov_hash.encode(),
                           json.dumps(_own(params, bad), sort_keys=True, ensure_ascii=False).encode())
                jobs.append(Job(OVERVIEW, year, None, params, str(OVERVIEW_NOTEBOOK), str(html), str(ipynb), key,
                                ov_hash, county=county, folder=folder))
        if overview and region_hash:
            params = {"year": year, "data": data_param}
            if bad_towns:
                params["exclude_towns"] = options["exclude_towns"]
            html, ipynb = report_paths(out, year, None)
            key = sha(dataset_hash(ds).encode(), code.encode(), region_hash.encode(),
                       json.dumps(params, sort_keys=True, ensure_ascii=False).encode())
            jobs.append(Job(REGION, year, None, params, str(REGION_NOTEBOOK), str(html), str(ipynb), key,
                            region_hash))
        earlier = manifest.get("reports", {})
        by_town = keys_by_town(earlier)
        for job in jobs:
            if job.year != year or force or job.status != "pending":
                continue
            prev = previous_entry(earlier, job, by_town)
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
