"""The data of every chart of the reports and the overview, as tables an analyst can redraw in the county's own
style: each function computes exactly what the figure of the same name in :mod:`.charts` draws (the same
selection of indicators and towns, the same scaling and percentiles), with Chinese column names.

:func:`town_chart_data` gives the three figures of a town report, :func:`overview_chart_data` the figures of the
county overview, each as ``{caption: DataFrame}`` in the order the report shows them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.indicators import county_compare, percentile_points, present_rows, scaled_values, up_to, yoy
from ..analysis.standing import county_scores
from ..model.catalog import Catalog
from ..model.dataset import Dataset
from .overview import mover_codes

__all__ = ["county_small_multiples_data", "heatmap_data", "movers_data", "overview_chart_data", "score_breakdown_data",
           "score_ranking_data", "town_chart_data", "town_trend_data", "town_vs_county_data"]


def _key_codes(cat: Catalog) -> list[str]:
    f = cat.frame
    return [c for c in cat.value_codes if bool(f.at[c, "key"])]


def _with_data(frame: pd.DataFrame, codes: list[str]) -> list[str]:
    have = set(frame["indicator"])
    return [c for c in codes if c in have]


def _names(cat: Catalog, codes) -> tuple[list[str], list[str]]:
    return [cat.name(c) for c in codes], [cat.frame.at[c, "unit"] for c in codes]


def town_trend_data(values: pd.DataFrame, town: str, cat: Catalog, codes=None) -> pd.DataFrame:
    """:func:`charts.town_trend`: per key indicator the town reported and year, its value and the county median."""
    present = present_rows(values)
    years = sorted(int(y) for y in pd.unique(values["year"]))
    codes = list(codes) if codes is not None else _key_codes(cat)
    mine = present[(present["town"] == town) & present["indicator"].isin(codes)]
    codes = _with_data(mine, codes)
    wide = mine.pivot_table(index="year", columns="indicator", values="value", aggfunc="first").reindex(index=years)
    median = (present[present["indicator"].isin(codes)]
              .groupby(["year", "indicator"])["value"].median().unstack().reindex(index=years))
    rows = [{"指标代码": c, "指标": cat.name(c), "单位": cat.frame.at[c, "unit"], "年度": y,
             "本乡镇": wide.at[y, c], "全县中位数": median.at[y, c]} for c in codes for y in years]
    return pd.DataFrame(rows, columns=["指标代码", "指标", "单位", "年度", "本乡镇", "全县中位数"])


def town_vs_county_data(values: pd.DataFrame, town: str, year: int, cat: Catalog, codes=None) -> pd.DataFrame:
    """:func:`charts.town_vs_county`: the town's value, the county median and the index (median = 100)."""
    codes = list(codes) if codes is not None else _key_codes(cat)
    cc = county_compare(values, year, catalog=cat)
    mine = cc[(cc["town"] == town) & cc["indicator"].isin(codes)].drop_duplicates("indicator")
    mine = mine.set_index("indicator").reindex([c for c in codes if c in set(mine["indicator"])])
    mine = mine[mine["value"].notna() & mine["county_median"].notna() & (mine["county_median"] > 0)]
    name, unit = _names(cat, mine.index)
    approx = mine["approx"].fillna(False).astype(bool) if "approx" in mine else pd.Series(False, mine.index)
    return pd.DataFrame({"指标代码": list(mine.index), "指标": name, "单位": unit,
                         "本乡镇": mine["value"].to_numpy(dtype="float64"), "约数": approx.to_numpy(),
                         "全县中位数": mine["county_median"].to_numpy(dtype="float64"),
                         "指数（全县中位数=100）": (mine["value"] / mine["county_median"] * 100.0).to_numpy(dtype="float64")})


def score_breakdown_data(scores: pd.DataFrame, town: str, year: int, cat: Catalog) -> pd.DataFrame:
    """:func:`charts.score_breakdown`: the town's score of each section and the county median of it."""
    sections = [c for c in scores.columns if c in cat.sections]
    yearly = scores.xs(year, level="year")
    row = yearly.loc[town]
    return pd.DataFrame({"部分": sections, "名称": [cat.sections[s] for s in sections],
                         "本乡镇得分": pd.to_numeric(pd.Series([row[s] for s in sections], dtype="Float64"))
                         .astype("float64").to_numpy(),
                         "全县中位数": [float(pd.to_numeric(yearly[s]).astype("float64").median()) for s in sections]})


def score_ranking_data(scores: pd.DataFrame, year: int) -> pd.DataFrame:
    """:func:`charts.score_ranking`: towns with a score, best first, with their rank."""
    yearly = scores.xs(year, level="year")
    yearly = yearly[yearly["score"].notna()]
    rank = yearly["rank"] if "rank" in yearly else yearly["score"].rank(method="min", ascending=False)
    order = yearly.assign(_rank=rank.astype("float64")).reset_index()
    order = order.sort_values(["_rank", "score", "town"], ascending=[True, False, True], kind="stable")
    return pd.DataFrame({"乡镇": order["town"].to_numpy(), "综合得分": order["score"].to_numpy(dtype="float64"),
                         "排名": order["_rank"].astype("int64").to_numpy()})


def heatmap_data(values: pd.DataFrame, year: int, profile: pd.DataFrame | None, cat: Catalog,
                 codes=None) -> pd.DataFrame:
    """:func:`charts.heatmap`: per town and key indicator the value reported, the size-scaled value compared
    and the relative level (0 the county's lowest, 100 its highest; reversed where less is better)."""
    rows = values[values["year"] == year]
    towns = list(pd.unique(rows["town"]))
    if profile is not None:
        p = scaled_values(rows, profile, catalog=cat)
        p = p.assign(_x=p["scaled"])
    else:
        p = present_rows(rows).assign(_x=lambda d: d["value"])
    codes = list(codes) if codes is not None else _key_codes(cat)
    p = p[p["indicator"].isin(codes) & p["_x"].notna()]
    codes = _with_data(p, codes)
    p = p[p["indicator"].isin(codes)]
    pol = p["indicator"].map(cat.frame["polarity"]).astype(float).replace(0, 1)
    p = p.assign(_pct=percentile_points(p["_x"] * pol, [p["indicator"]]))
    p = p.set_index(["town", "indicator"])
    out = []
    for town in towns:
        for c in codes:
            k = (town, c)
            has = k in p.index
            out.append({"乡镇": town, "指标代码": c, "指标": cat.name(c), "单位": cat.frame.at[c, "unit"],
                        "数值": p.at[k, "value"] if has else np.nan, "比较值（折算后）": p.at[k, "_x"] if has else np.nan,
                        "相对水平（0—100）": p.at[k, "_pct"] if has else np.nan})
    return pd.DataFrame(out, columns=["乡镇", "指标代码", "指标", "单位", "数值", "比较值（折算后）", "相对水平（0—100）"])


def movers_data(yoy_frame: pd.DataFrame, year: int, code: str, cat: Catalog, n: int = 5) -> pd.DataFrame:
    """:func:`charts.movers` (by change): up to ``n`` rises and ``n`` falls of ``code`` against the year before."""
    this_year = yoy_frame[(yoy_frame["year"] == year) & yoy_frame["change"].notna()]
    sub = this_year[(this_year["indicator"] == code) & (this_year["change"] != 0)]
    sub = sub.assign(_x=sub["change"].astype("float64"))
    rises = sub[sub["_x"] > 0].sort_values(["_x", "town"], ascending=[False, True]).head(n)
    falls = sub[sub["_x"] < 0].sort_values(["_x", "town"], ascending=[True, True]).head(n).iloc[::-1]
    shown = pd.concat([rises, falls])
    improved = shown["improved"] if "improved" in shown else pd.Series(pd.NA, index=shown.index)
    return pd.DataFrame({"乡镇": shown["town"].to_numpy(), "上年": shown["prev_value"].to_numpy(dtype="float64"),
                         "本年": shown["value"].to_numpy(dtype="float64"),
                         f"比上年增减（{cat.frame.at[code, 'unit']}）": shown["_x"].to_numpy(),
                         "向好": ["" if pd.isna(i) else ("是" if bool(i) else "否") for i in improved]})


def county_small_multiples_data(values: pd.DataFrame, cat: Catalog, codes=None) -> pd.DataFrame:
    """:func:`charts.county_small_multiples`: per key indicator and year the county total (additive) or the
    towns' mean, and whether some town left it blank that year (the total is then understated)."""
    present = present_rows(values)
    years = sorted(int(y) for y in pd.unique(values["year"]))
    codes = list(codes) if codes is not None else _key_codes(cat)
    present = present[present["indicator"].isin(codes)]
    codes = _with_data(present, codes)
    g = present.groupby(["indicator", "year"])["value"]
    sums, means = g.sum().unstack(), g.mean().unstack()
    miss = values[values["status"] == "missing"] if "status" in values else values.iloc[:0]
    incomplete = set(zip(miss["indicator"], miss["year"].astype(int)))
    rows = []
    for c in codes:
        additive = bool(cat.frame.at[c, "additive"])
        series = (sums if additive else means).loc[c].reindex(years)
        for y in years:
            rows.append({"指标代码": c, "指标": cat.name(c), "单位": cat.frame.at[c, "unit"], "年度": y,
                         "口径": "各乡镇合计" if additive else "乡镇平均", "数值": series[y],
                         "有乡镇未填报": (c, y) in incomplete})
    return pd.DataFrame(rows, columns=["指标代码", "指标", "单位", "年度", "口径", "数值", "有乡镇未填报"])


def town_chart_data(ds: Dataset, town: str, year: int) -> dict[str, pd.DataFrame]:
    """The data of the three figures of ``town``'s report of ``year`` (captions as the report gives them)."""
    cat = ds.catalog
    scores = county_scores(ds, year)
    return {
        f"图1  {town}主要指标历年变化": town_trend_data(up_to(ds.values, year), town, cat),
        f"图2  {town}{year}年主要指标与全县中位数比较": town_vs_county_data(ds.values, town, year, cat),
        f"图3  {town}{year}年综合得分构成": score_breakdown_data(scores, town, year, cat),
    }


def overview_chart_data(ds: Dataset, year: int) -> dict[str, pd.DataFrame]:
    """The data of the figures of the county overview of ``year`` (captions as the overview gives them)."""
    cat = ds.catalog
    out = {f"图1  {year}年各乡镇综合得分排名": score_ranking_data(county_scores(ds, year), year),
           f"图2  {year}年各乡镇重点指标相对水平": heatmap_data(ds.values, year, ds.profile, cat)}
    codes = mover_codes(ds, year)
    changes = yoy(ds.values[ds.values["year"].isin([year - 1, year])], catalog=cat)
    for number, code in enumerate(codes, start=3):
        out[f"图{number}  {year}年{cat.name(code)}比上年变化较大的乡镇"] = movers_data(changes, year, code, cat)
    out[f"图{3 + len(codes)}  全县主要指标历年变化"] = county_small_multiples_data(up_to(ds.values, year), cat)
    return out
