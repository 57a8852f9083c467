"""How much text two towns' reports share, per year of the bundled sample (issue: reports read as copy-paste).

    python benchmarks/bench_distinct.py          # or: make bench-distinct

For every pair of towns in a year: ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()`` of the two
narratives with digits removed (so only wording counts). Prints the median and the maximum per year, the most
similar pair, and how much of the seed report's wording the seed town's 2021 report keeps (sentence by sentence,
weighted by length). Targets: median ≤ 75%, max ≤ 85%, seed wording ≥ 85%.
"""

from __future__ import annotations

import difflib
import itertools
import re
import statistics
import time
from pathlib import Path

import zhidang_analysis as zd

SEED = Path(__file__).resolve().parent.parent / "tests" / "data" / "seed-report.txt"


def _plain(text: str) -> str:
    return re.sub(r"[\d.]+", "", text)


def _sentences(text: str) -> list[str]:
    text = re.sub(r"[\dx.]+", "", text)
    return [s for s in re.split(r"(?<=[。；])|\n", text) if len(s.strip()) > 4]


def main() -> None:
    ds = zd.load_dataset()
    print(f"{'年度':<6}{'乡镇对':>6}{'中位数':>9}{'最高':>8}  最相似的两个乡镇   渲染用时")
    for year in ds.years:
        t0 = time.perf_counter()
        texts = {t: _plain(zd.narrative.town_report(ds, t, year).text) for t in ds.towns}
        render = time.perf_counter() - t0
        ratios = {(a, b): difflib.SequenceMatcher(None, texts[a], texts[b], autojunk=False).ratio()
                  for a, b in itertools.combinations(sorted(texts), 2)}
        top = max(ratios, key=ratios.get)
        print(f"{year:<8}{len(ratios):>6}{statistics.median(ratios.values()):>9.1%}{ratios[top]:>9.1%}  "
              f"{'—'.join(top)}   {render:.1f}秒")
    generated = _sentences(zd.narrative.town_report(ds, "天堂镇", 2021).text)
    kept = weight = 0.0
    for s in _sentences(SEED.read_text(encoding="utf-8")):
        kept += len(s) * max(difflib.SequenceMatcher(None, s, g, autojunk=False).ratio() for g in generated)
        weight += len(s)
    print(f"天堂镇2021年报告保留范本措辞（逐句，按长度加权）：{kept / weight:.1%}")


if __name__ == "__main__":
    main()
