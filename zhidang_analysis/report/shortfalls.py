"""二、存在的问题 and 三、下一步工作打算 of a town report: its problems (its own 自查问题, then the problem model's
rows, :mod:`analysis.problems`) in words, and the measure that answers each."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup, escape

from ..analysis.numerals import format_number, percent_text
from ..analysis.problems import (county_problems, economic, lagging_subject, problem_topic, same_work, share_name,
                                 subject_name)
from ..inputs.towntext import split_items
from ..model.catalog import load_wording
from .phrasing import MARKS, scale_text

__all__ = ["Finding", "LONG_LIST", "Shortfalls"]

#: 二 lists at most this many items one by one; beyond it the smaller missed targets are told together.
LONG_LIST = 6
#: A target completed below this share is far short: 二 says how far (仅完成45.7%), and it is never told together.
FAR_SHORT = 0.8


def _group(codes: list[str]) -> dict | None:
    """The group of wording.yaml ``plans.groups`` that holds all of ``codes`` (two shortfalls of one work)."""
    return next((g for g in load_wording()["plans"].get("groups", []) if set(codes) <= set(g["codes"])), None)


# the words of wording.yaml problem_again a town's own problem may have used already
#: The town's own text that tells of its problems and plans, not of work done.
_NOT_DONE = ("own_problems", "own_plans")
_AGAIN_WORDS = ("成效", "明显", "解决", "存在", "整改", "到位", "查摆")

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
    repeated: bool = False  # a shortfall of the same work was listed the year before too (of any kind)
    within: int | None = None  # told inside the town's own item of this index (the town named the work itself)
    together: bool = False  # a smaller target missed of a long list, told with the others in one item


class Shortfalls:
    """The problems and plans of a town report (a mixin of :class:`narrative._Filler`: it reads the filler's
    ``ds``, ``cat``, ``town``, ``year``, ``options``, ``profile`` and its number, practice and wording methods)."""

    def problems_and_plans(self, findings: list[Finding]) -> tuple[list[Markup], list[Markup]]:
        """二 and 三 as lists: the problems (the town's own 自查问题 first, then its data's real shortfalls, largest
        first) and the measures, one for each problem in the same order (the town's own 下一步打算 where it gave
        one, else the measure of the problem's kind), and a general line beside a lone measure. A town that named no problem
        of its own and whose data show at most one gets a 【待补：本镇自查问题】 marker after it for the person
        editing the draft (the seed's three general ones only with ``general_problems``: they are no finding of the
        town's); where the data show two or more shortfalls, those are its problems."""
        w = load_wording()
        self._raised = -1  # the repeated shortfalls' raised measures, in turn
        problems: list[Markup] = []
        plans: list[Markup] = []
        own_plans = self.items("own_plans")
        raw_problems = split_items(self.raw("own_problems")) if self.has("own_problems") else []
        last = self.last_practices.get("own_problems")
        named_before = split_items(last[0]) if last else []  # what the town named the year before
        again: list[int] = []  # the town's own problems it named the year before too
        economy: list[bool] = []  # per problem: of the town's economy (its markets, industries, incomes)
        for i, (item, text) in enumerate(zip(self.items("own_problems"), raw_problems)):
            problems.append(item)  # as the town wrote it: no frame around it (党建引领产业发展还有短板，… read pooled)
            persists = self._persists(text, named_before)
            if persists:
                again.append(i)
            economy.append(economic("own", "", text))
            if i < len(own_plans):
                plans.append(self._headed(own_plans[i], text))
            else:  # a problem it named last year too: last year's measure did not work, this year's is another
                plans.append(self._topic_plan(text, persists))
        target_said = False  # 确保完成新一年的目标任务 (or its like) once in 三, after the first measure that answers a missed target
        folded: set[int] = set()
        findings, bundle = self._bundled(findings, raw_problems)
        for f in findings:
            mine = next((i for i, t in enumerate(raw_problems) if i not in folded and same_work(t, f.codes)), None)
            if mine is not None:  # the town named this work itself: its figures go into its own item
                folded.add(mine)
                f.within = mine
                text = f.text
                subject = str(escape(self._subject(f.codes[0])))
                words = load_wording().get("same_work", {}).get(f.codes[0], ())
                named = any(w in raw_problems[mine] and w in subject for w in words)
                if named and str(text).startswith(subject):  # the town has named the work: 全年开展110次
                    verb = {"次": "全年开展", "件": "全年开展", "名": "全年发展" if "发展" in subject else "全年"}
                    if self.cat[f.codes[0]]["unit"] in verb:  # 主题党日活动开展不经常，全年开展110次
                        text = Markup(verb[self.cat[f.codes[0]]["unit"]]) + Markup(str(text)[len(subject):])
                problems[mine] = problems[mine] + Markup("，") + text
                # its measure stays the one answering the town's words (its own, or its topic's); a target missed
                # is answered too
                if ("target_missed" in f.kinds or any(self._missed(c) for c in f.codes)) and not target_said:
                    plans[mine], target_said = plans[mine] + self._target_close(), True
                continue
            group = _group(f.codes) if len(f.codes) > 1 else None  # two shortfalls of one work
            fell = f.kinds[0] in ("decline", "slip") and w["problem_leads"].get(f"{f.codes[0]}_fall")
            lead = ((group or {}).get("lead") or fell or w["problem_leads"].get(f.codes[0])
                    or w["problem_leads"][f.section])
            if isinstance(lead, list):  # dealt among the towns that list it (群众增收的基础还不牢固 in six of ten)
                kinds = ("decline", "slip") if fell else None  # a fall's leads among the towns whose figure fell
                lead = self._pick(lead, f"lead-{f.codes[0]}{'-fall' if fell else ''}", self._listing(f.codes[0], kinds))
            lead = lead.format(k=self.kind)
            text, subject = f.text, str(escape(self._subject(f.codes[0])))
            if subject in lead and str(text).startswith(subject) and self.cat[f.codes[0]]["unit"] in ("次", "件"):
                text = Markup("全年开展") + Markup(str(text)[len(subject):])  # the lead has named it already
            if f.kinds[0] == "coverage":  # the lead names it (“一肩挑”尚未全覆盖): 7个行政村中还有1个未实现
                core = self._subject(f.codes[0]).removeprefix("实现").removesuffix("行政村")
                if core in lead:
                    text = Markup(re.sub(rf"中(\d+)个尚未实现{re.escape(str(escape(core)))}", r"中还有\1个未实现",
                                         str(text)))
            problems.append(Markup(escape(lead)) + Markup("，") + text)
            economy.append(economic("data", f.section, "", self.cat.frame.at[f.codes[0], "sentence"]))
            plan = self._finding_plan(f, group)
            if ("target_missed" in f.kinds or any(self._missed(c) for c in f.codes)) and not target_said:
                plan, target_said = plan + self._target_close(), True
            plans.append(plan)
        # a problem named last year too says so in 二 (after its figures): 三's raised measure answers it, and a
        # reader asked why the same problem stands again with nothing said of last year's rectification
        if again:
            said = load_wording()["problem_again"]
            first = said.index(self._pick(said, "problem-again"))
            for n, i in enumerate(again):
                turn = said[(first + n) % len(said):] + said[:(first + n) % len(said)]
                # not a word the town's own words used (成效还不够明显，…整改成效还不明显)
                text = next((t for t in turn if not any(w in t and w in str(problems[i]) for w in _AGAIN_WORDS)),
                            turn[0])
                problems[i] = problems[i] + Markup("，") + Markup(escape(text))
        if bundle:  # the smaller targets missed, told together (部分年度目标任务还没有完成，…分别完成年度目标的…)
            names = "、".join(self._subject(f.codes[0]) for f in bundle)
            shares = Markup("、").join(self._completion(f.codes[0], f.values[0], f.references[0]) for f in bundle)
            lead = w["problem_leads"]["missed_targets_all" if self.target_state() == "unmet" else "missed_targets"]
            problems.append(Markup(escape(lead)) + Markup("，") + Markup(escape(names))
                            + Markup("分别完成年度目标的") + shares)
            plan = Markup(escape(self._pick(w["plans"]["missed"], "plan-missed").format(names=names, k=self.kind)))
            plans.append(plan + (Markup("") if target_said else self._target_close()))
            economy.append(True)  # (the targets told together close the list, whatever their work)
            target_said = True
        # the Party's own work first, the town's economy after it (:func:`problems.economic`), each group in its order,
        # each measure with its problem
        if any(economy) and not all(economy):
            order = sorted(range(len(problems)), key=lambda i: economy[i])
            problems, head = [problems[i] for i in order], [plans[i] for i in order]
            plans = head + plans[len(order):]
        # a shortfall that persisted is said so once, of the first (这一短板上年已经存在 twice in one paragraph, round 38;
        # then in other words the second time, 上年也存在这一问题, read as the same tag twice, round 45): the others'
        # measures still say it by being firmer ones
        persisted = "，这一短板上年已经存在"
        first = next((i for i, p in enumerate(problems) if persisted in str(p)), None)
        for i in range(len(problems)):
            if first is not None and i > first and persisted in str(problems[i]):
                problems[i] = Markup(str(problems[i]).replace(persisted, ""))
        general = {kind: self._pick(texts, f"general-problem-{kind}") for kind, texts in w["general_problems"].items()}
        seed_words = str(self.profile.get("wording_style") or "") == "范本"
        if (not problems and self.options.general_problems) or (seed_words and not raw_problems):
            # the seed's general problems: when asked for, or for the seed town itself, after what its data show (they
            # are its own words: the problem model counts them as its own, _speaks_for_itself)
            data_plans = list(plans)
            for kind, text in general.items():
                problems.append(Markup(escape(text)))
                plans.append(self.general_line(kind))
            # (the measures of its data's shortfalls, then its own 下一步打算, the seed's, where it wrote them)
            return problems, (data_plans + own_plans if own_plans else plans)
        if (len(problems) < 2 or not (raw_problems or seed_words)) and not self.options.general_problems:
            # the town named none, or one and its data show at most one beside it: the draft says what is still to
            # be written, after what its data show, which is no self-examination of the town's (a 二 of one line of
            # the town's own, 主要是党员队伍老化，35岁以下党员少, was sent back: rounds 41–44; four shortfalls of the
            # data passed off as the 乡党委's own findings of a town that wrote 没有, round 45, both readers)
            where = escape(f"特色做法表“自查问题”“下一步打算”栏 · {self.year}年 · 待补")
            what = "其他方面的问题" if raw_problems else "自查问题"
            problems.append(Markup(f'<span class="missing" title="{where}">【待补：本{self.kind}{what}】</span>'))
            plans.append(Markup(f'<span class="missing" title="{where}">【待补：针对自查问题的整改措施】</span>'))
        elif problems and all(economy) and not self.options.general_problems:
            # every problem is of the town's economy (苹果储藏能力不足 and an income rank), none of the Party's own work,
            # in a report on 全面从严治党主体责任 (both readers of round 42 would send it back): where neither the town nor
            # its data name one, the draft says what is still to be written (the last aspect: 三是【待补：…】)
            where = escape(f"特色做法表“自查问题”“下一步打算”栏 · {self.year}年 · 待补：党建工作方面")
            problems.append(Markup(f'<span class="missing" title="{where}">【待补：本{self.kind}党建工作方面的问题】</span>'))
            plans.append(Markup(f'<span class="missing" title="{where}">【待补：针对党建工作问题的整改措施】</span>'))
        # measures the town wrote beyond its problems are its own too
        plans += [self._headed(p, "") for p in own_plans[len(raw_problems):]]
        if self.options.general_problems:
            for kind, text in general.items():
                if len(problems) < 3:
                    problems.append(Markup(escape(text)))
                    plans.append(self.general_line(kind))
        # a general line only beside a lone measure (一是 alone is no list): readers took a study line after three
        # measures for filler that answers nothing in 二 (round 30, six reports of ten), the second of two lines
        # beside one measure too (round 34) and the line beside two (round 35, six of ten); the first of these
        # that says nothing said already
        # (the seed town keeps its own: a line beside two measures, two beside one)
        kinds = (["development", "study"] if len(plans) == 1 else []) if not seed_words else (
            [] if len(plans) >= 3 else ["development"] if len(plans) == 2 else ["study", "development"])
        said = "".join(map(str, plans)) + self.raw("own_problems")
        # a measure already answers a study problem or an income one: no general line saying it again
        # (a study carrier the measures name already: 提高学习角使用效率 then 落实好“庙前学习角”…, a repeat)
        if any(word in said for word in ("学习教育", "理论学习", "学习阵地", "学习制度", "宣讲", "讲堂", "送学",
                                          "学习角", "书屋", "夜校", "课堂")):
            kinds = [k for k in kinds if k != "study"]
        if any("income_per_household" in f.codes for f in findings):
            kinds = [k for k in kinds if k != "development"]
        # a problem the town names in one of its own industries has its measure (拓宽农产品销路 for 苹果销售渠道单一):
        # no 做优做强苹果产业 after it saying it again (round 28)
        if any(self.of_my_industries(t) for t in raw_problems):
            kinds = [k for k in kinds if k != "development"]
        plans += [self.general_line(k) for k in kinds if self.general_line(k) not in plans][:2 if seed_words else 1]
        return problems, plans

    def _target_close(self) -> Markup:
        """What a measure for a target missed ends with (，确保完成新一年的目标任务 and its equivalents: one stock tail in
        three reports of ten was circled)."""
        return Markup("，") + Markup(escape(self._pick(load_wording()["plans"]["target_close"], "target-close")))

    def general_line(self, kind: str) -> Markup:
        """A general line of 三 (``general`` in data/wording.yaml: study, workstyle, development)."""
        text = self._pick(load_wording()["general"][kind], f"general-{kind}")
        congress = self.number("county_congress_ordinal", unit="次", prefix="第")
        return Markup(escape(text.replace("{carrier}“", "{quoted}“"))).format(
            congress=congress, industries=self.industries(), **self.carrier())

    def carrier(self) -> dict[str, Markup]:
        """The town's own study carrier as a wording text names it before others (``{carrier}``: “光伏课堂”、), and
        before a quoted one (``{quoted}``: no 顿号 between two quoted items, GB/T 15834: “塬上夜校”“三会一课”);
        empty where the town named none."""
        carrier = quoted = Markup("")
        if self.has("study_carrier"):
            name = self.practice("study_carrier")
            carrier = name + Markup("、")
            quoted = name if name.striptags().endswith("”") else carrier
        return {"carrier": carrier, "quoted": quoted}

    def _bundled(self, findings: list[Finding], own: list[str]) -> tuple[list[Finding], list[Finding]]:
        """The findings told one by one, and the targets missed that are told together in one item: where 二 would
        list more than :data:`LONG_LIST` items, the missed targets nearest to done (at least 80%, a single work, not
        a shortfall the town named itself nor one listed the year before) — enough of them to shorten the list to
        that, and at least two. Eight items, the last four each a target missed by 13–19% with its stock measure,
        read padded; every target is still named, with its completion."""
        n = len(own) + sum(not any(same_work(t, f.codes) for t in own) for f in findings)
        if n <= LONG_LIST:
            return findings, []
        small = [f for f in findings if f.kinds == ["target_missed"] and not f.repeated and f.references[0] > 0
                 and f.values[0] >= FAR_SHORT * f.references[0] and not any(same_work(t, f.codes) for t in own)]
        small.sort(key=lambda f: f.values[0] / f.references[0], reverse=True)  # the nearest to done first
        bundle = small[:max(2, n - LONG_LIST + 1)]
        if len(bundle) < 2:
            return findings, []
        for f in bundle:
            f.together = True
        return [f for f in findings if f not in bundle], [f for f in findings if f in bundle]

    def _completion(self, code: str, value: float, target: float) -> Markup:
        """``84.2%`` of this year's target of ``code``, with the target and its source."""
        row = self.cat[code]
        source = self._target_source(code)
        fmt = lambda x: format_number(x, integer=bool(row["integer"]))  # noqa: E731
        share = percent_text(value / target)
        if float(share) >= 100 * self.options.nearly_met:  # 94.96% is not 基本完成: not printed as 95%
            share = f"{100 * value / target:.2f}".rstrip("0").rstrip(".")
        return self._provenance(f"{share}%",
                                f"{row['name']} · {self.year}年目标{fmt(target)}{row['unit']}，完成{fmt(value)}"
                                f"{row['unit']} · 来源：{source}", source)

    def _target_source(self, code: str) -> str:
        t = self.ds.targets
        hit = t.loc[(t["town"] == self.town) & (t["year"] == self.year) & (t["indicator"] == code), "source"]
        return str(hit.iloc[0]) if len(hit) else ""

    @staticmethod
    def _topic(problem: str) -> dict:
        """The topic of a problem the town named itself: the first whose keywords it contains (wording.yaml)."""
        return problem_topic(problem)

    @staticmethod
    def _topic_words(topic: dict, problem: str) -> dict:
        """The topic's head and measure for this problem: ``{subject}`` is what the town named before the topic's
        keyword (学习角利用率不高 → 提高学习角使用效率; 村级活动场所利用率不高 → 提高村级活动场所使用效率), else the topic's
        own ``subject`` (two towns with a problem of one topic read one measure word for word)."""
        again = load_wording()["plans"].get("again", {}).get(topic["head"])
        if "subject" not in topic:
            return {"head": topic["head"], "plan": topic["plan"], "again": again}
        at = min((problem.find(k) for k in topic["keywords"] if k in problem), default=-1)
        named = re.sub(r"^(部分村|部分|个别村|个别|一些)", "", problem[:at] if at > 0 else "").rstrip("的")
        subject = named if 2 <= len(named) <= 10 and not re.search(r"[，。；、]", named) else topic["subject"]
        return {"head": topic["head"].replace("{subject}", subject), "plan": topic["plan"].replace("{subject}", subject),
                "again": again.replace("{subject}", subject) if again else None}

    def _headed(self, plan: Markup, problem: str) -> Markup:
        """The town's own measure as 三 of a 公文 writes it: under the heading of its problem's topic (加强流动党员
        管理。建立流动党员微信群……), unless the town wrote a heading itself (a short first sentence) or the topic is
        the catch-all one (its heading would say nothing)."""
        text = re.sub(r"<[^>]+>", "", str(plan))
        first = text.split("。", 1)[0]
        if "。" in text[:-1] and len(first) <= 14 and "，" not in first:
            return plan  # 强化流动党员管理。建立……: headed already
        topic = self._topic(problem or text)
        head = self._topic_words(topic, problem or text)["head"]
        if not topic["keywords"] or (head in text):
            return plan
        return Markup(escape(head)) + Markup("。") + plan

    def _topic_plan(self, problem: str, persists: bool = False) -> Markup:
        """The measure for a problem the town named itself, by its topic: the topic's heading, then its measure
        (the catch-all heading 抓好问题整改 names the problem it answers); for a problem it named last year too, the
        topic's firmer measure (wording.yaml ``plans.again``) where it has one, else its measure raised."""
        topic = self._topic(problem)
        words = self._topic_words(topic, problem)
        # a measure the town reports as done this year (推行党员结对帮带农户 beside its 结对带动农户86户: round 33)
        done = "".join(v[0] for c, v in self.ds.practice(self.town, self.year).items() if c not in _NOT_DONE)
        done = any(word in done for word in topic.get("done", []))
        # (the work under way has a measure of its own where the firmer one would start it again: 冷链库 being built)
        if (persists or done) and (firmer := (done and topic.get("done_plan")) or words["again"]):
            return Markup(escape(words["head"])) + Markup("。") + Markup(escape(firmer)).format(k=self.kind)
        # the town's own study carrier where the measure names one (用好“光伏课堂”、“三会一课”…)
        plan = Markup(escape(words["plan"].replace("{carrier}“", "{quoted}“"))).format(
            k=self.kind, cadres=self.cadres(), **self.carrier())
        if not topic["keywords"]:
            short = problem if len(problem) <= 30 else problem.split("，")[0]
            plan = Markup(escape(f"针对{short}的问题，" if len(short) <= 30 else "")) + plan
        plan = Markup(escape(words["head"])) + Markup("。") + plan
        return plan + (self._raise(plan) if persists else Markup(""))

    def _finding_plan(self, f: Finding, group: dict | None = None) -> Markup:
        """The measure for a data-driven problem as 三 of a 公文 writes it: a heading naming the work
        (抓实廉政警示教育), a full stop, then what will be done: its indicators' own measures (both of a group, under
        the group's heading), else its section's."""
        plans = load_wording()["plans"]
        # the town's own 主导产业 where a measure names its industries (做优劳务输出、做强杏子产业，), else any town's
        fill = {"k": self.kind, "cadres": self.cadres(), "industries": self.industries() or "因村施策发展特色产业，"}
        # an indicator's measure, or one of its formulations (dealt to the county's towns as every slot is)
        # (dealt among the towns that list the problem this year: four towns, four formulations)
        texts = [t if isinstance(t := plans["by_indicator"][c], str) else self._pick(t, f"plan-{c}", self._listing(c))
                 for c in f.codes if c in plans["by_indicator"]] or [plans["by_section"][f.section]]
        # listed last year too: its firmer measure (wording.yaml ``plans.again``), where it has one
        firmer = plans.get("again", {}).get(f.codes[0]) if f.repeated and len(f.codes) == 1 else None
        if firmer:
            texts = [firmer]
        # filled as markup: the town's industries keep their own marks (their source), the wording is escaped
        heads, bodies = zip(*(Markup(escape(t)).format(**fill).split("。", 1) for t in texts))
        head = Markup(escape((group or {}).get("head") or "")) or heads[0]
        body = Markup("；").join(dict.fromkeys(bodies))
        # last year's measure did not work: another one, else it is raised
        again = self._raise(body) if f.repeated and not firmer else Markup("")
        return head + Markup("。") + body + again

    def _raise(self, measure: str) -> Markup:
        """A measure raised because last year's did not work, each repeated problem of a report its own way, after
        the measure it raises (before it, with no subject of its own, it read bolted on): ；同时将这项工作列为……
        (将户均增收列为 made an indicator a matter, and the heading said again in its own item read as a repeat).
        Not one whose rhythm the measure states already (按季度检查…；…党委会按季度听取进展 said it twice)."""
        raised = [r.format(k=self.kind) for r in load_wording()["plans"]["repeated"]]
        self._raised = getattr(self, "_raised", -1) + 1
        turn = raised[self._raised % len(raised):] + raised[:self._raised % len(raised)]
        rhythm = re.compile(r"按(?:月|季度|年|周)|每(?:月|季度|年|周)")
        said = set(rhythm.findall(str(measure)))
        text = next((r for r in turn if not said & set(rhythm.findall(r))), turn[0])
        return Markup("；") + Markup(escape(text))

    def _persists(self, problem: str, before: list[str]) -> bool:
        """Whether a problem the town names was named by it the year before too: the same words, or the same topic
        of wording.yaml ``plans.by_topic`` about the same thing (“三会一课”记录不规范 both years — the same measure
        twice read as “why did last year's not work?”); 光伏电站运维管理不规范 and 光伏收益分配制度还不够完善 are two."""
        def bare(text: str) -> str:
            return re.sub(r"^(部分村|部分|个别村|个别|一些)", "", text).rstrip("。；;，,")

        topic = self._topic(problem)
        return any(bare(b) in bare(problem) or bare(problem) in bare(b)
                   or (topic["keywords"] and self._topic(b) == topic
                       and difflib.SequenceMatcher(None, bare(b), bare(problem)).ratio() >= 0.6) for b in before)

    def _listing(self, code: str, kinds: tuple[str, ...] | None = None) -> set[str]:
        """The towns of the county whose reports list a problem of ``code`` this year (of one of ``kinds``)."""
        o = self.options
        p = county_problems(self.ds, self.year, drop_threshold=o.drop_threshold, nearly_met=o.nearly_met,
                            max_findings=o.max_findings)
        listed = p["listed"] & (p["indicator"] == code)
        if kinds is not None:
            listed &= p["kind"].isin(kinds)
        return set(p.loc[listed, "town"])

    def findings(self) -> list[Finding]:
        """The data problems a report lists (:func:`problems.county_problems`, the one model every output uses),
        one item each (three unrelated shortfalls in one item bury the largest), the section of the largest first."""
        o = self.options
        p = county_problems(self.ds, self.year, drop_threshold=o.drop_threshold, nearly_met=o.nearly_met,
                            max_findings=o.max_findings)
        p = p[(p["town"] == self.town) & p["listed"]]
        order = {s: i for i, s in enumerate(p.drop_duplicates("section")["section"])}  # the largest section first
        p = p.assign(_s=p["section"].map(order)).sort_values("_s", kind="stable")
        before: dict[str, str] = {}  # indicator → the kind it was listed as last year
        if self.year - 1 in self.ds.years:
            q = county_problems(self.ds, self.year - 1, drop_threshold=o.drop_threshold, nearly_met=o.nearly_met,
                                max_findings=o.max_findings)
            q = q[(q["town"] == self.town) & q["listed"]]
            before = dict(zip(q["indicator"], q["kind"]))
        # a shortfall of the same work listed last year, of whatever kind (below the middle then, a target missed now)
        found = [Finding(r.section, self._finding_phrase(r, before.get(r.indicator)),
                         self._short_name(r.indicator), [r.indicator], [r.kind], [r.reference], [r.value],
                         repeated=r.indicator in before) for r in p.itertuples()]
        merged: list[Finding] = []
        for f in found:  # two shortfalls of one work (wording.yaml plans.groups): one item, in the group's order
            m = next((m for m in merged if len(m.codes) == 1 and _group(m.codes + f.codes)), None)
            if m is None:
                merged.append(f)
                continue
            order = _group(m.codes + f.codes)["codes"]
            a, b = (m, f) if order.index(m.codes[0]) < order.index(f.codes[0]) else (f, m)
            m.text, m.names = a.text + Markup("；") + b.text, f"{a.names}、{b.names}"
            m.codes, m.kinds = a.codes + b.codes, a.kinds + b.kinds
            m.references, m.values = a.references + b.references, a.values + b.values
            m.repeated = m.repeated or f.repeated
        return merged

    def _subject(self, code: str) -> str:
        """The indicator as what was done (:func:`problems.subject_name`)."""
        return subject_name(self.cat, code)

    def _target(self, code: str, target: float, ratio: float | None = None) -> Markup:
        """This year's target of ``code`` (``12次``) with its source."""
        row = self.cat[code]
        source = self._target_source(code)
        done = f"，完成{percent_text(ratio)}%" if ratio is not None else ""
        return self._provenance(f"{format_number(target, integer=bool(row['integer']))}{row['unit']}",
                                f"{row['name']} · {self.year}年目标{done} · 来源：{source}", source)

    def _finding_phrase(self, r, last_kind: str | None = None) -> Markup:
        """The shortfall in numbers; one listed the year before too says so (已连续两年未完成, 连续两年下降,
        这一短板上年已经存在; of another kind then: 上年报告已列出，至今仍未整改到位 — the report listed it, which
        the town's own 自查问题 may not have: 上年查摆 was read as a claim about them)."""
        text = self._shortfall_phrase(r)
        if last_kind is None:
            return text
        if {last_kind, r.kind} == {"lagging", "norm"}:
            # one shortfall of one work, told on one ground last year and another now: it persisted (not 连续两年居全县
            # 末位, which a town below the rule last year but not the county's last could not bear)
            text += Markup("，这一短板上年已经存在")
        elif last_kind != r.kind:
            text += Markup("，上年报告已列出，至今仍未整改到位")
        elif r.kind == "lagging":
            text = Markup(str(text).replace("居全县末位", "连续两年居全县末位", 1))
        elif r.kind == "behind":
            text += Markup("，已连续两年处于全县后列")
        else:
            text += Markup("，" + {"target_missed": "已连续两年未完成", "decline": "已连续两年下降",
                                  "slip": "已连续两年下滑", "coverage": "这一短板上年已经存在",
                                  "norm": "这一短板上年已经存在"}
                           .get(r.kind, "上年报告已列出，至今仍未整改到位"))
        return text

    def _missed(self, code: str) -> Markup:
        """``，未完成68次的年度目标`` where the town's shortfall told as its place in the county (末位, 后列) also
        missed the year's target by more than "basically done": one item says both, the target first."""
        if "completion" not in self.standing or code not in self.standing.index:
            return Markup("")
        st = self.standing.loc[code]
        if pd.isna(st["completion"]) or st["completion"] >= self.options.nearly_met:
            return Markup("")
        return Markup("，未完成") + self._target(code, st["target"], st["completion"]) + Markup("的年度目标")

    def _shortfall_phrase(self, r) -> Markup:
        row = self.cat[r.indicator]
        name = self._subject(r.indicator)
        num = Markup(MARKS.sub("", self.number(r.indicator)))  # a finding is never pruned
        unit, integer = row["unit"], bool(row["integer"])
        if r.kind == "coverage":
            villages = self._provenance(f"{format_number(r.reference)}个行政村",
                                        f"行政村数 · 乡镇概况 · 来源：{self.profile.get('source', '')}")
            core = name.removeprefix("实现").removesuffix("行政村")
            return villages + Markup(f"中{format_number(r.reference - r.value)}个尚未实现{escape(core)}")
        if r.kind == "behind":
            title = (f"{row['name']} · 全县各乡镇{scale_text(r.scale) or '按填报数'}比较，全县中位数"
                     f"{format_number(r.reference, integer=False)}{unit} · 来源：{self._source(r.indicator, self.year)}")
            scale = scale_text(r.scale)
            st = self.standing.loc[r.indicator]
            place = f"{'并列' if st['rank_max'] > st['rank'] else '居'}第{int(st['rank'])}位"
            # in words a county reader uses: its place among the county's towns (the median is the analyst's)
            told = self._provenance(f"{scale}{format_number(r.value, integer=False)}{unit}，在全县"
                                    f"{int(st['n_towns'])}个乡镇中{place}", title)
            # 主题党日活动65次，平均每个党支部6.5次，在全县9个乡镇中居第9位: what was done, then how it compares
            return Markup(escape(name)) + (num + self._missed(r.indicator) + Markup("，") if scale else Markup("")) + told
        if r.kind == "norm":
            # 主题党日活动87次，虽完成县下达的年度目标，但平均每个党支部8.7次，未达到《中国共产党支部工作条例（试行）》每月开展一次的要求: the
            # Party's rule, not the county's target, is what falls short (a target missed is said first)
            st = self.standing.loc[r.indicator]
            branches = self.profile.get("party_branches")
            title = (f"{row['name']} · {format_number(st['value'])}{unit}"
                     + (f" ÷ 党支部数{format_number(branches)}个" if r.scale == "per_branch" and pd.notna(branches)
                        else "")
                     + f" · 规定：{row['norm_source']}{row['norm_rule']}，全年{format_number(r.reference, integer=False)}{unit}"
                     f" · 来源：{self._source(r.indicator, self.year)}")
            met = pd.notna(st.get("completion")) and st["completion"] >= 1
            # the rule's words, dealt among the towns that fall short of it (未达到…的要求 in every report read as a
            # county template: round 38); no place in the county beside it (six claims in one item: round 39)
            said = self._pick(load_wording()["norm_phrases"], f"norm-{r.indicator}",
                              self._listing(r.indicator, ("norm",))).format(rule=row["norm_rule"],
                                                                             source=row["norm_source"])
            told = self._provenance(f"{scale_text(r.scale)}{format_number(r.value, integer=False)}{unit}", title)
            if met:
                return (Markup(escape(name)) + num + Markup("，虽完成县下达的年度目标，但") + told + Markup("，")
                        + Markup(escape(said)))
            missed = self._missed(r.indicator)
            if missed:
                # both yardsticks after both figures (全年开展63次、平均每个党支部6.3次，既未完成68次的年度目标，也未达到…):
                # count, target, average and rule one after another read as a statistics bulletin (round 45)
                return (Markup(escape(name)) + num + Markup("、") + told + Markup("，既") + missed.removeprefix("，")
                        + Markup("，也") + Markup(escape(said)))
            return Markup(escape(name)) + num + Markup("，") + told + Markup("，") + Markup(escape(said))
        if r.kind == "lagging" and r.scale == "share":
            # 签订不信教不涉黑涉恶承诺书533份，占党员总数的40.7%，居全县末位: the count, then the share compared
            cov = self.cat.coverage
            den = str(cov.loc[(cov["numerator"] == r.indicator) & cov["compare"], "denominator"].iloc[0])
            den_name = self.cat.name(den)
            title = (f"{share_name(self.cat, r.indicator)} = {row['name']} ÷ {den_name}"
                     f"{format_number(self.value(den))}{self.cat[den]['unit']} · 全县各乡镇比较，本乡镇居末位，全县中位数"
                     f"{percent_text(r.reference / 100)}% · 来源：{self._source(r.indicator, self.year)}")
            whole = den_name.removesuffix("人数").removesuffix("数")
            return Markup(escape(name)) + num + Markup("，") + self._provenance(
                f"占{whole}总数的{percent_text(r.value / 100)}%，居全县末位", title)
        if r.kind == "lagging":
            title = (f"{row['name']} · 全县各乡镇{scale_text(r.scale) or '按填报数'}比较，本乡镇居末位，全县中位数"
                     f"{format_number(r.reference, integer=False)}{unit} · 来源：{self._source(r.indicator, self.year)}")
            scale = scale_text(r.scale)
            if not scale:  # 户均增收0.71万元: the figure reported is the one compared
                subject = lagging_subject(self.cat, r.indicator, r.scale)
                return Markup(escape(subject)) + self._provenance(
                    f"{format_number(r.value, integer=False)}{unit}，居全县末位", title)
            # 主题党日活动65次，平均每个党支部6.5次，居全县末位
            return Markup(escape(name)) + num + self._missed(r.indicator) + Markup("，") + self._provenance(
                f"{scale}{format_number(r.value, integer=False)}{unit}，居全县末位", title)
        if r.kind == "target_missed":
            target = self._target(r.indicator, r.reference, r.ratio)
            if r.ratio < FAR_SHORT:  # 未完成5401.9万元的年度目标 alone understated a target missed by more than half
                return (Markup(f"{escape(name)}{num}，仅完成") + target + Markup("年度目标的")
                        + self._completion(r.indicator, r.value, r.reference))
            return Markup(f"{escape(name)}{num}，未完成") + target + Markup("的年度目标")
        amount = format_number(abs(r.value - r.reference), integer=integer)  # a decline or a slip
        prev = self._source(r.indicator, self.year - 1)
        # a count falls by how many (减少4名), an amount by its rate (下降19.3%)
        fall = f"减少{amount}{unit}" if integer else f"下降{percent_text(r.ratio)}%"
        ref = self._provenance(fall,
                               f"{row['name']} · {self.year - 1}年为{format_number(r.reference, integer=integer)}"
                               f"{unit} · 来源：{prev}", prev)
        return Markup(f"{escape(name)}{num}，比上年{ref}")
