"""Small pieces of report wording shared by the narrative's parts: the marks a number leaves in the rendered
text, how a missing number is named, how a size-scaled value and a count are said."""

from __future__ import annotations

import re
from functools import cache

import pandas as pd

from ..analysis.numerals import chinese_numeral
from ..analysis.standing import SCALE_TEXT
from ..model.catalog import load_wording

__all__ = ["DEEDS", "MARKS", "NA", "NUM", "ZERO", "count_word", "fmt_scaled", "missing_label", "scale_text",
           "fresh", "spare_verbs"]

# Markers put into the rendered text by n(); removed before the HTML is returned.
NA = "\ue000"  # a number that does not apply: the clause is dropped
ZERO = "\ue001"  # a number that is zero: the clause is dropped when all its numbers are zero
NUM = "\ue002"  # any other number (present or missing)
MARKS = re.compile("[\ue000-\ue002]")

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


# indicators named by what was done (培养入党积极分子, 开展…): their per-size figure puts the scale first
DEEDS = ("培养", "开展", "发展", "化解", "解决", "关爱", "关注", "关心", "签订", "评定", "创建", "组织", "实施",
         "建成", "拆除", "清理", "种植", "送学", "评选")


def scale_text(scale: str) -> str:
    """How a scale is said: 村均, 平均每个党支部, 每百名党员, 每万人 (nothing for none)."""
    return SCALE_TEXT.get(scale, "")


def fmt_scaled(x: float, digits: int | None = None) -> str:
    """A size-scaled value: one decimal (two below 1), no trailing zeros; ``digits`` decimals where it must be
    told from another town's value that would print alike (3.65 against 3.60: both kept)."""
    if pd.isna(x):
        return ""
    if digits is not None and digits > (2 if abs(x) < 1 else 1):
        return f"{x:.{int(digits)}f}"
    return f"{x:.2f}".rstrip("0").rstrip(".") if abs(x) < 1 else f"{x:.1f}".removesuffix(".0")


def count_word(k: int) -> str:
    """连续两年 / 连续三年 (两 before a measure word)."""
    return "两" if k == 2 else chinese_numeral(k)


#: Verbs a report's formulations lean on (推动 eleven times in one report, 逐项 five: round 31).
OFTEN = ("推动", "逐项", "持续")


def _runs(text: str) -> set[str]:
    """The four-character runs of Chinese in ``text`` (fields such as ``{k}`` break a run)."""
    text = re.sub(r"\{[^}]*\}", "|", text)
    return {text[i:i + 4] for i in range(len(text) - 3) if re.fullmatch(r"[\u4e00-\u9fff]{4}", text[i:i + 4])}


#: A four-character run in at most this many formulations of the bank is a figure of speech (以上率下, 扛在肩上),
#: not the field's common vocabulary (班子成员, 主体责任: in 25 and 26).
RARE = 4


@cache
def figures() -> frozenset[str]:
    """The figures of speech that formulations of more than one slot of the phrase bank share: said twice in a
    report they read as one sentence written twice (以身作则、以上率下…以上率下、以身作则: round 33)."""
    where: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    for slot, options in load_wording()["slots"].items():
        for option in options:
            for run in _runs(option):
                where.setdefault(run, set()).add(slot)
                count[run] = count.get(run, 0) + 1
    return frozenset(r for r, s in where.items() if len(s) >= 2 and count[r] <= RARE)



def fresh(options: list[str], text: str, used: dict[str, int], said: set[str] | None = None,
          shared: frozenset[str] = frozenset(), avoid: str = "", taken: set[str] | frozenset[str] = frozenset()) -> str:
    """``text``, one of a slot's ``options``, unless it is worn: it holds a verb of :data:`OFTEN` that the report's
    formulations have used twice already (``used``, counted here), or it says a figure of speech of ``shared`` that
    the report has said already (``said``, kept here). Then another formulation that is not worn (and does not open
    with ``avoid``), where there is one — one the county's other towns were not dealt (``taken``) where there is
    such (a town giving way took another's formulation: two reports shared it, round 35), chosen by the place of
    ``text`` among the options, so that the towns whose formulation gave way spread over the others (always the
    next one made it the most used of its slot: round 32). The seed's own words (``options[0]``) are not taken.

    >>> used, said = {}, set()
    >>> [fresh(["种", "推动甲", "推动乙", "落实丙"], t, used) for t in ("推动甲", "推动乙", "推动甲")]
    ['推动甲', '推动乙', '落实丙']
    >>> options = ["种", "甲扛在肩上", "乙扛在肩上", "丙", "丁"]
    >>> [fresh(options, t, {}, said, frozenset({"扛在肩上"})) for t in ("甲扛在肩上", "乙扛在肩上")]
    ['甲扛在肩上', '丁']
    >>> fresh(options, "乙扛在肩上", {}, said, frozenset({"扛在肩上"}), taken={"丁"})
    '丙'
    """
    said = set() if said is None else said
    for verb in OFTEN:
        used.setdefault(verb, 0)

    def worn(option: str) -> bool:
        return any(used[v] >= 2 and v in option for v in OFTEN) or bool(_runs(option) & shared & said)

    if worn(text) and text in options:
        at = options.index(text)
        spare = [o for o in options[1:] if not (avoid and o.startswith(avoid)) and not worn(o)]
        spare = [o for o in spare if o not in taken] or spare
        text = spare[(at - 1) % len(spare)] if spare else text
    for verb in OFTEN:
        used[verb] += text.count(verb)
    said.update(_runs(text) & shared)
    return text


def spare_verbs(options: list[str], text: str, used: dict[str, int], avoid: str = "") -> str:
    """:func:`fresh` for the verbs alone."""
    return fresh(options, text, used, avoid=avoid)
