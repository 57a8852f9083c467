"""Time the same batch on today's local worker pool and on a Dask ``LocalCluster`` (``zhidang batch --scheduler``).

Both variants make the same town reports (HTML only, every report made again as with ``--force``, no county
overview) for the first ``--towns`` towns of the bundled sample and one ``--year``, each into its own fresh
temporary folder, through :func:`batch.run_batch` in this process:

- **pool**: ``run_batch(..., jobs=2)``, today's default: two spawned worker processes, each with a warm kernel;
- **LocalCluster**: ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` and
  ``run_batch(..., scheduler=cluster.scheduler_address)`` (:func:`cluster.run_jobs_on_cluster`): the data and the
  notebook are shipped to the workers, the outputs shipped back and written by this process. Timed twice: the
  batch alone (the cluster already running, as with ``--scheduler`` on a standing cluster), and including
  starting and closing the cluster (what a local default would have to pay on every batch).

A warm-up run (one town, each variant) first fills the dataset and font caches. Rounds interleave the variants;
the best of ``--repeat`` rounds is printed as wall seconds, reports per minute per core, and the ratio to the pool
(pool time / variant time: above 1 is faster than the pool).

Run it with ``.venv/bin/python benchmarks/bench_batch_dask.py [--towns 14] [--repeat 2]``; about five minutes on
two cores with the defaults. Timings vary with machine load (printed before and after).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
from pathlib import Path

import zhidang_analysis as zd
from common import BenchError, load_average, run_script, timed  # noqa: E402 - benchmarks/ is on sys.path when run as a script
from zhidang_analysis.running import batch


def check(result: batch.BatchResult, n: int, what: str) -> None:
    if result.count("done") != n or not result.ok:
        errors = "; ".join(f"{j.label}: {j.error and j.error['message']}" for j in result.failed)
        raise BenchError(f"{what}: {result.count('done')} of {n} reports done. {errors}")
    missing = [j.html for j in result.jobs if not Path(j.html).is_file()]
    if missing:
        raise BenchError(f"{what}: missing {', '.join(missing)}")


def pool(towns: list[str], year: int, out: Path) -> None:
    check(batch.run_batch([year], towns=towns, out=out, jobs=2, force=True, overview=False), len(towns), "pool")


def on_cluster(address: str, towns: list[str], year: int, out: Path) -> None:
    result = batch.run_batch([year], towns=towns, out=out, force=True, overview=False, scheduler=address)
    check(result, len(towns), "LocalCluster")


def local_cluster():
    from distributed import LocalCluster

    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                        silence_logs=logging.ERROR)


def cluster_with_start(towns: list[str], year: int, out: Path) -> None:
    with local_cluster() as lc:
        on_cluster(lc.scheduler_address, towns, year, out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--towns", type=int, default=14, help="the first N towns of the bundled sample (default 14)")
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--repeat", type=int, default=2, help="best of this many rounds per variant (default 2)")
    args = ap.parse_args(argv)

    import dask
    import distributed

    ds = zd.load_dataset()
    towns = ds.towns[: max(1, args.towns)]
    ds.check_year(args.year)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, Python {platform.python_version()} ({platform.system()} {platform.machine()}), "
          f"dask {dask.__version__}, distributed {distributed.__version__}")
    print(f"reports: {len(towns)} towns × {args.year}, HTML only, forced, no overview; best of {args.repeat}")
    print(f"before: {load_average()}")
    sys.stdout.flush()

    with local_cluster() as standing:
        address = standing.scheduler_address
        variants = [
            ("pool (jobs=2, today's default)", pool),
            ("LocalCluster(2 workers × 1 thread), running", lambda t, y, o: on_cluster(address, t, y, o)),
            ("LocalCluster, incl. start and close", cluster_with_start),
        ]
        for _, fn in variants[:2]:  # warm-up: dataset and font caches, the standing cluster's imports
            timed(fn, towns[:1], args.year, "zhidang-bench-dask-")
        best = {name: float("inf") for name, _ in variants}
        for _ in range(max(1, args.repeat)):
            for name, fn in variants:
                best[name] = min(best[name], timed(fn, towns, args.year, "zhidang-bench-dask-"))
                print(f"  {name}: {best[name]:.1f} s (best so far)", flush=True)

    n = len(towns)
    base = best[variants[0][0]]
    w = max(len(name) for name in best) + 2
    print()
    print(f"{'variant':<{w}}{'wall s':>9}{'reports/min/core':>18}{'× pool':>9}")
    print("-" * (w + 36))
    for name, secs in best.items():
        print(f"{name:<{w}}{secs:>9.1f}{n / secs * 60 / cores:>18.2f}{base / secs:>9.2f}")
    print("-" * (w + 36))
    print(f"after: {load_average()}")
    fastest = min(best, key=best.get)
    print(f"fastest: {fastest}")
    return 0


if __name__ == "__main__":
    run_script(main)
