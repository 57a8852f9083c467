"""The sentences of a section of 一 that its indicators write (（六）: the town's industries, its tourism, its village
building, its services): the catalog's phrases in the catalog's sentences, the town's largest movement first."""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup, escape

from ..analysis.numerals import format_number, percent_text
from ..model.catalog import LOCAL_SENTENCE
from .phrasing import MARKS as _MARKS
from .phrasing import NA as _NA
from .phrasing import NUM as _NUM
from .phrasing import ZERO as _ZERO

__all__ = ["Sections"]

# a change told after a number (:meth:`_Filler.change`), with the punctuation before it
_CHANGE = re.compile(r'[，、]?<span class="chg"[^>]*>[^<]*</span>')


class Sections:
    """The catalog-driven sentences of a section (a mixin of :class:`narrative._Filler`: it reads the filler's
    ``cat``, ``yoy``, ``silenced``, ``value``, ``raw``, ``has``, ``_pick``, ``_fill``, ``_source``, ``_provenance``,
    ``_short_name`` and ``of_my_industries``)."""

    def section_text(self, section: str) -> Markup:
        """Sentences of ``section`` composed from its indicators' catalog phrases (see catalog.yaml ``sentences``).

        A phrase is left out when its number does not apply or is zero; text in ``[ ]`` (a verb the phrase
        shares with the one before) is written only when that phrase before was left out; a sentence whose
        ``requires`` codes have no value is left out whole.
        """
        f = self.cat.frame
        rows = f[(f["section"] == section) & f["phrase"].notna()]
        out = []
        lone: set[int] = set()  # sentences of one clause and no lead of their own (全乡户均增收0.68万元)
        carried: dict[str, list[str]] = {}  # sentence → phrases of a sentence not written that it tells instead
        besides = False
        names: list[str] = []  # of the sentences written, in order
        for name, spec in self.cat.sentences.items():
            codes = list(rows.index[rows["sentence"] == name]) + carried.pop(name, [])
            if not codes:
                continue
            if name == LOCAL_SENTENCE and self.has("leading_industries"):
                # the county's own industries: those this town named as its own first, then the others it reported
                # (a labour and apricot town's 600 mu of herbs was left out: every reader of rounds 32–34 asked
                # where the figure the town had reported had gone)
                mine = [c for c in codes if self.of_my_industries(self.cat.frame.at[c, "name"])]
                codes = mine + [c for c in codes if c not in mine]
                besides = not mine  # none of its own: told after the lead that named its own (主导产业之外，种植中药材580亩)
            requires = spec.get("requires") or []
            if requires and all(self.value(c) is None for c in requires):
                # a sentence not written: its indicators are not told elsewhere either, but for those its ``else``
                # sentence tells (a town without a scenic area that built a 小游园 tells it with its village building)
                told = [c for c in spec.get("else_phrases", [])
                        if c in codes and spec.get("else") and self.value(c) is not None]
                carried.setdefault(spec.get("else", ""), []).extend(told)
                self.silenced.update(set(codes) - set(told))
                continue
            kept: list[Markup] = []
            units: set[str] = set()  # of the numbers the sentence has told
            dropped_join = None  # the punctuation of the first phrase left out since the last one kept
            for code in codes:
                phrase = self._phrase(code, rows.at[code, "phrase"], shared=dropped_join is not None)
                marks = _MARKS.findall(str(phrase))
                if _NA in marks or (_ZERO in marks and _NUM not in marks):
                    dropped_join = dropped_join or rows.at[code, "join"]
                    continue
                sep = (dropped_join or rows.at[code, "join"]) if kept else ""
                ahead = '<span class="chg"' in str(phrase) and f.at[code, "unit"] in units
                if 'class="missing"' not in str(phrase):  # a number still to be filled in is no number told
                    units.add(f.at[code, "unit"])
                dropped_join = None
                if ahead:
                    # after a number of the same unit (种植苹果6350亩，种植中药材2300亩，同比增长9.5%: which grew?) the
                    # clause with the change goes first (种植中药材2300亩，同比增长9.5%，种植苹果6350亩): naming its subject
                    # again read 中药材种植面积同比增长9.5% (round 27), a semicolon split the list (rounds 34–35)
                    kept[0] = Markup("，") + kept[0]
                    kept.insert(0, phrase)
                    continue
                kept.append(Markup(escape(sep)) + phrase)
            if not kept:
                continue
            body = Markup("").join(kept)
            lead = self._fill(self._variant(spec.get("lead"), f"sentence-{name}-lead"))
            if name == LOCAL_SENTENCE and besides:
                lead = Markup("因地制宜发展多元产业")  # (此外 “follows nothing”: round 35; 主导产业之外 clumsy: 37)
            # a brand the town's own paragraph of the section names already is not introduced again (围绕“柏林秋色·塬边
            # 牧场”品牌，… in its own words, then 围绕“柏林秋色·塬边牧场”品牌发展乡村旅游 a few lines on): the
            # sentence's plain lead instead (``plain_lead``, else none)
            own = self.raw(f"{section}_practice")
            if lead and any(q in own for q in re.findall(r"“[^”]+”", re.sub(r"<[^>]*>", "", str(lead)))):
                lead = Markup(escape(spec.get("plain_lead") or ""))
            led = bool(lead and _NA not in lead)
            if led:
                body = lead + Markup("，") + body
            tail = self._variant(spec.get("tail"), f"sentence-{name}-tail")
            if tail:
                body = body + Markup("，") + self._fill(tail)
            out.append((*self._movement([c for c in codes if self.value(c) is not None]), body))
            names.append(name)
            if len(kept) == 1 and not led and not tail:
                lone.add(len(out) - 1)
        if besides and LOCAL_SENTENCE in names and "养殖" in names and names.index(LOCAL_SENTENCE) < names.index("养殖"):
            # the industries the town did not name come after those it did (its 肉牛 after 主导产业之外，种植苹果900亩
            # read backwards, and a lone 全镇户均增收 joined to the apples read as theirs: round 36)
            at, to = names.index(LOCAL_SENTENCE), names.index("养殖")
            out.insert(to, out.pop(at))
            names.insert(to, names.pop(at))
            lone = {i - (at < i <= to) for i in lone if i != at}
        # the town's own largest movement leads (a key-project investment that grew sixfold, a tourism income that
        # halved): a sentence whose change is at least half again moves to the front and says so
        # (not the industries the town did not name: they follow its own, and a lone 全镇户均增收 after them read as
        # theirs — 因地制宜发展多元产业，种植苹果1400亩，同比增长55.6%，全镇户均增收0.7万元, round 38)
        movers = [i for i in range(len(out)) if not (besides and names[i] == LOCAL_SENTENCE)]
        if movers:
            first = max(movers, key=lambda i: out[i][0])
            size, code, body = out[first]
            if size >= 0.5:
                if "{chg}" not in str(rows.at[code, "phrase"]):
                    body = body + Markup("，") + self._movement_text(code, after=re.sub(r"<[^>]*>", "", str(body)))
                out.pop(first)
                lone = {i + (i < first) for i in lone if i != first}
                # one movement a section: the others' changes are not told beside it (投资额是上年的6.7倍。…装机
                # 容量达5600千瓦，比上年增加4400千瓦 read as two highlights in a row)
                out = [(size, code, body)] + [(s, c, Markup(_CHANGE.sub("", str(b)))) for s, c, b in out]
        # a sentence of one clause and no lead of its own goes on from the one before (种植中药材7400亩，全乡户均增收
        # 0.68万元: standing alone it read stranded, round 30)
        text = Markup("")
        for i, (_, _, body) in enumerate(out):
            text += (Markup("，") if i in lone and i > 0 else Markup("。") if i > 0 else Markup("")) + body
        return text + Markup("。") if out else text

    def _movement_text(self, code: str, after: str = "") -> Markup:
        """``重点项目投资是上年的6.7倍`` / ``旅游综合收入比上年下降52%``, with the year before as its source; right
        ``after`` a clause that names the work already (…7项重点项目), only what moved (投资额是上年的6.7倍)."""
        r = self.yoy.loc[code]
        row = self.cat[code]
        if r["rate"] >= 1:
            words = f"是上年的{1 + r['rate']:.1f}倍".replace(".0倍", "倍")
        else:
            words = f"比上年{'增长' if r['rate'] > 0 else '下降'}{percent_text(r['rate'])}%"
        prev = self._source(code, self.year - 1)
        title = (f"{row['name']} · {self.year - 1}年为{format_number(r['prev_value'], integer=bool(row['integer']))}"
                 f"{row['unit']} · 来源：{prev}")
        subject = self._short_name(code).removesuffix("数")
        tail = after.rsplit("，", 1)[-1]
        for k in range(len(subject) - 2, 1, -1):  # the longest head of the name the clause before ends with
            if subject[:k] in tail:
                subject = subject[k:] + ("额" if subject[k:] in ("投资", "收入") else "")
                break
        return Markup(escape(subject)) + self._provenance(words, title, prev)

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
        fell = code in self.yoy.index and self.yoy.at[code, "rate"] < 0
        c = self.standing
        short = (code in c.index and "completion" in c and pd.notna(c.at[code, "completion"])
                 and c.at[code, "completion"] < self.options.nearly_met)
        if fell or short:
            # 接待游客量达5.9万人次 reads as an achievement of a figure that fell by half, 实现旅游综合收入2469.5万元 of one
            # that 二 tells was 45.7% of its target (round 44): the number alone
            text = re.sub(r"^实现(?=[^{]*\{\})", "", text.replace("达{}", "{}"))
        return self._fill(text, code)
