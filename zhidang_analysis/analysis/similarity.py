r"""How alike the reports of a county read (材料雷同): what a county reviewer notices first.

Two measures, on the narrative bodies with digits removed (so that only wording counts):

- :func:`pairwise`: for each pair of towns, ``difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()``;
- :func:`shared_by_all`: for each report, the share of its body (in characters) made of sentences that every
  report of the set contains word for word.

>>> texts = {"甲镇": "开展学习12次。甲镇种苹果。", "乙乡": "开展学习8次。乙乡养牛。"}
>>> shared_by_all(texts)
{'甲镇': 0.5, '乙乡': 0.5454545454545454}
>>> sentences("一、责任落实情况\n开展学习。甲镇种苹果。")
['开展学习。', '甲镇种苹果。']
"""

from __future__ import annotations

import difflib
import itertools
import re
import statistics

__all__ = ["body", "pairwise", "sentences", "shared_by_all", "summary"]


def body(text: str) -> str:
    """The narrative without its title and sign-off lines and without digits."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("中共") and lines[0].endswith("报告"):
        lines = lines[1:]
    lines = [line for line in lines if not re.fullmatch(r"中共\S+委员会|\d{4}年\d{1,2}月\d{1,2}日", line.strip())]
    return re.sub(r"[\d.]+", "", "\n".join(lines))


def sentences(text: str) -> list[str]:
    """The sentences of a body: cut after 。！？ and at line ends; headings (a line without a full stop, such as
    ``二、存在的问题``) are the report's required structure, not sentences, and are left out."""
    parts = [s.strip() for s in re.split(r"(?<=[。！？])|\n", text)]
    return [s for s in parts if len(s) > 1 and s.endswith(("。", "！", "？"))]


def pairwise(texts: dict[str, str]) -> dict[tuple[str, str], float]:
    """Similarity ratio of every pair of bodies (digits removed)."""
    bodies = {k: body(v) for k, v in texts.items()}
    return {(a, b): difflib.SequenceMatcher(None, bodies[a], bodies[b], autojunk=False).ratio()
            for a, b in itertools.combinations(sorted(bodies), 2)}


def shared_by_all(texts: dict[str, str]) -> dict[str, float]:
    """For each report, the share of its body that is sentences every report of ``texts`` has word for word."""
    bodies = {k: body(v) for k, v in texts.items()}
    each = {k: sentences(v) for k, v in bodies.items()}
    common = set.intersection(*(set(s) for s in each.values())) if each else set()
    return {k: sum(len(s) for s in ss if s in common) / max(1, sum(len(s) for s in ss)) for k, ss in each.items()}


def summary(texts: dict[str, str]) -> dict[str, float]:
    """median and max pairwise similarity, and the largest share of a body that every report shares."""
    ratios = pairwise(texts)
    shared = shared_by_all(texts)
    return {"median": statistics.median(ratios.values()) if ratios else 0.0,
            "max": max(ratios.values()) if ratios else 0.0,
            "shared_max": max(shared.values()) if shared else 0.0,
            "pair": max(ratios, key=ratios.get) if ratios else ()}
