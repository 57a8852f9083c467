"""The narrative: the seed report's Chinese text filled from data.

The wording lives in a Jinja2 template (``templates/narrative/town_report.html.j2``); this module supplies
what the template calls: numbers written after GB/T 15835 and the report conventions, each wrapped in a
``<span>`` that carries its provenance (indicator, year, ``file!sheet!cell``), year-over-year phrases,
profile text, and the findings that become 二、存在的问题 and the first items of 三、下一步工作打算.

After rendering, every paragraph is cut into clauses (at ，；。); a clause holding a number that does not
apply this year is dropped, and so is a clause whose numbers are all zero, so no dangling punctuation
remains. Missing numbers stay visible as ``【待补：…】`` and are listed at the end.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from . import indicators as ind
from .catalog import Catalog, year_phrases
from .loaders import Dataset

__all__ = ["ReportOptions", "TownReport", "chinese_numeral", "chinese_year", "format_number", "town_report"]

# Markers put into the rendered text by n(); removed before the HTML is returned.
_NA = "\ue000"  # a number that does not apply: the clause is dropped
_ZERO = "\ue001"  # a number that is zero: the clause is dropped when all its numbers are zero
_NUM = "\ue002"  # any other number (present or missing)
_MARKS = re.compile("[\ue000-\ue002]")

_DIGITS = "零一二三四五六七八九"
# Units whose change is better told as a rate (同比增长12.5%) than as an absolute difference.
RATE_UNITS = {"万元", "万人次", "万头（只）", "亩", "米", "吨"}
# How a missing number is named in its marker: 主题党日活动 + 次数.
_MEASURE = {"次": "次数", "名": "人数", "人": "人数", "个": "个数", "支": "支数", "轮": "轮次", "户": "户数",
            "份": "份数", "处": "处数", "套": "套数", "篇": "篇数", "件": "件数", "起": "起数", "座": "座数",
            "项": "项数", "人次": "人次"}


# --------------------------------------------------------------------------------------------- numbers
def chinese_numeral(n: int) -> str:
    """Chinese numeral for 0–9999 as used in fixed terms: 七个方面, 第十五次, 四轮.

    >>> [chinese_numeral(i) for i in (0, 4, 10, 15, 20, 21, 100, 105, 110)]
    ['零', '四', '十', '十五', '二十', '二十一', '一百', '一百零五', '一百一十']
    """
    n = int(n)
    if not 0 <= n < 10000:
        raise ValueError(f"chinese_numeral supports 0–9999, got {n}")
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero and out:
                out += "零"
            out += _DIGITS[d] + unit
            zero = False
        else:
            zero = bool(out)
    return out


def chinese_year(year: int) -> str:
    """A year as a heading writes it: ``chinese_year(2025) == '二〇二五'``."""
    return "".join("〇一二三四五六七八九"[int(d)] for d in str(int(year)))


def format_number(value: float, *, integer: bool = True, numeral: str = "arabic") -> str:
    """Digits of a value after GB/T 15835: integers plain, decimals to at most two places.

    >>> format_number(12.0), format_number(3.456, integer=False), format_number(7, numeral="chinese")
    ('12', '3.46', '七')
    >>> format_number(120.50, integer=False)
    '120.5'
    """
    if numeral == "chinese":
        return chinese_numeral(int(round(value)))
    if integer or float(value).is_integer():
        return f"{int(round(value))}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent_text(rate: float) -> str:
    """A rate as percent text: 0.125 → '12.5', 0.1 → '10'."""
    return f"{abs(rate) * 100:.1f}".removesuffix(".0")


# --------------------------------------------------------------------------------------------- options
class HTML(Markup):
    """Safe HTML that Jupyter (and so the exported report) displays as HTML, not as its text."""

    def _repr_html_(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ReportOptions:
    """What a user can switch in a report.

    ``yoy``: year-over-year context after key numbers. ``general_problems``: keep the seed's three general
    problems beside the data-driven ones. ``round_approx``: write counts of 20 and more as ``30余``.
    ``max_findings``: sections turned into data-driven problems. ``drop_threshold``: share of decline that is
    flagged (see :func:`indicators.flags`).
    """

    yoy: bool = True
    general_problems: bool = True
    round_approx: bool = False
    max_findings: int = 3
    drop_threshold: float = 0.2


@dataclass
class Finding:
    """A section's data-driven problem: the sentence text (Markup) and the indicator names behind it."""

    section: str
    text: Markup
    names: str
    codes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- the report
@dataclass
class TownReport:
    """A rendered town report. ``html`` is the narrative (title, headings, paragraphs) as safe HTML;
    ``missing`` lists the numbers still to be filled; ``findings`` the data-driven problems."""

    town: str
    year: int
    title: str
    html: Markup
    missing: pd.DataFrame
    findings: list[Finding]
    options: ReportOptions

    def _repr_html_(self) -> str:
        return str(self.html)

    @property
    def text(self) -> str:
        """The report as plain text (tags removed), e.g. for pasting into Word."""
        from html import unescape

        body = re.sub(r"</(p|h1|h2|h3)>", "\n", str(self.html))
        return unescape(re.sub(r"<[^>]+>", "", body)).strip()

    def missing_html(self) -> HTML:
        """The list of missing numbers that ends the report (empty when nothing is missing)."""
        if self.missing.empty:
            return HTML("")
        rows = "".join(
            f"<li>{escape(r.name)}（{escape(r.unit)}）：来源 {escape(r.source)}</li>" for r in self.missing.itertuples()
        )
        return HTML(f'<section class="missing-list"><h2>附：待补数据（{len(self.missing)}项）</h2><ol>{rows}</ol></section>')


@cache
def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("zhidang_analysis", "templates/narrative"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    return env


class _Filler:
    """The functions the template calls, bound to one town and year."""

    def __init__(self, ds: Dataset, town: str, year: int, options: ReportOptions):
        self.ds, self.town, self.year, self.options = ds, town, year, options
        self.cat: Catalog = ds.catalog
        v = ds.values
        rows = v[(v["town"] == town) & (v["year"] == year)].set_index("indicator")
        self.rows = rows
        y = ind.yoy(v[v["town"] == town], catalog=self.cat)
        self.yoy = y[y["year"] == year].set_index("indicator")
        self.profile = ds.profile.loc[town]
        self.missing: dict[str, str] = {}

    # -- values -------------------------------------------------------------------------------
    def status(self, code: str) -> tuple[float, bool, str, str]:
        """(value, approx, status, source) of an indicator for this town and year."""
        self.cat.check(code)
        if self.cat.frame.at[code, "origin"] == "profile":
            value = self.profile.get(code, math.nan)
            status = "missing" if pd.isna(value) else "present"
            src = str(self.profile.get("source", "")).rsplit("!", 1)[0] + "（乡镇概况）"
            return value, False, status, src
        if not self.cat.applies(code, self.year) or code not in self.rows.index:
            return math.nan, False, "na" if not self.cat.applies(code, self.year) else "missing", ""
        r = self.rows.loc[code]
        return r["value"], bool(r["approx"]), r["status"], r["source"]

    def value(self, code: str) -> float | None:
        value, _, status, _ = self.status(code)
        return float(value) if status == "present" else None

    def number(self, code: str, unit: str | None = None, prefix: str = "") -> Markup:
        """The number with unit and provenance, or a 待补 marker, or the not-applicable mark."""
        value, approx, status, source = self.status(code)
        row = self.cat[code]
        unit = row["unit"] if unit is None else unit
        if status == "na":
            return Markup(_NA)
        name = row["name"]
        if status != "present":
            label = name if name.endswith(tuple(_MEASURE.values())) else name + _MEASURE.get(row["unit"], f"（{row['unit']}）")
            self.missing[code] = source
            return Markup(
                f'{_NUM}<span class="missing" data-indicator="{code}" data-year="{self.year}" '
                f'data-source="{escape(source)}" title="{escape(name)} · {self.year}年 · 待补">'
                f"【待补：{escape(label)}】</span>"
            )
        digits = format_number(value, integer=bool(row["integer"]), numeral=row["numeral"])
        approx_word = ""
        if approx:
            approx_word = "余"
        elif self.options.round_approx and row["integer"] and row["numeral"] != "chinese" and value >= 20:
            floor = int(value) // 10 * 10
            if floor != value:
                digits, approx_word = str(floor), "余"
        mark = _ZERO if value == 0 else _NUM
        title = f"{name} · {self.year}年 · 来源：{source}" + ("（填报为约数）" if approx else "")
        return Markup(
            f'{mark}<span class="num" data-indicator="{code}" data-year="{self.year}" data-value="{value:.15g}" '
            f'data-source="{escape(source)}" title="{escape(title)}">{escape(prefix)}{digits}{approx_word}'
            f"{escape(unit)}</span>"
        )

    def change(self, code: str) -> Markup:
        """Year-over-year phrase after a number: ``，比上年增加3次``, ``，同比增长12.5%``, ``，与上年持平``."""
        if not self.options.yoy or code not in self.yoy.index:
            return Markup("")
        r = self.yoy.loc[code]
        if pd.isna(r["change"]):
            return Markup("")
        row = self.cat[code]
        prev_year = int(r["prev_year"])
        since = "比上年" if prev_year == self.year - 1 else f"比{prev_year}年"
        if r["change"] == 0:
            text = "与上年持平" if prev_year == self.year - 1 else f"与{prev_year}年持平"
        elif row["unit"] in RATE_UNITS and pd.notna(r["rate"]) and percent_text(r["rate"]) != "0":
            text = ("同比" if prev_year == self.year - 1 else since) + f"{r['rate_word']}{percent_text(r['rate'])}%"
        else:
            amount = format_number(abs(r["change"]), integer=bool(row["integer"]))
            text = f"{since}{r['change_word']}{amount}{row['unit']}"
        prev_source = self._source(code, prev_year)
        title = (f"{row['name']} · {prev_year}年为{format_number(r['prev_value'], integer=bool(row['integer']))}"
                 f"{row['unit']} · 来源：{prev_source}")
        return Markup(f'，<span class="chg" data-indicator="{code}" data-year="{prev_year}" '
                      f'data-source="{escape(prev_source)}" title="{escape(title)}">{escape(text)}</span>')

    def _source(self, code: str, year: int) -> str:
        """``file!sheet!cell`` of this town's value of ``code`` in ``year``."""
        v = self.ds.values
        hit = v.loc[(v["town"] == self.town) & (v["year"] == year) & (v["indicator"] == code), "source"]
        return str(hit.iloc[0]) if len(hit) else ""

    def _provenance(self, text: str, title: str, source: str = "") -> Markup:
        """A number that is not a data value (a target, a change, a county median) with where it comes from."""
        attrs = f' data-source="{escape(source)}"' if source else ""
        return Markup(f'<span class="ref"{attrs} title="{escape(title)}">{escape(text)}</span>')

    def share(self, code: str) -> Markup:
        """A coverage ratio (catalog ``coverage``) and its change in 百分点: ``，覆盖率83.3%，比上年提高8.3个百分点``."""
        cov = self.cat.coverage.loc[code]
        now = self._ratio(cov, self.year)
        if now is None:
            return Markup("")
        text = f"{cov['name']}{percent_text(now)}%"
        before = self._ratio(cov, self.year - 1) if self.options.yoy else None
        if before is not None:
            points = round((now - before) * 100, 1)
            if points == 0:
                text += "，与上年持平"
            else:
                text += f"，比上年{'提高' if points > 0 else '下降'}{percent_text(abs(points) / 100)}个百分点"
        title = f"{cov['name']} = {self.cat.name(cov['numerator'])} ÷ {self.cat.name(cov['denominator'])}"
        return Markup(f'，<span class="share" data-indicator="{code}" title="{escape(title)}">{escape(text)}</span>')

    def _ratio(self, cov: pd.Series, year: int) -> float | None:
        if year == self.year:
            num, den = self.value(cov["numerator"]), self.value(cov["denominator"])
        else:
            v = self.ds.values
            row = v[(v["town"] == self.town) & (v["year"] == year) & (v["indicator"] == cov["numerator"])
                    & (v["status"] == "present")]
            num = float(row["value"].iloc[0]) if len(row) else None
            den = self.value(cov["denominator"])
        if num is None or not den:
            return None
        return num / den

    def text(self, field_code: str) -> Markup:
        """Profile text (escaped); the not-applicable mark when it is empty, so its clause is dropped."""
        t = str(self.profile.get(field_code, "") or "").strip()
        if not t or t == "nan":
            return Markup(_NA)
        label = self.cat.profile_fields.at[field_code, "name"] if field_code in self.cat.profile_fields.index else field_code
        source = str(self.profile.get("source", ""))
        return Markup(f'<span class="profile" data-field="{field_code}" data-source="{escape(source)}" '
                      f'title="{escape(f"乡镇概况 · {label} · 来源：{source}")}">{escape(t)}</span>')

    # -- findings ------------------------------------------------------------------------------
    def findings(self, flags: pd.DataFrame) -> list[Finding]:
        """Turn decline / target_missed / outlier_low flags into one problem sentence per section."""
        f = flags[(flags["town"] == self.town) & (flags["year"] == self.year)
                  & flags["flag"].isin(["decline", "target_missed", "outlier_low"])]
        if f.empty:
            return []
        f = f.assign(section=f["indicator"].map(self.cat.frame["section"]))
        f = f[f["section"].isin([f"s{i}" for i in range(1, 7)])]
        weight = f["flag"].map({"target_missed": 3, "decline": 2, "outlier_low": 1})
        f = f.assign(_w=weight)
        order = (f.groupby("section")["_w"].sum().sort_values(ascending=False, kind="stable")
                 .index[: self.options.max_findings])
        out = []
        for section in order:
            part = f[f["section"] == section].sort_values("_w", ascending=False, kind="stable")
            part = part.drop_duplicates("indicator").head(3)
            phrases = [self._finding_phrase(r) for r in part.itertuples()]
            names = "、".join(dict.fromkeys(self.cat.name(c) for c in part["indicator"]))
            out.append(Finding(section, Markup("；").join(phrases), names, list(part["indicator"])))
        return out

    def _finding_phrase(self, r) -> Markup:
        row = self.cat[r.indicator]
        name = row["name"]
        for suffix in (row["unit"] + "数", row["unit"] + "次", row["unit"]):
            name = name.removesuffix(suffix)
        num = Markup(_MARKS.sub("", self.number(r.indicator)))  # a finding is never pruned
        unit, integer = row["unit"], bool(row["integer"])
        if r.flag == "decline":
            amount = format_number(abs(r.value - r.reference), integer=integer)
            prev = self._source(r.indicator, self.year - 1)
            ref = self._provenance(f"减少{amount}{unit}、下降{percent_text(r.ratio)}%",
                                   f"{row['name']} · {self.year - 1}年为{format_number(r.reference, integer=integer)}"
                                   f"{unit} · 来源：{prev}", prev)
            return Markup(f"{escape(name)}{num}，比上年{ref}")
        if r.flag == "target_missed":
            t = self.ds.targets
            hit = t.loc[(t["town"] == self.town) & (t["year"] == self.year) & (t["indicator"] == r.indicator), "source"]
            source = str(hit.iloc[0]) if len(hit) else ""
            ref = self._provenance(f"{format_number(r.reference, integer=integer)}{unit}（完成{percent_text(r.ratio)}%）",
                                   f"{row['name']} · {self.year}年目标 · 来源：{source}", source)
            return Markup(f"{escape(name)}{num}，未完成年度目标{ref}")
        ref = self._provenance(f"{format_number(r.reference, integer=False)}{unit}",
                               f"{row['name']} · {self.year}年全县各乡镇填报值的中位数")
        return Markup(f"{escape(name)}{num}，明显低于全县中位数{ref}")


def _prune(html: str) -> str:
    """Drop clauses holding a not-applicable number or only zero numbers; remove the markers.

    Tags are set aside before the text is cut at ，；。 (an attribute may hold a file name with a comma) and
    put back afterwards.
    """
    tags: list[str] = []

    def hide(m: re.Match) -> str:
        tags.append(m.group(0))
        return f"\ue010{len(tags) - 1}\ue011"

    def paragraph(m: re.Match) -> str:
        body = re.sub(r"<[^>]*>", hide, m.group(2))
        sentences = re.split(r"(?<=。)", body)
        kept_sentences = []
        for sentence in sentences:
            if not sentence:
                continue
            end = "。" if sentence.endswith("。") else ""
            parts = re.split(r"([，；])", sentence[: len(sentence) - len(end)])
            clauses = parts[0::2]
            seps = parts[1::2] + [""]
            kept = []
            for clause, sep in zip(clauses, seps):
                if _NA in clause:
                    continue
                if _ZERO in clause and _NUM not in clause:
                    continue
                kept.append((clause, sep))
            if not kept:
                continue
            text = "".join(c + s for c, s in kept[:-1]) + kept[-1][0]
            kept_sentences.append(text + end)
        text = re.sub("\ue010(\\d+)\ue011", lambda t: tags[int(t.group(1))], "".join(kept_sentences))
        return m.group(1) + text + m.group(3)

    html = re.sub(r"(<p>)(.*?)(</p>)", paragraph, html, flags=re.S)
    return _MARKS.sub("", html)


def town_report(ds: Dataset, town: str, year: int, options: ReportOptions | None = None,
                **kwargs) -> TownReport:
    """Render the narrative report of ``town`` in ``year``.

    Keyword arguments are :class:`ReportOptions` fields (``yoy=False`` …). Raises
    :class:`~zhidang_analysis.errors.UnknownNameError` for a town or year that is not in the data.
    """
    options = options or ReportOptions(**kwargs)
    ds.check_town(town)
    year = ds.check_year(year)
    filler = _Filler(ds, town, year, options)
    flags = ind.flags(ds.values[ds.values["year"].isin([year - 1, year])], targets=ds.targets,
                      profile=ds.profile, drop_threshold=options.drop_threshold, catalog=ds.catalog)
    findings = filler.findings(flags)
    kind = filler.profile.get("town_kind") or "镇"
    title = f"中共{town}委员会关于{chinese_year(year)}年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告"
    template = template_environment().get_template("town_report.html.j2")
    html = template.render(
        title=title, town=town, year=year, k=kind, phrases=year_phrases(year),
        profile={k: ("" if pd.isna(v) else v) for k, v in filler.profile.items()},
        n=filler.number, chg=filler.change, p=filler.text, value=filler.value, share=filler.share,
        cn=chinese_numeral, findings=findings, options=options,
    )
    html = Markup(_prune(html).strip())
    cat = ds.catalog
    missing = pd.DataFrame(
        [{"code": c, "name": cat.name(c), "unit": cat.frame.at[c, "unit"], "source": s or "（未填报）"}
         for c, s in filler.missing.items()],
        columns=["code", "name", "unit", "source"],
    )
    return TownReport(town=town, year=year, title=title, html=html, missing=missing, findings=findings,
                      options=options)
