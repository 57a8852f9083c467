"""The one problem model: what counts as a town's problem in a year, for every output that states one.

The town report's 二、存在的问题, the county overview's problem table and ranking, the batch index's count and
filter, and the explorer's problem view all read :func:`town_problems`, so that a town has the same problems
everywhere. A problem is

- ``own``: an item of the town's own 自查问题 (sheet 特色做法), listed first, as the town wrote it;
- a shortfall its data show on a *performance* measure (catalog ``measure``; never a neutral count, a volume
  that follows the town's size or how it runs a meeting, or a checklist's length):

  - ``target_missed``: below its target, and by more than "basically done" (completion < ``nearly_met``);
  - ``coverage``: a ratio that should cover every village and does not (catalog ``coverage`` with ``full``:
    一肩挑 in 6 of 7 villages);
  - ``lagging``: on a measure comparable across towns (catalog ``compare``: 主题党日 per branch, 户均增收), the
    county's sole last and below 80% of its median;
  - ``norm``: below what the Party's own rules ask of every branch (catalog ``norm``: 主题党日 once a month in
    each 党支部: 11.8 a branch is below it) — whatever target the county set, wherever the town stands in the
    county, and never left out;
  - ``decline``: fell by ``drop_threshold`` or more against the year before (:func:`indicators.flags`), and
    ``slip``: a headline indicator fell by 10% or more (a count from at least 10, by at least 2) — in either case only
    when the year's target, if it had one, was not met;

Otherwise a level below the county's median, or even among its last, is not a problem: it mostly measures the
town's size and make-up (a township without herders gives few bilingual lectures), and the overview's ranking
shows it.

Data problems are ranked by how much they matter: their kind (a missed target, then a decline, then a slip)
and their size (a fall of a half outweighs one of a fifth, a target missed by 40% one missed by 6%). A report lists
every target missed and every rule of the Party's not kept, and the other problems largest first (``listed``): at most ``MAX_ITEMS`` items from
``max_findings`` sections, two a section; the other rows are kept for the analyst, never stated as the town's
problems.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import indicators as ind
from ..model.catalog import load_wording
from ..model.dataset import Dataset
from .memo import per_county
from .numerals import format_number, percent_text
from .standing import SCALE_TEXT, county_context, county_flags, printed
from ..inputs.towntext import split_items

__all__ = ["KINDS", "DROP_THRESHOLD", "LAGGING_SHARE", "MAX_FINDINGS", "MAX_ITEMS", "NEARLY_MET", "SERVICE_SENTENCES",
           "county_problems", "economic", "lagging_subject", "problem_topic", "same_work", "share_name", "subject_name",
           "town_problems"]

#: The kinds of problem, in Chinese (what the overview, the index and the explorer call them).
KINDS = {
    "own": "自查问题",
    "target_missed": "未完成目标",
    "decline": "较上年下降",
    "slip": "较上年下滑",
    "coverage": "尚未全覆盖",
    "lagging": "居全县末位",
    "norm": "未达到规定要求",
    "behind": "低于全县中位数",
}
#: A level this far below the county's median (and the county's sole last) is a problem, on a comparable measure.
LAGGING_SHARE = 0.8
#: A decline of this share or more is a problem.
DROP_THRESHOLD = 0.2
#: A target completed at this share or more is 基本完成: told among the achievements, not a problem.
NEARLY_MET = 0.95
#: How many sections of data problems a report lists.
MAX_FINDINGS = 3
#: How many items of data problems a report lists (the town's own 自查问题 come on top).
MAX_ITEMS = 4
# a problem weighs by its size (the share missed, the share fallen) more than by its kind: a 19% fall of income
# outweighs a target missed by 11%; a rule every village must meet (一肩挑 in 6 of 7) outweighs a fall of 28% in
# livestock insured
_BASE = {"target_missed": 2.0, "coverage": 2.6, "decline": 2.0, "slip": 1.8, "lagging": 2.0, "norm": 2.0, "behind": 1.0}
#: A fall in the people a work reached is no shortfall in a year whose work itself met its target: 警示教育人次 down
#: at as many sessions as the county asked for (readers of rounds 30 and 32, four of four: “an attendance count,
#: sessions met the target”); missed with it, both stand in one item as before
JUDGED_BY = {"warning_attendance": "warning_sessions"}
COLUMNS = ["town", "kind", "indicator", "section", "value", "reference", "ratio", "weight", "listed", "text",
           "source", "scale"]


@per_county
def county_problems(ds: Dataset, year: int, drop_threshold: float = DROP_THRESHOLD, nearly_met: float = NEARLY_MET,
                    max_findings: int = MAX_FINDINGS) -> pd.DataFrame:
    """The data problems of every town of a county in ``year`` (the town's own 自查问题 are added by
    :func:`town_problems`): one row per problem, largest first within each town, with ``listed`` marking those
    a report states."""
    cat = ds.catalog
    frame = cat.frame
    c = county_context(ds, year).set_index(["town", "indicator"])
    flags = county_flags(ds, year, drop_threshold=drop_threshold)
    f = flags[flags["flag"].isin(["decline", "target_missed"])]
    rows = [f[["town", "indicator", "flag", "value", "reference", "ratio"]]]

    # slip: a headline indicator fell by 10% or more (less than a decline) against the year before
    v = ds.values[ds.values["year"].isin([year - 1, year])]
    y = ind.yoy(v, catalog=cat)
    y = y[(y["year"] == year) & (y["prev_year"] == year - 1)]
    key = y["indicator"].map(frame["key"]).fillna(False).astype(bool)
    up = y["indicator"].map(frame["polarity"]) > 0
    # (10 → 9 is one person, not a trend: a count's slip needs a base of 10 and a fall of at least 2; an amount,
    # 户均增收 0.88 → 0.71万元, is judged by its rate alone)
    count = y["indicator"].map(frame["integer"]).fillna(True).astype(bool)
    big = (y["prev_value"] >= 10) & ((y["prev_value"] - y["value"]) >= 2)
    slip = y[key & up & (y["rate"] <= -0.1) & (y["rate"] > -drop_threshold) & (big | ~count)]
    rows.append(pd.DataFrame({"town": slip["town"], "indicator": slip["indicator"], "flag": "slip",
                              "value": slip["value"], "reference": slip["prev_value"], "ratio": slip["rate"]}))

    # coverage that should be full (every village's Party secretary also its committee head: 一肩挑) and is not
    cov = ind.coverage(ds.values[ds.values["year"] == year], ds.profile, catalog=cat)
    full = set(cat.coverage.index[cat.coverage["full"]]) if "full" in cat.coverage else set()
    short = cov[cov["code"].isin(full) & (cov["ratio"] < 1) & cov["denominator"].notna()]
    if len(short):
        num_code = short["code"].map(cat.coverage["numerator"])
        rows.append(pd.DataFrame({"town": short["town"], "indicator": num_code, "flag": "coverage",
                                  "value": short["numerator"], "reference": short["denominator"],
                                  "ratio": short["ratio"]}))

    # lagging on a share that compares across towns whatever their size (catalog coverage ``compare``: the members who
    # signed a pledge): the county's sole last, far below its median (round 37: 40.7% of a town's members against
    # 71–95% elsewhere) — the count itself follows the town's size and is never compared
    comp = set(cat.coverage.index[cat.coverage["compare"]]) if "compare" in cat.coverage else set()
    shares = cov[cov["code"].isin(comp) & cov["ratio"].notna()]
    if len(shares):
        g = shares.groupby("code")["ratio"]
        sole = g.transform(lambda r: int((r == r.min()).sum())) == 1
        median = g.transform("median")
        last = shares[(g.transform("count") >= 5) & (shares["ratio"] == g.transform("min")) & sole
                      & (shares["ratio"] < LAGGING_SHARE * median)]
        med = median[last.index]
        rows.append(pd.DataFrame({"town": last["town"], "indicator": last["code"].map(cat.coverage["numerator"]),
                                  "flag": "lagging", "value": (last["ratio"] * 100).round(1),
                                  "reference": (med * 100).round(1), "ratio": last["ratio"] / med, "scale": "share"}))

    # lagging: on a measure comparable across towns (catalog ``compare``), the county's sole last, far below its
    # median (主题党日 per branch, 户均增收) — among five towns or more
    ctx = c.reset_index()
    comparable = ctx["indicator"].map(frame["compare"]).fillna(False).astype(bool)
    lag = ctx[comparable & (ctx["n_towns"] >= 5) & (ctx["rank"] == ctx["n_towns"]) & (ctx["rank_max"] == ctx["n_towns"])
              & (ctx["scaled"] < LAGGING_SHARE * ctx["median"]) & (ctx["median"] > 0)]
    if len(lag):
        rows.append(pd.DataFrame({"town": lag["town"], "indicator": lag["indicator"], "flag": "lagging",
                                  "value": printed(lag["scaled"]), "reference": printed(lag["median"]),
                                  "ratio": lag["scaled"] / lag["median"], "scale": lag["scale"]}))

    # norm: below what the Party's own rules ask of every branch (主题党日 once a month, 12 a year per 党支部), as
    # printed. The rule is the Party's, so a target the county set lower does not excuse it (round 37: "6.5 a branch
    # is half the months without one, whatever the county asked"), nor does a county where most towns fall short:
    # one yardstick for every town, the rule's own (told of the county's lower half only, rounds 41–44 and 46 found
    # towns at 10–11.2 a branch told nothing while others were; with "basically done" at 95%, rounds 47–48 found
    # 11.8 left out beside 11.2: "every town or none"; the template rounds 38, 40 and 45 saw in it is answered by its
    # words, dealt among the towns: norm_phrases, problem_leads)
    norm = ctx["indicator"].map(frame["norm"]).astype(float)
    low = ctx[norm.notna() & (printed(ctx["scaled"]) < norm)]
    if len(low):
        rows.append(pd.DataFrame({"town": low["town"], "indicator": low["indicator"], "flag": "norm",
                                  "value": printed(low["scaled"]), "reference": norm[low.index],
                                  "ratio": low["scaled"] / norm[low.index], "scale": low["scale"]}))

    # behind: on a comparable measure, among the county's last three and below its median. Told only by a town whose
    # report would otherwise list fewer than three problems, and then the last two only, unless it would list fewer
    # than two (a report without any problem is no report, one with one or two a thin one; one only below the middle
    # is no failure beside real ones): readers found 8th of 9 left out beside two own problems while 7th was told
    # beside one, and a report whose 二 is one line sent back
    behind = ctx[comparable & (ctx["n_towns"] >= 5) & (ctx["rank"] >= ctx["n_towns"] - 2)
                 & (printed(ctx["scaled"]) < printed(ctx["median"])) & (ctx["median"] > 0)
                 & ctx["indicator"].map(frame["polarity"]).gt(0)]
    if len(behind):
        rows.append(pd.DataFrame({"town": behind["town"], "indicator": behind["indicator"], "flag": "behind",
                                  "value": printed(behind["scaled"]), "reference": printed(behind["median"]),
                                  "ratio": behind["scaled"] / behind["median"], "scale": behind["scale"],
                                  "last_two": behind["rank"] >= behind["n_towns"] - 1}))

    p = pd.concat([r for r in rows if len(r)], ignore_index=True) if any(len(r) for r in rows) else \
        pd.DataFrame(columns=["town", "indicator", "flag", "value", "reference", "ratio"])
    p = p.rename(columns={"flag": "kind"})
    p = p.assign(scale=p["scale"].fillna("") if "scale" in p else "")
    # only performance measures; a target basically done is no failure; a fall in a year whose target was met
    # is no shortfall
    # (a share of a volume compared across towns is one: the count is not)
    p = p[(p["indicator"].map(frame["problem"]).fillna(False).astype(bool) | (p["scale"] == "share")).to_numpy()]
    p = p[~((p["kind"] == "target_missed") & (p["ratio"] >= nearly_met))]
    completion = c["completion"] if "completion" in c else pd.Series(np.nan, index=c.index)
    done = completion[completion.fillna(0) >= 1].index
    met = pd.MultiIndex.from_arrays([p["town"], p["indicator"]]).isin(done)
    p = p[~(p["kind"].isin(["decline", "slip", "lagging", "behind"]).to_numpy() & met)]
    by = pd.MultiIndex.from_arrays([p["town"], p["indicator"].map(JUDGED_BY).fillna("")]).isin(done)
    p = p[~(p["kind"].isin(["decline", "slip"]).to_numpy() & by)]
    p = p.assign(section=p["indicator"].map(frame["section"]))
    p = p[p["section"].isin([f"s{i}" for i in range(1, 7)])]
    size = np.where(p["kind"].isin(["decline", "slip"]), p["ratio"].abs(),
                    np.where(p["kind"].isin(["target_missed", "coverage", "lagging", "norm", "behind"]), 1 - p["ratio"],
                             0.0))
    p = p.assign(weight=p["kind"].map(_BASE).astype(float) + 4 * pd.Series(size, index=p.index).fillna(0).clip(0, 1))
    # one row per town and indicator (its weightiest kind), largest first; a target missed is known to the row
    # whatever kind it keeps (主题党日 the county's last and short of its target)
    missed = pd.MultiIndex.from_frame(p.loc[p["kind"] == "target_missed", ["town", "indicator"]])
    p = p.assign(missed=pd.MultiIndex.from_frame(p[["town", "indicator"]]).isin(missed))
    p = (p.sort_values(["town", "weight"], ascending=[True, False], kind="stable")
         .drop_duplicates(["town", "indicator"]).reset_index(drop=True))
    p["listed"] = _listed(p, max_findings, _speaks_for_itself(ds, year))
    p["text"] = [_text(r, cat) for r in p.itertuples()]
    p["source"] = ""
    order = {t: i for i, t in enumerate(ds.towns)}
    p = p.assign(_t=p["town"].map(order)).sort_values(["_t", "weight"], ascending=[True, False], kind="stable")
    return p.drop(columns="_t").reset_index(drop=True)[COLUMNS]


def _speaks_for_itself(ds: Dataset, year: int) -> dict[str, int]:
    """How many problems of its own each town's report has without the data's: the 自查问题 it named this year (the
    town whose report keeps the seed's own words, 行文用语：范本, has its three general ones)."""
    pr = ds.practices
    own = pr[(pr["year"] == int(year)) & (pr["field"] == "own_problems")]
    count = {t: len(split_items(text)) for t, text in zip(own["town"], own["text"])}
    if "wording_style" in ds.profile:
        count.update({t: 3 for t in ds.profile.index[ds.profile["wording_style"].astype(str) == "范本"]})
    return count


def _listed(p: pd.DataFrame, max_findings: int, own: dict[str, int] | None = None) -> np.ndarray:
    """Whether a report states the row: every target missed (the county set it: a reader looks for each one, and
    one left out reads as hidden), then the other problems largest first, as items of 二 (two shortfalls of one
    work, wording.yaml ``plans.groups``, are one item): with the missed targets at most :data:`MAX_ITEMS` items
    (but always the largest other one), from at most ``max_findings`` sections and two items a section — so a larger shortfall is never left out for a smaller one
    of another section (户均增收 down 36% for a 警示教育 fall of 25%); a measure only ``behind`` the county's middle
    is stated (the largest such gap, one) only by a town whose report would otherwise list fewer than three problems
    (among the county's last two; among its last three where it would list fewer than two)
    (``own``: its own 自查问题 per town)."""
    own = own or {}
    groups = [set(g["codes"]) for g in load_wording()["plans"].get("groups", [])]
    listed = np.zeros(len(p), dtype=bool)
    for town, g in p.groupby("town", sort=False):
        real = g[g["kind"] != "behind"]  # rows are largest first
        items: list[tuple[str, set, bool]] = []  # (section, its codes' group, counted) of each item listed
        missed = set(real.loc[real["missed"], "indicator"])
        n_missed = len({frozenset(next((s for s in groups if c in s), {c})) for c in missed})
        room = max(MAX_ITEMS - n_missed, 1)  # the other problems: what the missed targets leave, at least the largest
        for i, r in zip(real.index, real.itertuples()):
            group = next((s for s in groups if r.indicator in s), {r.indicator})
            if any(r.indicator in codes and len(codes) > 1 for _, codes, _ in items):
                listed[i] = True  # the other shortfall of a work listed already: the same item
                continue
            if group & missed:
                listed[i] = True  # a target missed (or a work of which one is) is never left out, nor counted
                items.append((r.section, group, False))
                continue
            if r.kind == "norm":
                listed[i] = True  # nor is a rule of the Party's not kept, but it takes its room
                items.append((r.section, group, True))
                continue
            counted = [sec for sec, _, c in items if c]
            if (len(counted) >= room or (r.section not in counted and len(set(counted)) >= max_findings)
                    or counted.count(r.section) >= 2):
                continue
            listed[i] = True
            items.append((r.section, group, True))
        behind = g[g["kind"] == "behind"]
        n = own.get(town, 0) + listed[g.index].sum()
        if len(behind) and n < 3:
            pick = behind.index if n < 2 else behind.index[behind["last_two"].astype(bool).to_numpy()]
            if len(pick):
                listed[pick[0]] = True  # rows are largest first
    return listed


def _text(r, cat) -> str:
    """The problem in plain words (the report states it with provenance; the overview and the index as this)."""
    row = cat[r.indicator]
    name, unit, integer = row["name"], row["unit"], bool(row["integer"])

    def num(x) -> str:
        return format_number(x, integer=integer)

    if r.kind == "coverage":
        core = name.removeprefix("实现").removesuffix("行政村")
        return f"{num(r.reference)}个行政村中{num(r.reference - r.value)}个尚未实现{core}"
    if r.kind == "target_missed":
        return f"{name}{num(r.value)}{unit}，未完成{num(r.reference)}{unit}的年度目标（完成{percent_text(r.ratio)}%）"
    if r.kind == "lagging" and r.scale == "share":
        return f"{share_name(cat, r.indicator)}{percent_text(r.value / 100)}%，居全县末位（全县中位数{percent_text(r.reference / 100)}%）"
    if r.kind == "lagging":
        return (f"{lagging_subject(cat, r.indicator, r.scale)}{format_number(r.value, integer=False)}{unit}，居全县末位"
                f"（全县中位数{format_number(r.reference, integer=False)}{unit}）")
    if r.kind == "norm":
        return (f"{lagging_subject(cat, r.indicator, r.scale)}{format_number(r.value, integer=False)}{unit}，未达到"
                f"{row['norm_source']}{row['norm_rule']}的要求")
    if r.kind == "behind":
        return (f"{lagging_subject(cat, r.indicator, r.scale)}{format_number(r.value, integer=False)}{unit}，低于全县"
                f"中位数（{format_number(r.reference, integer=False)}{unit}）")  # the analyst's words; a report ranks
    return f"{name}{num(r.value)}{unit}，比上年下降{percent_text(r.ratio)}%"


def share_name(cat, code: str) -> str:
    """The name of the compared share of ``code`` (catalog coverage ``compare``): 党员承诺书签订率."""
    cov = cat.coverage
    return str(cov.loc[(cov["numerator"] == code) & cov["compare"], "name"].iloc[0])


def same_work(item: str, codes) -> bool:
    """Whether a problem the town named itself (``item``) is about the work of one of ``codes``: it holds one of
    their words in wording.yaml ``same_work`` (温泉康养项目运营不佳，游客明显减少 and 景区年接待游客量). The report tells
    such a data shortfall inside the town's own item."""
    words = load_wording().get("same_work", {})
    return any(w in item for c in codes for w in words.get(c, ()))


def problem_topic(item: str) -> dict:
    """The topic of a problem the town named itself (wording.yaml ``plans.by_topic``): the first whose keywords it
    holds (the catch-all one, with none, last). Its heading and measure answer the problem in 三."""
    return next(t for t in load_wording()["plans"]["by_topic"]
                if not t["keywords"] or any(k in item for k in t["keywords"]))


#: The sentences of （六） that tell the Party's own work with the people (基层治理, “我为群众办实事”), not the economy.
SERVICE_SENTENCES = frozenset({"民生"})


def economic(kind: str, section: str, text: str, sentence: object = None) -> bool:
    """Whether a problem is of the town's economy (its markets, industries, incomes) rather than of the Party's own
    work: a town's own item by its topic (wording.yaml ``area: development``: 中药材价格波动大, 苹果销售渠道单一), a data
    problem by its section ((六), s6: 户均增收, 旅游综合收入) unless its catalog ``sentence`` is one of the Party's work
    with the people (:data:`SERVICE_SENTENCES`: “我为群众办实事”活动). 二 tells the Party's own work first: a report on
    全面从严治党主体责任 that opened with 中药材价格波动大 and told its 警示教育 shortfall third read as misplaced."""
    if kind == "own":
        return problem_topic(text).get("area") == "development"
    return section == "s6" and sentence not in SERVICE_SENTENCES


def lagging_subject(cat, code: str, scale: str) -> str:
    """A lagging measure as the report names it, with its scale (``scale`` as :func:`indicators.scaled_values`
    gives it): 主题党日活动平均每个党支部, 户均增收."""
    return f"{subject_name(cat, code)}{SCALE_TEXT.get(str(scale), '')}"


def subject_name(cat, code: str) -> str:
    """An indicator as what was done, without its counting word: 警示教育, “我为群众办实事”活动, 户均增收 (a count of
    people reached keeps it: 警示教育人次 is not 警示教育, the sessions)."""
    row = cat[code]
    name = row["name"]
    if isinstance(row.get("subject"), str) and row["subject"]:  # the catalog's own words (参加警示教育)
        return row["subject"]
    if row["unit"] == "人次":
        return name
    for suffix in (row["unit"] + "数", row["unit"] + "次", row["unit"]):
        name = name.removesuffix(suffix)
    return name


def town_problems(ds: Dataset, year: int, town: str | None = None, *, drop_threshold: float = DROP_THRESHOLD,
                  nearly_met: float = NEARLY_MET, max_findings: int = MAX_FINDINGS,
                  listed_only: bool = True) -> pd.DataFrame:
    """The problems of ``town`` (or of every town) in ``year``, as every output states them: the town's own
    自查问题 first (kind ``own``, in its order, with the cell they came from), then the data problems a report
    lists (all of them with ``listed_only=False``), largest first (the report tells the Party's own work before the
    town's economy: :func:`economic`). Columns as :data:`COLUMNS`.

    On a dataset of several counties, each county is read on its own (a town is compared with its county).
    """
    if ds.multi:
        parts = []
        for county in ds.counties:
            cv = ds.for_county(county)
            if town is None or town in cv.towns:
                parts.append(town_problems(cv, year, town, drop_threshold=drop_threshold, nearly_met=nearly_met,
                                           max_findings=max_findings, listed_only=listed_only).assign(county=county))
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=[*COLUMNS, "county"])
    data = county_problems(ds, year, drop_threshold=drop_threshold, nearly_met=nearly_met, max_findings=max_findings)
    if listed_only:
        data = data[data["listed"]]
    own_rows = []
    pr = ds.practices
    own = pr[(pr["year"] == int(year)) & (pr["field"] == "own_problems")]
    for r in own.itertuples():
        for item in split_items(r.text):
            own_rows.append({"town": r.town, "kind": "own", "indicator": None, "section": "problems",
                             "value": np.nan, "reference": np.nan, "ratio": np.nan, "weight": np.inf, "listed": True, "text": item, "source": r.source,
                             "scale": ""})
    out = pd.concat([pd.DataFrame(own_rows, columns=COLUMNS), data], ignore_index=True) if own_rows else data
    order = {t: i for i, t in enumerate(ds.towns)}
    out = out.assign(_t=out["town"].map(order), _o=range(len(out)))
    out = out.sort_values(["_t", "_o"], kind="stable").drop(columns=["_t", "_o"]).reset_index(drop=True)
    if town is not None:
        out = out[out["town"] == town].reset_index(drop=True)
    return out
