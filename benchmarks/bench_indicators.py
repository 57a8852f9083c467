"""Time the county-wide indicator functions on a province-sized frame, against simply loading it.

Run it with ``make bench`` or ``.venv/bin/python benchmarks/bench_indicators.py`` (options:
``--towns``, ``--years``, ``--repeat``, ``--seed``). It takes well under a minute on two cores.

The frame is generated here with a seeded numpy generator, never read from a file in the repository:
1,500 towns (100 counties of 15) × 10 years (2016–2025) × the catalog's real yearly value codes
(``load_catalog().value_codes``, 57 codes; no invented codes), about 855,000 tidy rows with ``status``
(present / missing / na, na where an indicator does not apply that year) and ``approx``, plus a town
profile (villages, population, Party members and branches) and targets for the key indicators in the
last three years.

The baseline is loading that frame back from a temporary CSV (``pd.read_csv``); the pickle load is shown
too. Each function is timed with ``time.perf_counter``, best of ``--repeat`` runs, and printed with its
ratio to the CSV load, so a function that falls back to a Python loop over towns shows up as a large
ratio. Peak memory is the process's maximum resident set size (``resource.getrusage``).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from zhidang_analysis.analysis import indicators as ind
from zhidang_analysis.model.catalog import load_catalog

FIRST_YEAR = 2016


def make_frames(n_towns: int = 1500, n_years: int = 10, seed: int = 20240601):
    """Return ``(values, profile, targets)``: a tidy values table shaped like ``Dataset.values``."""
    rng = np.random.default_rng(seed)
    cat = load_catalog()
    codes = cat.value_codes
    f = cat.frame.loc[codes]
    years = np.arange(FIRST_YEAR, FIRST_YEAR + n_years)
    towns = np.array([f"第{i:04d}镇" for i in range(n_towns)], dtype=object)
    counties = np.array([f"第{i // 15:03d}县" for i in range(n_towns)], dtype=object)

    # town size: drives the level of every indicator, so per-capita scaling matters
    villages = rng.integers(4, 30, n_towns).astype("float64")
    profile = pd.DataFrame(
        {
            "county": counties,
            "villages": villages,
            "population": np.round(villages * rng.uniform(800, 2500, n_towns)),
            "party_members": np.round(villages * rng.uniform(20, 60, n_towns)),
            "party_branches": villages + rng.integers(1, 8, n_towns),
        },
        index=pd.Index(towns, name="town"),
    )

    nt, ny, nc = n_towns, n_years, len(codes)
    town_i = np.repeat(np.arange(nt), ny * nc)
    year_v = np.tile(np.repeat(years, nc), nt)
    code_i = np.tile(np.arange(nc), nt * ny)

    base = rng.lognormal(mean=2.0, sigma=0.8, size=nc)                      # level per indicator
    size = (villages / villages.mean())[town_i]                             # level per town
    growth = (1.0 + rng.normal(0.03, 0.02, nc))[code_i] ** (year_v - FIRST_YEAR)
    noise = rng.lognormal(0.0, 0.25, len(town_i))
    value = base[code_i] * size * growth * noise
    value = np.where(f["integer"].to_numpy()[code_i], np.round(value), np.round(value, 2))

    applies = (f["first_year"].to_numpy()[code_i] <= year_v) & (year_v <= f["last_year"].to_numpy()[code_i])
    u = rng.random(len(town_i))
    missing = applies & (u < 0.01)
    status = np.where(~applies, "na", np.where(missing, "missing", "present"))
    value = np.where(status == "present", value, np.nan)
    approx = (status == "present") & (rng.random(len(town_i)) < 0.005)

    values = pd.DataFrame(
        {
            "county": counties[town_i],
            "town": towns[town_i],
            "year": year_v.astype("int64"),
            "indicator": np.asarray(codes, dtype=object)[code_i],
            "value": value,
            "approx": approx,
            "status": status,
            "source": "bench",
        }
    )
    # the same string dtype the loader produces
    for col in ("county", "town", "indicator", "status", "source"):
        values[col] = values[col].astype("str")

    key = [c for c in codes if cat.frame.at[c, "key"]]
    t = values[values["indicator"].isin(key) & (values["year"] >= years[-3])]
    t = t[t["status"] == "present"]
    targets = pd.DataFrame(
        {
            "town": t["town"].to_numpy(),
            "year": t["year"].to_numpy(),
            "indicator": t["indicator"].to_numpy(),
            "target": np.round(t["value"].to_numpy() * rng.uniform(0.8, 1.2, len(t))),
        }
    )
    return values, profile, targets


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--towns", type=int, default=1500)
    ap.add_argument("--years", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20240601)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    values, profile, targets = make_frames(args.towns, args.years, args.seed)
    gen = time.perf_counter() - t0
    year = int(values["year"].max())

    with tempfile.TemporaryDirectory() as tmp:
        csv, pkl = Path(tmp) / "values.csv", Path(tmp) / "values.pkl"
        values.to_csv(csv, index=False)
        values.to_pickle(pkl)
        csv_mb = csv.stat().st_size / 1e6
        load_csv = best_of(lambda: pd.read_csv(csv), args.repeat)
        load_pkl = best_of(lambda: pd.read_pickle(pkl), args.repeat)

    cases = [
        ("yoy", lambda: ind.yoy(values)),
        ("county_compare", lambda: ind.county_compare(values)),
        ("county_compare(year)", lambda: ind.county_compare(values, year)),
        ("composite_score", lambda: ind.composite_score(values, profile)),
        ("flags(targets, profile)", lambda: ind.flags(values, targets=targets, profile=profile)),
        ("cagr", lambda: ind.cagr(values)),
        ("best_year", lambda: ind.best_year(values)),
        ("target_completion", lambda: ind.target_completion(values, targets)),
        ("per_capita", lambda: ind.per_capita(values, profile)),
        ("coverage", lambda: ind.coverage(values, profile)),
        ("town_table(year)", lambda: ind.town_table(values, year)),
    ]
    print(f"rows: {len(values):,}  (towns {values['town'].nunique():,} × years {values['year'].nunique()} × "
          f"indicators {values['indicator'].nunique()}; present {int((values['status'] == 'present').sum()):,}, "
          f"targets {len(targets):,})")
    print(f"generated in {gen:.2f} s; CSV {csv_mb:.0f} MB; best of {args.repeat}")
    print()
    print(f"{'function':<26}{'seconds':>10}{'× load':>10}")
    print("-" * 46)
    print(f"{'load CSV (baseline)':<26}{load_csv:>10.3f}{1.0:>10.2f}")
    print(f"{'load pickle':<26}{load_pkl:>10.3f}{load_pkl / load_csv:>10.2f}")
    for name, fn in cases:
        s = best_of(fn, args.repeat)
        print(f"{name:<26}{s:>10.3f}{s / load_csv:>10.2f}")
    print("-" * 46)
    print(f"peak memory (max RSS): {peak_rss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
