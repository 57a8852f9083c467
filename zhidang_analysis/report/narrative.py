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
from dataclasses import dataclass
from functools import cache, lru_cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup, escape

from ..analysis import indicators as ind
from ..analysis import memo
from ..model.catalog import Catalog, load_wording, year_phrases
from ..model.dataset import Dataset
from ..analysis.numerals import chinese_numeral, chinese_year, format_number, percent_text  # noqa: F401 - re-exported
from ..analysis.problems import DROP_THRESHOLD, MAX_FINDINGS, NEARLY_MET
from ..analysis.standing import SCALE_TEXT, county_context, county_flags, county_scores  # noqa: F401 - re-exported
from ..inputs.practices import unborne_routine
from ..inputs.towntext import split_items
from .highlights import Highlights, place_highlights
from .phrasing import MARKS as _MARKS
from .phrasing import figures, fresh
from .phrasing import NA as _NA
from .phrasing import NUM as _NUM
from .phrasing import ZERO as _ZERO
from .phrasing import count_word as _count_word
from .phrasing import missing_label  # noqa: F401 - re-exported
from .sections import Sections
from .shortfalls import Finding, Shortfalls
from .titles import title_lines

__all__ = ["ReportOptions", "TownReport", "chinese_numeral", "chinese_year", "format_number", "town_report"]

# Units whose change is better told as a rate (同比增长12.5%) than as an absolute difference.
RATE_UNITS = {"万元", "万人次", "万头（只）", "亩", "米", "吨"}


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
# slots dealt together (group, step): see _Filler._pick
_DEAL_GROUPS = {"opening_stance": ("opening", 0), "opening_manner": ("opening", 1)}

# the subject a town's own paragraph may open with (镇党委, 乡党委, 石岭镇党委): numbered items share the paragraph's
_SUBJECT = re.compile(r"^(?:[\u4e00-\u9fff]{0,6}[镇乡])?党委(?!书记|班子|委员)")
_SPAN = re.compile(r"^(<span[^>]*>)(.*)(</span>)$", re.S)
# rules a town names as its own (制定完善考勤制度、值班制度): a formulation naming one again is passed over
_OWN_RULES = ("考勤", "请销假", "值班", "签到")
# a routine typed as how often and a quoted name, without its verb: 每月“主题党日+政策宣讲”
_FREQUENCY = re.compile(r"^(每(?:天|日|周|月|季度|半年|年))(?=“)")
# a town's own passage this short continues the section's paragraph; a longer one is a paragraph of its own
_OWN_INLINE = 80


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
    env.tests["pending"] = lambda item: 'class="missing"' in str(item)[:40]  # a 【待补】 item for the editor
    return env


@lru_cache(maxsize=4096)
def _phrase_template(source: str) -> Template:
    """A catalog phrase compiled once per process (the same few hundred phrases fill every report)."""
    return template_environment().from_string(source)


class _Filler(Sections, Shortfalls, Highlights):
    """The functions the template calls, bound to one town and year."""

    def __init__(self, ds: Dataset, town: str, year: int, options: ReportOptions):
        self.ds, self.town, self.year, self.options = ds, town, year, options
        self._told: set[str] | None = None
        self.cat: Catalog = ds.catalog
        v = ds.values
        rows = v[(v["town"] == town) & (v["year"] == year)].set_index("indicator")
        self.rows = rows
        y = ind.yoy(v[v["town"] == town], catalog=self.cat)
        self.yoy = y[y["year"] == year].set_index("indicator")
        self.profile = ds.profile.loc[town]
        self.practices = ds.practice(town, year)
        self.last_practices = ds.practice(town, year - 1)
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

    @property
    def told_changes(self) -> set[str]:
        """The indicators whose change against the year before 一、责任落实情况 states: increases of what more is
        better of, at most the two largest (by rate) per section. A fall is no achievement (the ones that matter
        are 二's problems), a flat year no news, a count up by one no news either, and five 比上年 in one paragraph read
        as a statistics bulletin."""
        if self._told is None:
            y = self.yoy
            f = self.cat.frame
            if len(y):
                # (a count up by one — 发展党员14名，比上年增加1名 — is one person, no news)
                one = y.index.map(f["integer"]).fillna(True).astype(bool) & (y["change"] < 2)
                y = y[(y["change"] > 0) & (y.index.map(f["polarity"]) > 0) & y["rate"].notna() & ~one]
            told: set[str] = set()
            if len(y):
                y = y.assign(section=y.index.map(f["section"])).sort_values("rate", ascending=False, kind="stable")
                for _, part in y.groupby("section", sort=False):
                    told.update(part.index[:2])
            self._told = told
        return self._told

    def change(self, code: str, sep: str = "，") -> Markup:
        """Year-over-year phrase after a number (``，比上年增加3次``, ``，同比增长12.5%``) for the indicators of
        :attr:`told_changes`; nothing for the others.

        ``sep`` is the punctuation before it (``、`` when a second number of the same clause follows).
        """
        if not self.options.yoy or code not in self.told_changes:
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
        """A coverage ratio (catalog ``coverage``) that rose, with its rise in 百分点: ``，覆盖率83.3%，比上年提高8.3个
        百分点`` (nothing when it did not rise)."""
        cov = self.cat.coverage.loc[code]
        now = self._ratio(cov, self.year)
        if now is None:
            return Markup("")
        text = f"{cov['name']}{percent_text(now)}%"
        before = self._ratio(cov, self.year - 1) if self.options.yoy else None
        points = round((now - before) * 100, 1) if before is not None else 0.0
        if points <= 0:  # a ratio is news when it rose; a fall or a flat year is not (二 lists the villages short)
            return Markup("")
        text += f"，比上年提高{percent_text(points / 100)}个百分点"
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

    def kept(self, code: str) -> bool:
        """Whether the town wrote the same practice last year too: a mechanism it keeps is 坚持, not 建立 again."""
        last = self.last_practices.get(code)
        return last is not None and code in self.practices and last[0] == self.practices[code][0]

    def faulted(self, code: str) -> bool:
        """Whether the town's own 自查问题 this year names the practice (its 学习角利用率不高 of a “庙前学习角”): then the
        practice is 建设 (work going on), not 持续用好 — a report that praises what its own problems fault contradicts
        itself (round 39)."""
        name = re.sub(r"[“”\"'「」]", "", self.raw(code))
        problems = self.raw("own_problems")
        return bool(name and problems) and any(name[i:i + 3] in problems for i in range(len(name) - 2))

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
        stale = ""
        # (not in (五) where it asks for the year's results already: one marker there, not two in a row)
        if fields.at[code, "kind"] == "paragraph" and self.kept(code) and not (code == "s5_practice"
                                                                               and self.check_results()):
            # last year's paragraph word for word (学习角12个 both years): the draft asks the town for this year's
            # progress (rounds 44–45: "copied from last year, to be confirmed"), at the end of the paragraph
            # (:func:`_stale_last`); validate names the cell
            where = escape(f"特色做法 · {label} · {self.year}年 · 待补：与{self.year - 1}年一字不差")
            stale = f'<span class="missing stale" title="{where}">{STALE}</span>'
        return Markup(f'<span class="practice" data-field="{code}" data-source="{escape(source)}" '
                      f'title="{escape(f"特色做法 · {label} · 来源：{source}")}">{escape(text)}{stale}</span>')

    def adhere(self, code: str) -> Markup:
        """坚持 and the routine the town keeps; a routine typed as its frequency and a quoted name, with no verb
        (每月“主题党日+政策宣讲”), gets 开展: 坚持每月开展“主题党日+政策宣讲”."""
        span = str(self.practice(code))
        m = _SPAN.match(span)
        if m:
            head, body, tail = m.groups()
            body = _FREQUENCY.sub(r"\1开展", body)
            # a routine its own figures cannot bear (每月 in a year of 9.7 主题党日 a branch: 二 says so) is said
            # without its frequency, as a secretary would correct it (the check asks the town, 请核实)
            found = unborne_routine(body, {c: self.standing.at[c, "value"] for c in self.standing.index},
                                    self.profile)
            if found is not None:
                body = body.replace(found[0], "", 1)
            span = head + body + tail
        return Markup("坚持") + Markup(span)

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

    def _own_short(self, code: str) -> bool:
        """Whether the town's own text of a section is a short passage of unnumbered sentences."""
        raw = self.raw(code)
        return len(raw) <= _OWN_INLINE and len(_ENUM.findall(raw)) < 2

    def own_inline(self, code: str) -> Markup:
        """The town's own text of a section written without numbering, when it is a short passage: it continues
        the section's paragraph (a sentence or two without a subject do not stand as a paragraph of their own)."""
        return self.practice(code) if self.has(code) and self._own_short(code) else Markup("")

    def own_block(self, code: str) -> Markup:
        """The town's own text of a section written without numbering, when it is longer: a paragraph of its
        own; items it numbered itself (一是…二是…) after a lead that says how many there are. Empty for a short
        passage (see :meth:`own_inline`)."""
        if not self.has(code) or self._own_short(code):
            return Markup("")
        n = len(_ENUM.findall(self.raw(code)))
        lead = Markup("")
        if n >= 2:
            words = self._pick(load_wording()["slots"]["own_items_lead"], f"own-items-{code}")
            lead = Markup(escape(words.format(k=self.kind, count=_count_word(n)))) + Markup("：")
        return Markup("<p>") + lead + self.practice(code) + Markup("</p>\n")

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
        ``做优做强A，`` · ``做优A、做强B，`` · ``做优A、做强B、做精C，`` (labour last: ``做大劳务输出``) · ``做优做强A、B、C、D等主导产业，``.
        A bare product (马铃薯) becomes an industry (马铃薯产业)."""
        items = [self._industry(m) for m in self.items("leading_industries")]
        if not items:
            return Markup("")
        if len(items) == 1:
            return Markup("做优做强") + items[0] + Markup("，")
        if len(items) in (2, 3):
            # labour is made larger, not finer (做大劳务输出, last): 做优苹果产业、做强中药材产业、做大劳务经济
            labour = [i for i in items if "劳务" in re.sub(r"<[^>]*>", "", str(i))]
            others = [i for i in items if i not in labour]
            verbs = ["做优做强"] if len(others) == 1 else ["做优", "做强", "做精"][:len(others)]
            parts = [Markup(v) + i for v, i in zip(verbs, others)] + [Markup("做大") + i for i in labour]
            return Markup("、").join(parts) + Markup("，")
        return Markup("做优做强") + Markup("、").join(items) + Markup("等主导产业，")

    def industry_lead(self) -> Markup:
        """（六）'s first sentence: the town's 主导产业 as it named them (两大主导产业, A、B、C、D等主导产业), in this
        town's formulation; where it named none and (六) would open on a bare figure, a lead of what it goes on to
        tell (全乡户均增收0.88万元 as a first sentence read abrupt: review round 16)."""
        items = self.items("leading_industries")
        if not items:
            plain = re.sub(r"<[^>]*>", "", str(self.section_text("s6")))
            # a lead only where (六) would open on a bare figure (全乡户均增收0.88万元。); 产业发展方面，… or 先后投资…
            # open it well enough
            bare = plain.strip().startswith(f"全{self.kind}")
            return self.wording("industry_lead_none") + Markup("。") if bare else Markup("")
        names = Markup("、").join(items)
        if 2 <= len(items) <= 3:
            names += Markup(f"{_count_word(len(items))}大")
        elif len(items) > 3:
            names += Markup("等")
        # not the verb the town's own paragraph opens with right after it (围绕…主导产业，…。围绕“柏林秋色”品牌，…)
        after = self.raw("s6_practice")[:2] if self.own_first("s6_practice") else ""
        return self.wording("industry_lead", avoid=after, industries=names) + Markup("。")

    def own_says(self, code: str, *words: str) -> bool:
        """Whether the town's own text of ``code`` holds one of ``words``: the template's clause saying the same
        (逐项核查、逐村过筛 before the town's 采取“清单对照、逐项打分”的办法……逐项检查) gives way to it."""
        return self.has(code) and any(w in self.raw(code) for w in words)

    def own_first(self, code: str) -> bool:
        """Whether the town's own short passage of (六) tells of one of its 主导产业 (依托中药材种植基地，推行……): it
        follows the lead that names them, not the figures of village cleaning at the paragraph's end."""
        return (self.has(code) and self._own_short(code) and self.has("leading_industries")
                and self.of_my_industries(self.raw(code)))

    def of_carrier(self, code: str) -> bool:
        """Whether the town's own short passage of (一) tells of its study carrier (在镇村两级设立学习角12个 of
        “庙前学习角”): it follows the sentence that names the carrier (after the 送学上门 figures it read tacked on),
        not in the town's own words as the seed writes them (行文用语：范本)."""
        if not (self.has(code) and self._own_short(code) and self.has("study_carrier")) or str(self.profile.get("wording_style") or "") == "范本":
            return False
        name = re.sub(r"[“”‘’\"'「」《》\s]", "", self.raw("study_carrier"))
        return len(name) >= 2 and (name in self.raw(code) or name[-3:] in self.raw(code))

    def own_missing(self, section: str) -> Markup:
        """After a section the town wrote nothing of (no field of it in 特色做法; for (六) no 主导产业 either): what only
        it can write, as a 【待补】, after the section's general lines (a town that wrote 无 everywhere read as "the
        county skeleton with numbers filled in", rounds 44–47) — not for the seed's own words."""
        if str(self.profile.get("wording_style") or "") == "范本" or section not in _OWN_ASKED:
            return Markup("")
        fields = self.cat.practice_fields
        codes = list(fields.index[fields["section"] == section]) + (["leading_industries"] if section == "s6" else [])
        if any(c in self.practices for c in codes):
            return Markup("")
        what = f"本{self.kind}{_OWN_ASKED[section]}"
        where = escape(f"特色做法表 · {self.year}年 · 待补：{what}")
        return Markup(f'<span class="missing" title="{where}">【待补：{escape(what)}】</span>')

    def check_results(self) -> Markup:
        """After (五)'s cross-check: what it found and what was put right, which no sheet collects and only the town can
        write (「发现问题x个，整改x个」: a check told without its results read hollow, rounds 44–46, both readers), as
        a 【待补】 — unless the town's own (五) passage tells them, or the report is in the seed's own words."""
        if str(self.profile.get("wording_style") or "") == "范本" or _RESULTS.search(self.raw("s5_practice")):
            return Markup("")
        where = escape(f"（五）小微权力运行交叉检查 · {self.year}年 · 待补：发现的问题和整改情况")
        return Markup(f'<span class="missing" title="{where}">【待补：交叉检查发现的问题及整改情况】</span>')

    def of_my_industries(self, name: str) -> bool:
        """Whether an indicator's name (苹果种植面积) tells of one of the town's 主导产业 (苹果, 苹果产业)."""
        stems = [re.sub(r"产业$|种植$|养殖$|经济$", "", split)[:2] for split in split_items(self.raw("leading_industries"),
                                                                                        by_dunhao=True)]
        return any(stem and stem in name for stem in stems)

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
    def _pick(self, options: list[str], slot: str, among: set[str] | None = None) -> str:
        """One of a slot's equivalent formulations, chosen by the town and the year (the same every time a report is
        made; this year's report does not copy last year's); the first, the seed's own words, for a town whose
        profile says 行文用语：范本, and never for another town when the slot has two others to choose from."""
        if str(self.profile.get("wording_style") or "") == "范本":
            return options[0]
        if len(options) >= 3:  # the seed's own flourish stays the seed town's: other towns get the standard ones
            options = options[1:]
        # spread evenly over the county's towns: the towns in an order of their own per slot and year, dealt the
        # formulations in turn (two towns share one only when the county has more towns than the slot has
        # formulations, and not the same two towns in every slot)
        county = str(self.profile.get("county", ""))
        towns = list(self.ds.profile.index[self.ds.profile["county"] == county]) if "county" in self.ds.profile else []
        if among is not None:  # dealt only among the towns that say the slot (a measure: those with its problem)
            towns = [t for t in towns if t in among]
        if self.town not in towns:
            towns.append(self.town)
        # a town's place in the deal is its own per slot; the deal turns by one each year, so a town never reads
        # last year's formulation again and two towns that differ one year differ the next
        # slots that make one sentence together (the opening's stance and manner) share the deal, and the second
        # turns one step further with each round of the deal: two towns that read the same stance read another
        # manner, so no two openings of a year are the same (while the county has fewer towns than stances squared)
        group, step = _DEAL_GROUPS.get(slot, (slot, 0))
        dealt = sorted(towns, key=lambda t: zlib.crc32(f"{county}/{t}/{group}".encode("utf-8")))
        hands = {t: options[(p + self.year + step * (p // len(options))) % len(options)] for p, t in enumerate(dealt)}
        # what the county's other towns were dealt: a formulation this town gives up takes one none of them has
        self.__dict__.setdefault("_others", {})[slot] = {f for t, f in hands.items() if t != self.town}
        return hands[self.town]

    def wording(self, slot: str, avoid: str = "", shun: str = "", **numbers: Markup) -> Markup:
        """This town's formulation of a slot of the phrase bank (``slots`` in data/wording.yaml); ``numbers`` fill
        the slot's own number fields (``{supervised}`` ← ``n('supervised_cadres')``); ``avoid``: words the next
        sentence opens with, which this one does not open with too; ``shun``: a word the formulation must not say
        (新成效 in an opening that goes on to say the targets were missed: round 36)."""
        options = load_wording()["slots"][slot]
        if shun and any(shun not in o for o in options[1:]):
            options = [options[0]] + [o for o in options[1:] if shun not in o]
        text = self._pick(options, slot)
        if avoid and text.startswith(avoid):
            text = next((o for o in options[1:] if not o.startswith(avoid)), text)
        # a rule the town named itself (its 考勤制度) is not named again by the sentence after it: another formulation
        own = "".join(self.raw(c) for c in ("workstyle_rules", "workstyle_mechanism") if self.has(c))
        if any(word in text and word in own for word in _OWN_RULES):
            text = next((o for o in options[1:] if not any(w in o and w in own for w in _OWN_RULES)), text)
        if str(self.profile.get("wording_style") or "") != "范本":
            text = fresh(options, text, self.__dict__.setdefault("_often", {}), self.__dict__.setdefault("_said", set()),
                         figures(), avoid, taken=self.__dict__.get("_others", {}).get(slot, set()))
        phrases = year_phrases(self.year)
        return Markup(escape(text)).format(k=self.kind, cadres=self.cadres(), campaign=phrases["study_campaign"],
                                           spirit=phrases["congress_spirit"], **numbers)

    # -- catalog-driven sections ((六)) --------------------------------------------------------
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

        template = _phrase_template(re.sub(r"\{(\w*)\}", field, text))
        return Markup(template.render(n=self.number, chg=self.change, p=self.text, pr=self.practice, has=self.has))



#: What a town that wrote nothing of a section is asked for (:meth:`_Filler.own_missing`).
_OWN_ASKED = {"s1": "学习教育的载体和做法", "s3": "作风建设的机制和做法", "s6": "主导产业和党建引领发展的做法"}

#: A check's results in the town's own words: 发现问题5个, 查出问题12个、整改到位10个, 问题3个.
_RESULTS = re.compile(r"(发现|查出|查摆|排查出|整改)[^。；，]{0,8}?([0-9０-９]+|[一二三四五六七八九十两]+)\s*(个|项|条|处|起)"
                      r"|问题([0-9０-９]+|[一二三四五六七八九十两]+)\s*(个|项|条|处)")

#: What the draft says after a paragraph of the town's that is last year's word for word.
STALE = "【待补：本年新进展，此段与上年相同】"
_STALE_SPAN = re.compile(r'<span class="missing stale"[^>]*>[^<]*</span>')


def _stale_last(html: str) -> str:
    """Each paragraph's 【待补：本年新进展…】 at its end, where the town adds what is new (inside the paragraph it split
    the town's words from the section's next sentence: round 45)."""
    def paragraph(m: re.Match) -> str:
        body = m.group(2)
        spans = _STALE_SPAN.findall(body)
        return m.group(1) + _STALE_SPAN.sub("", body) + spans[0] + m.group(3) if spans else m.group(0)

    return re.sub(r"(<p>)(.*?)(</p>)", paragraph, html, flags=re.S)


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
    with memo.pinned(ds):  # the county's tables are read six times, the dataset is not changed
        return _town_report(ds, town, year, options)


def _town_report(ds: Dataset, town: str, year: int, options: ReportOptions) -> TownReport:
    filler = _Filler(ds, town, year, options)
    findings = filler.findings()
    title = f"中共{town}委员会关于{chinese_year(year)}年度履行全面从严治党主体责任暨书记第一责任人责任情况的报告"
    template = template_environment().get_template("town_report.html.j2")
    html = template.render(
        title=title, title_html=Markup("<br>").join(title_lines(title)), town=town, year=year, k=filler.kind, phrases=year_phrases(year),
        profile={k: ("" if pd.isna(v) else v) for k, v in filler.profile.items()},
        n=filler.number, chg=filler.change, p=filler.text, value=filler.value, share=filler.share,
        pr=filler.practice, adhere=filler.adhere, own_first=filler.own_first, of_carrier=filler.of_carrier, own_says=filler.own_says, has=filler.has, raw=filler.raw, kept=filler.kept, faulted=filler.faulted, items=filler.items, industries=filler.industries,
        industry_lead=filler.industry_lead,
        w=filler.wording, problems_and_plans=filler.problems_and_plans, own_inline=filler.own_inline, own_block=filler.own_block, folded=filler.folded,
        cadres=filler.cadres(), section_text=filler.section_text,
        hl=lambda section: filler.highlights(section, skip={c for f in findings for c in f.codes}),
        targets=filler.target_state(), nearly_told=filler.nearly_told, check_results=filler.check_results, own_missing=filler.own_missing, seed_style=str(filler.profile.get("wording_style") or "") == "范本",
        cn=chinese_numeral, count_word=_count_word, findings=findings, options=options,
        sign_date=options.sign_date or f"{year}年12月31日",
    )
    html = Markup(_stale_last(place_highlights(_prune(html), year)).strip())
    cat = ds.catalog
    missing = pd.DataFrame(
        [{"code": c, "name": cat.name(c), "unit": cat.frame.at[c, "unit"], "source": s or "（未填报）"}
         for c, s in filler.missing.items()],
        columns=["code", "name", "unit", "source"],
    )
    return TownReport(town=town, year=year, title=title, html=html, missing=missing, findings=findings,
                      options=options)
