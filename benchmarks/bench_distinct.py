"""How alike the reports of a county read (材料雷同), on two counties: the bundled sample and 石岭县
(data/make_second_county.py, a county unlike the sample, with town text typed the way real offices type it).

    python benchmarks/bench_distinct.py          # or: make bench-distinct

Per county and year (zhidang_analysis.analysis.similarity, digits removed so only wording counts):
- the median and the maximum of ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()`` over every pair of
  towns, and the most similar pair;
- the largest share of a report's body made of sentences that every report of the county has word for word;
and how much of the seed report's wording the seed town's 2021 report keeps (sentence by sentence, weighted by
length). Targets: median ≤ 70%, max ≤ 80%, shared by all ≤ 10%, seed wording ≥ 85%.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import tempfile
import time
from pathlib import Path

from common import run_script

import zhidang_analysis as zd
from zhidang_analysis.analysis import similarity

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "tests" / "data" / "seed-report.txt"


def _sentences(text: str) -> list[str]:
    text = re.sub(r"[\dx.]+", "", text)
    return [s for s in re.split(r"(?<=[。；])|\n", text) if len(s.strip()) > 4]


def _second_county(folder: Path) -> Path:
    spec = importlib.util.spec_from_file_location("make_second_county", ROOT / "data" / "make_second_county.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build(folder)


def _county(ds) -> None:
    print(f"\n{ds.county}（{len(ds.towns)}个乡镇）")
    print(f"{'年度':<6}{'乡镇对':>6}{'中位数':>9}{'最高':>8}{'全县共有句':>10}  最相似的两个乡镇   渲染用时")
    for year in ds.years:
        t0 = time.perf_counter()
        texts = {t: zd.narrative.town_report(ds, t, year).text for t in ds.towns}
        render = time.perf_counter() - t0
        s = similarity.summary(texts)
        n = len(texts) * (len(texts) - 1) // 2
        print(f"{year:<8}{n:>6}{s['median']:>9.1%}{s['max']:>9.1%}{s['shared_max']:>12.1%}  "
              f"{'—'.join(s['pair'])}   {render:.1f}秒")


def main() -> int:
    _county(zd.load_dataset())
    with tempfile.TemporaryDirectory(prefix="zhidang-shiling-") as tmp:
        _county(zd.load_dataset(_second_county(Path(tmp)), cache=False))
    ds = zd.load_dataset()
    generated = _sentences(zd.narrative.town_report(ds, "天堂镇", 2021).text)
    kept = weight = 0.0
    for s in _sentences(SEED.read_text(encoding="utf-8")):
        kept += len(s) * max(difflib.SequenceMatcher(None, s, g, autojunk=False).ratio() for g in generated)
        weight += len(s)
    print(f"\n天堂镇2021年报告保留范本措辞（逐句，按长度加权）：{kept / weight:.1%}")
    return 0


if __name__ == "__main__":
    run_script(main)
