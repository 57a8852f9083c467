"""Small pieces of report wording shared by the narrative's parts: the marks a number leaves in the rendered
text, how a missing number is named, how a size-scaled value and a count are said."""

from __future__ import annotations

import re

import pandas as pd

from ..analysis.numerals import chinese_numeral
from ..analysis.standing import SCALE_TEXT

__all__ = ["DEEDS", "MARKS", "NA", "NUM", "ZERO", "count_word", "fmt_scaled", "missing_label", "scale_text",
           "spare_verbs"]

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


def spare_verbs(options: list[str], text: str, used: dict[str, int], avoid: str = "") -> str:
    """``text``, one of a slot's ``options``, unless it holds a verb of :data:`OFTEN` that the report's formulations
    have used twice already (``used``, counted here): then another formulation without one (and not opening with
    ``avoid``), where there is one — chosen by the place of ``text`` among the options, so that the towns whose
    formulation gave way spread over the others (always the next one made it the most used of its slot: round 32).
    The seed's own words (``options[0]``) are not taken in its stead.

    >>> used = {}
    >>> [spare_verbs(["种", "推动甲", "推动乙", "落实丙"], t, used) for t in ("推动甲", "推动乙", "推动甲")]
    ['推动甲', '推动乙', '落实丙']
    """
    for verb in OFTEN:
        used.setdefault(verb, 0)
    if any(used[v] >= 2 and v in text for v in OFTEN) and text in options:
        at = options.index(text)
        spare = [o for o in options[1:] if not (avoid and o.startswith(avoid))
                 and not any(used[v] >= 2 and v in o for v in OFTEN)]
        text = spare[(at - 1) % len(spare)] if spare else text
    for verb in OFTEN:
        used[verb] += text.count(verb)
    return text
