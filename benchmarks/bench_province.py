"""Province-scale benchmark: load and validate >= 1,000 towns in >= 60 counties, then batch throughput.

Run it with ``make bench-province`` or ``.venv/bin/python benchmarks/bench_province.py`` (options: ``--towns``
(default 1000), ``--counties`` (default 60), ``--repeat`` (default 3), ``--batch-repeat`` (default 2),
``--fresh``, ``--reports``, ``--no-dask``, ``--no-batch``). About 13 minutes on a two-core machine with the defaults
(``--repeat 1``: 1.5 less; ``--batch-repeat 1``: 5 less), about 15–30 s less on a rerun (the province is cached).

**The province.** A folder of county folders (第01县/ … 第60县/), each laid out like ``data/sample/`` and written
by ``data/make_sample.py`` itself (its ``generate``/``write_*`` functions, with its module constants ``TOWNS``,
``COUNTY``, ``YEARS`` and ``SEED`` set per county): 14–20 towns per county (the counts vary; the total is
``--towns``), years 2021–2025, a different seed per county, so every county's numbers differ. Town names are the
sample's 14 plus 6 more, so every county has a 城关镇 (as in a real province); county names are distinct. The
folder is cached under ``/tmp/zd-bench-province-<parameters>-<hash of the generator>/`` (printed), so reruns skip
generation; ``--fresh`` writes it again. It must validate without errors.

**Loading.** The baseline is a bare ``pd.read_excel(path, sheet_name=None, engine="openpyxl", header=None)`` of
every workbook (as in ``bench_loading.py``), timed in the same run; ``engine="calamine"`` is printed beside it.
Timed against it: ``zd.validate(folder)`` (every check) and ``zd.load_dataset(folder, cache=False)`` (validate
plus building the dataset, no memory or disk cache). Wall-clock (``time.perf_counter``), median of ``--repeat``
rounds; the ratios are the median of each round's ratio to that round's openpyxl read.

**Batch throughput.** The same ``--reports`` town reports (default 16: the first 8 towns of each of the first
two counties, 2025, ``force=True``, ``overview=False``), each run into a fresh temporary folder with
:func:`batch.run_batch` on the whole province (``data=folder``, ``counties=[…]``, ``towns=["县/乡镇", …]``), once per
output variant: **HTML**, **HTML+Word**, **HTML+Word+PDF** (the last only where WeasyPrint is installed), on

- **local**: ``jobs=2``, the package's own worker pool;
- **dask**: a 2-worker cluster started here with the standard CLI as subprocesses (``dask scheduler --host
  127.0.0.1 --port <free> --no-dashboard`` and ``dask worker tcp://127.0.0.1:<port> --nworkers 2 --nthreads 1
  --no-dashboard``), then ``run_batch(..., scheduler=address)``. Its process groups are killed at the end. If
  this fails the error is printed and the local figures stand alone.

One warm-up report per executor first (dataset caches, kernels, fonts). Each variant runs the first half of the
reports (one county) and all of them (two counties), alternately, ``--batch-repeat`` times; the best time of each
size counts (one run each was too noisy on two cores: 16 reports once took less than 8). Printed: reports per minute per core over the whole batch
(reports / wall minutes / ``os.cpu_count()``: the client's loading of the province, the pool's start-up, the index
page and the check report of the whole province included) and for the reports beyond the first half (what one
more report costs, a new county's first report included), and the batch's fixed seconds (the half batch less its
reports at that rate). Then the time of all the province's reports planned at once (``batch.plan``: every
county's input keys). The projected time of a province of 1,500 towns on 16 cores (:func:`projected_minutes`) is
the fixed seconds plus the planning plus 1,500 reports at the one-more rate on 16 cores. When the full batch is
not at least 15% slower than the half, one more report is "not measured" and the projection uses the whole batch's
rate (its fixed costs spread over its reports): an upper bound, printed as such.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import zhidang_analysis as zd
from common import BenchError, load_average, run_script  # noqa: E402 - benchmarks/ is on sys.path when run as a script
from zhidang_analysis.running import batch

ROOT = Path(__file__).resolve().parent.parent
MAKE_SAMPLE = ROOT / "data" / "make_sample.py"
BIN = Path(sys.executable).parent
YEARS = list(range(2021, 2026))
YEAR = 2025
#: towns per county: the counts vary within these bounds (widened only when --towns/--counties demand it)
PER_COUNTY = (14, 20)
#: six towns beyond the sample's 14, in make_sample's TOWNS layout (town, kind, villages, population, trend,
#: scenic area, herding villages, brand), so a county can have up to 20
EXTRA_TOWNS = [
    ("北山乡", "乡", 7, 9100, 0.03, False, "", ""),
    ("南川镇", "镇", 10, 20400, 0.04, True, "南川村", "南川古渡·河谷人家"),
    ("永丰镇", "镇", 12, 25100, -0.02, False, "", ""),
    ("双井乡", "乡", 6, 8200, 0.06, True, "双井村", "双井草甸·牧歌双井"),
    ("新庄镇", "镇", 9, 17600, 0.01, False, "", ""),
    ("黄羊乡", "乡", 8, 10900, -0.03, True, "黄羊村、上滩村", "黄羊草原·驼铃人家"),
]
#: bump when the generator below changes: part of the cache key (with make_sample.py's own hash)
GENERATOR_VERSION = 2


# ------------------------------------------------------------------------------------------- the province
def _make_sample():
    """``data/make_sample.py`` as a module (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("zd_bench_make_sample", MAKE_SAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def town_counts(n_towns: int, n_counties: int, seed: int = 12) -> list[int]:
    """Towns per county: each within :data:`PER_COUNTY` (widened if needed), varied, summing to ``n_towns``."""
    if n_counties < 1 or n_towns < n_counties:
        raise BenchError(f"need at least one town per county ({n_towns} towns, {n_counties} counties)")
    lo = min(PER_COUNTY[0], n_towns // n_counties)
    hi = min(max(PER_COUNTY[1], math.ceil(n_towns / n_counties)), len(EXTRA_TOWNS) + 14)
    if n_towns > hi * n_counties:
        raise BenchError(f"at most {hi} towns per county: {n_towns} towns need {math.ceil(n_towns / hi)} counties")
    rng = np.random.default_rng(seed)
    counts = [lo] * n_counties
    for _ in range(n_towns - lo * n_counties):
        open_ = [i for i, c in enumerate(counts) if c < hi]
        counts[int(rng.choice(open_))] += 1
    return counts


def county_name(i: int, n_counties: int) -> str:
    return f"第{i + 1:0{max(2, len(str(n_counties)))}d}县"


def write_county(ms, folder: Path, county: str, n: int, seed: int, sample_towns: list) -> None:
    """One county folder written by make_sample's own functions, its constants set for this county."""
    rng = np.random.default_rng(seed)
    pool = sample_towns + EXTRA_TOWNS
    chosen = [0] + sorted(rng.choice(range(1, len(pool)), size=n - 1, replace=False).tolist())  # 城关镇 first
    towns = []
    for k in chosen:  # each county's towns differ in size and trend too, not only in the seed's noise
        town, kind, vil, pop, trend, scenic, herding, brand = pool[k]
        vil = max(6, vil + int(rng.integers(-2, 3)))  # make_sample assumes >= 6 (demo villages)
        towns.append((town, kind, vil, int(pop * rng.uniform(0.8, 1.25)), round(trend + rng.uniform(-0.03, 0.03), 3),
                      scenic, herding, brand))
    names = {t[0] for t in towns}
    saved = {k: getattr(ms, k) for k in ("TOWNS", "COUNTY", "YEARS", "SEED", "APPROX", "MISSING")}
    try:
        ms.TOWNS, ms.COUNTY, ms.YEARS, ms.SEED = towns, county, YEARS, seed
        ms.APPROX = [a for a in saved["APPROX"] if a[0] in names and a[1] in YEARS]
        ms.MISSING = [m for m in saved["MISSING"] if m[0] in names and m[1] in YEARS]
        values, profile = ms.generate()
        folder.mkdir(parents=True)
        ms.write_values(values, folder / "示范县指标数据.xlsx")
        ms.write_profile(profile, folder / "乡镇概况.xlsx")
        ms.write_targets(values, folder / "目标任务.xlsx")
        ms.write_practices(ms.practices(), folder / "特色做法.xlsx")
    finally:
        for k, v in saved.items():
            setattr(ms, k, v)


def cache_folder(n_towns: int, n_counties: int) -> Path:
    h = hashlib.sha256(MAKE_SAMPLE.read_bytes()).hexdigest()[:10]
    return (Path(tempfile.gettempdir())
            / f"zd-bench-province-{n_towns}t-{n_counties}c-{YEARS[0]}-{YEARS[-1]}-v{GENERATOR_VERSION}-{h}")


def make_province(n_towns: int, n_counties: int, fresh: bool = False) -> tuple[Path, float]:
    """The province folder (from the cache when there) and the seconds spent writing it (0 when cached)."""
    folder = cache_folder(n_towns, n_counties)
    if folder.is_dir() and not fresh:
        return folder, 0.0
    t0 = time.perf_counter()
    ms = _make_sample()
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".part-", dir=folder.parent))
    try:
        for i, n in enumerate(town_counts(n_towns, n_counties)):
            write_county(ms, tmp / county_name(i, n_counties), county_name(i, n_counties), n, 1000 + i,
                         list(ms.TOWNS))
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder, time.perf_counter() - t0


def workbooks(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.xlsx"))


# ------------------------------------------------------------------------------------------- loading
def _seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_loading(folder: Path, repeat: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds of the bare readers, validate and load_dataset over the province, and the median over the
    rounds of validate's and load_dataset's ratio to that round's bare openpyxl read. Rounds interleave the
    variants, so a burst of load elsewhere on the machine does not favour one."""
    files = workbooks(folder)

    def bare(engine: str) -> None:
        for f in files:
            pd.read_excel(f, sheet_name=None, engine=engine, header=None)

    def validate() -> None:
        result = zd.validate(folder)
        if not result.ok:
            raise BenchError("validation failed:\n" + "\n".join(map(str, result.errors[:10])))

    variants = {
        "read_excel openpyxl": lambda: bare("openpyxl"),
        "read_excel calamine": lambda: bare("calamine"),
        "validate": validate,
        "load_dataset": lambda: zd.load_dataset(folder, cache=False),
    }
    # warm-up on one county: imports and the catalog, so the first round pays no one-off costs
    first = sorted(p for p in folder.iterdir() if p.is_dir())[0]
    for engine in ("openpyxl", "calamine"):
        for f in first.glob("*.xlsx"):
            pd.read_excel(f, sheet_name=None, engine=engine, header=None)
    zd.load_dataset(first, cache=False)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(repeat):
        for name, fn in variants.items():
            times[name].append(_seconds(fn))
        print(f"  round {r + 1}/{repeat}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()), flush=True)
    base = times["read_excel openpyxl"]
    ratios = {name: statistics.median(t / b for t, b in zip(times[name], base)) for name in ("validate", "load_dataset")}
    return {name: statistics.median(v) for name, v in times.items()}, ratios


# ------------------------------------------------------------------------------------------- batch throughput
def check(result: batch.BatchResult, n: int, what: str) -> None:
    if result.count("done") != n or not result.ok:
        errors = "; ".join(f"{j.label}: {j.error and j.error['message']}" for j in result.failed)
        raise BenchError(f"{what}: {result.count('done')} of {n} reports done. {errors}")
    missing = [j.html for j in result.jobs if j.kind == "town" and not Path(j.html).is_file()]
    if missing:
        raise BenchError(f"{what}: missing {', '.join(missing)}")


def timed_batch(folder: Path, towns: list[str], counties: list[str], what: str, formats=("html",), **kw) -> float:
    """Wall seconds of one ``run_batch`` of ``towns`` (``县/乡镇`` labels) in ``formats`` into a fresh temporary
    folder."""
    with tempfile.TemporaryDirectory(prefix="zd-bench-province-out-") as out:
        t0 = time.perf_counter()
        result = batch.run_batch([YEAR], data=folder, out=out, towns=towns, counties=counties, force=True,
                                 overview=False, formats=formats, **kw)
        secs = time.perf_counter() - t0
        check(result, len(towns), what)
    return secs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """End ``proc``'s process group (it was started in a session of its own): TERM, then KILL."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass


def _tail(path: Path, n: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def time_dask(folder: Path, towns: list[str], counties: list[str], variants: dict, repeat: int = 1) -> dict[str, float]:
    """Seconds of the batch in each of ``variants`` (name → formats) on a 2-worker cluster started here with the
    dask CLI (after a one-report warm-up)."""
    import distributed

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="zd-bench-province-dask-") as tmp:
        logs = [Path(tmp) / "scheduler.log", Path(tmp) / "worker.log"]
        cmds = [
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            [str(BIN / "dask"), "worker", address, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
        ]
        try:
            for cmd, log in zip(cmds, logs):
                with open(log, "wb") as fh:
                    procs.append(subprocess.Popen(cmd, cwd=tmp, stdout=fh, stderr=subprocess.STDOUT,
                                                  stdin=subprocess.DEVNULL, start_new_session=True))
            t0 = time.perf_counter()
            with distributed.Client(address, timeout=60, set_as_default=False) as client:
                client.wait_for_workers(2, timeout=120)
            print(f"  cluster {address}: 2 workers up in {time.perf_counter() - t0:.1f} s", flush=True)
            timed_batch(folder, towns[:1], counties[:1], "dask warm-up", scheduler=address)
            return {name: two_sizes(folder, towns, counties, f"dask {name}", formats, repeat, scheduler=address)
                    for name, formats in variants.items()}
        except BaseException:
            for log in logs:
                if text := _tail(log):
                    print(f"  --- last lines of {log.name} ---\n{text}", file=sys.stderr)
            raise
        finally:
            for proc in reversed(procs):  # workers first, then the scheduler
                _stop(proc)


def two_sizes(folder: Path, towns: list[str], counties: list[str], what: str, formats, repeat: int = 1,
              **kw) -> tuple[float, float]:
    """Wall seconds of the batch of the first half of ``towns`` (one county) and of all of them (two), each the best
    of ``repeat`` runs (the two sizes alternate, so a disturbance of the machine falls on both)."""
    halves, fulls = [], []
    for _ in range(max(1, repeat)):
        halves.append(timed_batch(folder, towns[: len(towns) // 2], counties[:1], f"{what} (half)", formats, **kw))
        fulls.append(timed_batch(folder, towns, counties, what, formats, **kw))
    half, full = min(halves), min(fulls)
    runs = f" (best of {len(fulls)}: {'/'.join(f'{x:.1f}' for x in halves)} and {'/'.join(f'{x:.1f}' for x in fulls)})"
    print(f"  {what}: {len(towns) // 2} reports {half:.1f} s, {len(towns)} reports {full:.1f} s"
          + (runs if len(fulls) > 1 else ""), flush=True)
    return half, full


def time_local(folder: Path, towns: list[str], counties: list[str], variants: dict, repeat: int = 1) -> dict[str, tuple]:
    timed_batch(folder, towns[:1], counties[:1], "local warm-up", jobs=2)
    return {name: two_sizes(folder, towns, counties, f"local {name}", formats, repeat, jobs=2)
            for name, formats in variants.items()}


#: What a batch writes, from the least to the most: each is timed on its own.
VARIANTS = {"HTML": ("html",), "HTML+Word": ("html", "docx"), "HTML+Word+PDF": ("html", "docx", "pdf")}
#: The province of the projection: its towns and the cores of its cluster.
PROVINCE_TOWNS, PROVINCE_CORES = 1500, 16


def projected_minutes(rate_per_core: float, fixed_seconds: float, towns: int = PROVINCE_TOWNS,
                      cores: int = PROVINCE_CORES) -> float:
    """Minutes for ``towns`` reports on ``cores`` cores: ``fixed_seconds`` (what a batch costs whatever its size)
    plus the reports at ``rate_per_core`` reports a minute a core."""
    return fixed_seconds / 60 + towns / (rate_per_core * cores)


#: The full batch must take this much longer than the half for "one more report" to be measured at all.
MIN_DIFFERENCE = 0.15


def rates_of(n_half: int, n_full: int, half: float, full: float, cores: int) -> tuple[float, float | None, float]:
    """(reports a minute a core over the whole batch, the same for the reports beyond the first half — what one more
    report costs —, the batch's fixed seconds: the half batch less its reports at that marginal rate).

    When the full batch is not at least ``MIN_DIFFERENCE`` slower than the half (noise larger than the reports'
    cost), one more report is not measured (None) and the fixed seconds are 0: the projection then uses the whole
    batch's rate, fixed costs included, an upper bound."""
    whole = n_full / full * 60 / cores
    if full - half < MIN_DIFFERENCE * half:
        return whole, None, 0.0
    marginal = (n_full - n_half) / (full - half) * 60 / cores
    return whole, marginal, max(0.0, half - n_half / (marginal * cores / 60))


# ------------------------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--towns", type=int, default=1000, help="towns in the province (default 1000)")
    ap.add_argument("--counties", type=int, default=60, help="counties (default 60)")
    ap.add_argument("--repeat", type=int, default=3, help="loading: median of this many rounds (default 3)")
    ap.add_argument("--reports", type=int, default=16,
                    help="batch: town reports of 2025, half from each of the first two counties (default 16)")
    ap.add_argument("--batch-repeat", type=int, default=2,
                    help="batch: best of this many runs of each size (default 2)")
    ap.add_argument("--fresh", action="store_true", help="write the province again even when cached")
    ap.add_argument("--no-dask", action="store_true", help="skip the Dask cluster")
    ap.add_argument("--no-batch", action="store_true", help="loading only")
    args = ap.parse_args(argv)
    started = time.perf_counter()

    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, Python {platform.python_version()} ({platform.system()} {platform.machine()}), "
          f"pandas {pd.__version__}; before: {load_average()}")
    folder, gen_secs = make_province(args.towns, args.counties, args.fresh)
    files = workbooks(folder)
    size = sum(f.stat().st_size for f in files)
    print(f"province: {folder} ({'written in %.1f s' % gen_secs if gen_secs else 'cached; --fresh writes it again'}"
          f"; {len(files)} workbooks, {size / 1e6:.1f} MB)", flush=True)

    result = zd.validate(folder)
    if not result.ok:
        raise BenchError("the province does not validate:\n" + "\n".join(map(str, result.errors[:10])))
    ds = result.dataset
    n_towns, n_counties = len(ds.town_keys), len(ds.counties)
    if (n_towns, n_counties) != (args.towns, args.counties) or ds.years != YEARS:
        raise BenchError(f"expected {args.towns} towns in {args.counties} counties × {YEARS}, read {n_towns} towns "
                         f"in {n_counties} counties × {ds.years}")
    print(f"validated: {n_towns} towns, {n_counties} counties, years {YEARS[0]}–{YEARS[-1]}, "
          f"{len(ds.values):,} values, no errors", flush=True)

    print(f"loading: median of {args.repeat}", flush=True)
    t, ratio = time_loading(folder, max(1, args.repeat))

    rates: dict[str, float | str] = {}
    if not args.no_batch:
        counties = ds.counties[:2]
        half = max(1, args.reports // 2)
        towns = [label for c in counties for label in [t for t in ds.towns if t.startswith(f"{c}/")][:half]]
        variants = dict(VARIANTS)
        if importlib.util.find_spec("weasyprint") is None:
            variants.pop("HTML+Word+PDF")
        print(f"batch: {len(towns)} town reports of {YEAR} from {'、'.join(counties)}, forced, no overview; "
              f"{', '.join(variants)}", flush=True)
        n_half, n_full = len(towns) // 2, len(towns)
        for name, (half, full) in time_local(folder, towns, counties, variants, args.batch_repeat).items():
            rates[f"local {name}"] = rates_of(n_half, n_full, half, full, cores)
        if args.no_dask:
            rates["dask"] = "skipped"
        else:
            try:
                for name, (half, full) in time_dask(folder, towns, counties, variants, args.batch_repeat).items():
                    rates[f"dask {name}"] = rates_of(n_half, n_full, half, full, cores)
            except Exception as e:  # noqa: BLE001 - the cluster path is reported, the local figure stands
                rates["dask"] = "failed"
                print(f"  dask FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        # what a batch of the whole province adds before its first report: planning every county
        with tempfile.TemporaryDirectory(prefix="zd-bench-province-plan-") as out:
            t0 = time.perf_counter()
            batch.plan(ds, [YEAR], data=folder, out=out, overview=False, force=True)
            plan_all = time.perf_counter() - t0
        print(f"  planning all {n_towns} reports: {plan_all:.1f} s", flush=True)

    bare = t["read_excel openpyxl"]
    rows = [
        ("towns", f"{n_towns}"),
        ("counties", f"{n_counties}"),
        ("years", f"{len(YEARS)} ({YEARS[0]}–{YEARS[-1]})"),
        ("workbooks", f"{len(files)}, {size:,} bytes"),
        ("read_excel openpyxl s", f"{bare:.2f}"),
        ("read_excel calamine s", f"{t['read_excel calamine']:.2f}"),
        ("validate s", f"{t['validate']:.2f}"),
        ("load_dataset s", f"{t['load_dataset']:.2f}"),
        ("ratio validate / read_excel", f"{ratio['validate']:.2f}"),
        ("ratio load / read_excel", f"{ratio['load_dataset']:.2f}"),
    ]
    for name, rate in rates.items():
        if isinstance(rate, str):
            rows.append((f"reports/min/core {name}", rate))
            continue
        whole, marginal, fixed = rate
        if marginal is None:  # noise larger than the reports: the whole batch's rate, fixed costs and all
            rows.append((f"reports/min/core {name}", f"{whole:.2f} (one more: not measured)"))
            rows.append(("  planning the province s", f"{plan_all:.1f}"))
            rows.append((f"  {PROVINCE_TOWNS} towns on {PROVINCE_CORES} cores (upper bound)",
                         f"{projected_minutes(whole, plan_all):.1f} min"))
            continue
        rows.append((f"reports/min/core {name}", f"{whole:.2f} (one more: {marginal:.2f})"))
        rows.append(("  fixed s (+ planning the province)", f"{fixed:.1f} (+ {plan_all:.1f})"))
        rows.append((f"  {PROVINCE_TOWNS} towns on {PROVINCE_CORES} cores",
                     f"{projected_minutes(marginal, fixed + plan_all):.1f} min"))
    w = max(len(k) for k, _ in rows) + 2
    print()
    print("-" * (w + 28))
    for k, v in rows:
        print(f"{k:<{w}}{v:>28}")
    print("-" * (w + 28))
    print(f"after: {load_average()}; benchmark {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    run_script(main)
