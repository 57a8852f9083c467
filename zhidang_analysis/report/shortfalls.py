"""二、存在的问题 and 三、下一步工作打算 of a town report: its problems (its own 自查问题, then the problem model's
rows, :mod:`analysis.problems`) in words, and the measure that answers each."""

from __future__ import annotations

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..analysis.numerals import format_number, percent_text
from ..analysis.problems import county_problems, lagging_subject, subject_name
from ..inputs.towntext import split_items
from ..model.catalog import load_wording
from .phrasing import MARKS, scale_text

__all__ = ["Finding", "Shortfalls"]


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


class Shortfalls:
    """The problems and plans of a town report (a mixin of :class:`narrative._Filler`: it reads the filler's
    ``ds``, ``cat``, ``town``, ``year``, ``options``, ``profile`` and its number, practice and wording methods)."""

    def problems_and_plans(self, findings: list[Finding]) -> tuple[list[Markup], list[Markup]]:
        """二 and 三 as lists: the problems (the town's own 自查问题 first, then its data's real shortfalls, largest
        first) and the measures, one for each problem in the same order (the town's own 下一步打算 where it gave
        one, else the measure of the problem's kind), then at most two general lines. A town that named no problem
        of its own gets a 【待补：本镇自查问题】 marker for the person editing the draft, after what its data show
        (the seed's three general ones only with ``general_problems``: they are no finding of the town's)."""
        w = load_wording()
        problems: list[Markup] = []
        plans: list[Markup] = []
        own_plans = self.items("own_plans")
        raw_problems = split_items(self.raw("own_problems")) if self.has("own_problems") else []
        for i, (item, text) in enumerate(zip(self.items("own_problems"), raw_problems)):
            if self._topic(text).get("area") == "development":  # its economy, in a report on Party work: a lead
                item = Markup(escape(self.wording("own_development_lead"))) + Markup("，") + item
            problems.append(item)
            plans.append(own_plans[i] if i < len(own_plans) else self._topic_plan(text))
        for f in findings:
            lead = w["problem_leads"].get(f.codes[0]) or w["problem_leads"][f.section]
            problems.append(Markup(escape(lead.format(k=self.kind))) + Markup("，") + f.text)
            plans.append(self._finding_plan(f))
        general = {kind: self._pick(texts, f"general-problem-{kind}") for kind, texts in w["general_problems"].items()}
        seed_words = str(self.profile.get("wording_style") or "") == "范本"
        if not problems and (self.options.general_problems or seed_words):
            # the seed's general problems: when asked for, or for the seed town itself (they are its own words)
            for kind, text in general.items():
                problems.append(Markup(escape(text)))
                plans.append(self.general_line(kind))
            return problems, (own_plans or plans)
        if not raw_problems and not self.options.general_problems:
            # the town named none: the draft says what is still to be written (after what its data show, which is
            # no self-examination of the town's)
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
        said = "".join(map(str, plans)) + self.raw("own_problems")
        # a measure already answers a study problem or an income one: no general line saying it again
        if any(word in said for word in ("学习教育", "理论学习", "学习阵地", "学习制度", "宣讲", "讲堂", "送学")):
            kinds = [k for k in kinds if k != "study"]
        if any("income_per_household" in f.codes for f in findings):
            kinds = [k for k in kinds if k != "development"]
        plans += [self.general_line(k) for k in kinds if self.general_line(k) not in plans]
        return problems, plans

    @staticmethod
    def _topic(problem: str) -> dict:
        """The topic of a problem the town named itself: the first whose keywords it contains (wording.yaml)."""
        topics = load_wording()["plans"]["by_topic"]
        return next(t for t in topics if not t["keywords"] or any(k in problem for k in t["keywords"]))

    def _topic_plan(self, problem: str) -> Markup:
        """The measure for a problem the town named itself, by its topic."""
        plan = self._topic(problem)["plan"]
        short = problem if len(problem) <= 30 else problem.split("，")[0]
        lead = f"针对{short}的问题，" if len(short) <= 30 else ""
        return Markup(escape(lead + plan.format(k=self.kind, cadres=self.cadres())))

    def _finding_plan(self, f: Finding) -> Markup:
        """The measure for a data-driven problem, named by what fell short (针对警示教育未完成年度目标的问题): its
        indicators' own measures, else its section's; a missed target's measure ends on the target
        (确保完成年度目标任务: next year's is not known when the report is written)."""
        plans = load_wording()["plans"]
        whats: dict[str, list[str]] = {}
        measures: list[Markup] = []
        fill = {"k": self.kind, "cadres": self.cadres()}
        for code, kind in zip(f.codes, f.kinds or ["decline"] * len(f.codes)):
            row = self.cat[code]
            subject = self._subject(code)
            if kind == "coverage":
                core = row["name"].removeprefix("实现").removesuffix("行政村")
                whats.setdefault(f"部分行政村尚未实现{core}", [])  # how many: 二 says it, with its source
            else:
                what = {"target_missed": "未完成年度目标", "lagging": "居全县末位"}.get(kind, "比上年下降")
                whats.setdefault(what, []).append(subject)
            if code not in plans["by_indicator"]:
                continue
            measure = Markup(escape(plans["by_indicator"][code].format(**fill)))
            if kind == "target_missed":  # next year's target is not known yet: no number
                measure += Markup("，确保完成年度目标任务")
            if measure not in measures:
                measures.append(measure)
        text = Markup("；").join(measures) if measures else Markup(escape(plans["by_section"][f.section].format(**fill)))
        lead = "针对" + "、".join("、".join(subjects) + what for what, subjects in whats.items()) + "的问题，"
        return Markup(escape(lead)) + text

    def findings(self) -> list[Finding]:
        """The data problems a report lists (:func:`problems.county_problems`, the one model every output uses),
        one item each (three unrelated shortfalls in one item bury the largest), the section of the largest first."""
        o = self.options
        p = county_problems(self.ds, self.year, drop_threshold=o.drop_threshold, nearly_met=o.nearly_met,
                            max_findings=o.max_findings)
        p = p[(p["town"] == self.town) & p["listed"]]
        order = {s: i for i, s in enumerate(p.drop_duplicates("section")["section"])}  # the largest section first
        p = p.assign(_s=p["section"].map(order)).sort_values("_s", kind="stable")
        return [Finding(r.section, self._finding_phrase(r), self._short_name(r.indicator), [r.indicator], [r.kind],
                        [r.reference], [r.value]) for r in p.itertuples()]

    def _subject(self, code: str) -> str:
        """The indicator as what was done (:func:`problems.subject_name`)."""
        return subject_name(self.cat, code)

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
        num = Markup(MARKS.sub("", self.number(r.indicator)))  # a finding is never pruned
        unit, integer = row["unit"], bool(row["integer"])
        if r.kind == "coverage":
            villages = self._provenance(f"{format_number(r.reference)}个行政村",
                                        f"行政村数 · 乡镇概况 · 来源：{self.profile.get('source', '')}")
            core = name.removeprefix("实现").removesuffix("行政村")
            return villages + Markup(f"中{format_number(r.reference - r.value)}个尚未实现{escape(core)}")
        if r.kind == "lagging":
            title = (f"{row['name']} · 全县各乡镇{scale_text(r.scale) or '按填报数'}比较，本乡镇居末位，全县中位数"
                     f"{format_number(r.reference, integer=False)}{unit} · 来源：{self._source(r.indicator, self.year)}")
            subject = lagging_subject(self.cat, r.indicator, r.scale)
            return Markup(escape(subject)) + self._provenance(
                f"{format_number(r.value, integer=False)}{unit}，居全县末位", title)
        if r.kind == "target_missed":
            return Markup(f"{escape(name)}{num}，未完成") + self._target(r.indicator, r.reference, r.ratio) + Markup("的年度目标")
        amount = format_number(abs(r.value - r.reference), integer=integer)  # a decline or a slip
        prev = self._source(r.indicator, self.year - 1)
        # a count falls by how many (减少4名), an amount by its rate (下降19.3%)
        fall = f"减少{amount}{unit}" if integer else f"下降{percent_text(r.ratio)}%"
        ref = self._provenance(fall,
                               f"{row['name']} · {self.year - 1}年为{format_number(r.reference, integer=integer)}"
                               f"{unit} · 来源：{prev}", prev)
        return Markup(f"{escape(name)}{num}，比上年{ref}")
