"""What is the same for every town of a county and year: the standing of each town per indicator, the
findings of :func:`indicators.flags` and the composite scores, computed once per county and year
(:func:`memo.per_county`) for all the reports, the overview, the index and the explorer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..model.dataset import Dataset
from . import indicators as ind
from .memo import per_county

__all__ = ["SCALE_TEXT", "county_context", "county_flags", "county_scores", "printed"]

#: How a size-scaled value is said: 村均3.5件, 平均每个党支部6.5次, 每百名党员4.9名, 每万人…
SCALE_TEXT = {"per_village": "村均", "per_branch": "平均每个党支部", "per_100_members": "每百名党员",
              "per_10k_people": "每万人"}


def printed(x: pd.Series) -> pd.Series:
    """Scaled values as a report prints them (one decimal, two below 1): two towns that print alike rank alike."""
    return x.where(x.abs() < 1, x.round(1)).where(x.abs() >= 1, x.round(2))


@per_county
def county_scores(ds: Dataset, year: int) -> pd.DataFrame:
    """The composite scores of ``year`` (:func:`indicators.composite_score`, indexed by town and year), computed
    once per county and year for all its reports."""
    return ind.composite_score(ds.values[ds.values["year"] == year], ds.profile, catalog=ds.catalog)


@per_county
def county_flags(ds: Dataset, year: int, drop_threshold: float = 0.2) -> pd.DataFrame:
    """The findings of every town in ``year`` (:func:`indicators.flags` on that year and the one before; some
    compare a town with the county), computed once per county and year for all its reports."""
    flags = ind.flags(ds.values[ds.values["year"].isin([year - 1, year])], targets=ds.targets, profile=ds.profile,
                      drop_threshold=drop_threshold, catalog=ds.catalog)
    return flags[flags["year"] == year].reset_index(drop=True)


@per_county
def county_context(ds: Dataset, year: int) -> pd.DataFrame:
    """Every town's standing per indicator in ``year``, the material of the sentences only its data can write.

    One row per (town, indicator) present that year: ``scale``/``scaled`` (size-scaled value, as the composite
    score scales it), ``rank`` (1 = best by polarity; neutral indicators by value) and ``n_towns`` among the
    county's reporting towns, ``median`` (of the scaled values), ``streak`` (consecutive yearly increases
    ending this year), ``record`` (higher than every earlier year), ``first_year`` (first year present) and
    ``n_years`` (years present),
    and ``target``/``completion``/``target_source`` where the town had a target.
    """
    cat = ds.catalog
    v = ind.up_to(ds.values, year)
    now = ind.scaled_values(v[v["year"] == year], ds.profile, catalog=cat)
    now = now[now["scaled"].notna()]
    pol = now["indicator"].map(cat.frame["polarity"]).astype(float).replace(0, 1)  # float even when empty
    # ranked on the exact values (3.646 is 2nd and 3.596 3rd: no tie made by rounding — a reader who divides finds
    # 并列 false); a value that would print like another town's different one is printed with one more decimal
    # (3.65, 3.60), so the ranks read true
    key = now["scaled"].round(9) * pol
    g = key.groupby(now["indicator"])
    out = now[["town", "indicator", "value", "scale", "scaled"]].copy()
    shown = printed(now["scaled"])
    clash = (now.assign(_p=shown, _k=key).groupby(["indicator", "_p"])["_k"].transform("nunique") > 1)
    out["digits"] = np.where(now["scaled"].abs() < 1, 2, 1) + clash.astype(int)
    out["rank"] = g.rank(method="min", ascending=False)
    out["rank_max"] = g.rank(method="max", ascending=False)
    out["n_towns"] = g.transform("count")
    out["median"] = now.groupby("indicator")["scaled"].transform("median")

    present = v[(v["status"] == "present") & v["value"].notna()].sort_values("year", kind="stable")
    hist = present.groupby(["town", "indicator"])
    earlier_max = present[present["year"] < year].groupby(["town", "indicator"])["value"].max()
    first = hist["year"].min()
    y = ind.yoy(present, catalog=cat)
    rising = y[(y["change"] > 0) & (y["prev_year"] == y["year"] - 1)]
    rising_years = set(zip(rising["town"], rising["indicator"], rising["year"]))

    def streak(town: str, code: str) -> int:
        k = 0
        while (town, code, year - k) in rising_years:
            k += 1
        return k

    keys = list(zip(out["town"], out["indicator"]))
    out["streak"] = [streak(t, c) for t, c in keys]
    out["first_year"] = [first.get(k, year) for k in keys]
    n_years = hist["year"].nunique()
    out["n_years"] = [int(n_years.get(k, 1)) for k in keys]
    prev = pd.Series([earlier_max.get(k, float("nan")) for k in keys], index=out.index)
    out["record"] = prev.notna() & (out["value"] > prev)

    t = ds.targets[ds.targets["year"] == year]
    if len(t):
        t = t.rename(columns={"source": "target_source"})[["town", "indicator", "target", "target_source"]]
        out = out.merge(t, on=["town", "indicator"], how="left")
        out["completion"] = out["value"] / out["target"].where(out["target"] > 0)
    else:
        out = out.assign(target=float("nan"), target_source="", completion=float("nan"))
    return out.reset_index(drop=True)
