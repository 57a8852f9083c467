"""The town's own text, edited on the way in as a good town secretary edits it before it goes into a report.

Town offices type their 特色做法 and 自查问题 the way people type: half-width ``,`` ``;`` between Chinese
characters, runs of full-width spaces, a cell that ends with 。 where the report adds its own, a cell that only
says 无 or 暂无, three numbered problems on one line (``1.党员年龄偏大 2.合作社带动弱``). :func:`clean` returns
the text as a report can use it and, in Chinese, what it changed, so that ``zhidang validate`` can name each
cell it had to clean and the town can fix its sheet.

Three kinds of field (``practice_fields`` in the catalog):

- ``phrase``: a name the report fits into its own sentence: no trailing punctuation;
- ``paragraph``: a paragraph written as it is: ends with 。 (or ！？ or a closing quotation after one);
- ``list``: items (自查问题), one per line in the cleaned text (主导产业: separated by 、).

>>> clean("坚持“周例会”制度,每周一调度;  落实到人。。", "paragraph").text
'坚持“周例会”制度，每周一调度；落实到人。'
>>> clean("1.党员年龄偏大 2.合作社带动弱 3.干部怕担责", "list").text.splitlines()
['党员年龄偏大', '合作社带动弱', '干部怕担责']
>>> clean("暂无。", "list").text
''
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .workbooks import NA_TOKENS

__all__ = ["Cleaned", "EMPTY_ANSWERS", "clean", "is_empty_answer", "punctuation", "split_items"]

# answers that say "nothing": the field is read as not filled in
EMPTY_ANSWERS = NA_TOKENS | {"无", "暂无", "没有", "无无", "空", "暂无此项", "未开展", "\\", "…", "……", "0", "nan", "none",
                             "null", "n/a"}

_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_OR_FULL = _CJK + r"\u3000-\u303f\uff00-\uffef“”‘’"
# half-width punctuation → full-width, when a Chinese character (or full-width punctuation) stands on either side
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_TO_FULL = str.maketrans(_HALF_TO_FULL)
_HALF_AFTER_OR_BEFORE_CJK = re.compile(rf"(?<=[{_CJK_OR_FULL}])\s*([,;:?!])\s*|\s*([,;:?!])\s*(?=[{_CJK}])")
# a full stop typed as "." after a Chinese character, at the end or before a Chinese character
_HALF_STOP = re.compile(rf"(?<=[{_CJK}])\.(?=$|\s|[{_CJK}])")
_HALF_PARENS = re.compile(rf"\(([^()]*[{_CJK}][^()]*)\)")
_HALF_QUOTES = re.compile(rf'"([^"]*[{_CJK}][^"]*)"')
# whitespace between two Chinese characters or punctuation marks means nothing in Chinese
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK_OR_FULL}])[ \t\u3000\xa0]+|[ \t\u3000\xa0]+(?=[{_CJK_OR_FULL}])")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
# ... but inside a quoted name it parts two phrases said side by side: “周调度 月通报” is “周调度、月通报”
_QUOTED = re.compile(r"“[^“”\n]*”")
_SPACE_IN_NAME = re.compile(rf"(?<=[{_CJK}])[ \t\u3000\xa0]+(?=[{_CJK}])")
# doubled or clashing punctuation at a join: 。。 ，。 。， ；。 、、 …
_CLASH = re.compile(r"([，；、：])\1+|[，；、：]+(?=[。！？])|(?<=[。！？])[，；、：。]+")
# what punctuation() may change: text without any of these (most cells) is returned as it is, unscanned;
# a line break alone changes nothing (one between two lines is kept), so it is looked at apart
_CLEAN_ALREADY = re.compile(r'[,;:?!().\"\t\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]')
# two marks side by side: what a clash needs (a quick look before _CLASH, whose alternatives are slow to try)
_PAIR = re.compile(r"[，；、：。！？]{2}")
_TRAILING = "。；，、：;,.:"
_ENDS = ("。", "！", "？", "”", "’", "）", "…")

# item markers: 1. 1、 1） （1） ① 一是 一、 (each with its number, to tell a numbered list from text)
_MARKERS = [
    ("arabic", re.compile(r"(?<![\d.])(\d{1,2})\s*[.、．)）](?!\d)")),
    ("paren", re.compile(r"[（(](\d{1,2})[)）]")),
    ("circled", re.compile(r"([\u2460-\u2473])")),
    ("shi", re.compile(r"([一二三四五六七八九十]{1,3})是")),
    ("dun", re.compile(r"([一二三四五六七八九十]{1,3})、")),
]
_LEADING_MARKER = re.compile(r"^\s*(\d{1,2}\s*[.、．)）](?!\d)|[（(]\d{1,2}[)）]|[\u2460-\u2473]|[一二三四五六七八九十]{1,3}是"
                             r"|[一二三四五六七八九十]{1,3}、)\s*")
_CN = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}


def _number(style: str, text: str) -> int:
    if style in ("arabic", "paren"):
        return int(text)
    if style == "circled":
        return ord(text) - 0x2460 + 1
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN.get(text[1:], 0)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN.get(tens, 0) * 10 + _CN.get(ones, 0)
    return _CN.get(text, 0)


@dataclass(frozen=True)
class Cleaned:
    """A cleaned text (``""`` when the answer says nothing) and what was changed, in Chinese."""

    text: str
    changes: tuple[str, ...] = ()


def is_empty_answer(text: object) -> bool:
    """Whether a cell says nothing: blank, or 无 / 暂无 / 没有 / — and the like (with or without 。).

    >>> [is_empty_answer(t) for t in ("无。", " 暂无 ", "—", "无党员违纪问题")]
    [True, True, True, False]
    """
    if text is None:
        return True
    raw = str(text)
    if len(raw) > 40:  # the empty answers are a few characters (with spaces and stops): a paragraph is no such answer
        return False
    s = unicodedata.normalize("NFKC", raw).strip().rstrip("。.；;，,！!").strip().lower()
    return s == "" or s in EMPTY_ANSWERS


def _is_clean(s: str) -> bool:
    """Whether :func:`punctuation` would return ``s`` as it is (most cells): nothing half-width, no space, no
    empty line, no clash."""
    return (not _CLEAN_ALREADY.search(s) and "\n\n" not in s and s[:1] != "\n" and s[-1:] != "\n"
            and not (_PAIR.search(s) and _CLASH.search(s)))


def punctuation(text: str) -> str:
    """Full-width punctuation in Chinese context, spaces collapsed, doubled punctuation made single.

    >>> punctuation("马铃薯,养羊,劳务")
    '马铃薯，养羊，劳务'
    >>> punctuation("建立 “周例会” 制度(每周一)  ,落实到人。。")
    '建立“周例会”制度（每周一），落实到人。'
    >>> punctuation("亩产1.5吨, 增收3.2万元")
    '亩产1.5吨，增收3.2万元'
    >>> punctuation("“周调度 月通报”机制")
    '“周调度、月通报”机制'
    """
    s = unicodedata.normalize("NFC", text)
    if _is_clean(s):
        return s
    s = _HALF_QUOTES.sub(r"“\1”", s)
    s = _HALF_PARENS.sub(r"（\1）", s)
    s = _HALF_AFTER_OR_BEFORE_CJK.sub(lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)], s)
    s = _HALF_STOP.sub("。", s)
    lines = []
    for line in s.splitlines():
        line = _QUOTED.sub(lambda m: _SPACE_IN_NAME.sub("、", m.group(0)), line)
        line = _SPACE_IN_CJK.sub("", line)
        line = _SPACES.sub(" ", line).strip()
        lines.append(line)
    s = "\n".join(line for line in lines if line)
    previous = None
    while previous != s:  # 。，。 needs two passes
        previous = s
        s = _CLASH.sub(lambda m: m.group(1) if m.group(1) else "", s)
    return s


def _numbered(text: str) -> list[str] | None:
    """The items of a numbered list (1. … 2. …, ①…②…, 一是…二是…), numbered from 1 at the start and in order;
    None when the text is not such a list."""
    for _style, pattern in _MARKERS:
        found = list(pattern.finditer(text))
        if not found or found[0].start() != 0 or _number(_style, found[0].group(1)) != 1:
            continue
        cuts, expect = [], 1
        for m in found:
            if _number(_style, m.group(1)) == expect:
                cuts.append(m)
                expect += 1
        if len(cuts) < 2 and not text[cuts[0].end():].strip():
            continue
        items = [text[m.end(): (cuts[k + 1].start() if k + 1 < len(cuts) else len(text))] for k, m in enumerate(cuts)]
        return items
    return None


def split_items(text: str, *, by_dunhao: bool = False) -> list[str]:
    """Items of a list field: one per line, or separated by ；, or numbered (1. 1、 （1） ① 一是 一、) on one line;
    with ``by_dunhao`` (主导产业) also separated by 、 and ，. Numbers, trailing punctuation and empty items go.

    >>> split_items("1. 甲问题。\\n（2）乙问题；三是丙问题")
    ['甲问题', '乙问题', '丙问题']
    >>> split_items("甲\\n乙；丙")
    ['甲', '乙', '丙']
    >>> split_items("①党员年龄偏大②合作社带动弱")
    ['党员年龄偏大', '合作社带动弱']
    >>> split_items("一是学习不够深入；二是制度执行不严。")
    ['学习不够深入', '制度执行不严']
    >>> split_items("高原夏菜种植业、传统畜牧养殖业", by_dunhao=True)
    ['高原夏菜种植业', '传统畜牧养殖业']
    """
    text = punctuation(text)
    parts = []
    for line in re.split(r"[\r\n]+", text):
        line = line.strip()
        numbered = _numbered(line) if _LEADING_MARKER.match(line) else None  # a list starts with its marker
        if numbered is not None:
            parts += numbered
        else:
            parts += re.split(r"[；;]", line)
    if by_dunhao:
        parts = [q for p in parts for q in re.split(r"[、，,]", p)]
    items = []
    for p in parts:
        p = _LEADING_MARKER.sub("", p.strip()).strip().rstrip(_TRAILING).strip()
        if p and not is_empty_answer(p):
            items.append(p)
    return items


def _what_changed(before: str, after: str) -> list[str]:
    """What :func:`punctuation` changed, in the words of a notice."""
    if before == after:  # nothing changed (most cells): nothing to tell
        return []
    out = []
    half, space = r"[,;:?!()\"]", r"[ \t\u3000\xa0]"
    if len(re.findall(half, after)) < len(re.findall(half, before)):
        out.append("半角标点改为全角")
    if len(re.findall(space, after)) < len(re.findall(space, before)):
        out.append("去掉多余的空格")
    full = _SPACES.sub("", before.translate(_TO_FULL))
    if _CLASH.search(full):
        out.append("去掉重复的标点")
    return out


def clean(raw: object, kind: str, *, by_dunhao: bool = False) -> Cleaned:
    """The text of a practice field as a report uses it (``kind``: phrase, paragraph or list), with what was
    changed. An answer that says nothing (无, 暂无, —) gives ``Cleaned("", ...)``. ``by_dunhao``: a list whose
    items are also separated by 、 and ， (主导产业).

    >>> clean("签到签退,请销假。", "phrase")
    Cleaned(text='签到签退、请销假', changes=('半角标点改为全角', '去掉末尾的标点', '并列的词语用顿号分隔'))
    """
    original = unicodedata.normalize("NFC", str(raw)).strip()
    if is_empty_answer(original):
        return Cleaned("", (f"“{original}”按未填写处理",) if original else ())
    text = punctuation(original)
    changes = _what_changed(original, text)
    if kind == "list":
        items = split_items(text, by_dunhao=by_dunhao)
        # one item a line, or separated by ； (and 、 for 主导产业) is how the sheet asks for them; numbered
        # items run together on one line are what the town should fix
        plain = [p for p in re.split(r"[\r\n；;" + ("、，," if by_dunhao else "") + "]+", text) if p.strip()]
        if len(items) > len(plain):
            changes = [c for c in changes if c != "去掉多余的空格"]  # the spaces were what separated the items
            changes.append(f"一行中的编号条目分为{len(items)}条")
        text = ("、" if by_dunhao else "\n").join(items)
    elif kind == "phrase":
        stripped = " ".join(text.split()).rstrip(_TRAILING).strip()
        if stripped != " ".join(text.split()):
            changes.append("去掉末尾的标点")
        parts = stripped.split("，")
        if len(parts) > 1 and "、" not in stripped and all(len(p) <= 8 for p in parts):
            # a few short names in a row (签到签退，请销假) are a list: 、 between them, as the report's own
            # commas must not cut the phrase; a clause with a comma (选优配强村党组织书记，班子结构明显改善) stays
            stripped = "、".join(parts)
            changes.append("并列的词语用顿号分隔")
        text = stripped
    else:
        lines = text.splitlines()
        text = "".join(line if line.endswith(_ENDS) or k == len(lines) - 1 else line.rstrip("，；、：") + "。"
                       for k, line in enumerate(lines))
        if not text.endswith(_ENDS):
            text = text.rstrip("，；、：") + "。"
    return Cleaned(text, tuple(dict.fromkeys(changes)))
