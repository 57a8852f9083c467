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
import zlib
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from ..analysis import indicators as ind
from ..model.catalog import Catalog, load_wording, year_phrases
from ..model.dataset import Dataset
from ..analysis.numerals import chinese_numeral, chinese_year, format_number, percent_text  # noqa: F401 - re-exported
from ..analysis.problems import DROP_THRESHOLD, MAX_FINDINGS, NEARLY_MET, county_problems
from ..analysis.standing import county_context, county_flags, county_scores  # noqa: F401 - re-exported
from ..inputs.towntext import split_items

__all__ = ["ReportOptions", "TownReport", "chinese_numeral", "chinese_year", "format_number", "town_report"]

# Markers put into the rendered text by n(); removed before the HTML is returned.
_NA = "\ue000"  # a number that does not apply: the clause is dropped
_ZERO = "\ue001"  # a number that is zero: the clause is dropped when all its numbers are zero
_NUM = "\ue002"  # any other number (present or missing)
_MARKS = re.compile("[\ue000-\ue002]")

# Units whose change is better told as a rate (同比增长12.5%) than as an absolute difference.
RATE_UNITS = {"万元", "万人次", "万头（只）", "亩", "米", "吨"}
# How a missing number is named in its marker: 主题党日活动 + 次数.
_MEASURE = {"次": "次数", "名": "人数", "人": "人数", "个": "个数", "支": "支数", "轮": "轮次", "户": "户数",
            "份": "份数", "处": "处数", "套": "套数", "篇": "篇数", "件": "件数", "起": "起数", "座": "座数",
            "项": "项数", "人次": "人次"}


def missing_label(name: str, unit: str) -> str:
    """How a missing number is named in its 【待补：…】 marker.

    >>> missing_label("主题党日活动", "次"), missing_label("发展党员问题排查方面数", "个")
    ('主题党日活动次数', '发展党员问题排查方面数')
    >>> missing_label("牛羊存栏", "万头（只）"), missing_label("旅游综合收入", "万元")
    ('牛羊存栏数', '旅游综合收入')
    """
    name = _unquoted(name)
    if name.endswith(("数", "次", "人次", "轮次", "量")):
        return name
    if unit in _MEASURE:
        return name + _MEASURE[unit]
    return name + "数" if unit.startswith("万") and not unit.endswith("元") else name


def _unquoted(name: str) -> str:
    """``“好媳妇”`` → ``好媳妇``; a name that only begins with a quotation (``“我为群众办实事”活动``) is kept."""
    return name[1:-1] if name.startswith("“") and name.endswith("”") and name.count("“") == 1 else name


def congress_ordinal(ordinal: float, held: object, year: int) -> float:
    """The ordinal of the county Party congress whose goals a report of ``year`` cites.

    ``ordinal`` was held in ``held`` (the profile's 县党代会召开年度); county congresses meet every five
    years, so a report of a later term cites a later congress and one of an earlier term an earlier one.
    Without ``held`` the ordinal is taken as given.

    >>> congress_ordinal(15, "2021", 2020), congress_ordinal(15, "2021", 2025), congress_ordinal(15, "2021", 2026)
    (14, 15, 16)
    """
    try:
        held = int(str(held).strip())
    except (TypeError, ValueError):
        return ordinal
    return int(ordinal) + (int(year) - held) // 5


# the verbs with which the template states a phrase of the town's (采取××的办法, 建立××)
_SLOT_VERBS = ("采取", "建立", "推行", "制定完善", "打造", "坚持", "实施")
# a town's own numbered items (一是…二是…), at the start of its text or after a full stop or semicolon
_ENUM = re.compile(r"(^|[。；])[一二三四五六七八九十]是")
# the subject a town's own paragraph may open with (镇党委, 乡党委, 石岭镇党委): numbered items share the paragraph's
_SUBJECT = re.compile(r"^(?:[\u4e00-\u9fff]{0,6}[镇乡])?党委(?!书记|班子|委员)")
_SPAN = re.compile(r"^(<span[^>]*>)(.*)(</span>)$", re.S)
_SCALE_TEXT = {"per_village": "村均", "per_100_members": "每百名党员", "per_10k_people": "每万人"}
# indicators named by what was done (培养入党积极分子, 开展…): their per-size figure puts the scale first
_DEEDS = ("培养", "开展", "发展", "化解", "解决", "关爱", "关注", "关心", "签订", "评定", "创建", "组织", "实施",
          "建成", "拆除", "清理", "种植", "送学", "评选")


def _scale_text(scale: str) -> str:
    return _SCALE_TEXT.get(scale, "")


def _fmt_scaled(x: float) -> str:
    """A size-scaled value: one decimal (two below 1), no trailing zeros."""
    if pd.isna(x):
        return ""
    return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) < 1 else f"{x:.1f}".removesuffix(".0")


def _count_word(k: int) -> str:
    """连续两年 / 连续三年 (两 before a measure word)."""
    return "两" if k == 2 else chinese_numeral(k)


# --------------------------------------------------------------------------------------------- options
class HTML(Markup):
    """Safe HTML that Jupyter (and so the exported report) displays as HTML, not as its text."""

    def _repr_html_(self) -> str:
        return str(self)


@dataclass(frozen=True)
class ReportOptions:
    """What a user can switch in a report.

    ``yoy``: year-over-year context after key numbers. ``general_problems``: when the data-driven problems and
    the town's own (自查问题) are fewer than three, fill 二、存在的问题 up to three with the seed's general
    self-criticisms (off, the default: only the town's real shortfalls; a town with none at all still gets them). ``round_approx``: write counts of 20 and more as
    ``30余``. ``max_findings``: sections turned into data-driven problems. ``drop_threshold``: share of decline
    that is flagged (see :func:`indicators.flags`). ``nearly_met``: a target completed at this share or more is
    told as 基本完成 and is not a problem. ``sign_date``: the date under the sign-off (default: the last day of
    the report year, ``2025年12月31日``).
    """

    yoy: bool = True
    general_problems: bool = False
    round_approx: bool = False
    max_findings: int = MAX_FINDINGS
    drop_threshold: float = DROP_THRESHOLD
    nearly_met: float = NEARLY_MET
    sign_date: str = ""


@dataclass
class Finding:
    """A section's data-driven problem: the sentence text (Markup) and the indicator names behind it."""

    section: str
    text: Markup
    names: str
    codes: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)  # per code: target_missed, decline, slip, coverage
    references: list[float] = field(default_factory=list)  # per code: its target, the year before, the villages
    values: list[float] = field(default_factory=list)


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
        lines = (line.strip() for line in unescape(re.sub(r"<[^>]+>", "", body)).splitlines())
        return "\n\n".join(line for line in lines if line)  # one blank line between paragraphs, as in Word

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
        self.practices = ds.practice(town, year)
        # this town's standing per indicator in the county this year (rank, runs, best year, targets)
        context = county_context(ds, year)
        self.standing = context[context["town"] == town].set_index("indicator")
        self.silenced: set[str] = set()
        self.missing: dict[str, str] = {}

    # -- values -------------------------------------------------------------------------------
    def status(self, code: str) -> tuple[float, bool, str, str]:
        """(value, approx, status, source) of an indicator for this town and year."""
        self.cat.check(code)
        if self.cat.frame.at[code, "origin"] == "profile":
            value = self.profile.get(code, math.nan)
            status = "missing" if pd.isna(value) else "present"
            src = str(self.profile.get("source", "")).rsplit("!", 1)[0] + "（乡镇概况）"
            if code == "county_congress_ordinal" and status == "present":
                value = congress_ordinal(value, self.profile.get("county_congress_year"), self.year)
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
            label = missing_label(name, row["unit"])
            self.missing[code] = source
            return Markup(
                f'{_NUM}<span class="missing" data-indicator="{code}" data-year="{self.year}" '
                f'data-source="{escape(source)}" title="{escape(name)} · {self.year}年 · 待补">'
                f"【待补：{escape(label)}】</span>"
            )
        digits = format_number(value, integer=bool(row["integer"]), numeral=row["numeral"])
        if row["numeral"] == "chinese" and value == 2 and not prefix:
            digits = "两"  # 两轮、两个方面 (but 第二次)
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

    def change(self, code: str, sep: str = "，") -> Markup:
        """Year-over-year phrase after a number: ``，比上年增加3次``, ``，同比增长12.5%``, ``，与上年持平``.

        ``sep`` is the punctuation before it (``、`` when a second number of the same clause follows).
        """
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
        return Markup(f'{escape(sep)}<span class="chg" data-indicator="{code}" data-year="{prev_year}" '
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

    # -- the town's own practices (sheet 特色做法) -----------------------------------------------
    def has(self, code: str) -> bool:
        """Whether the town wrote this practice for this year. A method or mechanism that the town's own paragraph
        of the same section already states (in the template's words, or a phrase of 12 characters or more at
        all) counts as not written: the report would say it twice in a row."""
        if code not in self.practices:
            return False
        fields = self.cat.practice_fields
        text = self.practices[code][0]
        paragraph = self.practices.get(f"{fields.at[code, 'section']}_practice", ("",))[0]
        if fields.at[code, "kind"] == "phrase" and text in paragraph:
            # the paragraph states the same method in the same words (采取“清单对照、逐项打分”的办法), or a long
            # mechanism at all; a mere name (“温汤书屋”) may stand in both
            if len(text) >= 12 or any(verb + text in paragraph for verb in _SLOT_VERBS):
                return False
        return True

    def raw(self, code: str) -> str:
        """The town's own text of a practice, unescaped and without its source (for choosing the wording)."""
        return self.practices[code][0] if code in self.practices else ""

    def practice(self, code: str) -> Markup:
        """The town's own text (escaped, with its source), or the not-applicable mark so its clause is dropped."""
        if code not in self.practices:
            return Markup(_NA)
        text, source = self.practices[code]
        fields = self.cat.practice_fields
        if fields.at[code, "kind"] == "paragraph" and not text.endswith(("。", "！", "？", "”", "）")):
            text += "。"
        label = fields.at[code, "name"]
        return Markup(f'<span class="practice" data-field="{code}" data-source="{escape(source)}" '
                      f'title="{escape(f"特色做法 · {label} · 来源：{source}")}">{escape(text)}</span>')

    def folded(self, code: str, start: int) -> Markup:
        """The town's own paragraph of a section the template writes as 一是…四是, folded into its numbering: the
        items it numbered itself renumbered from ``start`` (一是 → 五是), else the whole paragraph as item ``start``
        (its subject, 镇党委, dropped: the numbered items share the paragraph's). Empty when the town wrote none."""
        if not self.has(code):
            return Markup("")
        span = str(self.practice(code))
        head, body, tail = _SPAN.match(span).groups()
        if _ENUM.search(body):
            count = iter(range(start, start + 20))
            body = _ENUM.sub(lambda m: m.group(1) + chinese_numeral(next(count)) + "是", body)
        else:
            body = chinese_numeral(start) + "是" + _SUBJECT.sub("", body, count=1)
        return Markup(head + body + tail)

    def own_paragraph(self, code: str) -> Markup:
        """The town's own paragraph of a section written without numbering: as it wrote it, and when it numbered
        its own items (一是…二是…), after a lead that says how many there are. Empty when the town wrote none."""
        if not self.has(code):
            return Markup("")
        span = self.practice(code)
        n = len(_ENUM.findall(self.raw(code)))
        if n < 2:
            return span
        lead = self._pick(load_wording()["slots"]["own_items_lead"], f"own-items-{code}")
        return Markup(escape(lead.format(k=self.kind, count=_count_word(n)))) + Markup("：") + span

    def items(self, code: str) -> list[Markup]:
        """A list practice (自查问题, 主导产业) as escaped items, each with the cell it came from."""
        if code not in self.practices:
            return []
        text, source = self.practices[code]
        label = self.cat.practice_fields.at[code, "name"]
        title = escape(f"特色做法 · {label} · 来源：{source}")
        return [Markup(f'<span class="practice" data-field="{code}" data-source="{escape(source)}" title="{title}">'
                       f"{escape(item)}</span>")
                for item in split_items(text, by_dunhao=code == "leading_industries")]

    def industries(self) -> Markup:
        """The town's 主导产业 as the seed writes them, for one, two, three or more (empty when it named none):
        ``做优做强A，`` · ``做优A、做强B，`` · ``做优A、做强B，做精C，`` · ``做优做强A、B、C、D等主导产业，``.
        A bare product (马铃薯) becomes an industry (马铃薯产业)."""
        items = [self._industry(m) for m in self.items("leading_industries")]
        if not items:
            return Markup("")
        if len(items) == 1:
            return Markup("做优做强") + items[0] + Markup("，")
        if len(items) == 2:
            return Markup("做优") + items[0] + Markup("、做强") + items[1] + Markup("，")
        if len(items) == 3:
            return (Markup("做优") + items[0] + Markup("、做强") + items[1] + Markup("，做精") + items[2]
                    + Markup("，"))
        return Markup("做优做强") + Markup("、").join(items) + Markup("等主导产业，")

    @staticmethod
    def _industry(item: Markup) -> Markup:
        text = re.sub(r"<[^>]*>", "", str(item))
        if text.endswith(("业", "游", "经济", "产业")) or "劳务" in text and not text.endswith("劳务"):
            return item  # 劳务输出 stays as it is
        suffix = "经济" if text.endswith("劳务") else "产业"
        return Markup(str(item).replace(f"{escape(text)}</span>", f"{escape(text)}{suffix}</span>", 1))

    def cadres(self) -> str:
        """镇村干部 in a 镇; 乡村两级干部 in a 乡 (乡村干部 would read as "rural cadres")."""
        return "乡村两级干部" if self.kind == "乡" else "镇村干部"

    @property
    def kind(self) -> str:
        return str(self.profile.get("town_kind") or "镇")

    # -- wording (data/wording.yaml) ----------------------------------------------------------
    def _pick(self, options: list[str], slot: str) -> str:
        """One of a slot's equivalent formulations, chosen by the town and the year (the same every time a report is
        made; this year's report does not copy last year's); the first, the seed's own words, for a town whose
        profile says 行文用语：范本."""
        if str(self.profile.get("wording_style") or "") == "范本":
            return options[0]
        key = f"{self.profile.get('county', '')}/{self.town}/{self.year}/{slot}"
        return options[zlib.crc32(key.encode("utf-8")) % len(options)]

    def wording(self, slot: str, **numbers: Markup) -> Markup:
        """This town's formulation of a slot of the phrase bank (``slots`` in data/wording.yaml); ``numbers`` fill
        the slot's own number fields (``{supervised}`` ← ``n('supervised_cadres')``)."""
        text = self._pick(load_wording()["slots"][slot], slot)
        phrases = year_phrases(self.year)
        return Markup(escape(text)).format(k=self.kind, cadres=self.cadres(), campaign=phrases["study_campaign"],
                                           spirit=phrases["congress_spirit"], **numbers)

    def general_line(self, kind: str) -> Markup:
        """A general line of 三 (``general`` in data/wording.yaml: study, workstyle, development)."""
        text = self._pick(load_wording()["general"][kind], f"general-{kind}")
        carrier = (self.practice("study_carrier") + Markup("、")) if self.has("study_carrier") else Markup("")
        congress = self.number("county_congress_ordinal", unit="次", prefix="第")
        return Markup(escape(text)).format(carrier=carrier, congress=congress, industries=self.industries())

    def problems_and_plans(self, findings: list[Finding]) -> tuple[list[Markup], list[Markup]]:
        """二 and 三 as lists: the problems (the town's own 自查问题 first, then its data's real shortfalls, largest
        first) and the measures, one for each problem in the same order (the town's own 下一步打算 where it gave
        one, else the measure of the problem's kind), then at most two general lines. A town with no problem at
        all gets a 【待补：本镇自查问题】 marker for the person editing the draft (the seed's three general ones only
        with ``general_problems``: they are no finding of the town's)."""
        w = load_wording()
        problems: list[Markup] = []
        plans: list[Markup] = []
        own_plans = self.items("own_plans")
        raw_problems = split_items(self.raw("own_problems")) if self.has("own_problems") else []
        for i, (item, text) in enumerate(zip(self.items("own_problems"), raw_problems)):
            problems.append(item)
            plans.append(own_plans[i] if i < len(own_plans) else self._topic_plan(text))
        for f in findings:
            problems.append(Markup(escape(w["problem_leads"][f.section])) + Markup("，") + f.text)
            plans.append(self._finding_plan(f))
        general = {kind: self._pick(texts, f"general-problem-{kind}") for kind, texts in w["general_problems"].items()}
        seed_words = str(self.profile.get("wording_style") or "") == "范本"
        if not problems and (self.options.general_problems or seed_words):
            # the seed's general problems: when asked for, or for the seed town itself (they are its own words)
            for kind, text in general.items():
                problems.append(Markup(escape(text)))
                plans.append(self.general_line(kind))
            return problems, (own_plans or plans)
        if not problems:  # nothing the town named, nothing its data show: the draft says what is to be written
            where = escape(f"特色做法表“自查问题”“下一步打算”栏 · {self.year}年 · 待补")
            problems.append(Markup(f'<span class="missing" title="{where}">【待补：本{self.kind}自查问题】</span>'))
            plans.append(Markup(f'<span class="missing" title="{where}">【待补：针对自查问题的整改措施】</span>'))
        plans += own_plans[len(raw_problems):]  # measures the town wrote beyond its problems are its own too
        if self.options.general_problems:
            for kind, text in general.items():
                if len(problems) < 3:
                    problems.append(Markup(escape(text)))
                    plans.append(self.general_line(kind))
        kinds = ["development"] if len(plans) >= 4 else ["study", "development"]
        plans += [self.general_line(k) for k in kinds if self.general_line(k) not in plans]
        return problems, plans

    def _topic_plan(self, problem: str) -> Markup:
        """The measure for a problem the town named itself, by the first topic whose keywords it contains."""
        topics = load_wording()["plans"]["by_topic"]
        plan = next(t["plan"] for t in topics if not t["keywords"] or any(k in problem for k in t["keywords"]))
        short = problem if len(problem) <= 30 else problem.split("，")[0]
        lead = f"针对{short}的问题，" if len(short) <= 30 else ""
        return Markup(escape(lead + plan.format(k=self.kind, cadres=self.cadres())))

    def _finding_plan(self, f: Finding) -> Markup:
        """The measure for a data-driven problem, named by what fell short (针对警示教育未完成年度目标的问题): its
        indicators' own measures, else its section's; a missed target's measure is sized to the target
        (确保完成全年12次的目标任务)."""
        plans = load_wording()["plans"]
        whats: dict[str, list[str]] = {}
        measures: list[Markup] = []
        fill = {"k": self.kind, "cadres": self.cadres()}
        for code, kind, ref, value in zip(f.codes, f.kinds or ["decline"] * len(f.codes),
                                          f.references or [None] * len(f.codes), f.values or [None] * len(f.codes)):
            row = self.cat[code]
            subject = self._subject(code)
            if kind == "coverage":
                core = row["name"].removeprefix("实现").removesuffix("行政村")
                whats.setdefault(f"部分行政村尚未实现{core}", [])  # how many: 二 says it, with its source
            else:
                whats.setdefault("未完成年度目标" if kind == "target_missed" else "比上年下降", []).append(subject)
            if code not in plans["by_indicator"] or len(measures) == 2:
                continue
            measure = Markup(escape(plans["by_indicator"][code].format(**fill)))
            if kind == "target_missed" and ref is not None:
                measure += Markup("，确保完成全年") + self._target(code, ref) + Markup("的目标任务")
            if measure not in measures:
                measures.append(measure)
        text = Markup("；").join(measures) if measures else Markup(escape(plans["by_section"][f.section].format(**fill)))
        lead = "针对" + "、".join("、".join(subjects) + what for what, subjects in whats.items()) + "的问题，"
        return Markup(escape(lead)) + text

    # -- catalog-driven sections ((六)) --------------------------------------------------------
    def section_text(self, section: str) -> Markup:
        """Sentences of ``section`` composed from its indicators' catalog phrases (see catalog.yaml ``sentences``).

        A phrase is left out when its number does not apply or is zero; text in ``[ ]`` (a verb the phrase
        shares with the one before) is written only when that phrase before was left out; a sentence whose
        ``requires`` codes have no value is left out whole.
        """
        f = self.cat.frame
        rows = f[(f["section"] == section) & f["phrase"].notna()]
        out = []
        for name, spec in self.cat.sentences.items():
            codes = list(rows.index[rows["sentence"] == name])
            if not codes:
                continue
            requires = spec.get("requires") or []
            if requires and all(self.value(c) is None for c in requires):
                self.silenced.update(codes)  # a sentence not written: its indicators are not told elsewhere either
                continue
            kept: list[Markup] = []
            dropped_join = None  # the punctuation of the first phrase left out since the last one kept
            for code in codes:
                phrase = self._phrase(code, rows.at[code, "phrase"], shared=dropped_join is not None)
                marks = _MARKS.findall(str(phrase))
                if _NA in marks or (_ZERO in marks and _NUM not in marks):
                    dropped_join = dropped_join or rows.at[code, "join"]
                    continue
                sep = (dropped_join or rows.at[code, "join"]) if kept else ""
                dropped_join = None
                kept.append(Markup(escape(sep)) + phrase)
            if not kept:
                continue
            body = Markup("").join(kept)
            lead = self._fill(self._variant(spec.get("lead"), f"sentence-{name}-lead"))
            if lead and _NA not in lead:
                body = lead + Markup("，") + body
            tail = self._variant(spec.get("tail"), f"sentence-{name}-tail")
            if tail:
                body = body + Markup("，") + self._fill(tail)
            out.append((*self._movement([c for c in codes if self.value(c) is not None]), body))
        # the town's own largest movement leads (a key-project investment that grew sixfold, a tourism income that
        # halved): a sentence whose change is at least half again moves to the front and says so
        if out:
            first = max(range(len(out)), key=lambda i: out[i][0])
            size, code, body = out[first]
            if size >= 0.5:
                if "{chg}" not in str(rows.at[code, "phrase"]):
                    body = body + Markup("，") + self._movement_text(code)
                out.pop(first)
                out.insert(0, (size, code, body))
        return Markup("").join(b + Markup("。") for _, _, b in out)

    def _movement_text(self, code: str) -> Markup:
        """``重点项目投资是上年的6.7倍`` / ``旅游综合收入比上年下降52%``, with the year before as its source."""
        r = self.yoy.loc[code]
        row = self.cat[code]
        if r["rate"] >= 1:
            words = f"是上年的{1 + r['rate']:.1f}倍".replace(".0倍", "倍")
        else:
            words = f"比上年{'增长' if r['rate'] > 0 else '下降'}{percent_text(r['rate'])}%"
        prev = self._source(code, self.year - 1)
        title = (f"{row['name']} · {self.year - 1}年为{format_number(r['prev_value'], integer=bool(row['integer']))}"
                 f"{row['unit']} · 来源：{prev}")
        return Markup(escape(self._short_name(code).removesuffix("数"))) + self._provenance(words, title, prev)

    def _variant(self, text, slot: str) -> str:
        """A catalog text that may be a list of equivalent formulations: this town's one."""
        if isinstance(text, list):
            return self._pick(text, slot) if text else ""
        return text or ""

    def _movement(self, codes: list[str]) -> tuple[float, str | None]:
        """The largest change of these indicators against the year before, as a share, and its indicator ((0,
        None) when there is none)."""
        y = self.yoy
        if len(y):  # a written number (not zero) against a base worth comparing (1 → 0 parks is no movement)
            y = y[y.index.isin(codes) & (y["prev_year"] == self.year - 1) & (y["value"] > 0) & (y["prev_value"] >= 5)]
        rates = y["rate"].abs().dropna() if len(y) else pd.Series(dtype=float)
        return (float(rates.max()), str(rates.idxmax())) if len(rates) else (0.0, None)

    def _phrase(self, code: str, phrase: str, *, shared: bool) -> Markup:
        text = re.sub(r"\[([^\]]*)\]", (lambda m: m.group(1)) if shared else "", phrase)
        return self._fill(text, code)

    def _fill(self, text: str, code: str | None = None) -> Markup:
        """Render a catalog phrase: ``{}`` this number, ``{chg}`` its change, ``{code}`` another number or profile
        text, and any Jinja the phrase holds (``{% if has('…') %}``)."""
        def field(m: re.Match) -> str:
            key = m.group(1)
            if key == "":
                return f"{{{{ n('{code}') }}}}"
            if key == "chg":
                return f"{{{{ chg('{code}') }}}}"
            if key in self.cat:
                return f"{{{{ n('{key}') }}}}"
            if key in self.cat.profile_fields.index:
                return f"{{{{ p('{key}') }}}}"
            if key in self.cat.practice_fields.index:
                return f"{{{{ pr('{key}') }}}}"
            raise ValueError(f"catalog phrase “{text}” names an unknown field {{{key}}}")

        source = re.sub(r"\{(\w*)\}", field, text)
        template = template_environment().from_string(source)
        return Markup(template.render(n=self.number, chg=self.change, p=self.text, pr=self.practice, has=self.has))

    # -- sentences only this town's data can write ---------------------------------------------
    def highlights(self, section: str, skip=()) -> Markup:
        """At most one sentence of the town's achievement in ``section``, in plain words: the indicator that
        stands out most, with at most two of its facts (a target completed, its rank in the county, a run of
        increases, its best year), as 「主题党日活动完成年度目标的105.5%，村均25.6次，居全县首位」. Nothing when
        nothing stands out: a level above the median is no achievement. Only performance measures are praised
        (never a checklist's length, a meeting's attendance or a count that follows the town's size), and never
        what 二 lists (``skip``) or a sentence not written.
        """
        codes = [c for c in self.cat.in_section(section)
                 if self.cat.applies(c, self.year) and c not in skip and c not in self.silenced
                 and self.cat.frame.at[c, "measure"] == "performance" and self.cat.frame.at[c, "praise"]]
        mine = self.standing[self.standing.index.isin(codes)].reset_index()
        facts: dict[str, list[tuple[float, str, Markup]]] = {}
        for r in mine.itertuples():
            for fact in self._facts(r):
                facts.setdefault(r.indicator, []).append(fact)
        if not facts:
            return Markup("")
        key = self.cat.frame["key"]
        code, fs = max(facts.items(), key=lambda kv: (sum(w for w, _, _ in kv[1]) + bool(key[kv[0]])))
        fs = sorted(fs, key=lambda t: -t[0])[:2]
        order = ("target", "rank", "streak", "record")  # the reading order
        fs.sort(key=lambda t: next(i for i, kind in enumerate(order) if t[1].startswith(kind)))
        subject = Markup(escape(self._subject(code)))
        texts = [f for _, _, f in fs]
        scale = _scale_text(str(self.standing.at[code, "scale"])) if "scale" in self.standing else ""
        if fs[0][1].startswith("rank") and scale and self._subject(code).startswith(_DEEDS):
            # 每百名党员培养入党积极分子4.9名 (a deed reads after its scale), not 培养入党积极分子每百名党员4.9名
            texts[0] = Markup(str(texts[0]).replace(f">{scale}", ">", 1))
            subject = Markup(escape(scale)) + subject
        return subject + Markup("，").join(texts) + Markup("。")

    def _short_name(self, code: str) -> str:
        """The indicator as the subject of a sentence: 纪委督促管理干部人数, 主题党日活动次数."""
        row = self.cat[code]
        return missing_label(row["name"], row["unit"])

    def _facts(self, r) -> list[tuple[float, str, Markup]]:
        """The notable facts of one indicator for this town: (weight, kind, text); a higher weight is more
        notable."""
        row = self.cat[r.indicator]
        out: list[tuple[float, str, Markup]] = []
        pol = int(row["polarity"])
        # a rank is notable when at most two other towns are as good (not a tie of many at the top), on an
        # indicator that is not a coverage count (those are told as a 覆盖率) and a scaled value of at least 1;
        # a tie says so (并列第2位)
        if (pol != 0 and r.n_towns >= 5 and r.rank_max <= 3 and r.scaled >= 2 and bool(row["key"])
                and r.indicator not in set(self.cat.coverage["numerator"])):
            scale, digits = _scale_text(r.scale), _fmt_scaled(r.scaled)
            tie = r.rank_max > r.rank
            place = (f"并列全县第{int(r.rank)}位" if tie else "居全县首位" if r.rank == 1 else f"居全县第{int(r.rank)}位")
            title = (f"{row['name']} · 全县{int(r.n_towns)}个乡镇{scale or '按填报数'}排名"
                     f"{'（并列）' if tie else ''} · 本乡镇{digits}{row['unit']}")
            out.append((4 - r.rank - 0.5 * tie, f"rank{r.indicator}",
                        self._provenance(f"{scale}{digits}{row['unit']}，{place}", title)))
        streak_covers_all = False
        if pol > 0 and r.streak >= 2:
            title = f"{row['name']} · {self.year - int(r.streak)}—{self.year}年逐年增加"
            out.append((r.streak - 0.5, f"streak{int(r.streak)}",
                        self._provenance(f"连续{_count_word(int(r.streak))}年增长", title)))
            streak_covers_all = self.year - int(r.streak) <= r.first_year
        # a record only for a series of at least four years, and not where the run of increases says it already
        if pol > 0 and r.record and r.n_years >= 4 and r.first_year <= self.year - 3 and not streak_covers_all:
            title = f"{row['name']} · {int(r.first_year)}—{self.year}年各年数值中最高"
            out.append((1.5, f"record{int(r.first_year)}", self._provenance(f"为{int(r.first_year)}年以来最高", title)))
        if pol != 0 and pd.notna(r.completion):
            source = r.target_source
            title = (f"{row['name']} · {self.year}年目标{format_number(r.target, integer=bool(row['integer']))}"
                     f"{row['unit']} · 来源：{source}")
            # a target met is an achievement; one basically done (95%–100%) is no failure, but no praise either
            if r.completion > 1:
                out.append((3, f"target{r.indicator}",
                            self._provenance(f"完成年度目标的{percent_text(r.completion)}%", title, source)))
        return out

    def target_state(self) -> str:
        """``met`` (every target of the year reached), ``nearly`` (all at least ``nearly_met``), ``missed``
        or ``none`` (no target that year)."""
        c = self.standing
        mine = c[c["completion"].notna() & (c.index.map(self.cat.frame["polarity"]) != 0)]
        if mine.empty:
            return "none"
        if (mine["completion"] >= 1).all():
            return "met"
        if (mine["completion"] >= self.options.nearly_met).all():
            return "nearly"
        return "missed"

    # -- findings ------------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        """The data problems a report lists (:func:`problems.county_problems`, the one model every output uses),
        one problem sentence per section, the section of the largest first."""
        o = self.options
        p = county_problems(self.ds, self.year, drop_threshold=o.drop_threshold, nearly_met=o.nearly_met,
                            max_findings=o.max_findings)
        p = p[(p["town"] == self.town) & p["listed"]]
        out = []
        for section in p.drop_duplicates("section")["section"]:
            part = p[p["section"] == section]
            phrases = [self._finding_phrase(r) for r in part.itertuples()]
            names = "、".join(dict.fromkeys(self._short_name(c) for c in part["indicator"]))
            out.append(Finding(section, Markup("；").join(phrases), names, list(part["indicator"]), list(part["kind"]),
                               list(part["reference"]), list(part["value"])))
        return out

    def _subject(self, code: str) -> str:
        """The indicator as what was done, without its counting word: 警示教育, “我为群众办实事”活动, 户均增收."""
        row = self.cat[code]
        name = row["name"]
        for suffix in (row["unit"] + "数", row["unit"] + "次", row["unit"]):
            name = name.removesuffix(suffix)
        return name

    def _target(self, code: str, target: float, ratio: float | None = None) -> Markup:
        """This year's target of ``code`` (``12次``) with its source."""
        row = self.cat[code]
        t = self.ds.targets
        hit = t.loc[(t["town"] == self.town) & (t["year"] == self.year) & (t["indicator"] == code), "source"]
        source = str(hit.iloc[0]) if len(hit) else ""
        done = f"，完成{percent_text(ratio)}%" if ratio is not None else ""
        return self._provenance(f"{format_number(target, integer=bool(row['integer']))}{row['unit']}",
                                f"{row['name']} · {self.year}年目标{done} · 来源：{source}", source)

    def _finding_phrase(self, r) -> Markup:
        row = self.cat[r.indicator]
        name = self._subject(r.indicator)
        num = Markup(_MARKS.sub("", self.number(r.indicator)))  # a finding is never pruned
        unit, integer = row["unit"], bool(row["integer"])
        if r.kind == "coverage":
            villages = self._provenance(f"{format_number(r.reference)}个行政村",
                                        f"行政村数 · 乡镇概况 · 来源：{self.profile.get('source', '')}")
            core = name.removeprefix("实现").removesuffix("行政村")
            return villages + Markup(f"中{format_number(r.reference - r.value)}个尚未实现{escape(core)}")
        if r.kind == "target_missed":
            return Markup(f"{escape(name)}{num}，未完成") + self._target(r.indicator, r.reference, r.ratio) + Markup("的年度目标")
        amount = format_number(abs(r.value - r.reference), integer=integer)  # a decline or a slip
        prev = self._source(r.indicator, self.year - 1)
        ref = self._provenance(f"减少{amount}{unit}、下降{percent_text(r.ratio)}%",
                               f"{row['name']} · {self.year - 1}年为{format_number(r.reference, integer=integer)}"
                               f"{unit} · 来源：{prev}", prev)
        return Markup(f"{escape(name)}{num}，比上年{ref}")


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
    findings = filler.findings()
    title = f"中共{town}委员会关于{chinese_year(year)}年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告"
    template = template_environment().get_template("town_report.html.j2")
    html = template.render(
        title=title, town=town, year=year, k=filler.kind, phrases=year_phrases(year),
        profile={k: ("" if pd.isna(v) else v) for k, v in filler.profile.items()},
        n=filler.number, chg=filler.change, p=filler.text, value=filler.value, share=filler.share,
        pr=filler.practice, has=filler.has, raw=filler.raw, items=filler.items, industries=filler.industries,
        w=filler.wording, problems_and_plans=filler.problems_and_plans, own=filler.own_paragraph, folded=filler.folded,
        cadres=filler.cadres(), section_text=filler.section_text,
        hl=lambda section: filler.highlights(section, skip={c for f in findings for c in f.codes}),
        targets=filler.target_state(),
        cn=chinese_numeral, count_word=_count_word, findings=findings, options=options,
        sign_date=options.sign_date or f"{year}年12月31日",
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
