"""The sentence only a town's data can write in a section of 一 (its rank in the county, a target beaten, a run
of increases, its best year), and where it goes: right after the number it tells of."""

from __future__ import annotations

import re

import pandas as pd
from markupsafe import Markup, escape

from ..analysis.numerals import format_number, percent_text
from ..analysis.problems import subject_name
from .phrasing import DEEDS, count_word, fmt_scaled, missing_label, scale_text

__all__ = ["Highlights", "place_highlights"]

#: A count target below this is beaten by a count, not by a percentage (警示教育11次 of 10: 超额完成年度目标).
SMALL_TARGET = 20

# the marks around a highlight until it is placed: code, the sentence on its own, the clause to insert
_HL = ("\ue020", "\ue021", "\ue022", "\ue023")


class Highlights:
    """What :class:`narrative._Filler` knows of a town's standing, as the sentences of its achievements (a mixin:
    it reads the filler's ``cat``, ``standing``, ``year``, ``silenced``, ``_provenance`` and ``_subject``)."""

    def highlights(self, section: str, skip=()) -> Markup:
        """The section's highlight (:meth:`highlight`), placed after the number it tells of. A target basically
        done (95%–100%) is said nowhere in 一: neither a problem nor an achievement, its number stands alone (told
        with its completion, 完成年度目标的98.2% read as a target met, rounds 30–38; 基本完成年度目标（98.2%） as
        dressing it up, round 39; 完成年度目标的98.6%，还差1件 as a statistics bulletin's tail, rounds 41–44)."""
        return self.highlight(section, skip)

    def nearly_told(self) -> Markup:
        """The opening's words on a year whose every target was at least basically done and some not quite: those
        named, 「除“我为群众办实事”活动略低于年度目标外，其余目标任务全部完成」 (each name with its target and source for
        the reader who checks it); 各项目标任务基本完成 when none was fully met. Said nowhere else: its figure stands
        in 一 without it (a tail 完成年度目标的98.2%，还差1件 read as a bulletin, rounds 41–44; nothing at all as a
        target missed and hidden behind 基本完成, round 45)."""
        c = self.standing
        mine = c[c["completion"].notna() & (c.index.map(self.cat.frame["polarity"]) != 0)]
        short = [code for code in mine.index if mine.at[code, "completion"] < 1]
        if not short or len(short) == len(mine):
            return Markup("各项目标任务基本完成")
        names = Markup("、").join(self.target_told(code, subject_name(self.cat, code)) for code in short)
        return Markup("除") + names + Markup("略低于年度目标外，其余目标任务全部完成")

    def target_told(self, code: str, words: str) -> Markup:
        """``words`` on this year's target of ``code`` (完成年度目标的97.5%), with the target and its source."""
        r = self.standing.loc[code]
        row = self.cat[code]
        title = (f"{row['name']} · {self.year}年目标{format_number(r['target'], integer=bool(row['integer']))}"
                 f"{row['unit']} · 来源：{r['target_source']}")
        return self._provenance(words, title, r["target_source"])

    def highlight(self, section: str, skip=()) -> Markup:
        """At most one sentence of the town's achievement in ``section``, in plain words: the indicator that
        stands out most, with at most two of its facts (a target completed, its rank in the county, a run of
        increases, its best year), as 「主题党日活动完成年度目标的105.5%，平均每个党支部25.6次，居全县首位」. Nothing when
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
        texts = [f for _, _, f in fs]
        inline = Markup("，").join(texts)
        subject = Markup(escape(self._subject(code)))
        scale = scale_text(str(self.standing.at[code, "scale"])) if "scale" in self.standing else ""
        if fs[0][1].startswith("rank") and scale and self._subject(code).startswith(DEEDS):
            # 每百名党员培养入党积极分子4.9名 (a deed reads after its scale), not 培养入党积极分子每百名党员4.9名
            texts[0] = Markup(str(texts[0]).replace(f">{scale}", ">", 1))
            subject = Markup(escape(scale)) + subject
        alone = subject + Markup("，").join(texts) + Markup("。")
        # placed after the clause that states the number (see place_highlights), else as a sentence of its own
        return Markup(f"{_HL[0]}{code}{_HL[1]}") + alone + Markup(_HL[2]) + inline + Markup(_HL[3])

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
        # a tie says so (并列第2位). A rank the printed value cannot bear is not told: where another town's value
        # prints alike (3.646 and 3.596 both 3.6), 居第2位 reads false and 3.65 against 3.60 reads odd
        printed_alike = getattr(r, "digits", 0) > (2 if abs(r.scaled) < 1 else 1)
        # (the first three of ten or more towns; the first two of fewer: third of nine read “a middling place ranked
        # for no reason”, round 28)
        if (pol != 0 and r.n_towns >= 5 and r.rank_max <= (3 if r.n_towns >= 10 else 2) and r.scaled >= 2
                and bool(row["key"]) and not printed_alike
                and bool(row["ranked"])
                and (r.scale == "none" or r.value >= 10)  # 9 activists over 182 members: too few to rank
                and r.indicator not in set(self.cat.coverage["numerator"])):
            scale, digits = scale_text(r.scale), fmt_scaled(r.scaled)
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
                        self._provenance(f"连续{count_word(int(r.streak))}年增长", title)))
            streak_covers_all = self.year - int(r.streak) <= r.first_year
        # a record only for a series of at least four years, and not where the run of increases says it already
        if pol > 0 and r.record and r.n_years >= 4 and r.first_year <= self.year - 3 and not streak_covers_all:
            title = f"{row['name']} · {int(r.first_year)}—{self.year}年各年数值中最高"
            out.append((1.5, f"record{int(r.first_year)}", self._provenance(f"为{int(r.first_year)}年以来最高", title)))
        if pol != 0 and pd.notna(r.completion):
            # a target met is an achievement; one basically done (95%–100%) is no failure, but no praise either
            if r.completion > 1:  # 完成年度目标的168.2%; just over it is no figure worth a percent: 完成年度目标
                done = f"完成年度目标的{percent_text(r.completion)}%" if r.completion >= 1.05 else "完成年度目标"
                if r.completion >= 1.05 and row["integer"] and r.target < SMALL_TARGET:
                    done = "超额完成年度目标"  # 11 sessions of 10 as 完成年度目标的110% read inflated (round 35)
                out.append((3 if r.completion >= 1.05 else 2, f"target{r.indicator}", self.target_told(r.indicator, done)))
        return out

    def target_state(self) -> str:
        """``met`` (every target of the year reached), ``nearly`` (all at least ``nearly_met``), ``short`` (half
        of them or more missed: the opening does not say 一项一项抓好 of a year that missed three of four, round 33),
        ``unmet`` (every one of two or more missed), ``missed`` (some) or ``none`` (no target that year)."""
        c = self.standing
        mine = c[c["completion"].notna() & (c.index.map(self.cat.frame["polarity"]) != 0)]
        if mine.empty:
            return "none"
        if (mine["completion"] >= 1).all():
            return "met"
        if (mine["completion"] >= self.options.nearly_met).all():
            return "nearly"
        missed = int((mine["completion"] < self.options.nearly_met).sum())
        if missed == len(mine) >= 2:
            return "unmet"
        if missed * 2 >= len(mine) >= 2:
            return "short"
        return "missed"


def place_highlights(html: str, year: int) -> str:
    """Put each section's highlight (:meth:`_Filler.highlights`) where a secretary writes it: right after the
    clause that states its number (实现旅游综合收入5276.8万元，同比增长5.3%，居全县首位), not as a sentence tacked onto
    the paragraph's end — which is where it stays when the number is not written. A rank whose number is one item of
    a list follows the list's sentence as a sentence of its own (培养入党积极分子9名，发展党员5名。每百名党员培养入党
    积极分子4.9名，居全县首位。)."""
    pattern = re.compile(f"{_HL[0]}(\\w+){_HL[1]}(.*?){_HL[2]}(.*?){_HL[3]}", re.S)
    while m := pattern.search(html):
        code, alone, inline = m.groups()
        html = html[:m.start()] + html[m.end():]
        number = re.search(f'<span class="num" data-indicator="{code}" data-year="{year}"[^>]*>[^<]*</span>', html)
        if number is None:
            html = html[:m.start()] + alone + html[m.start():]
            continue
        end = number.end()
        change = re.match(r'，<span class="chg"[^>]*>[^<]*</span>', html[end:])
        if change:
            end += change.end()
        rank = re.search("居全县|并列全县", re.sub(r"<[^>]*>", "", inline)) is not None
        if rank and html[end:end + 1] == "，":
            # the middle of a list (…化解矛盾纠纷27起，开展“我为群众办实事”活动50件，村均5.6件，居全县第2位；解决…):
            # a rank amid the items read as a statistics bulletin — it follows the sentence, as one of its own (a
            # target's completion stays at its number: 开展“我为群众办实事”活动56件，完成年度目标的98.2%); so does a
            # rank after a list's first item (培养入党积极分子14名，每百名党员4.2名，居全县第2位；发展党员7名: “two
            # things squeezed into one sentence with a semicolon”, round 26)
            stop = html.find("。", end)
            if stop != -1:
                html = html[:stop + 1] + alone + html[stop + 1:]
                continue
        # a target's completion stays at its number, and the list goes on after a comma (开展警示教育11次，超额完成年度
        # 目标，受教育396人次): a semicolon there split the list, “a note wedged into the figures” (rounds 42–43, both
        # readers); a rank left amid a list (no sentence end to follow) still ends its item with a semicolon
        after = ("；" if rank else "，") + html[end + 1:] if html[end:end + 1] == "，" else html[end:]
        html = html[:end] + "，" + inline + after
    return html
