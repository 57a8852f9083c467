"""County overview of one year: the numbers, tables and text of ``notebooks/county_overview.ipynb``.

Pure functions on a :class:`~zhidang_analysis.model.dataset.Dataset`: each returns a new DataFrame (Chinese
column labels, ready to show) or safe HTML; nothing is mutated, saved or shown. The wording of the
narrative lives in ``templates/narrative/county_overview.html.j2`` and ``county_movers.html.j2``.

    >>> import zhidang_analysis as zd
    >>> from zhidang_analysis import overview
    >>> ds = zd.load_dataset()
    >>> overview.ranking_table(ds, 2025)[["排名", "乡镇"]].iloc[0].tolist()  # doctest: +SKIP
    [1, '花海乡']

Conventions (shared ``docs/report-conventions.md``): Arabic numerals with units; 增加/减少 for an
absolute change, 同比增长/下降 for a rate; ``与上年持平``; nothing about change in the first year of the
data. County totals sum additive indicators only (catalog ``additive``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from markupsafe import Markup, escape

from ..analysis import indicators as ind
from ..analysis import problems
from ..analysis.plausibility import plausibility
from ..analysis.problems import KINDS
from ..errors import ZhidangError
from ..model.catalog import load_scoring
from ..model.dataset import Dataset
from .charts import section_label
from .narrative import HTML, RATE_UNITS, chinese_year, format_number, percent_text, template_environment
from .titles import report_title

__all__ = [
    "FLAG_LABELS",
    "CountySummary",
    "check_section",
    "check_table",
    "completeness",
    "county_comparison",
    "county_summary",
    "county_totals",
    "flag_table",
    "header_html",
    "html_table",
    "mover_codes",
    "movers_text",
    "overview_narrative",
    "overview_title",
    "ranking_table",
    "region_narrative",
    "region_scores",
    "weights_text",
]

#: Short Chinese names of the kinds of problem (:data:`problems.KINDS`), in the order they are listed.
FLAG_LABELS = dict(KINDS)
#: Share of decline that is a problem; the town reports use the same default.
DROP_THRESHOLD = problems.DROP_THRESHOLD


# --------------------------------------------------------------------------------------------- helpers
def _prev_year(ds: Dataset, year: int) -> int | None:
    """The previous calendar year when it is in the data (the overview compares with 上年 only)."""
    return year - 1 if (year - 1) in ds.years else None


def _years(ds: Dataset, year: int) -> list[int]:
    prev = _prev_year(ds, year)
    return [year] if prev is None else [prev, year]


def _reporting_towns(ds: Dataset, year: int) -> list[str]:
    """Towns with rows in ``year``, in the order of the town profile."""
    have = set(ds.values.loc[ds.values["year"] == year, "town"])
    return [t for t in ds.towns if t in have]


def _scores(ds: Dataset, year: int) -> pd.DataFrame:
    """Composite scores of ``year`` (index town: s1…s6, score, rank) with ``prev_rank``/``prev_score``.

    Scores are per year (percentiles within the year), so scoring only the two years concerned gives the
    same numbers as scoring the whole data.
    """
    years = _years(ds, year)
    v = ds.values[ds.values["year"].isin(years)]
    sc = ind.composite_score(v, ds.profile, catalog=ds.catalog)

    def of(y: int) -> pd.DataFrame:
        if len(sc) and y in set(sc.index.get_level_values("year")):
            return sc.xs(y, level="year")
        return pd.DataFrame(columns=list(sc.columns) or ["score", "rank"], index=pd.Index([], name="town"))

    this = of(year).copy()
    if len(years) == 2:
        before = of(years[0])
        this["prev_rank"] = before["rank"].reindex(this.index).astype("Int64")
        this["prev_score"] = before["score"].reindex(this.index).astype("float64")
    this["rank"] = this["rank"].astype("Int64")
    return this


def _flags(ds: Dataset, year: int) -> pd.DataFrame:
    """The problems of every town in ``year`` (:func:`problems.town_problems`: the same the town reports list),
    towns in profile order, each town's own first, then the largest."""
    return problems.town_problems(ds, year)


def _short_section(code: str, catalog) -> str:
    """``（一）政治站位`` → ``政治站位``: a section's label inside a sentence."""
    label = section_label(code, catalog)
    return label.split("）", 1)[1] if label.startswith("（") and "）" in label else label


def _num(value: float, code: str, catalog) -> str:
    return format_number(value, integer=bool(catalog.frame.at[code, "integer"]))


# --------------------------------------------------------------------------------------------- tables
def county_totals(ds: Dataset, year: int, codes=None) -> pd.DataFrame:
    """County totals (sum over the towns) of additive indicators in ``year``, and their change.

    ``codes`` defaults to the catalog's key indicators that are additive and apply in ``year``; a code
    that is not additive (an average or a rate) raises :class:`ZhidangError`. One row per code (index
    ``indicator``, catalog order) with ``name``, ``unit``, ``total`` (sum of the reported values),
    ``approx`` (a summand was given as approximate), ``reporting`` (towns with a value), ``missing``
    (towns that left it unfilled), ``prev_total``, ``change``, ``rate`` and ``comparable``.

    The change is given only when it compares like with like: the previous year is in the data and the
    same towns reported the indicator in both years, none left it unfilled. ``rate`` is NaN when the
    previous total is zero. Codes that no town had to report that year are left out.
    """
    year = ds.check_year(year)
    cat = ds.catalog
    f = cat.frame
    if codes is None:
        codes = [c for c in cat.value_codes if bool(f.at[c, "key"]) and bool(f.at[c, "additive"])
                 and cat.applies(c, year)]
    else:
        codes = [cat.check(c) for c in codes]
        not_additive = [c for c in codes if not bool(f.at[c, "additive"])]
        if not_additive:
            names = "、".join(f"“{cat.name(c)}”" for c in not_additive)
            raise ZhidangError(f"{names}不是可以相加的指标（如平均数、比率），不能计算全县合计")
    prev = _prev_year(ds, year)
    v = ds.values[ds.values["indicator"].isin(codes)]

    def state(y: int, code: str) -> tuple[float, bool, frozenset, int]:
        rows = v[(v["year"] == y) & (v["indicator"] == code)]
        present = rows[rows["status"] == "present"]
        total = round(float(present["value"].sum()), 6) if len(present) else np.nan
        return (total, bool(present["approx"].astype(bool).any()), frozenset(present["town"]),
                int((rows["status"] == "missing").sum()))

    records = []
    for code in codes:
        total, approx, towns, missing = state(year, code)
        if not towns and not missing:
            continue
        rec = {"indicator": code, "name": cat.name(code), "unit": f.at[code, "unit"], "total": total,
               "approx": approx, "reporting": len(towns), "missing": missing, "prev_total": np.nan,
               "change": np.nan, "rate": np.nan, "comparable": False}
        if prev is not None:
            p_total, _, p_towns, p_missing = state(prev, code)
            rec["prev_total"] = p_total
            if towns and towns == p_towns and missing == 0 and p_missing == 0:
                rec["comparable"] = True
                rec["change"] = round(total - p_total, 6)
                rec["rate"] = rec["change"] / p_total if p_total != 0 else np.nan
        records.append(rec)
    cols = ["indicator", "name", "unit", "total", "approx", "reporting", "missing", "prev_total", "change",
            "rate", "comparable"]
    return pd.DataFrame.from_records(records, columns=cols).set_index("indicator")


def completeness(ds: Dataset, year: int) -> pd.DataFrame:
    """Completeness of each town's data in ``year``, one row per town (order of the town profile).

    应填 counts the indicators the town had to report (filled in or left blank; a ``—``/不适用 entry, or an
    indicator that does not apply that year, is not counted); 已填, 未填 and 约数 (given as ``30余``)
    split them; 完整率 is 已填 / 应填 in percent; 未填指标 names the blanks. A town of the profile that sent
    no data for the year counts every applicable indicator as 未填 (未填指标: 未报送).
    """
    year = ds.check_year(year)
    cat = ds.catalog
    v = ds.values[ds.values["year"] == year]
    flags = pd.DataFrame({
        "town": v["town"],
        "present": v["status"].eq("present"),
        "missing": v["status"].eq("missing"),
        "approx": v["status"].eq("present") & v["approx"].astype(bool),
    })
    counts = flags.groupby("town")[["present", "missing", "approx"]].sum().reindex(ds.towns)
    order = {c: i for i, c in enumerate(cat.codes)}
    blanks = v[v["status"] == "missing"]
    blanks = blanks.assign(_o=blanks["indicator"].map(order)).sort_values("_o")
    names = blanks.groupby("town")["indicator"].agg(lambda s: "、".join(cat.name(c) for c in s))
    absent = counts["present"].isna()
    applicable_all = len(cat.applicable(year))
    present = counts["present"].fillna(0).astype("int64")
    missing = counts["missing"].where(~absent, applicable_all).astype("int64")
    applicable = present + missing
    out = pd.DataFrame({
        "乡镇": ds.towns,
        "应填（项）": applicable.to_numpy(),
        "已填（项）": present.to_numpy(),
        "未填（项）": missing.to_numpy(),
        "约数（项）": counts["approx"].fillna(0).astype("int64").to_numpy(),
        "完整率（%）": np.where(applicable > 0, present / applicable.where(applicable > 0) * 100.0, np.nan),
        "未填指标": [("未报送" if a else names.get(t, "")) for t, a in zip(ds.towns, absent)],
    })
    return out


def flag_table(ds: Dataset, year: int) -> pd.DataFrame:
    """The problems of each town in ``year``, exactly as its report lists them in 二、存在的问题
    (:func:`problems.town_problems`): its own 自查问题 first, then missed targets and real declines, largest
    first.

    Columns 乡镇, 类型 (:data:`FLAG_LABELS`), 说明; towns in profile order. Towns without problems have no row.
    """
    year = ds.check_year(year)
    f = _flags(ds, year)
    return pd.DataFrame({
        "乡镇": f["town"].to_numpy(dtype=object),
        "类型": f["kind"].map(FLAG_LABELS).to_numpy(dtype=object),
        "说明": f["text"].to_numpy(dtype=object),
    })


def check_table(ds: Dataset, year: int) -> pd.DataFrame:
    """The values of ``year`` to confirm (请核实): valid but unusual, a big jump against last year or far from the
    county's range (:func:`analysis.plausibility.plausibility`, the same checks the batch's ``checks.html`` lists).

    Columns 乡镇, 指标, 填报值 (as the town wrote it), 单元格 (``工作表!单元格``; the file only when the year's data
    come from several) and 说明; towns in profile order.
    """
    year = ds.check_year(year)
    found = plausibility(ds, years=[year])
    cat = ds.catalog
    files = {p.file for p in found}
    return pd.DataFrame({
        "乡镇": [p.town or "" for p in found],
        "指标": [cat.name(p.indicator) if p.indicator in cat else (p.indicator or "") for p in found],
        "填报值": [str(p.value or "") for p in found],
        "单元格": ["!".join(x for x in (p.file if len(files) > 1 else None, p.sheet, p.cell) if x) for p in found],
        "说明": [p.message for p in found],
    }, columns=["乡镇", "指标", "填报值", "单元格", "说明"])


def check_section(ds: Dataset, year: int, *, number: int = 4) -> HTML:
    """The data of ``year`` to confirm, as the overview states them: a sentence with their count and, when there are
    any, :func:`check_table` as 表``number``. The count is the number of 请核实 rows of the batch's ``checks.html``."""
    table = check_table(ds, year)
    if table.empty:
        return HTML("<p>经核对，没有需要核实的数据（与上年相比变化很大、或明显偏离全县一般水平的数据）。</p>")
    text = Markup("<p>以下{}处数据有效但不寻常（与上年相比变化很大，或明显偏离全县一般水平），已在数据审核结果中标为"
                  "“请核实”，请相关乡镇核实：数据无误的说明原因，有误的更正后重新报送。</p>").format(len(table))
    return HTML(str(text) + str(html_table(table, caption=f"表{number}  {year}年需要核实的数据（{len(table)}处）")))


def _rank_move(now, before) -> str:
    if pd.isna(now) or pd.isna(before):
        return "—"
    d = int(before) - int(now)
    return "持平" if d == 0 else (f"上升{d}位" if d > 0 else f"下降{-d}位")


def ranking_table(ds: Dataset, year: int) -> pd.DataFrame:
    """Towns ranked by composite score in ``year`` (:func:`indicators.composite_score`), with its breakdown.

    Columns 排名 (1 = highest score; ties share the rank), 乡镇, 综合得分, one column per section labelled
    by :func:`charts.section_label` (``（一）政治站位`` …), 较上年 (``上升2位``/``下降1位``/``持平``; only when
    the previous year is in the data) and 问题（项） (rows of :func:`flag_table`). Sorted by rank; a town
    that reported but has no score comes last with an empty rank.
    """
    year = ds.check_year(year)
    cat = ds.catalog
    towns = _reporting_towns(ds, year)
    sc = _scores(ds, year).reindex(towns)
    sections = [c for c in sc.columns if c in cat.sections]
    n_flags = flag_table(ds, year)["乡镇"].value_counts().reindex(towns).fillna(0).astype("int64")
    out = pd.DataFrame({"排名": sc["rank"].astype("Int64"), "乡镇": towns, "综合得分": sc["score"].astype("float64")},
                       index=sc.index)
    for s in sections:
        out[section_label(s, cat)] = sc[s].astype("float64")
    if "prev_rank" in sc:
        out["较上年"] = [_rank_move(a, b) for a, b in zip(sc["rank"], sc["prev_rank"])]
    out["问题（项）"] = n_flags
    out = out.sort_values("排名", na_position="last", kind="stable")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------- summary
@dataclass(frozen=True)
class CountySummary:
    """The numbers behind the overview narrative of one year (see :func:`county_summary`)."""

    county: str
    year: int
    prev_year: int | None
    towns: list[str]
    absent: list[str]
    totals: pd.DataFrame
    scores: pd.DataFrame
    flags: pd.DataFrame
    completeness: pd.DataFrame

    @property
    def n_towns(self) -> int:
        return len(self.towns)

    @property
    def best(self) -> list[str]:
        """The town(s) ranked first (several when tied)."""
        s = self.scores.dropna(subset=["score"])
        return list(s.index[s["rank"] == s["rank"].min()]) if len(s) else []

    @property
    def weakest(self) -> list[str]:
        """The town(s) ranked last; empty when fewer than two ranks exist."""
        s = self.scores.dropna(subset=["score"])
        if len(s) < 2 or s["rank"].max() == s["rank"].min():
            return []
        return list(s.index[s["rank"] == s["rank"].max()])


def county_summary(ds: Dataset, year: int) -> CountySummary:
    """Everything the narrative of ``year`` says: towns, totals, scores, findings and completeness.

    ``scores`` is indexed by town (reporting towns, sorted by rank) with s1…s6, score, rank and, when the
    previous year is in the data, prev_rank and prev_score.
    """
    year = ds.check_year(year)
    towns = _reporting_towns(ds, year)
    scores = _scores(ds, year).reindex(towns)
    scores = scores.assign(_r=scores["rank"].astype("float64")).sort_values("_r", na_position="last",
                                                                            kind="stable").drop(columns="_r")
    return CountySummary(
        county=ds.county, year=year, prev_year=_prev_year(ds, year), towns=towns,
        absent=[t for t in ds.towns if t not in towns], totals=county_totals(ds, year), scores=scores,
        flags=_flags(ds, year), completeness=completeness(ds, year),
    )


def overview_title(ds: Dataset, year: int) -> str:
    """``示范县二〇二五年度乡镇党委履行全面从严治党主体责任情况综合分析``."""
    return f"{ds.county}{chinese_year(ds.check_year(year))}年度乡镇党委履行全面从严治党主体责任情况综合分析"


# --------------------------------------------------------------------------------------------- narrative
def _total_text(code: str, row: pd.Series, year: int, catalog) -> Markup:
    """``1520次`` with provenance, or ``80余次`` when a summand was approximate."""
    digits = _num(row["total"], code, catalog) + ("余" if row["approx"] else "")
    title = f"{row['name']} · {year}年 · {int(row['reporting'])}个乡镇合计"
    return Markup(
        f'<span class="num" data-indicator="{escape(code)}" data-year="{year}" data-value="{row["total"]:g}" '
        f'title="{escape(title)}">{escape(digits)}{escape(row["unit"])}</span>'
    )


def _change_text(code: str, row: pd.Series, catalog) -> str:
    """``比上年增加3次`` / ``同比增长12.5%`` / ``与上年持平``; empty when not comparable."""
    if not row["comparable"] or pd.isna(row["change"]):
        return ""
    change = row["change"]
    if change == 0:
        return "与上年持平"
    if row["unit"] in RATE_UNITS and pd.notna(row["rate"]):
        return f"同比{'增长' if change > 0 else '下降'}{percent_text(row['rate'])}%"
    return f"比上年{'增加' if change > 0 else '减少'}{_num(abs(change), code, catalog)}{row['unit']}"


def _town_facts(s: CountySummary, town: str, *, high: bool, catalog) -> dict:
    """Score, rank and the two strongest (``high``) or weakest sections of a town, and its findings."""
    row = s.scores.loc[town]
    sections = row[[c for c in s.scores.columns if c in catalog.sections]].astype("float64").dropna()
    # a section is told as 较高 only above the county midpoint (50) and as 较低 only below it
    sections = sections[sections > 50] if high else sections[sections < 50]
    sections = sections.sort_values(ascending=not high, kind="stable").head(2)
    found = s.flags[s.flags["town"] == town]["kind"].value_counts()
    return {
        "town": town, "score": f"{float(row['score']):.1f}", "rank": int(row["rank"]),
        "sections": [(_short_section(c, catalog), f"{v:.1f}") for c, v in sections.items()],
        "findings": {k: int(found.get(k, 0)) for k in FLAG_LABELS},
    }


def overview_narrative(ds: Dataset, year: int) -> HTML:
    """The county's year in a few Chinese paragraphs: title, towns and completeness, totals of the main
    indicators and their change, the best and weakest towns by composite score and why, the findings.

    Town names are escaped; numbers carry their indicator and year in ``span.num``.
    """
    year = ds.check_year(year)
    cat = ds.catalog
    s = county_summary(ds, year)
    totals = [
        {"name": r["name"], "number": _total_text(code, r, year, cat), "change": _change_text(code, r, cat),
         "missing": int(r["missing"])}
        for code, r in s.totals.iterrows() if r["reporting"] > 0
    ]
    c = s.completeness
    applicable, present = int(c["应填（项）"].sum()), int(c["已填（项）"].sum())
    scored = s.scores.dropna(subset=["score"])
    counts = s.flags["kind"].value_counts()
    html = template_environment().get_template("county_overview.html.j2").render(
        title=overview_title(ds, year), year=year, s=s, totals=totals,
        applicable=applicable, present=present, missing=int(c["未填（项）"].sum()),
        approx=int(c["约数（项）"].sum()),
        rate=(f"{present / applicable * 100:.1f}".removesuffix(".0") if applicable else ""),
        best=[_town_facts(s, t, high=True, catalog=cat) for t in s.best],
        weakest=[_town_facts(s, t, high=False, catalog=cat) for t in s.weakest],
        n_scored=len(scored), median=(f"{scored['score'].median():.1f}" if len(scored) else ""),
        flag_counts=[(k, int(counts.get(k, 0))) for k in FLAG_LABELS if counts.get(k, 0)],
        n_flags=len(s.flags), n_flag_towns=int(s.flags["town"].nunique()),
        drop=percent_text(DROP_THRESHOLD),
    )
    return HTML(html.strip())


def weights_text(ds: Dataset) -> HTML:
    """The section weights of the composite score (``data/scoring.yaml``) as a sentence, in percent of
    their sum: ``各部分权重：（一）政治站位15%、（二）组织建设25%……``."""
    weights = load_scoring()["weights"]
    total = sum(weights.values())
    parts = "、".join(f"{section_label(s, ds.catalog)}{percent_text(w / total)}%" for s, w in weights.items())
    # a section without any performance measure (only volumes, checklists or neutral counts) is not scored
    frame = ds.catalog.frame
    unscored = [s for s in weights if not ((frame["section"] == s) & (frame["measure"] == "performance")).any()]
    note = ""
    if unscored:
        names = "、".join(section_label(s, ds.catalog) for s in unscored)
        note = (f"其中{names}的指标都是随乡镇规模变化的数量或检查清单的条目数，不反映工作成效，不计分，"
                "综合得分按其余部分的权重折算")
    return HTML(Markup("<p>各部分权重：{}。{}</p>").format(parts, note + ("。" if note else "")))


# --------------------------------------------------------------------------------------------- movers
def mover_codes(ds: Dataset, year: int, n: int = 2) -> list[str]:
    """The ``n`` main indicators whose county total changed most against the previous year (by the size
    of the growth rate; comparable totals only). Empty in the first year of the data."""
    t = county_totals(ds, year)
    t = t[t["comparable"] & (t["change"] != 0)]
    key = t["rate"].abs().fillna(-1.0)  # a change from zero has no rate: after those that have one
    return list(key.sort_values(ascending=False, kind="stable").index[:n])


def movers_text(ds: Dataset, year: int) -> HTML:
    """What changed against the previous year: the towns that rose and fell most in the ranking and the
    main indicators whose county total changed most (those :func:`mover_codes` picks for the charts)."""
    year = ds.check_year(year)
    cat = ds.catalog
    prev = _prev_year(ds, year)
    ups, downs, ranked = [], [], 0
    if prev is not None:
        sc = _scores(ds, year).dropna(subset=["rank", "prev_rank"])
        ranked = len(sc)
        move = (sc["prev_rank"] - sc["rank"]).astype("int64")
        for sign, bucket in ((1, ups), (-1, downs)):
            m = move * sign
            if len(m) and m.max() > 0:
                for town in m.index[m == m.max()]:
                    bucket.append({"town": town, "before": int(sc.at[town, "prev_rank"]),
                                   "now": int(sc.at[town, "rank"]), "by": int(m.max())})
    totals = county_totals(ds, year)
    changed = [{"name": totals.at[c, "name"], "change": _change_text(c, totals.loc[c], cat)}
               for c in mover_codes(ds, year)]
    html = template_environment().get_template("county_movers.html.j2").render(
        year=year, prev=prev, ranked=ranked, ups=ups, downs=downs, changed=changed,
    )
    return HTML(html.strip())


# --------------------------------------------------------------------------------------------- counties
def region_scores(ds: Dataset, year: int) -> pd.DataFrame:
    """Composite scores of ``year`` with every town of every county scored together (the comparison of
    counties; a county overview scores its towns among themselves). Indexed by (county, town)."""
    v = ds.values[ds.values["year"] == ds.check_year(year)]
    sep = "\x1f"  # (county, town) as one key for scoring all towns together; no name holds this character
    flat = v.drop(columns=["county"]).assign(town=v["county"] + sep + v["town"])
    keys = list(ds.profile.index) if ds.multi else list(zip(ds.profile["county"], ds.profile.index))
    profile = ds.profile.drop(columns=["county"], errors="ignore").set_axis(
        pd.Index([c + sep + t for c, t in keys], name="town"))
    scores = ind.composite_score(flat, profile, catalog=ds.catalog).xs(year, level="year")
    parts = [k.split(sep, 1) for k in scores.index]
    scores.index = pd.MultiIndex.from_tuples([tuple(p) for p in parts], names=["county", "town"])
    return scores


def county_comparison(ds: Dataset, year: int, codes=None) -> pd.DataFrame:
    """The counties side by side in ``year``, one row per county (input order): 乡镇 (towns reporting that
    year), 数据完整率 (filled / applicable, in %), the county totals of ``codes`` (default: the first six key
    additive indicators that apply that year) and the median composite score of its towns, every town of every
    county scored together (:func:`region_scores`)."""
    year = ds.check_year(year)
    cat = ds.catalog
    f = cat.frame
    if codes is None:
        codes = [c for c in cat.value_codes if bool(f.at[c, "key"]) and bool(f.at[c, "additive"])
                 and cat.applies(c, year)][:6]
    scores = region_scores(ds, year)
    rows = []
    for county in ds.counties:
        cv = ds.for_county(county)
        v = cv.values[cv.values["year"] == year]
        applicable = int(v["status"].isin(["present", "missing"]).sum())
        present = int((v["status"] == "present").sum())
        row = {"县": county, "乡镇（个）": int(v["town"].nunique()),
               "数据完整率（%）": present / applicable * 100.0 if applicable else np.nan}
        totals = county_totals(cv, year, codes) if len(v) else pd.DataFrame(columns=["total"])
        for code in codes:
            total = totals.at[code, "total"] if code in totals.index else np.nan
            row[f"{cat.name(code)}（{f.at[code, 'unit']}）"] = (
                pd.NA if pd.isna(total) else int(round(total))) if f.at[code, "integer"] else float(total)
        mine = scores.xs(county, level="county")["score"] if county in scores.index.get_level_values(0) else []
        row["综合得分中位数（分）"] = float(np.median(mine)) if len(mine) else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    out["乡镇（个）"] = out["乡镇（个）"].astype("int64")
    for code in codes:  # counts as whole numbers (a county without the figure: —)
        col = f"{cat.name(code)}（{f.at[code, 'unit']}）"
        if f.at[code, "integer"]:
            out[col] = out[col].astype("Int64")
    return out


def region_narrative(ds: Dataset, year: int) -> HTML:
    """The title and opening section of the comparison of counties: how many counties and towns reported, and
    the counties with the highest and lowest median score (only when they differ)."""
    table = county_comparison(ds, year)
    n_towns = int(table["乡镇（个）"].sum())
    text = (f"{year}年度共有{len(table)}个县的{n_towns}个乡镇报送数据。各乡镇统一计算综合得分（计分方法与县级概览相同，"
            f"但在全部乡镇中比较），各县乡镇得分的中位数如下表。")
    med = table.dropna(subset=["综合得分中位数（分）"])
    if len(med) >= 2 and med["综合得分中位数（分）"].nunique() > 1:
        top = med.loc[med["综合得分中位数（分）"].idxmax()]
        low = med.loc[med["综合得分中位数（分）"].idxmin()]
        text += (f"中位数最高的是{top['县']}（{top['综合得分中位数（分）']:.1f}分），"
                 f"最低的是{low['县']}（{low['综合得分中位数（分）']:.1f}分）。")
    return HTML(f'<h1 class="title">{escape(report_title(year, region=True))}</h1><h2>一、总体情况</h2>'
                f"<p>{escape(text)}</p>")


# --------------------------------------------------------------------------------------------- display
_HEAD_UNIT = re.compile(r"（[^（）]*）|“[^“”]*”|[\u3400-\u9fff]+|[^（“\u3400-\u9fff]+")


def header_html(label: str) -> Markup:
    """A column label whose lines break only between words: ``综合/得分``, ``（一）/政治/站位``, ``问题/（项）``.

    Each word is a ``span.nw`` kept on one line (``white-space: nowrap``), a ``<wbr>`` between two: a bracketed or
    quoted part is one word,
    a run of Chinese characters is cut in pairs (``主题/党日/活动``; a run of three stays whole, an odd run ends in
    three: ``完整率``), which is how two-character words make up the labels of the catalog.

    >>> str(header_html("综合得分"))
    '<span class="nw">综合</span><wbr><span class="nw">得分</span>'
    >>> str(header_html("（四）“一岗双责”"))
    '<span class="nw">（四）</span><wbr><span class="nw">“一岗双责”</span>'
    """
    words: list[str] = []
    for part in _HEAD_UNIT.findall(str(label)):
        if re.fullmatch(r"[\u3400-\u9fff]+", part) and len(part) > 3:
            cut = [part[i:i + 2] for i in range(0, len(part) - 3, 2)]
            words += cut + [part[len("".join(cut)):]]
        else:
            words.append(part)
    # <wbr> between the words: a browser breaks between two Chinese characters anyway, WeasyPrint (the PDF) only there
    return Markup("<wbr>").join(Markup('<span class="nw">{}</span>').format(w) for w in words if w)


def html_table(df: pd.DataFrame, *, caption: str | None = None, digits: int = 1, group: bool = False,
               css_class: str = "zd-table") -> HTML:
    """A DataFrame as a plain HTML table for the report: every label and value escaped, numbers right-aligned
    (floats to ``digits`` places), text left-aligned, NaN as ``—``, no index. Column labels break only between
    words (:func:`header_html`). The table sits in a ``div.zd-table-wrap``, which scrolls sideways on a narrow
    screen instead of the page.

    ``group=True`` shows the first column only where its value changes (one block of rows per town).

    >>> html = str(html_table(pd.DataFrame({"乡镇": ["<b>镇"], "得分": [81.44]})))
    >>> '<td class="text nowrap">&lt;b&gt;镇</td><td class="num">81.4</td>' in html
    True
    """
    cols = list(df.columns)
    kinds, classes = {}, {}
    for i in range(len(cols)):
        col = df.iloc[:, i]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            kinds[i] = "text"
            short = col.dropna().astype(str).str.len().max() <= 10 if col.notna().any() else True
            classes[i] = "text nowrap" if short else "text"  # town names and labels stay on one line
        else:
            kinds[i] = "int" if pd.api.types.is_integer_dtype(col) else "float"
            classes[i] = "num"

    def cell(i: int, x) -> str:
        if x is None or (not isinstance(x, str) and pd.isna(x)):
            return "—"
        if kinds[i] == "int":
            return str(int(x))
        if kinds[i] == "float":
            return f"{float(x):.{digits}f}"
        return str(x)

    parts = [f'<div class="zd-table-wrap"><table class="{escape(css_class)}">']
    if caption:
        parts.append(f"<caption>{escape(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{header_html(str(c))}</th>" for c in cols) + "</tr></thead><tbody>")
    previous = object()
    for row in df.itertuples(index=False, name=None):
        first = row[0] if row else None
        starts = not group or first != previous
        cls = ' class="group-start"' if group and starts else ""
        tds = []
        for i, x in enumerate(row):
            text = "" if (group and i == 0 and not starts) else cell(i, x)
            tds.append(f'<td class="{classes[i]}">{escape(text)}</td>')
        parts.append(f"<tr{cls}>" + "".join(tds) + "</tr>")
        previous = first
    parts.append("</tbody></table></div>")
    return HTML("".join(parts))
