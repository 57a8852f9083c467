"""Time ``zhidang extract`` per report and measure its recall.

Renders the sample's town reports of ``--year`` (``zd.narrative.town_report(...).text``), then extracts each
one back with :func:`zhidang_analysis.inputs.extract.extract_text` and prints the wall and CPU time per report
(goal: under 0.2 s), with the share of the submitted non-zero numbers found again and the wrong ones (must be 0).
Then the hand-written variants of ``tests/data/extract`` (each ``.txt`` with its expected ``.csv``): recall
(goal ≥ 90%) and precision (must be 100%).

Run it with ``.venv/bin/python benchmarks/bench_extract.py`` (option ``--year``). It takes a few seconds.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import zhidang_analysis as zd
from zhidang_analysis.inputs.extract import extract_report, extract_text

VARIANTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "extract"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2022)
    args = parser.parse_args()
    ds = zd.load_dataset(zd.SAMPLE_DATA)
    texts = {t: zd.narrative.town_report(ds, t, args.year).text for t in ds.towns}
    extract_text(next(iter(texts.values())))  # warm-up: patterns, cn2an
    v = ds.values.set_index(["town", "year", "indicator"])
    wall = cpu = 0.0
    found = wrong = stated = 0
    for town, text in texts.items():
        t0, c0 = time.perf_counter(), time.process_time()
        ex = extract_text(text)
        wall += time.perf_counter() - t0
        cpu += time.process_time() - c0
        for code, (value, *_rest) in ex.values.items():
            if (town, args.year, code) in v.index and abs(v.loc[(town, args.year, code), "value"] - value) > 1e-6:
                wrong += 1
        sub = ds.values[(ds.values.town == town) & (ds.values.year == args.year) & (ds.values.status == "present")
                        & (ds.values.value != 0)]
        for code in sub.indicator:
            if ds.catalog.applies(code, args.year) and ds.catalog[code]["origin"] == "values":
                stated += 1
                found += ex.value(code) is not None
    n = len(texts)
    print(f"{n} sample reports of {args.year}: {wall / n * 1000:.1f} ms wall, {cpu / n * 1000:.1f} ms CPU per report")
    print(f"  numbers found again: {found}/{stated} ({found / stated:.1%}; a number the report leaves out "
          f"counts as not found), wrong: {wrong}")
    exp_n = got = bad = 0
    for txt in sorted(VARIANTS.glob("*.txt")):
        (ex,) = extract_report(txt)
        with open(txt.with_suffix(".csv"), encoding="utf-8") as f:
            expected = {r["code"]: float(r["value"]) for r in csv.DictReader(f)}
        exp_n += len(expected)
        got += sum(1 for c in expected if c in ex.values)
        bad += sum(1 for c, val in ex.values.items() if c not in expected or abs(val[0] - expected[c]) > 1e-6)
    print(f"variants ({len(list(VARIANTS.glob('*.txt')))} reports): recall {got}/{exp_n} ({got / exp_n:.1%}), "
          f"wrong values: {bad}")


if __name__ == "__main__":
    main()
