"""Indicator functions: pure functions on the tidy values table.

Every function takes the tidy values (``Dataset.values`` or a slice of it: columns ``town``, ``year``,
``indicator``, ``value`` and optionally ``status``/``approx``) first and returns a new DataFrame or
Series; nothing mutates its input, so they chain with ``.pipe``::

    >>> import zhidang_analysis as zd
    >>> ds = zd.load_dataset()
    >>> ds.values.pipe(zd.indicators.yoy).query("town == '青石镇' and year == 2025 and indicator == 'new_members'")[
    ...     ["value", "prev_value", "change", "change_word"]].iloc[0].tolist()  # doctest: +SKIP
    [17.0, 16.0, 1.0, '增加']

County-wide functions are vectorised (groupby/transform, no Python loop over towns), so they run on a
province-sized frame; see ``benchmarks/bench_indicators.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import UnknownNameError
from ..model.catalog import Catalog, load_catalog, load_scoring

__all__ = [
    "best_year",
    "cagr",
    "composite_score",
    "county_compare",
    "coverage",
    "flags",
    "per_capita",
    "percentile_points",
    "scaled_values",
    "target_completion",
    "town_table",
    "town_year",
    "trend",
    "up_to",
    "year_table",
    "yoy",
]

_KEYS = ["town", "year", "indicator"]
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


# --------------------------------------------------------------------------------------------- counties
def _several_counties(values: pd.DataFrame) -> bool:
    return "county" in values.columns and values["county"].nunique() > 1


def _county_part(x, county: str):
    """The part of an argument that belongs to ``county``: a profile indexed by (county, town) → by town; a
    tidy frame with a ``county`` column → its rows, without that column; anything else as it is."""
    if isinstance(x, pd.DataFrame):
        if isinstance(x.index, pd.MultiIndex) and "county" in x.index.names:
            return x.xs(county, level="county") if county in x.index.get_level_values("county") else x.iloc[:0].droplevel("county")
        if "county" in x.columns and "town" in x.columns:
            return x[x["county"] == county].drop(columns=["county"])
    return x


def within_counties(fn):
    """Run ``fn`` once per county when ``values`` hold several, or when a profile indexed by (county, town) comes
    with them (a town is (county, town), and ranks, medians, percentiles, scores and flags compare towns of one
    county), and put the results together: row frames get a ``county`` column, frames indexed by town get a
    ``county`` index level in front. On one county's data ``fn`` runs as it is."""
    import functools

    @functools.wraps(fn)
    def wrapper(values: pd.DataFrame, *args, **kwargs):
        by_county = any(isinstance(a, pd.DataFrame) and isinstance(a.index, pd.MultiIndex)
                        and "county" in a.index.names for a in (*args, *kwargs.values()))
        if "county" not in values.columns or not (by_county or _several_counties(values)):
            return fn(values, *args, **kwargs)
        parts = {}
        for county, v in values.groupby("county", sort=False):
            parts[county] = fn(v, *(_county_part(a, county) for a in args),
                               **{k: _county_part(a, county) for k, a in kwargs.items()})
        first = next(iter(parts.values()))
        if isinstance(first, pd.DataFrame) and "county" in first.columns:  # rows of values, their index kept
            return pd.concat(parts.values(), ignore_index=isinstance(first.index, pd.RangeIndex))
        if isinstance(first, pd.DataFrame) and isinstance(first.index, pd.RangeIndex):
            return pd.concat([f.assign(county=c)[["county", *f.columns]] for c, f in parts.items()],
                             ignore_index=True)
        return pd.concat(parts, names=["county"])

    return wrapper


# --------------------------------------------------------------------------------------------- helpers
def catalog_or_default(catalog: Catalog | None) -> Catalog:
    return catalog or load_catalog()


def present_rows(values: pd.DataFrame) -> pd.DataFrame:
    """Rows that carry a number (status present, or no status column and a value)."""
    if "status" in values.columns:
        mask = (values["status"] == "present") & values["value"].notna()
    else:
        mask = values["value"].notna()
    return values.loc[mask]


def _lookup(keys: pd.Series, mapping) -> pd.Series:
    """``keys.map(mapping)``, mapping only the distinct keys (a few dozen codes, not a million rows)."""
    codes, uniques = pd.factorize(keys)
    small = pd.Series(uniques).map(mapping)
    return pd.Series(small.array.take(codes, allow_fill=True), index=keys.index, name=keys.name)


def _polarity(indicators: pd.Series, catalog: Catalog) -> pd.Series:
    return _lookup(indicators, catalog.frame["polarity"]).fillna(1).astype("int64")


def check_names(values: pd.DataFrame, *, town=None, year=None, codes=None, catalog=None) -> None:
    """Raise UnknownNameError for a town, year or indicator code that is not in ``values``/the catalog."""
    if town is not None and not (values["town"] == town).any():
        raise UnknownNameError("乡镇", town, pd.unique(values["town"]))
    if year is not None:
        years = pd.unique(values["year"])
        if year not in set(int(y) for y in years):
            raise UnknownNameError("年度", year, sorted(int(y) for y in years))
    if codes is not None:
        cat = catalog_or_default(catalog)
        for c in codes:
            cat.check(c)


def _labelled(df: pd.DataFrame, labels: bool, catalog: Catalog | None) -> pd.DataFrame:
    if not labels:
        return df
    return df.rename(columns=catalog_or_default(catalog).labels([c for c in df.columns if c in catalog_or_default(catalog)]))


def _wide(values: pd.DataFrame, index: str, codes, catalog) -> pd.DataFrame:
    cat = catalog_or_default(catalog)
    wide = values.pivot_table(index=index, columns="indicator", values="value", aggfunc="first", dropna=False)
    # codes asked for by name are all shown (NaN where the slice has no value); otherwise those present
    order = list(codes) if codes is not None else [c for c in cat.codes if c in wide.columns]
    extra = [c for c in wide.columns if c not in cat.codes and codes is None]
    wide = wide.reindex(columns=order + extra)
    wide.columns.name = "indicator"
    return wide


# --------------------------------------------------------------------------------------------- slicing
def town_year(values: pd.DataFrame, town: str, year: int, *, catalog: Catalog | None = None) -> pd.Series:
    """Values of one town in one year as a Series keyed by indicator code (NaN where missing or n/a).

    >>> v = pd.DataFrame({"town": ["甲镇", "甲镇"], "year": [2024, 2024],
    ...                   "indicator": ["new_members", "theme_party_days"], "value": [12.0, 30.0]})
    >>> town_year(v, "甲镇", 2024).to_dict()
    {'new_members': 12.0, 'theme_party_days': 30.0}
    """
    check_names(values, town=town, year=year)
    rows = values[(values["town"] == town) & (values["year"] == year)]
    s = rows.set_index("indicator")["value"].astype("float64")
    s.name = f"{town}{year}"
    return s


@within_counties
def town_table(values: pd.DataFrame, year: int, *, codes=None, labels: bool = False,
               catalog: Catalog | None = None) -> pd.DataFrame:
    """Town × indicator table for one year (wide). ``labels=True`` gives Chinese column labels with units.

    Columns follow catalog order; ``codes`` picks them (each one shown, NaN where it has no value).

    >>> v = pd.DataFrame({"town": ["甲镇", "乙镇"], "year": [2024, 2024],
    ...                   "indicator": ["new_members"] * 2, "value": [12.0, 9.0]})
    >>> town_table(v, 2024, labels=True).to_dict()
    {'发展党员（名）': {'乙镇': 9.0, '甲镇': 12.0}}
    """
    check_names(values, year=year, codes=codes, catalog=catalog)
    rows = values[values["year"] == year]
    return _labelled(_wide(rows, "town", codes, catalog), labels, catalog)


def year_table(values: pd.DataFrame, town: str, *, codes=None, labels: bool = False,
               catalog: Catalog | None = None) -> pd.DataFrame:
    """Year × indicator table for one town (wide): the town's multi-year series.

    >>> v = pd.DataFrame({"town": ["甲镇", "甲镇"], "year": [2023, 2024],
    ...                   "indicator": ["new_members"] * 2, "value": [10.0, 12.0]})
    >>> year_table(v, "甲镇")["new_members"].tolist()
    [10.0, 12.0]
    """
    check_names(values, town=town, codes=codes, catalog=catalog)
    rows = values[values["town"] == town]
    return _labelled(_wide(rows, "year", codes, catalog), labels, catalog)


trend = year_table


def up_to(values: pd.DataFrame, year: int) -> pd.DataFrame:
    """The rows of ``year`` and earlier: what a report of that year may show (no later data).

    >>> v = pd.DataFrame({"town": ["甲镇"] * 3, "year": [2023, 2024, 2025],
    ...                   "indicator": ["new_members"] * 3, "value": [10.0, 12.0, 14.0]})
    >>> up_to(v, 2024)["year"].tolist()
    [2023, 2024]
    """
    check_names(values, year=year)
    return values[values["year"] <= year]


# --------------------------------------------------------------------------------------------- yoy
@within_counties
def yoy(values: pd.DataFrame, *, catalog: Catalog | None = None) -> pd.DataFrame:
    """Year-over-year change of every present value against the previous year in which it was present.

    Adds ``prev_year``, ``prev_value``, ``change`` (absolute), ``rate`` (change / previous; NaN when the
    base is zero or missing, never inf or 0), ``change_word`` (增加/减少/持平), ``rate_word``
    (增长/下降/持平) and ``improved`` (True/False by the indicator's polarity; NA when neutral, unchanged
    or without a previous value). Rows that are not present keep NaN in the new columns.

    >>> v = pd.DataFrame({"town": ["甲镇"] * 3, "year": [2022, 2023, 2024],
    ...                   "indicator": ["new_members"] * 3, "value": [0.0, 10.0, 8.0]})
    >>> yoy(v)[["change", "rate", "change_word", "rate_word"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [[nan, nan, nan, nan], [10.0, nan, '增加', '增长'], [-2.0, -0.2, '减少', '下降']]
    """
    cat = catalog_or_default(catalog)
    out = values.reset_index(drop=True)  # work by position, so any index (even a duplicated one) is fine
    # groupby().shift follows row order within each group, so ordering by year alone is enough
    present = present_rows(out).sort_values("year", kind="stable")
    g = present.groupby(["town", "indicator"], sort=False)
    prev_value = g["value"].shift(1)
    prev_year = g["year"].shift(1)
    change = present["value"] - prev_value
    base = prev_value.where(prev_value != 0)
    rate = change / base
    out["prev_year"] = prev_year.reindex(out.index).astype("Int64")
    out["prev_value"] = prev_value.reindex(out.index)
    out["change"] = change.reindex(out.index)
    out["rate"] = rate.reindex(out.index)
    sign = np.sign(out["change"])
    out["change_word"] = sign.map({1.0: "增加", -1.0: "减少", 0.0: "持平"})
    out["rate_word"] = sign.map({1.0: "增长", -1.0: "下降", 0.0: "持平"})
    pol = _polarity(out["indicator"], cat)
    better = sign * pol
    improved = pd.Series(pd.NA, index=out.index, dtype="boolean")
    improved[better > 0] = True
    improved[better < 0] = False
    out["improved"] = improved
    out.index = values.index
    return out


# --------------------------------------------------------------------------------------------- trends
@within_counties
def cagr(values: pd.DataFrame, start: int | None = None, end: int | None = None) -> pd.DataFrame:
    """Compound annual growth per town and indicator between ``start`` and ``end`` (default: first and
    last year each series is present): ``(end_value / start_value) ** (1 / years) - 1``.

    NaN when the start value is zero or missing, or the span is zero years. A ``start``/``end`` that is
    not a year of ``values`` raises :class:`UnknownNameError`.

    >>> v = pd.DataFrame({"town": ["甲镇"] * 3, "year": [2020, 2021, 2022],
    ...                   "indicator": ["new_members"] * 3, "value": [10.0, 12.0, 14.4]})
    >>> round(float(cagr(v).loc[("甲镇", "new_members"), "cagr"]), 6)
    0.2
    """
    check_names(values, year=start)
    check_names(values, year=end)
    p = present_rows(values)
    if start is not None:
        p = p[p["year"] >= start]
    if end is not None:
        p = p[p["year"] <= end]
    p = p.sort_values(["town", "indicator", "year"])
    g = p.groupby(["town", "indicator"])
    first = g.first()[["year", "value"]].rename(columns={"year": "start_year", "value": "start_value"})
    last = g.last()[["year", "value"]].rename(columns={"year": "end_year", "value": "end_value"})
    out = first.join(last)
    span = (out["end_year"] - out["start_year"]).astype("float64")
    ok = (out["start_value"] > 0) & (span > 0)
    ratio = (out["end_value"] / out["start_value"]).where(ok)
    out["years"] = span
    out["cagr"] = np.power(ratio, 1.0 / span.where(ok)) - 1.0
    return out


@within_counties
def best_year(values: pd.DataFrame, *, catalog: Catalog | None = None) -> pd.DataFrame:
    """Year of the best value per town and indicator (highest, or lowest when less is better; the
    earliest year wins a tie). Neutral indicators report their highest value.

    >>> v = pd.DataFrame({"town": ["甲镇"] * 3, "year": [2020, 2021, 2022],
    ...                   "indicator": ["new_members"] * 3, "value": [10.0, 14.0, 14.0]})
    >>> best_year(v).reset_index().to_dict("records")
    [{'town': '甲镇', 'indicator': 'new_members', 'best_year': 2021, 'best_value': 14.0}]
    """
    cat = catalog_or_default(catalog)
    p = present_rows(values)
    pol = _polarity(p["indicator"], cat).replace(0, 1)
    key = p["value"] * pol
    order = p.assign(_key=key).sort_values(["town", "indicator", "_key", "year"],
                                           ascending=[True, True, False, True])
    best = order.groupby(["town", "indicator"]).head(1).set_index(["town", "indicator"])
    out = best[["year", "value"]].rename(columns={"year": "best_year", "value": "best_value"})
    out["best_year"] = out["best_year"].astype("int64")
    return out.sort_index()


# --------------------------------------------------------------------------------------------- targets
@within_counties
def target_completion(values: pd.DataFrame, targets: pd.DataFrame, *,
                      catalog: Catalog | None = None) -> pd.DataFrame:
    """Completion against yearly targets: ``completion`` (value / target), ``met`` and ``gap`` (value − target).

    Only (town, year, indicator) with a target appear; a town without targets has no rows. ``met`` follows
    polarity (for a less-is-better indicator, at or below target is met); NA when the value or the target
    is missing.

    >>> v = pd.DataFrame({"town": ["甲镇"], "year": [2024], "indicator": ["new_members"], "value": [9.0]})
    >>> t = pd.DataFrame({"town": ["甲镇"], "year": [2024], "indicator": ["new_members"], "target": [12.0]})
    >>> target_completion(v, t)[["completion", "met", "gap"]].to_dict("records")
    [{'completion': 0.75, 'met': False, 'gap': -3.0}]
    """
    cat = catalog_or_default(catalog)
    t = targets[["town", "year", "indicator", "target"]]
    v = present_rows(values)[["town", "year", "indicator", "value"]]
    out = t.merge(v, on=_KEYS, how="left")
    out["completion"] = out["value"] / out["target"].where(out["target"] != 0)
    out["gap"] = out["value"] - out["target"]
    pol = _polarity(out["indicator"], cat)
    met = pd.Series(pd.NA, index=out.index, dtype="boolean")
    has = out["value"].notna() & out["target"].notna()
    met[has] = np.where(pol[has] < 0, out.loc[has, "value"] <= out.loc[has, "target"],
                        out.loc[has, "value"] >= out.loc[has, "target"])
    out["met"] = met
    return out[_KEYS + ["target", "value", "completion", "met", "gap"]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------- per capita
@within_counties
def per_capita(values: pd.DataFrame, profile: pd.DataFrame) -> pd.DataFrame:
    """Present values with ``per_100_members``, ``per_village``, ``per_branch`` and ``per_10k_people`` from the
    profile (NaN where the size figure is missing or zero).

    >>> v = pd.DataFrame({"town": ["甲镇"], "year": [2024], "indicator": ["theme_party_days"], "value": [50.0]})
    >>> prof = pd.DataFrame({"party_members": [400.0], "villages": [10.0], "party_branches": [20.0],
    ...                      "population": [20000.0]}, index=pd.Index(["甲镇"], name="town"))
    >>> per_capita(v, prof)[["per_100_members", "per_village", "per_branch", "per_10k_people"]].iloc[0].tolist()
    [12.5, 5.0, 2.5, 25.0]
    """
    out = present_rows(values).copy()
    size = profile.reindex(out["town"])
    for col, size_col, factor in (("per_100_members", "party_members", 100.0),
                                  ("per_village", "villages", 1.0),
                                  ("per_branch", "party_branches", 1.0),
                                  ("per_10k_people", "population", 10000.0)):
        if size_col not in size:  # a profile of the analyst's own without this size figure
            out[col] = np.nan
            continue
        denom = size[size_col].to_numpy(dtype="float64")
        denom = np.where(denom > 0, denom, np.nan)
        out[col] = out["value"].to_numpy() / denom * factor
    return out


@within_counties
def coverage(values: pd.DataFrame, profile: pd.DataFrame, *, catalog: Catalog | None = None) -> pd.DataFrame:
    """Coverage ratios the seed implies (catalog ``coverage``), e.g. villages with 一肩挑 over all villages.

    Returns one row per (town, year, ratio) with ``numerator``, ``denominator`` and ``ratio`` (0–1).

    >>> v = pd.DataFrame({"town": ["甲镇"], "year": [2024], "indicator": ["yijiantiao_villages"], "value": [9.0]})
    >>> prof = pd.DataFrame({"villages": [12.0], "party_branches": [15.0]}, index=pd.Index(["甲镇"], name="town"))
    >>> coverage(v, prof).query("code == 'yijiantiao_rate'")["ratio"].tolist()
    [0.75]
    """
    cat = catalog_or_default(catalog)
    p = present_rows(values)
    frames = []
    for code, row in cat.coverage.iterrows():
        num = p[p["indicator"] == row["numerator"]][["town", "year", "value"]].rename(columns={"value": "numerator"})
        if row["denominator"] in profile.columns:
            num["denominator"] = num["town"].map(profile[row["denominator"]]).astype("float64")
        else:
            den = p[p["indicator"] == row["denominator"]][["town", "year", "value"]]
            num = num.merge(den.rename(columns={"value": "denominator"}), on=["town", "year"], how="left")
        num.insert(2, "code", code)
        num.insert(3, "name", row["name"])
        frames.append(num)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["town", "year", "code", "name", "numerator", "denominator"])
    out["ratio"] = out["numerator"] / out["denominator"].where(out["denominator"] > 0)
    return out


# --------------------------------------------------------------------------------------------- county
@within_counties
def county_compare(values: pd.DataFrame, year: int | None = None, *,
                   catalog: Catalog | None = None) -> pd.DataFrame:
    """Each town's standing per indicator within the county, for one year (or every year).

    Columns added to the present values: ``rank`` (1 = best; less-is-better indicators ranked ascending;
    neutral ones by value, highest first; ties share the lowest rank), ``n_towns``, ``percentile``
    (0–100: share of the other reporting towns this town is at least as good as), ``county_mean``,
    ``county_median`` and ``gap_to_median`` (value − median).

    >>> v = pd.DataFrame({"town": ["甲镇", "乙镇", "丙镇"], "year": [2024] * 3,
    ...                   "indicator": ["new_members"] * 3, "value": [12.0, 9.0, 12.0]})
    >>> county_compare(v)[["town", "rank", "percentile", "gap_to_median"]].values.tolist()
    [['甲镇', 1, 100.0, 0.0], ['乙镇', 3, 0.0, -3.0], ['丙镇', 1, 100.0, 0.0]]
    """
    cat = catalog_or_default(catalog)
    if year is not None:
        check_names(values, year=year)
        values = values[values["year"] == year]
    p = present_rows(values).copy()
    pol = _polarity(p["indicator"], cat).replace(0, 1)
    key = p["value"] * pol
    g = key.groupby([p["year"], p["indicator"]])
    p["rank"] = g.rank(method="min", ascending=False).astype("int64")
    n = g.transform("count").astype("int64")
    p["n_towns"] = n
    # towns this one is at least as good as, among the others
    worse_or_equal = g.rank(method="max", ascending=True) - 1
    p["percentile"] = np.where(n > 1, worse_or_equal / (n - 1).where(n > 1) * 100.0, 100.0)
    vg = p["value"].groupby([p["year"], p["indicator"]])
    p["county_mean"] = vg.transform("mean")
    p["county_median"] = vg.transform("median")
    p["gap_to_median"] = p["value"] - p["county_median"]
    return p


@within_counties
def scaled_values(values: pd.DataFrame, profile: pd.DataFrame, *, catalog: Catalog | None = None,
                  scoring: dict | None = None) -> pd.DataFrame:
    """Present values with ``scaled``: the value made comparable across towns of different size, by
    each indicator's ``scale`` in ``data/scoring.yaml`` (per_village, per_branch, per_100_members, per_10k_people,
    none).

    >>> v = pd.DataFrame({"town": ["甲镇"], "year": [2024], "indicator": ["new_members"], "value": [6.0]})
    >>> prof = pd.DataFrame({"party_members": [300.0], "villages": [10.0], "population": [20000.0]},
    ...                     index=pd.Index(["甲镇"], name="town"))
    >>> scaled_values(v, prof)[["scale", "scaled"]].to_dict("records")
    [{'scale': 'per_100_members', 'scaled': 2.0}]
    """
    cat = catalog_or_default(catalog)
    scoring = scoring or load_scoring()
    out = per_capita(values, profile)
    default = scoring.get("default_scale", "none")
    rule = _lookup(out["indicator"], lambda c: scoring.get("scale", {}).get(c, default))
    out["scale"] = rule
    scaled = out["value"].copy()
    for name in ("per_village", "per_branch", "per_100_members", "per_10k_people"):
        m = rule == name
        scaled[m] = out.loc[m, name]
    out["scaled"] = scaled
    out["polarity"] = _polarity(out["indicator"], cat)
    return out


def percentile_points(key: pd.Series, by) -> pd.Series:
    """Score ``key`` 0–100 by its percentile rank within the groups ``by``: ``(rank − 1) / (n − 1) × 100``,
    ties sharing their average rank, a lone member scoring 50. Multiply ``key`` by the polarity first so that
    100 is always the best. Used by :func:`composite_score` and the heatmap of the county overview.

    >>> percentile_points(pd.Series([3.0, 1.0, 2.0, 2.0]), [pd.Series(["a", "a", "a", "b"])]).tolist()
    [100.0, 0.0, 50.0, 50.0]
    """
    g = key.groupby(by)
    n = g.transform("count")
    r = g.rank(method="average", ascending=True)
    return pd.Series(np.where(n > 1, (r - 1) / (n - 1).where(n > 1) * 100.0, 50.0), index=key.index)


@within_counties
def composite_score(values: pd.DataFrame, profile: pd.DataFrame, *, weights: dict | None = None,
                    catalog: Catalog | None = None, scoring: dict | None = None) -> pd.DataFrame:
    """Weighted composite score per town and year (0–100), with its breakdown by section.

    The method is documented in ``data/scoring.yaml``: size-scaled values, per-year percentile scores per
    indicator (reversed when less is better; only performance measures are scored, see the catalog's
    ``measure``), section means, and the
    weighted mean of the sections (weights renormalised over the sections that have a score).

    Returns a frame indexed by (town, year) with one column per section (s1…s6), ``score`` and ``rank``
    (1 = best within the year).

    >>> v = pd.DataFrame({"town": ["甲镇", "乙镇"], "year": [2024, 2024],
    ...                   "indicator": ["theme_party_days"] * 2, "value": [40.0, 60.0]})
    >>> prof = pd.DataFrame({"villages": [10.0, 10.0], "party_branches": [12.0, 12.0], "party_members": [300.0, 300.0],
    ...                      "population": [2e4, 2e4]}, index=pd.Index(["甲镇", "乙镇"], name="town"))
    >>> composite_score(v, prof).loc["甲镇", ["s2", "score"]].values.tolist()
    [[0.0, 0.0]]
    """
    cat = catalog_or_default(catalog)
    scoring = scoring or load_scoring()
    weights = weights or scoring["weights"]
    s = scaled_values(values, profile, catalog=cat, scoring=scoring)
    # only performance measures are scored: a checklist's length, a meeting's attendance or a count that follows
    # the town's size is no better for being larger (the same rule that keeps them out of 存在的问题)
    performance = _lookup(s["indicator"], cat.frame["measure"]).to_numpy() == "performance"
    s = s[(s["polarity"] != 0).to_numpy() & s["scaled"].notna().to_numpy() & performance]
    section = _lookup(s["indicator"], cat.frame["section"])
    keep = section.isin(weights).to_numpy()
    s, section = s[keep], section[keep]
    s = s.assign(points=percentile_points(s["scaled"] * s["polarity"], [s["year"], s["indicator"]]),
                 section=section.to_numpy())
    sections = s.pivot_table(index=["town", "year"], columns="section", values="points", aggfunc="mean")
    sections = sections.reindex(columns=[k for k in weights])
    w = pd.Series(weights, dtype="float64")
    have = sections.notna()
    wsum = have.mul(w, axis=1).sum(axis=1)
    sections["score"] = sections[list(weights)].mul(w, axis=1).sum(axis=1, min_count=1) / wsum.where(wsum > 0)
    sections["rank"] = sections.groupby(level="year")["score"].rank(method="min", ascending=False).astype("Int64")
    sections.columns.name = None
    return sections


# --------------------------------------------------------------------------------------------- flags
@within_counties
def flags(values: pd.DataFrame, *, targets: pd.DataFrame | None = None, profile: pd.DataFrame | None = None,
          drop_threshold: float = 0.2, min_base: float = 5.0, outlier_z: float = 3.5,
          catalog: Catalog | None = None) -> pd.DataFrame:
    """Findings per town and year, the raw material of 二、存在的问题.

    One row per finding with ``town``, ``year``, ``indicator``, ``flag``, ``severity`` (high/medium/low),
    ``value``, ``reference`` (previous value, target or county median), ``ratio`` (rate of change,
    completion, or robust z-score) and a short Chinese ``message``. Flags:

    - ``missing`` (medium): an applicable indicator without a value (``status`` missing; without a
      ``status`` column, a NaN value in a year the indicator applies to);
    - ``decline`` (high): a more-is-better indicator fell by more than ``drop_threshold`` (a share, 0.2 =
      20%) against the previous year present, a count from a base of at least ``min_base`` (so that 1 → 0
      new parks is not called a 100% decline; an amount such as 户均增收 is judged by its rate alone);
    - ``target_missed`` (high): below target (above, when less is better) — needs ``targets``;
    - ``outlier_low`` / ``outlier_high`` (medium / low): robust z-score ``0.6745·(x − median) / MAD`` of the
      size-scaled value beyond ``outlier_z`` among the county's towns that year — needs ``profile``
      (without it raw values are compared); ``outlier_low`` is the unfavourable side by polarity. The
      value must also lie on the same side of the county's raw median (the ``reference`` shown), and that
      median must be at least ``min_base``;
    - ``approx`` (low): a value given only as approximate (``30余``).

    >>> v = pd.DataFrame({"town": ["甲镇"] * 2, "year": [2023, 2024],
    ...                   "indicator": ["new_members"] * 2, "value": [10.0, 7.0]})
    >>> flags(v)[["year", "flag", "message"]].values.tolist()
    [[2024, 'decline', '发展党员比上年下降30%']]
    """
    cat = catalog_or_default(catalog)
    name = cat.frame["name"]
    frames = []
    cols = ["town", "year", "indicator", "flag", "severity", "value", "reference", "ratio", "message"]

    if "status" in values.columns:
        m = values[values["status"] == "missing"]
    else:  # without a status, an applicable indicator whose value is NaN is missing
        first = _lookup(values["indicator"], cat.frame["first_year"])
        last = _lookup(values["indicator"], cat.frame["last_year"])
        m = values[values["value"].isna() & (values["year"] >= first) & (values["year"] <= last)]
    if len(m):
        frames.append(pd.DataFrame({
            "town": m["town"], "year": m["year"], "indicator": m["indicator"], "flag": "missing",
            "severity": "medium", "value": np.nan, "reference": np.nan, "ratio": np.nan,
            "message": _lookup(m["indicator"], name) + "未填报",
        }))

    y = yoy(values, catalog=cat)
    pol = _polarity(y["indicator"], cat)
    # the base matters for counts (1 → 0 parks is no 100% decline); an amount (户均增收0.9万元) is judged by its rate
    counts = _lookup(y["indicator"], cat.frame["integer"]).fillna(True).astype(bool)
    d = y[(pol > 0) & (y["rate"] < -drop_threshold) & ((y["prev_value"] >= min_base) | ~counts)]
    frames.append(pd.DataFrame({
        "town": d["town"], "year": d["year"], "indicator": d["indicator"], "flag": "decline", "severity": "high",
        "value": d["value"], "reference": d["prev_value"], "ratio": d["rate"],
        "message": _lookup(d["indicator"], name) + "比上年下降" + _lookup((-d["rate"] * 100).round(1), _num).astype(str) + "%",
    }))

    if targets is not None and len(targets):
        t = target_completion(values, targets, catalog=cat)
        t = t[t["met"].fillna(True).eq(False)]
        frames.append(pd.DataFrame({
            "town": t["town"], "year": t["year"], "indicator": t["indicator"], "flag": "target_missed",
            "severity": "high", "value": t["value"], "reference": t["target"], "ratio": t["completion"],
            "message": _lookup(t["indicator"], name) + "未完成年度目标（完成" + _lookup((t["completion"] * 100).round(1), _num).astype(str) + "%）",
        }))

    if profile is not None:
        s = scaled_values(values, profile, catalog=cat)
        x = s["scaled"]
    else:
        s = present_rows(values).copy()
        x = s["value"]
    s = s.assign(_x=x)
    g = s.groupby(["year", "indicator"])["_x"]
    med = g.transform("median")
    mad = (s["_x"] - med).abs().groupby([s["year"], s["indicator"]]).transform("median")
    z = 0.6745 * (s["_x"] - med) / mad.where(mad > 0)
    sp = _polarity(s["indicator"], cat).replace(0, 1)
    # assign before filtering: assigning a Series to an empty frame would adopt the Series' index
    s = s.assign(_z=z, _pol=sp)
    # the reference shown is the county median of the reported values, which a reader can compare with;
    # a finding must agree with it (a big town can be low per village yet above the raw median: no finding),
    # and a median below min_base (0 or 1 new park) is too small to call anything an outlier
    raw_median = present_rows(values).groupby(["year", "indicator"])["value"].median()
    s = s.assign(_ref=pd.MultiIndex.from_frame(s[["year", "indicator"]]).map(raw_median).to_numpy())
    side = np.sign(s["value"] - s["_ref"]) * np.sign(s["_z"])
    out = s[(s["_z"].abs() > outlier_z) & (side > 0) & (s["_ref"] >= min_base)]
    low = (out["_z"] * out["_pol"]) < 0
    frames.append(pd.DataFrame({
        "town": out["town"], "year": out["year"], "indicator": out["indicator"],
        "flag": np.where(low, "outlier_low", "outlier_high"), "severity": np.where(low, "medium", "low"),
        "value": out["value"],
        "reference": out["_ref"],
        "ratio": out["_z"],
        "message": _lookup(out["indicator"], name) + np.where(low, "明显低于全县多数乡镇", "明显高于全县多数乡镇"),
    }))

    if "approx" in values.columns:
        a = values[values["approx"].fillna(False).astype(bool)]
        frames.append(pd.DataFrame({
            "town": a["town"], "year": a["year"], "indicator": a["indicator"], "flag": "approx", "severity": "low",
            "value": a["value"], "reference": np.nan, "ratio": np.nan,
            "message": _lookup(a["indicator"], name) + "仅填报了约数",
        }))

    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=cols).astype({"year": "int64", "value": "float64", "reference": "float64",
                                                  "ratio": "float64"})
    res = pd.concat(frames, ignore_index=True)[cols]
    res["year"] = res["year"].astype("int64")
    order = res["severity"].map(SEVERITY_ORDER)
    code_order = _lookup(res["indicator"], {c: i for i, c in enumerate(cat.codes)})
    res = res.assign(_s=order, _c=code_order).sort_values(["town", "year", "_s", "_c"], kind="stable")
    return res.drop(columns=["_s", "_c"]).reset_index(drop=True)


def _num(x: float) -> str:
    """Shortest decimal text of a number: 12.0 → '12', 12.5 → '12.5'. (Mapped over an empty column, the result
    is a float column: callers add ``.astype(str)`` so that joining it to text works with every string storage,
    pyarrow's included.)"""
    if pd.isna(x):
        return ""
    return f"{x:.10g}"
