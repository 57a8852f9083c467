"""Plausibility checks: values that are valid but unusual, marked ``check`` (请核实) for the town to confirm.

Validation (:mod:`zhidang_analysis.inputs`) finds what cannot be used (errors) and what looks wrong (warnings).
The checks here find values that pass both but stand out — a big jump against last year, a value far outside the
county's range. They are pure functions of a dataset, so that every output that states them counts the same ones:
the check report (``zhidang validate --report``, a batch's ``checks.html``, :mod:`outputs.checks`) and the county
overview's list of data to confirm (:mod:`report.overview`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..model.dataset import Dataset, Problem

__all__ = ["plausibility", "source_parts"]


def _fmt(x: float) -> str:
    """A number for a message: integers without ``.0``, others with at most two decimals."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    r = round(float(x), 2)
    return str(int(r)) if r.is_integer() else f"{r:.2f}".rstrip("0").rstrip(".")


def source_parts(source: str) -> tuple[str, str | None, str | None]:
    """Split a value's ``source`` (``file!sheet!cell``, ``file!cell`` for CSV, or ``file``)."""
    parts = str(source).split("!")
    if len(parts) >= 3:
        return parts[0], "!".join(parts[1:-1]), parts[-1]
    if len(parts) == 2:
        return parts[0], None, parts[1]
    return parts[0], None, None


def plausibility(dataset: Dataset, jump_factor: float = 3.0, *, range_factor: float = 3.0, range_ratio: float = 4.0,
                 small_count: float = 10.0, min_towns: int = 5, years: Iterable[int] | None = None) -> list[Problem]:
    """Values that are valid but unusual, as problems of level ``check`` (请核实).

    Only present values are compared (an approximate ``30余`` counts as 30). Two rules:

    1. **Jump against last year.** With ``v`` this year and ``p`` last year (same town and indicator),
       flag when ``max(v, s) > jump_factor · max(p, s)`` or ``max(p, s) > jump_factor · max(v, s)``,
       where the floor ``s`` is ``small_count`` (10) for counts and 0 for amounts. The floor keeps small
       counts quiet (3 → 12 is not flagged, 12 → 120 is); for amounts any change from or to 0 is flagged.
    2. **Far from the county's range.** For each year and indicator with at least ``min_towns`` present
       values, flag a value ``v`` that is both

       - outside ``[Q1 − k·d, Q3 + k·d]``, where Q1, Q3 are the quartiles across towns (pandas' linear
         interpolation), ``k = range_factor`` and ``d = max(Q3 − Q1, 1)`` for counts, ``Q3 − Q1`` for
         amounts, and
       - more than ``range_ratio`` (4) times away from the county median ``m``: ``max(v, s) > range_ratio ·
         max(m, s)`` or the reverse (same floor ``s`` as above).

       The second condition keeps a big or small town quiet when the middle towns happen to be tightly
       clustered (IQR fences alone flag 120 against a median of 80 when Q1 = 76, Q3 = 87): towns differ in
       size by a factor of 3 to 5, while the slips worth catching (an extra digit, 元 for 万元) are ×10.

    ``years`` restricts the years checked (default: all). Problems are ordered by town, year, indicator
    and rule. Their ``value`` is what the town wrote (``30余`` for an approximate value).

    >>> import zhidang_analysis as zd
    >>> plausibility(zd.load_dataset())  # the bundled sample is plausible throughout
    []
    """
    if jump_factor <= 1 or range_ratio <= 1 or range_factor <= 0:
        raise ValueError("jump_factor and range_ratio must be > 1, range_factor > 0")
    cat = dataset.catalog
    v = dataset.values
    v = v[v["status"] == "present"][["town", "year", "indicator", "value", "approx", "source"]]
    integer = v["indicator"].map(cat.frame["integer"]).astype(bool)
    v = v.assign(integer=integer.to_numpy())
    if years is not None:
        wanted = {int(y) for y in years}
        checked = v[v["year"].isin(wanted)]
    else:
        checked = v
    found: list[tuple[tuple, Problem]] = []
    town_order = {t: i for i, t in enumerate(dataset.profile.index)}
    code_order = {c: i for i, c in enumerate(cat.codes)}

    def add(rec, kind: int, message: str, expected: str):
        file, sheet, cell = source_parts(rec.source)
        value = _fmt(rec.value) + ("余" if rec.approx else "")
        key = (town_order.get(rec.town, len(town_order)), rec.year, code_order.get(rec.indicator, 0), kind)
        found.append((key, Problem("check", file, sheet, cell, value, message, expected, rec.town, rec.indicator)))

    # 1. jump against last year
    prev = v[["town", "year", "indicator", "value"]].assign(year=v["year"] + 1).rename(columns={"value": "prev"})
    j = checked.merge(prev, on=["town", "year", "indicator"], how="inner")
    floor = j["integer"].map({True: float(small_count), False: 0.0})
    now, before = j["value"].clip(lower=floor), j["prev"].clip(lower=floor)
    up = now > jump_factor * before
    down = before > jump_factor * now
    for rec, is_up in zip(j[up | down].itertuples(index=False), up[up | down]):
        name, unit = cat.name(rec.indicator), cat.frame.at[rec.indicator, "unit"]
        last = f"{rec.year - 1}年为{_fmt(rec.prev)}{unit}"
        if is_up:
            change = f"，是上年的{_fmt(rec.value / rec.prev)}倍" if rec.prev > 0 else ""
            message = f"“{name}”比上年大幅增加（{last}{change}）"
        else:
            change = f"，只有上年的{_fmt(100 * rec.value / rec.prev)}%" if rec.prev > 0 else ""
            message = f"“{name}”比上年大幅减少（{last}{change}）"
        add(rec, 0, message, f"与上年相差不超过{_fmt(jump_factor)}倍；如数据无误，请说明原因")

    # 2. far from the county's range
    for (year, code), group in checked.groupby(["year", "indicator"], sort=False):
        values = v[(v["year"] == year) & (v["indicator"] == code)]["value"]
        if len(values) < min_towns:
            continue
        q1, q3, median = values.quantile(0.25), values.quantile(0.75), values.median()
        is_count = bool(cat.frame.at[code, "integer"])
        d = max(q3 - q1, 1.0) if is_count else q3 - q1
        lo, hi = q1 - range_factor * d, q3 + range_factor * d
        s = float(small_count) if is_count else 0.0
        m, x = max(median, s), group["value"].clip(lower=s)
        far = (x > range_ratio * m) | (m > range_ratio * x)
        outside = group[((group["value"] < lo) | (group["value"] > hi)) & far]
        if outside.empty:
            continue
        ind = cat[code]
        shown_lo = max(lo, ind["min"])
        for rec in outside.itertuples(index=False):
            message = (f"“{ind['name']}”明显偏离全县各乡镇的一般水平（{year}年{len(values)}个乡镇的中位数为"
                       f"{_fmt(median)}{ind['unit']}）")
            add(rec, 1, message, f"接近全县一般范围（{_fmt(shown_lo)}～{_fmt(hi)}{ind['unit']}）；如数据无误，请说明原因")
    found.sort(key=lambda kp: kp[0])
    return [p for _, p in found]
