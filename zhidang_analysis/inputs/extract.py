"""Reading a town's past annual report back into the catalog's quantities (``zhidang extract``).

The wording is data (``data/extract.yaml``): for each indicator, the words that stand before or after its number.
Every number of the text is a token (Arabic, full-width or Chinese numerals with cn2an, 约数, 万/亿); a token is
given to the one indicator whose pattern matches it best with the indicator's unit. Never a wrong number: a token
two indicators claim equally, or an indicator given two different numbers, stays blank and is listed for review;
numbers no indicator took are listed too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import ExtractError
from ..model.catalog import Catalog, load_catalog, safe_load_yaml
from .reportfiles import report_files, report_paragraphs

_FULL_WIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")
_CN_DIGITS = str.maketrans("〇零一二三四五六七八九", "00123456789")
_CN_NUM = "零一二两三四五六七八九十百千"
_SENT_SPLIT = re.compile(r"(?<=[。；！？!?;])")
_CLAUSE_SPLIT = re.compile(r"[，,：:]")


@cache
def extract_rules() -> dict:
    """``data/extract.yaml`` as a dict."""
    text = resources.files("zhidang_analysis").joinpath("data", "extract.yaml").read_text(encoding="utf-8")
    return safe_load_yaml(text)


@dataclass
class Pattern:
    code: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    unit: str | None  # an explicit unit ({个方面}); None = the catalog unit

    @property
    def weight(self) -> int:
        return sum(len(w) for w in self.before + self.after)


def _parse_pattern(code: str, text: str) -> Pattern:
    m = re.fullmatch(r"(.*?)\{(.*?)\}(.*)", text)
    if not m:
        raise ValueError(f"extract.yaml: pattern of {code} without {{}}: {text}")
    before = tuple(w for w in m.group(1).split("…") if w)
    after = tuple(w for w in m.group(3).split("…") if w)
    return Pattern(code, before, after, m.group(2) or None)


@cache
def _patterns() -> tuple[Pattern, ...]:
    return tuple(_parse_pattern(code, p) for code, ps in extract_rules()["patterns"].items() for p in ps)


@dataclass
class Token:
    """One number of the text: ``value`` in ``unit`` after ``scale`` (万 = 1e4) is applied."""

    start: int
    end: int  # end of the unit (and of 余/左右)
    num_end: int  # end of the number itself (before 余/万/unit)
    raw: str
    value: float
    unit: str
    approx: bool
    chinese: bool


@cache
def _unit_regex() -> re.Pattern:
    rules = extract_rules()
    units = set(rules.get("more_units", [])) | set(rules.get("ignored_units", []))
    for group in rules.get("units", []):
        units |= set(group)
    cat = load_catalog()
    for code in cat.codes:
        u = cat[code]["unit"]
        if u:
            units.add(u[1:] if u[0] in "万亿" and len(u) > 1 else u)
    alts = "|".join(re.escape(u) for u in sorted(units, key=len, reverse=True))
    after = "|".join(re.escape(a) for a in sorted(rules.get("approx_after", []), key=len, reverse=True))
    num = rf"(?P<ar>\d+(?:,\d{{3}})*(?:\.\d+)?)|(?P<cn>[{_CN_NUM}万亿]*[{_CN_NUM}])"
    return re.compile(rf"(?:{num})(?P<ap1>余|多)?(?P<scale>[万亿])?(?P<ap2>余|多)?(?P<unit>{alts})?(?P<ap3>{after})?")


def tokens(text: str) -> list[Token]:
    """The numbers of ``text`` (already normalised). A Chinese numeral counts only with a unit (七个方面, 四轮)."""
    out = []
    approx_before = tuple(extract_rules().get("approx_before", []))
    for m in _unit_regex().finditer(text):
        unit = m.group("unit") or ""
        if m.group("cn"):
            if not unit:  # 一是, 一岗双责: a Chinese numeral is a number only with a unit
                continue
            try:
                import cn2an  # loaded on the first Chinese numeral (it takes a moment to import)

                value = float(cn2an.cn2an(m.group("cn"), "smart"))
            except (ValueError, KeyError):
                continue
        else:
            value = float(m.group("ar").replace(",", ""))
            if m.start() > 0 and (text[m.start() - 1].isascii() and text[m.start() - 1].isalnum()):
                continue  # part of a code such as G318
        if m.group("scale"):
            value *= 1e4 if m.group("scale") == "万" else 1e8
        approx = bool(m.group("ap1") or m.group("ap2") or m.group("ap3"))
        if text[:m.start()].endswith(approx_before):
            approx = True
        end = m.end()
        out.append(Token(m.start(), end, m.start() + len(m.group("ar") or m.group("cn")), m.group(0), value, unit,
                         approx, bool(m.group("cn"))))
    return out


def _scale_of(unit: str) -> tuple[float, str]:
    if len(unit) > 1 and unit[0] in "万亿":
        return (1e4 if unit[0] == "万" else 1e8), unit[1:]
    return 1.0, unit


def _unit_ok(cat_unit: str, written: str) -> bool:
    if written == cat_unit:
        return True
    for group in extract_rules().get("units", []):
        if cat_unit in group and written in group:
            return True
    return False


def _in_order(words: tuple[str, ...], text: str) -> bool:
    pos = 0
    for w in words:
        i = text.find(w, pos)
        if i < 0:
            return False
        pos = i + len(w)
    return True


@dataclass
class Found:
    """One number of the report and what became of it."""

    code: str | None
    value: float | None
    approx: bool
    sentence: str
    marked: str  # the sentence with the number in 【】
    part: str  # work | problems | next
    note: str = ""
    raw: str = ""


@dataclass
class Extraction:
    """What was read from one report: ``values`` code → (value, approx, sentence, marked); ``review`` the blanks
    and doubtful items (code or None, reason, marked sentence); ``unclaimed`` numbers no indicator took."""

    path: str
    town: str
    year: int
    values: dict[str, tuple[float, bool, str, str]] = field(default_factory=dict)
    review: list[tuple[str | None, str, str]] = field(default_factory=list)
    unclaimed: list[Found] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    #: the town's own text by 特色做法 field (s1_practice … s6_practice, own_problems, own_plans): each section's
    #: paragraphs after its first (the model text), the items of 二 and of 三
    practices: dict[str, str] = field(default_factory=dict)

    def value(self, code: str) -> float | None:
        v = self.values.get(code)
        return None if v is None else v[0]


def normalize(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _candidates(tok: Token, levels: list[str], after: str, cat: Catalog, year: int | None) -> list[tuple[int, str]]:
    if _ignored(tok, levels):
        return []
    for level, context in enumerate(levels):
        best: dict[str, int] = {}
        for pat in _patterns():
            if pat.code not in cat:
                continue
            if year is not None and not cat.applies(pat.code, year):
                continue
            unit = cat[pat.code]["unit"]
            if pat.unit is not None:
                if tok.unit != pat.unit:
                    continue
            else:
                if not _unit_ok(_scale_of(unit)[1], tok.unit):
                    continue
            if pat.after and not (after.startswith(pat.after[0]) and _in_order(pat.after[1:], after)):
                continue
            if pat.before and not _in_order(pat.before, context):
                continue
            if not pat.before and level > 0:
                continue  # an after-only pattern is as specific as the words right after the number
            best[pat.code] = max(best.get(pat.code, 0), pat.weight)
        if best:
            return sorted(((w, c) for c, w in best.items()), reverse=True)
    return []


def _ignored(tok: Token, levels: list[str]) -> bool:
    """A number that is a date, a change, a rank or a rate: not a quantity and not worth listing."""
    rules = extract_rules()
    return (tok.unit in rules.get("ignored_units", []) or levels[-1].endswith(tuple(rules.get("ignored_before", [])))
            or any(w in levels[0] for w in rules.get("ignored_within", [])))


def _value_in_catalog_unit(tok: Token, unit: str) -> float:
    scale, _ = _scale_of(unit)
    v = tok.value / scale
    return round(v, 6)


def _part_of(paragraph: str, current: str) -> str:
    parts = extract_rules()["parts"]
    for part in ("problems", "next", "work"):
        if paragraph.startswith(parts[part][0]):
            return part
    return current


def read_title(paragraphs: list[str]) -> tuple[str | None, int | None]:
    """Town and year named by the report's title (or its sign-off)."""
    rules = extract_rules()["title"]
    town = year = None
    for para in paragraphs[:5]:
        m = re.search(rules["town"], para)
        if m and town is None:
            town = m.group("town")
        y = re.search(rules["year"], para)
        if y and year is None and "关于" in para:
            year = int(y.group("year").translate(_CN_DIGITS))
    if town is None:
        for para in paragraphs[-4:]:
            m = re.fullmatch(rules["town"], para)
            if m:
                town = m.group("town")
    if year is None:
        for para in paragraphs[-3:]:
            m = re.search(rules["signoff_year"], para)
            if m:
                year = int(m.group("year").translate(_CN_DIGITS))
    return town, year


def extract_paragraphs(paragraphs: list[str], *, town: str | None = None, year: int | None = None,
                       path: str = "", catalog: Catalog | None = None) -> Extraction:
    """Read the quantities of a report given as paragraphs (see :func:`extract_report`)."""
    cat = catalog or load_catalog()
    paragraphs = [normalize(p) for p in paragraphs]
    t_town, t_year = read_title(paragraphs)
    town, year = town or t_town, year or t_year
    name = Path(path).name if path else "文本"
    if not town or not year:
        what = "、".join(x for x, v in (("乡镇", town), ("年度", year)) if not v)
        raise ExtractError(f"无法从“{name}”的标题中识别{what}：标题应为“中共XX镇委员会关于二〇二三年度……的报告”，"
                           "或用 --town / --year 指明", path=path)
    ex = Extraction(path=str(path), town=town, year=int(year), paragraphs=paragraphs)
    part = "work"
    for para in paragraphs:
        part = _part_of(para, part)
        for sentence in (s for s in _SENT_SPLIT.split(para) if s):
            _read_sentence(sentence, part, ex, cat)
    _settle(ex, cat)
    ex.practices = own_text(paragraphs)
    return ex


#: A draft's marker of what is still to be written (【待补：本镇自查问题】, 【待补：本年新进展，此段与上年相同】).
_PENDING = re.compile(r"【待补[：:][^】]*】")


def own_text(paragraphs: list[str]) -> dict[str, str]:
    """The town's own paragraphs, by 特色做法 field: in each section （一）…（六） the paragraphs after its
    first one (the model text); the items 一是…二是… of 二 (own_problems) and of 三 (own_plans), one a line. A
    draft's 【待补：…】 is what the town had still to write, not its words: left out (an item of nothing else, too)."""
    rules = extract_rules()
    paragraphs = [p for p in (_PENDING.sub("", p).strip() for p in paragraphs) if p]
    heads = {v: k for k, v in rules["section_headings"].items()}
    out: dict[str, list[str]] = {}
    part, section, seen = "work", None, 0
    for para in paragraphs:
        new_part = _part_of(para, part)
        if new_part != part or para.startswith(tuple(rules["parts"]["work"][:1])):
            part, section = new_part, None
            continue
        head = next((h for h in heads if para.startswith(h)), None)
        if head and part == "work":
            section, seen = heads[head], 0
            continue
        if para.startswith("中共") and para.endswith("委员会") or re.match(r"^\d{4}年\d{1,2}月", para):
            continue  # the sign-off
        if part == "work" and section:
            seen += 1
            if seen > 1:
                out.setdefault(f"{section}_practice", []).append(para)
        elif part in ("problems", "next"):
            items = [m.group(1) for m in re.finditer(r"[一二三四五六七八九十]+是(.+?。)(?=[一二三四五六七八九十]+是|$)", para)
                     if m.group(1).strip("。 ")]
            out.setdefault("own_problems" if part == "problems" else "own_plans", []).extend(items)
    return {k: "\n".join(v) for k, v in out.items() if v}


def _read_sentence(sentence: str, part: str, ex: Extraction, cat: Catalog) -> None:
    toks = tokens(sentence)
    prev_end = 0
    for tok in toks:
        clause_start = max((m.end() for m in _CLAUSE_SPLIT.finditer(sentence, 0, tok.start)), default=0)
        seg_start = max(prev_end, clause_start)
        clause_end = _CLAUSE_SPLIT.search(sentence, tok.end)
        after = sentence[tok.end:clause_end.start() if clause_end else len(sentence)]
        levels = [sentence[seg_start:tok.start], sentence[clause_start:tok.start]]
        prev_end = tok.end
        marked = sentence[:tok.start] + "【" + sentence[tok.start:tok.end] + "】" + sentence[tok.end:]
        cands = _candidates(tok, levels, after, cat, ex.year)
        if not cands:
            if not tok.chinese and not _ignored(tok, levels):
                ex.unclaimed.append(Found(None, tok.value, tok.approx, sentence, marked, part, raw=tok.raw))
            continue
        if len(cands) > 1 and cands[0][0] == cands[1][0]:
            names = "、".join(cat.name(c) for w, c in cands if w == cands[0][0])
            ex.found.append(Found(None, tok.value, tok.approx, sentence, marked, part,
                                  note=f"数字可能属于{names}，无法确定", raw=tok.raw))
            continue
        code = cands[0][1]
        value = _value_in_catalog_unit(tok, cat[code]["unit"])
        ex.found.append(Found(code, value, tok.approx, sentence, marked, part, raw=tok.raw))


def _settle(ex: Extraction, cat: Catalog) -> None:
    """Values from the part 一; a number two indicators may own, or an indicator given two numbers, stays blank."""
    by_code: dict[str, list[Found]] = {}
    for f in ex.found:
        if f.code is None:
            ex.review.append((None, f.note, f.marked))
            continue
        by_code.setdefault(f.code, []).append(f)
    for code, finds in by_code.items():
        own = [f for f in finds if f.part == "work"] or [f for f in finds if f.part == "problems"]
        if not own:  # named only in the plans (三): a target, not the year's figure
            continue
        values = {f.value for f in own}
        if len(values) > 1:
            shown = "、".join(_fmt(v) for v in sorted(values))
            for f in own:
                ex.review.append((code, f"{cat.name(code)}在报告中有不同的数字（{shown}），未填写", f.marked))
            continue
        first = own[0]
        ex.values[code] = (first.value, any(f.approx for f in own), first.sentence, first.marked)
        for f in finds:
            if f.part == "problems" and own[0].part == "work" and f.value != first.value:
                ex.review.append((code, f"{cat.name(code)}在第一部分为{_fmt(first.value)}，此处为{_fmt(f.value)}，请核实",
                                  f.marked))
    for code in cat.applicable(ex.year):
        if code not in ex.values and code not in by_code and code in extract_rules()["patterns"]:
            ex.review.append((code, f"报告中未找到{cat.name(code)}，留空", ""))


def _fmt(v: float) -> str:
    return f"{v:g}"


def extract_report(path: str | Path, *, town: str | None = None, year: int | None = None,
                   catalog: Catalog | None = None) -> list[Extraction]:
    """Read one past report file, or every report of a folder, back into data (one :class:`Extraction` each).

    ``town`` / ``year`` override what the title says (needed when the title names neither).
    """
    return [extract_paragraphs(report_paragraphs(f), town=town, year=year, path=str(f), catalog=catalog)
            for f in report_files(path)]


def extract_text(text: str, **kwargs) -> Extraction:
    """:func:`extract_paragraphs` of a plain text (paragraphs one per line)."""
    return extract_paragraphs([x.strip() for x in text.splitlines() if x.strip()], **kwargs)
